/* HTTP/1.x heads: parsing (server requests, client responses) and writing.
 *
 * Parsing is stateless and incremental in the simple way: the caller
 * hands over everything received so far, and we answer NEED_MORE until
 * the blank line arrives.  Pass 1 walks the lines with memchr, checking
 * the limits and finding the end of the head; it allocates nothing, so a
 * slow client trickling bytes costs no memory.  Pass 2 runs once on the
 * complete head and copies what it keeps into the arena.  Both are
 * O(head); a head is bounded by the limits, so retries are too.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/base64.h"

const struct http_limits http_default_limits = {
	.max_head = 8192,
	.max_line = 1024,
	.max_headers = 64,
	.max_uri = 2048,
};

static int pct_decode(struct arena *a, const char *s, size_t n,
		      int plus_is_space, char **out);

#define MAX_METHOD 32
#define VERSION_LEN 8           /* HTTP/1.1 */

/* RFC 9110 tchar: what a method or header name is made of. */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

struct line {
	const char *s;
	size_t n;               /* without CR LF */
};

/* The line at data[*pos..): 1 and advance past its LF, or 0 if no LF
 * yet.  A CR is only stripped right before the LF. */
static int next_line(const char *data, size_t len, size_t *pos,
		     struct line *l)
{
	const char *nl = memchr(data + *pos, '\n', len - *pos);

	if (!nl)
		return 0;
	l->s = data + *pos;
	l->n = (size_t)(nl - l->s);
	if (l->n && l->s[l->n - 1] == '\r')
		l->n--;
	*pos = (size_t)(nl - data) + 1;
	return 1;
}

/* Skip the empty lines some clients send between pipelined requests. */
static size_t skip_blank_lines(const char *data, size_t len)
{
	size_t pos = 0;

	for (;;) {
		if (pos < len && data[pos] == '\n')
			pos++;
		else if (len - pos >= 2 && data[pos] == '\r' &&
			 data[pos + 1] == '\n')
			pos += 2;
		else
			return pos;
	}
}

/* Limits on a request line, complete or not (n bytes so far).  0 if
 * fine, else the status.  O(n). */
static int check_request_line(const char *s, size_t n,
			      const struct http_limits *lim)
{
	const char *sp1 = memchr(s, ' ', n < MAX_METHOD + 1 ? n : MAX_METHOD + 1);
	const char *sp2;
	size_t rest;

	if (!sp1)
		return n > MAX_METHOD ? 400 : 0;
	rest = n - (size_t)(sp1 + 1 - s);
	sp2 = memchr(sp1 + 1, ' ', rest);
	if ((size_t)((sp2 ? sp2 : s + n) - (sp1 + 1)) > lim->max_uri)
		return 414;
	if (sp2 && (size_t)(s + n - (sp2 + 1)) > VERSION_LEN + 1)
		return 400;
	return 0;
}

/* Pass 1.  DONE with *end just past the blank line, NEED_MORE, or ERROR
 * with *status.  request: apply the request-line rules. */
static int find_head(const char *data, size_t len,
		     const struct http_limits *lim, int request, size_t *start,
		     size_t *end, int *status)
{
	size_t pos = skip_blank_lines(data, len), nheaders = 0, ls;
	struct line l = { "", 0 };
	int first = 1, st;

	*start = pos;
	for (;;) {
		ls = pos;
		if (!next_line(data, len, &pos, &l)) {
			size_t partial = len - ls;

			if (partial && data[len - 1] == '\r')
				partial--;      /* its LF may be next */

			if (first && request &&
			    (st = check_request_line(data + ls, partial, lim))) {
				*status = st;
				return HTTP_PARSE_ERROR;
			}
			if (((!first || !request) && partial > lim->max_line) ||
			    len > lim->max_head) {
				*status = 431;
				return HTTP_PARSE_ERROR;
			}
			return HTTP_NEED_MORE;
		}
		if (pos > lim->max_head) {
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
		if (first) {
			if (request &&
			    (st = check_request_line(l.s, l.n, lim))) {
				*status = st;
				return HTTP_PARSE_ERROR;
			}
			if (!request && l.n > lim->max_line) {
				*status = 431;
				return HTTP_PARSE_ERROR;
			}
			first = 0;
			continue;
		}
		if (l.n == 0) {
			*end = pos;
			return HTTP_PARSE_DONE;
		}
		if (l.n > lim->max_line || ++nheaders > lim->max_headers) {
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
	}
}

/* ---------------------------------------------------------------------
 * Header fields */

struct field {
	const char *name, *val;
	size_t nn, vn;
};

/* name ":" OWS value OWS.  No whitespace before the colon, no folding,
 * no control characters.  0 or -1. */
static int split_field(const struct line *l, struct field *f)
{
	size_t i = 0, e;

	while (i < l->n && tchar[(unsigned char)l->s[i]])
		i++;
	if (i == 0 || i >= l->n || l->s[i] != ':')
		return -1;
	f->name = l->s;
	f->nn = i++;
	while (i < l->n && (l->s[i] == ' ' || l->s[i] == '\t'))
		i++;
	e = l->n;
	while (e > i && (l->s[e - 1] == ' ' || l->s[e - 1] == '\t'))
		e--;
	f->val = l->s + i;
	f->vn = e - i;
	for (; i < e; i++) {
		unsigned char c = (unsigned char)l->s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	return 0;
}

static int name_is(const struct field *f, const char *name)
{
	size_t n = strlen(name);

	return f->nn == n && strncasecmp(f->name, name, n) == 0;
}

static int token_is(const char *s, size_t n, const char *tok)
{
	return strlen(tok) == n && strncasecmp(s, tok, n) == 0;
}

/* Call fn on each comma-separated, OWS-trimmed, non-empty element. */
static void each_token(const char *s, size_t n,
		       void (*fn)(const char *t, size_t tn, void *arg),
		       void *arg)
{
	size_t i = 0;

	while (i < n) {
		size_t b, e;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		b = i;
		while (i < n && s[i] != ',')
			i++;
		e = i;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e > b)
			fn(s + b, e - b, arg);
	}
}

/* Content-Length: 1*DIGIT, or a list of the same value.  Updates *cl
 * (-1: none yet); 0, or the status (400 malformed or conflicting, 413
 * beyond int64). */
static int content_length(const char *s, size_t n, int64_t *cl)
{
	size_t i = 0;

	while (i < n) {
		uint64_t v = 0;
		size_t d = 0;

		while (i < n && s[i] >= '0' && s[i] <= '9') {
			unsigned digit = (unsigned)(s[i++] - '0');

			if (v > ((uint64_t)INT64_MAX - digit) / 10)
				v = (uint64_t)INT64_MAX + 1;    /* saturate */
			else
				v = v * 10 + digit;
			d++;
		}
		if (!d)
			return 400;
		if (v > (uint64_t)INT64_MAX)
			return 413;
		if (*cl >= 0 && (uint64_t)*cl != v)
			return 400;
		*cl = (int64_t)v;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n) {
			if (s[i] != ',')
				return 400;
			i++;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i == n)
				return 400;
		}
	}
	return n ? 0 : 400;
}

struct conn_flags {
	int close, keep_alive;
	int last_chunked;       /* Transfer-Encoding's final coding */
};

static void conn_token(const char *t, size_t n, void *arg)
{
	struct conn_flags *c = arg;

	if (token_is(t, n, "close"))
		c->close = 1;
	else if (token_is(t, n, "keep-alive"))
		c->keep_alive = 1;
}

static void te_token(const char *t, size_t n, void *arg)
{
	struct conn_flags *c = arg;
	const char *semi = memchr(t, ';', n);

	if (semi)
		while (semi > t && (semi[-1] == ' ' || semi[-1] == '\t'))
			semi--;
	c->last_chunked = token_is(t, semi ? (size_t)(semi - t) : n,
				   "chunked");
}

/* Copy a field value into the arena once (the first occurrence wins). */
static int keep(struct arena *a, const char **dst, const struct field *f)
{
	if (*dst)
		return 0;
	*dst = arena_strndup(a, f->val, f->vn);
	return *dst ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Requests */

static enum http_method method_of(const char *s, size_t n)
{
	static const struct { const char *name; enum http_method m; } tab[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD },
		{ "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		{ "OPTIONS", HTTP_OPTIONS }, { "DELETE", HTTP_DELETE },
		{ "CONNECT", HTTP_CONNECT },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == n && !memcmp(tab[i].name, s, n))
			return tab[i].m;
	return HTTP_OTHER;
}

/* "HTTP/1.<digit>": the minor version, -1 malformed, -2 not 1.x. */
static int version_of(const char *s, size_t n)
{
	if (n != VERSION_LEN || memcmp(s, "HTTP/", 5) || s[6] != '.' ||
	    s[5] < '0' || s[5] > '9' || s[7] < '0' || s[7] > '9')
		return -1;
	return s[5] == '1' ? s[7] - '0' : -2;
}

/* Target -> path (decoded, no query) and query (raw).  Origin form
 * "/p?q", absolute form "http://host/p?q", or anything else as is
 * ("*", CONNECT's authority).  0, or a status: 400 for a bad escape, 431
 * when the arena is full. */
static int split_target(struct arena *a, struct http_req *req, size_t n)
{
	const char *t = req->target, *p = t, *q;
	char *path;

	if ((n > 7 && !strncasecmp(t, "http://", 7)) ||
	    (n > 8 && !strncasecmp(t, "https://", 8))) {
		p = strchr(t + 7 + (t[4] != ':'), '/');
		if (!p) {
			const char *qm = strchr(t + 7, '?');

			req->path = "/";
			req->query = qm ? qm + 1 : "";
			return 0;
		}
	}
	q = strchr(p, '?');
	req->query = q ? q + 1 : "";
	switch (pct_decode(a, p, q ? (size_t)(q - p) : strlen(p), 0, &path)) {
	case 0:
		req->path = path;
		return 0;
	case -1:
		return 400;
	default:
		return 431;
	}
}

static int request_line(struct arena *a, const struct line *l,
			struct http_req *req)
{
	const char *sp1 = memchr(l->s, ' ', l->n), *sp2, *end = l->s + l->n;
	size_t i, tn;

	if (!sp1 || sp1 == l->s)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	for (i = 0; l->s + i < sp1; i++)
		if (!tchar[(unsigned char)l->s[i]])
			return 400;
	tn = (size_t)(sp2 - sp1 - 1);
	for (i = 0; i < tn; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];

		if (c <= 0x20 || c == 0x7f)
			return 400;
	}
	req->minor = version_of(sp2 + 1, (size_t)(end - sp2 - 1));
	if (req->minor == -2)
		return 505;
	if (req->minor < 0)
		return 400;
	req->method = method_of(l->s, (size_t)(sp1 - l->s));
	req->method_str = arena_strndup(a, l->s, (size_t)(sp1 - l->s));
	req->target = arena_strndup(a, sp1 + 1, tn);
	if (!req->method_str || !req->target)
		return 431;
	return split_target(a, req, tn);
}

/* One header line of a request: 0 or a status. */
static int request_field(struct arena *a, const struct line *l,
			 struct http_req *req, struct conn_flags *cf,
			 int *te, int *hosts)
{
	struct field f;
	int rc = 0;

	if (l->s[0] == ' ' || l->s[0] == '\t')
		return 400;             /* obsolete line folding */
	if (split_field(l, &f) < 0)
		return 400;
	switch (f.name[0] | 0x20) {
	case 'a':
		if (name_is(&f, "accept"))
			rc = keep(a, &req->accept, &f);
		else if (name_is(&f, "authorization"))
			rc = keep(a, &req->authorization, &f);
		else if (name_is(&f, "access-control-request-headers"))
			rc = keep(a, &req->ac_request_headers, &f);
		break;
	case 'c':
		if (name_is(&f, "content-length"))
			return content_length(f.val, f.vn, &req->content_length);
		if (name_is(&f, "content-type"))
			rc = keep(a, &req->content_type, &f);
		else if (name_is(&f, "connection")) {
			each_token(f.val, f.vn, conn_token, cf);
			rc = keep(a, &req->connection, &f);
		} else if (name_is(&f, "cookie"))
			rc = keep(a, &req->cookie, &f);
		break;
	case 'e':
		if (name_is(&f, "expect") && token_is(f.val, f.vn, "100-continue"))
			req->expect_continue = 1;
		break;
	case 'h':
		if (name_is(&f, "host")) {
			if (++*hosts > 1)
				return 400;
			rc = keep(a, &req->host, &f);
		}
		break;
	case 's':
		if (name_is(&f, "sec-websocket-key"))
			rc = keep(a, &req->ws_key, &f);
		else if (name_is(&f, "sec-websocket-version"))
			rc = keep(a, &req->ws_version, &f);
		else if (name_is(&f, "sec-websocket-protocol"))
			rc = keep(a, &req->ws_protocol, &f);
		else if (name_is(&f, "sec-websocket-extensions"))
			rc = keep(a, &req->ws_extensions, &f);
		break;
	case 'x':
		if (name_is(&f, "xenbox-host"))
			rc = keep(a, &req->xenbox_host, &f);
		break;
	case 'o':
		if (name_is(&f, "origin"))
			rc = keep(a, &req->origin, &f);
		break;
	case 't':
		if (name_is(&f, "transfer-encoding")) {
			*te = 1;
			each_token(f.val, f.vn, te_token, cf);
		}
		break;
	case 'u':
		if (name_is(&f, "user-agent"))
			rc = keep(a, &req->user_agent, &f);
		else if (name_is(&f, "upgrade"))
			rc = keep(a, &req->upgrade, &f);
		break;
	}
	return rc < 0 ? 431 : 0;
}

int http_parse_request(struct arena *a, const char *data, size_t len,
		       const struct http_limits *lim, struct http_req *req,
		       size_t *head_len, int *status)
{
	struct conn_flags cf = { 0, 0, 0 };
	size_t start, end, pos;
	struct line l = { "", 0 };
	int rc, te = 0, hosts = 0;

	if (!lim)
		lim = &http_default_limits;
	memset(req, 0, sizeof(*req));
	req->content_length = -1;
	req->query = "";
	*status = 0;
	rc = find_head(data, len, lim, 1, &start, &end, status);
	if (rc != HTTP_PARSE_DONE)
		return rc;
	pos = start;
	next_line(data, end, &pos, &l);
	if ((*status = request_line(a, &l, req)))
		return HTTP_PARSE_ERROR;
	while (next_line(data, end, &pos, &l) && l.n)
		if ((*status = request_field(a, &l, req, &cf, &te, &hosts)))
			return HTTP_PARSE_ERROR;
	if (te) {
		/* no chunked bodies: ask for a length, refuse the rest */
		*status = cf.last_chunked ? 411 : 501;
		return HTTP_PARSE_ERROR;
	}
	if (req->minor < 1)
		req->expect_continue = 0;
	req->keep_alive = !cf.close && (req->minor >= 1 || cf.keep_alive);
	*head_len = end;
	return HTTP_PARSE_DONE;
}

/* ---------------------------------------------------------------------
 * Responses */

static int status_line(const struct line *l, struct http_resp *resp)
{
	int v = l->n >= VERSION_LEN ? version_of(l->s, VERSION_LEN) : -1;
	const char *s = l->s + VERSION_LEN;

	if (v < 0 || l->n < VERSION_LEN + 4 || s[0] != ' ' ||
	    s[1] < '1' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    s[3] < '0' || s[3] > '9' || (l->n > VERSION_LEN + 4 && s[4] != ' '))
		return -1;
	resp->minor = v;
	resp->status = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	return 0;
}

int http_parse_response(struct arena *a, const char *data, size_t len,
			struct http_resp *resp, size_t *head_len)
{
	struct conn_flags cf = { 0, 0, 0 };
	size_t start, end, pos;
	struct line l = { "", 0 };
	struct field f;
	int rc, status, te = 0;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	rc = find_head(data, len, &http_default_limits, 0, &start, &end,
		       &status);
	if (rc != HTTP_PARSE_DONE)
		return rc;
	pos = start;
	next_line(data, end, &pos, &l);
	if (status_line(&l, resp) < 0)
		return HTTP_PARSE_ERROR;
	while (next_line(data, end, &pos, &l) && l.n) {
		if (l.s[0] == ' ' || l.s[0] == '\t' || split_field(&l, &f) < 0)
			return HTTP_PARSE_ERROR;
		if (name_is(&f, "content-length")) {
			if (content_length(f.val, f.vn, &resp->content_length))
				return HTTP_PARSE_ERROR;
		} else if (name_is(&f, "connection")) {
			each_token(f.val, f.vn, conn_token, &cf);
			rc = keep(a, &resp->connection, &f);
		} else if (name_is(&f, "transfer-encoding")) {
			te = 1;
		} else if (name_is(&f, "content-type")) {
			rc = keep(a, &resp->content_type, &f);
		} else if (name_is(&f, "location")) {
			rc = keep(a, &resp->location, &f);
		} else if (name_is(&f, "upgrade")) {
			rc = keep(a, &resp->upgrade, &f);
		} else if (name_is(&f, "sec-websocket-accept")) {
			rc = keep(a, &resp->ws_accept, &f);
		} else if (name_is(&f, "sec-websocket-protocol")) {
			rc = keep(a, &resp->ws_protocol, &f);
		} else if (name_is(&f, "sec-websocket-extensions")) {
			rc = keep(a, &resp->ws_extensions, &f);
		}
		if (rc < 0)
			return HTTP_PARSE_ERROR;
	}
	if (te)                 /* XAPI never sends chunked bodies */
		return HTTP_PARSE_ERROR;
	resp->keep_alive = !cf.close && (resp->minor >= 1 || cf.keep_alive);
	*head_len = end;
	return HTTP_PARSE_DONE;
}

/* ---------------------------------------------------------------------
 * Writing */

/* XAPI's own phrases where it has them (http_svr.ml), else RFC 9110's. */
const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorised";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Error";
	case 501: return "Method not implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

void http_write_head(struct buf *out, int status, const char *content_type,
		     size_t content_length, int keep_alive, const char *extra)
{
	char num[24], *p = num + sizeof(num);
	size_t n = content_length;

	if (status < 100 || status > 999)
		status = 500;
	buf_reserve(out, 160 + (content_type ? strlen(content_type) : 0) +
			 (extra ? strlen(extra) : 0));
	buf_add(out, "HTTP/1.1 ", 9);
	buf_addc(out, (char)('0' + status / 100));
	buf_addc(out, (char)('0' + status / 10 % 10));
	buf_addc(out, (char)('0' + status % 10));
	buf_addc(out, ' ');
	buf_adds(out, http_reason(status));
	buf_add(out, "\r\nContent-Length: ", 18);
	do
		*--p = (char)('0' + n % 10);
	while (n /= 10);
	buf_add(out, p, (size_t)(num + sizeof(num) - p));
	if (content_type) {
		buf_add(out, "\r\nContent-Type: ", 16);
		buf_adds(out, content_type);
	}
	if (keep_alive)
		buf_add(out, "\r\nConnection: keep-alive\r\n", 26);
	else
		buf_add(out, "\r\nConnection: close\r\n", 21);
	if (extra)
		buf_adds(out, extra);
	buf_add(out, "\r\n", 2);
}

/* ---------------------------------------------------------------------
 * URLs */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte at s[*i] decoded, advancing *i; -1 on a bad escape. */
static int pct_byte(const char *s, size_t n, size_t *i, int plus_is_space)
{
	int hi, lo;

	if (s[*i] == '+' && plus_is_space) {
		(*i)++;
		return ' ';
	}
	if (s[*i] != '%')
		return (unsigned char)s[(*i)++];
	if (n - *i < 3 || (hi = hexval((unsigned char)s[*i + 1])) < 0 ||
	    (lo = hexval((unsigned char)s[*i + 2])) < 0)
		return -1;
	*i += 3;
	return hi << 4 | lo;
}

/* 0 with *out, -1 for a bad escape, %00 or raw NUL, -2 out of arena. */
static int pct_decode(struct arena *a, const char *s, size_t n,
		      int plus_is_space, char **out)
{
	size_t i = 0, o = 0;
	char *d;

	for (i = 0; i < n;)             /* validate first: O(n) */
		if (pct_byte(s, n, &i, plus_is_space) <= 0)
			return -1;
	d = arena_alloc(a, n + 1);
	if (!d)
		return -2;
	for (i = 0; i < n;)
		d[o++] = (char)pct_byte(s, n, &i, plus_is_space);
	d[o] = 0;
	*out = d;
	return 0;
}

char *http_pct_decode(struct arena *a, const char *s, size_t n,
		      int plus_is_space)
{
	char *out;

	return pct_decode(a, s, n, plus_is_space, &out) == 0 ? out : NULL;
}

/* Does the encoded s[0..n) decode to key?  No allocation.  O(n). */
static int pct_equal(const char *s, size_t n, const char *key)
{
	size_t i = 0;

	while (i < n) {
		int c = pct_byte(s, n, &i, 1);

		if (c <= 0 || (unsigned char)*key++ != c)
			return 0;
	}
	return *key == 0;
}

const char *http_query_get(struct arena *a, const char *query, const char *key)
{
	const char *p = query;

	if (!p || !key)
		return NULL;
	while (*p) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		size_t kn = eq ? (size_t)(eq - p) : n;

		if (pct_equal(p, kn, key)) {
			if (!eq)
				return "";
			return http_pct_decode(a, eq + 1, n - kn - 1, 1);
		}
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Credentials */

int http_basic_auth(struct arena *a, const char *value, const char **user,
		    const char **pass)
{
	size_t n;
	char *d, *colon;
	long len;

	if (!value || strncasecmp(value, "basic", 5))
		return 1;
	if (value[5] != ' ' && value[5] != '\t')
		return value[5] ? 1 : -1;       /* "Basicx": another; "Basic": bad */
	value += 6;
	value += strspn(value, " \t");
	n = strlen(value);
	d = arena_alloc(a, n / 4 * 3 + 1);
	if (!d || (len = b64_decode(value, n, d)) < 0)
		return -1;
	for (long i = 0; i < len; i++)
		if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			return -1;      /* RFC 7617: no control characters (nor NUL) */
	d[len] = 0;
	colon = strchr(d, ':');
	if (!colon)
		return -1;
	*colon = 0;
	*user = d;
	*pass = colon + 1;
	return 0;
}
