#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

int log_level = LOG_INFO;

void xlog(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	fprintf(stderr, "%s: %s\n", names[level], line);
}
