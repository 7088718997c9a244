/* HTTP/1.1 message parsing and writing, incremental and allocation-bounded.
 * Server side: request heads; client side (xe, pool client): response
 * heads.  Bodies are framed by Content-Length only (XAPI sends no chunked
 * encoding; a chunked request is refused with 411/501).  Knows no RPC. */
#ifndef XB_HTTP_H
#define XB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

struct http_limits {
	size_t max_head;        /* whole request head; beyond: 431 */
	size_t max_line;        /* one header line; beyond: 431 */
	size_t max_headers;     /* number of header lines; beyond: 431 */
	size_t max_uri;         /* request target; beyond: 414 */
};
extern const struct http_limits http_default_limits;  /* 8K, 1K, 64, 2K */

enum http_method {
	HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_OPTIONS,
	HTTP_DELETE, HTTP_CONNECT,
};

struct http_req {
	enum http_method method;
	const char *method_str;
	const char *target;             /* as sent */
	const char *path;               /* percent-decoded, no query */
	const char *query;              /* raw, after '?', or "" */
	int minor;                      /* HTTP/1.<minor> */
	int64_t content_length;         /* -1 when absent */
	int keep_alive;                 /* per version and Connection */
	int expect_continue;
	/* selected headers, NULL when absent */
	const char *content_type, *accept, *cookie, *authorization,
		*origin, *host, *user_agent, *ac_request_headers;
};

enum { HTTP_PARSE_ERROR = -1, HTTP_NEED_MORE = 0, HTTP_PARSE_DONE = 1 };

/* Parse a request head from data[0..len).  DONE: *head_len bytes were the
 * head (the body, if any, follows).  NEED_MORE: call again with more data
 * (it fails with 431 once len exceeds the limits).  ERROR: *status holds
 * the HTTP status to answer (400, 411, 413, 414, 431, 501, 505).
 * Strings are copied into the arena. */
int http_parse_request(struct arena *a, const char *data, size_t len,
		       const struct http_limits *lim, struct http_req *req,
		       size_t *head_len, int *status);

struct http_resp {
	int status;
	int minor;
	int64_t content_length;         /* -1 when absent (read to close) */
	int keep_alive;
	const char *content_type, *location;
};

int http_parse_response(struct arena *a, const char *data, size_t len,
			struct http_resp *resp, size_t *head_len);

const char *http_reason(int status);

/* Status line, Date-less fixed headers, Content-Length, Connection and
 * the extra header lines (each ending "\r\n", may be NULL), then the blank
 * line. */
void http_write_head(struct buf *out, int status, const char *content_type,
		     size_t content_length, int keep_alive, const char *extra);

/* Value of key in a query string, percent- and '+'-decoded into the arena;
 * NULL if absent.  "json" with no '=' yields "". */
const char *http_query_get(struct arena *a, const char *query, const char *key);

/* Percent-decode s into the arena; NULL on a bad escape or an embedded NUL. */
char *http_pct_decode(struct arena *a, const char *s, size_t n, int plus_is_space);

#endif
