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
	/* a WebSocket Upgrade (pool/ws.h checks them): Upgrade, Connection
	 * (as sent), Sec-WebSocket-Key/-Version/-Protocol/-Extensions,
	 * Xenbox-Host */
	const char *upgrade, *connection, *ws_key, *ws_version, *ws_protocol,
		*ws_extensions, *xenbox_host;
};

enum { HTTP_PARSE_ERROR = -1, HTTP_NEED_MORE = 0, HTTP_PARSE_DONE = 1 };

/* Parse a request head from data[0..len).  DONE: *head_len bytes were the
 * head (the body, if any, follows).  NEED_MORE: call again with more data
 * (it fails with 431 once len exceeds the limits).  ERROR: *status holds
 * the HTTP status to answer (400, 411, 413, 414, 431, 501, 505).
 * Strings are copied into the arena, and only once the head is complete
 * (NEED_MORE allocates nothing).  lim NULL means http_default_limits.
 *
 * Details: CRLF or bare LF; empty lines before the request line are
 * skipped (counted in *head_len); methods are case-sensitive tokens of at
 * most 32 bytes; one SP between the parts; HTTP/1.x only (else 505).
 * Header names are case-insensitive; whitespace before the colon, folded
 * lines, control characters in values, a second Host, and conflicting or
 * malformed Content-Length are 400 ("5, 5" is fine); a Content-Length
 * beyond int64 is 413.  Any Transfer-Encoding is refused: 411 when its
 * final coding is chunked (send a length instead), 501 otherwise.  Expect:
 * 100-continue is flagged for HTTP/1.1 only.  The first of repeated
 * selected headers wins.  path comes from an origin-form target, or an
 * absolute-form one stripped of scheme and authority ("/" if empty);
 * a bad percent-escape or %00 in it is 400.  Running out of arena is 431. */
int http_parse_request(struct arena *a, const char *data, size_t len,
		       const struct http_limits *lim, struct http_req *req,
		       size_t *head_len, int *status);

struct http_resp {
	int status;
	int minor;
	int64_t content_length;         /* -1 when absent (read to close) */
	int keep_alive;
	const char *content_type, *location;
	/* a WebSocket Upgrade's answer */
	const char *upgrade, *connection, *ws_accept, *ws_protocol, *ws_extensions;
};

/* The client side, with http_default_limits: DONE, NEED_MORE or ERROR
 * (malformed, over the limits, out of arena, or a Transfer-Encoding, which
 * XAPI never sends and we cannot frame).  A 100 Continue is returned like
 * any other response; read the next head after it. */
int http_parse_response(struct arena *a, const char *data, size_t len,
			struct http_resp *resp, size_t *head_len);

/* XAPI's reason phrases where it has its own (500 "Internal Error", 501
 * "Method not implemented", 401 "Unauthorised"), else RFC 9110's;
 * "Unknown" for codes we do not list. */
const char *http_reason(int status);

/* Status line, Date-less fixed headers, Content-Length, Connection and
 * the extra header lines (each ending "\r\n", may be NULL), then the blank
 * line:  HTTP/1.1 200 OK\r\nContent-Length: N\r\nContent-Type: T\r\n
 * Connection: keep-alive|close\r\n<extra>\r\n.  No Content-Type line
 * when content_type is NULL; a status outside 100..999 is written as 500. */
void http_write_head(struct buf *out, int status, const char *content_type,
		     size_t content_length, int keep_alive, const char *extra);

/* Value of key in a query string, percent- and '+'-decoded into the arena;
 * NULL if absent.  "json" with no '=' yields "".  Keys are compared
 * decoded; the first match wins; a value with a bad escape (or %00) is
 * NULL, as if absent.  O(length of query). */
const char *http_query_get(struct arena *a, const char *query, const char *key);

/* Percent-decode s into the arena; NULL on a bad escape or an embedded NUL. */
char *http_pct_decode(struct arena *a, const char *s, size_t n, int plus_is_space);

/* The credentials of an Authorization value "Basic base64(user:pass)"
 * (RFC 7617; the scheme's case is free): decoded into the arena, user up
 * to the first ':', pass the rest.  0; 1 when value is NULL or of another
 * scheme; -1 when the credentials are malformed: not padded base64, no
 * ':', a control character or NUL (or out of arena).  O(length). */
int http_basic_auth(struct arena *a, const char *value, const char **user,
		    const char **pass);

#endif
