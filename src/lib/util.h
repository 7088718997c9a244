/* Small helpers used everywhere: allocation that aborts on failure, time. */
#ifndef XB_UTIL_H
#define XB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

int64_t now_ms(void);           /* CLOCK_MONOTONIC */
int64_t now_wall(void);         /* seconds since the epoch */
double now_wall_f(void);

/* mkdir -p of path's directory (every component before the last; a
 * trailing '/' does not make the last one a directory to create), new
 * directories with mode (umask applies); existing ones are left as they
 * are.  0, or -1 with err naming the directory that could not be made. */
int mkdir_parents(const char *path, unsigned mode, char *err, size_t errlen);

/* snprintf that never truncates silently: the length, or -1 with buf ""
 * (n > 0) when the result does not fit or the format fails. */
int xsnprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Overwrite memory the compiler may not optimise away (secrets). */
void secure_zero(void *p, size_t n);

#endif
