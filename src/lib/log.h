/* Logging to stderr (the supervisor keeps it in a RAM ring).  One line per
 * message: "<level> <component>: text".  Secrets are never passed here. */
#ifndef XB_LOG_H
#define XB_LOG_H

enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level;

void xlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) xlog(LOG_ERR, __VA_ARGS__)
#define log_warn(...) xlog(LOG_WARN, __VA_ARGS__)
#define log_info(...) xlog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_level >= LOG_DEBUG) xlog(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
