#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"

int log_level = LOG_INFO;

/* The newest lines, stamped, for host.get_log: a byte ring, any thread. */
static char ring[32768];
static size_t ring_pos;
static int ring_full;
static char ring_lock;

static void ring_add(const char *s, size_t n)
{
	while (n) {
		size_t k = sizeof(ring) - ring_pos < n ? sizeof(ring) - ring_pos : n;

		memcpy(ring + ring_pos, s, k);
		s += k;
		n -= k;
		ring_pos += k;
		if (ring_pos == sizeof(ring)) {
			ring_pos = 0;
			ring_full = 1;
		}
	}
}

size_t log_stamp(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;

	return strftime(buf, 31, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

void log_ring_copy(struct buf *b)
{
	size_t skip = 0;

	while (__atomic_test_and_set(&ring_lock, __ATOMIC_ACQUIRE))
		;
	if (ring_full) {        /* from the first whole line */
		char *nl = memchr(ring + ring_pos, '\n', sizeof(ring) - ring_pos);

		skip = nl ? (size_t)(nl + 1 - ring - ring_pos) : sizeof(ring) - ring_pos;
		buf_add(b, ring + ring_pos + skip, sizeof(ring) - ring_pos - skip);
	}
	buf_add(b, ring, ring_pos);
	__atomic_clear(&ring_lock, __ATOMIC_RELEASE);
}

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
	/* stamped in the ring only: the supervisor's syslog stamps stderr */
	{
		char out[1100];
		size_t k = log_stamp(out), m;

		m = k + (size_t)snprintf(out + k, sizeof(out) - k, " %s: %s\n", names[level], line);
		if (m >= sizeof(out))
			m = sizeof(out) - 1;
		fputs(out + k + 1, stderr);
		while (__atomic_test_and_set(&ring_lock, __ATOMIC_ACQUIRE))
			;
		ring_add(out, m);
		__atomic_clear(&ring_lock, __ATOMIC_RELEASE);
	}
}
