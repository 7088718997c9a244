/* Logging to stderr (the supervisor keeps it in a RAM ring).  One line per
 * message: "<level> <component>: text".  Secrets are never passed here. */
#ifndef XB_LOG_H
#define XB_LOG_H

#include <stddef.h>

enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level;

void xlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) xlog(LOG_ERR, __VA_ARGS__)
#define log_warn(...) xlog(LOG_WARN, __VA_ARGS__)
#define log_info(...) xlog(LOG_INFO, __VA_ARGS__)
/* The newest ~32 KiB of lines (each stamped with the UTC time), whole
 * lines, oldest first, appended to b (host.get_log). */
struct buf;
void log_ring_copy(struct buf *b);
/* The UTC time as the logs stamp it (2024-01-01T12:00:00Z); its length. */
size_t log_stamp(char buf[32]);

#define log_debug(...) do { if (log_level >= LOG_DEBUG) xlog(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
