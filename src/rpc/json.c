/* JSON codec (RFC 8259) and JSON-RPC framing.
 *
 * The parser is strict: no comments, no trailing commas, no NaN or
 * Infinity, no leading zeros, no BOM, no raw control characters, only
 * well-formed UTF-8 and paired surrogates.  It is one recursive descent
 * pass over the input, O(input), bounded by JSON_MAX_DEPTH, allocating
 * only from the caller's arena (plus a child stack bounded by the number
 * of values).  Object keys may not contain U+0000 (they become C strings).
 *
 * The emitter writes what XAPI's Yojson writes: no whitespace, control
 * characters and DEL as \b \f \n \r \t or \u00xx, other bytes as they are,
 * int64 as numbers, doubles as "%.16g" (or "%.17g" when that does not
 * round-trip) with ".0" added when they would read back as integers, and
 * NaN/Infinity/-Infinity for the non-finite, as Yojson does in its default
 * non-standard mode (a strict reader, ours included, rejects those).
 */
#include "rpc/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/codec.h"

struct jp {
	const char *base, *p, *end;
	struct arena *a;
	int depth;
	int failed;
	struct cstack st;
};

static __thread char json_err[128];

__attribute__((format(printf, 2, 3)))
static int jfail(struct jp *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->failed)
		return -1;
	j->failed = 1;
	n = snprintf(json_err, sizeof(json_err), "invalid JSON at byte %zu: ",
		     (size_t)(j->p - j->base));
	if (n < 0 || (size_t)n >= sizeof(json_err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(json_err + n, sizeof(json_err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int jnomem(struct jp *j)
{
	if (!j->failed) {
		j->failed = 1;
		snprintf(json_err, sizeof(json_err),
			 "too large at byte %zu: request exceeds its memory limit",
			 (size_t)(j->p - j->base));
	}
	return -1;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int mk(struct jp *j, enum xv_type t, struct xv **out)
{
	*out = xv_new(j->a, t);
	return *out ? 0 : jnomem(j);
}

/* ---------------------------------------------------------------------
 * Strings */

static int hex4(const char *p, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = (unsigned char)p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -1;
		*v = *v << 4 | c;
	}
	return 0;
}

/* At a backslash (p < end): the escape's code point and length. */
static int unescape(struct jp *j, const char *p, uint32_t *cp, size_t *len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *c;
	uint32_t lo;

	if (j->end - p < 2)
		goto bad;
	if (p[1] != 'u') {
		c = p[1] ? strchr(from, p[1]) : NULL;
		if (!c)
			goto bad;
		*cp = (unsigned char)to[c - from];
		*len = 2;
		return 0;
	}
	if (j->end - p < 6 || hex4(p + 2, cp) < 0)
		goto bad;
	*len = 6;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		goto lone;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (j->end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
	    hex4(p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		goto lone;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	*len = 12;
	return 0;
lone:
	j->p = p;
	return jfail(j, "unpaired surrogate");
bad:
	j->p = p;
	return jfail(j, "bad escape");
}

/* At '"': validate the string and find its end (pass 1), then copy it
 * into the arena, decoding escapes if there were any (pass 2; decoded text
 * is never longer than its source).  O(length). */
static int parse_string(struct jp *j, char **out, size_t *outn)
{
	const unsigned char *p = (const unsigned char *)j->p + 1,
			    *end = (const unsigned char *)j->end, *start = p;
	int escapes = 0;
	uint32_t cp;
	size_t n;
	char *s, *w;

	for (;;) {
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		       *p != '\\')
			p++;
		if (p >= end) {
			j->p = j->end;
			return jfail(j, "unterminated string");
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (unescape(j, (const char *)p, &cp, &n) < 0)
				return -1;
			escapes = 1;
		} else if (*p < 0x20) {
			j->p = (const char *)p;
			return jfail(j, "control character in string");
		} else if (!(n = utf8_decode(p, end, &cp))) {
			j->p = (const char *)p;
			return jfail(j, "invalid UTF-8");
		}
		p += n;
	}
	j->p = (const char *)p + 1;
	n = (size_t)(p - start);
	if (!escapes) {
		*out = arena_strndup(j->a, (const char *)start, n);
		*outn = n;
		return *out ? 0 : jnomem(j);
	}
	s = w = arena_alloc(j->a, n + 1);
	if (!s)
		return jnomem(j);
	for (p = start; *p != '"';) {
		const unsigned char *run = p;

		while (*p != '"' && *p != '\\')
			p++;
		memcpy(w, run, (size_t)(p - run));
		w += p - run;
		if (*p == '\\') {
			unescape(j, (const char *)p, &cp, &n);  /* checked */
			w += utf8_encode(w, cp);
			p += n;
		}
	}
	*w = 0;
	*out = s;
	*outn = (size_t)(w - s);
	return 0;
}

/* ---------------------------------------------------------------------
 * Numbers */

/* [-]digits within int64; -1 on overflow (the text is already valid). */
static int int_value(const char *s, size_t n, int64_t *v)
{
	uint64_t u = 0, lim = INT64_MAX;
	size_t i = 0;
	int neg = s[0] == '-';

	if (neg) {
		lim++;
		i++;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (u > (lim - d) / 10)
			return -1;
		u = u * 10 + d;
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

static size_t digits(struct jp *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return (size_t)(j->p - s);
}

static int parse_number(struct jp *j, struct xv **out)
{
	const char *s = j->p;
	char small[64], *z = small;
	int integral = 1;
	int64_t i;
	double d;
	size_t n;

	if (*j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!digits(j))
		return jfail(j, "bad number");
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		integral = 0;
		if (!digits(j))
			return jfail(j, "bad number");
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		integral = 0;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return jfail(j, "bad number");
	}
	n = (size_t)(j->p - s);
	if (integral && int_value(s, n, &i) == 0) {
		if (mk(j, XV_INT, out) < 0)
			return -1;
		(*out)->u.i = i;
		return 0;
	}
	if (n >= sizeof(small)) {
		z = arena_strndup(j->a, s, n);
		if (!z)
			return jnomem(j);
	} else {
		memcpy(small, s, n);
		small[n] = 0;
	}
	d = strtod(z, NULL);
	if (isinf(d)) {
		j->p = s;
		return jfail(j, "number out of range");
	}
	if (mk(j, XV_DOUBLE, out) < 0)
		return -1;
	(*out)->u.d = d;
	return 0;
}

/* ---------------------------------------------------------------------
 * Values */

static int parse_value(struct jp *j, struct xv **out);

static int enter(struct jp *j)
{
	if (++j->depth > JSON_MAX_DEPTH)
		return jfail(j, "nesting deeper than %d", JSON_MAX_DEPTH);
	return 0;
}

/* After an item: ',' (1, more follow), the closing bracket (0), or an
 * error. */
static int next_item(struct jp *j, char close)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == ',') {
		j->p++;
		return 1;
	}
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	if (j->p >= j->end)
		return jfail(j, "unexpected end of input");
	return jfail(j, "expected ',' or '%c'", close);
}

static int parse_array(struct jp *j, struct xv **out)
{
	size_t base = j->st.n, n;
	struct xv *item;
	int r;

	if (enter(j) < 0 || mk(j, XV_ARRAY, out) < 0)
		return -1;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		goto done;
	}
	do {
		if (parse_value(j, &item) < 0)
			return -1;
		if (cstack_push(&j->st, item) < 0)
			return jnomem(j);
	} while ((r = next_item(j, ']')) > 0);
	if (r < 0)
		return -1;
	n = j->st.n - base;
	(*out)->u.a = arena_alloc(j->a, n * sizeof(struct xv *));
	if (!(*out)->u.a)
		return jnomem(j);
	memcpy((*out)->u.a, j->st.v + base, n * sizeof(struct xv *));
	(*out)->len = n;
	j->st.n = base;
done:
	j->depth--;
	return 0;
}

static int parse_member(struct jp *j)
{
	const char *at;
	char *key;
	size_t n;
	struct xv *v;

	skip_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jfail(j, "expected a string key");
	at = j->p;
	if (parse_string(j, &key, &n) < 0)
		return -1;
	if (strlen(key) != n) {
		j->p = at;
		return jfail(j, "U+0000 in an object key");
	}
	skip_ws(j);
	if (j->p >= j->end || *j->p != ':')
		return jfail(j, "expected ':'");
	j->p++;
	if (parse_value(j, &v) < 0)
		return -1;
	if (cstack_push(&j->st, key) < 0 || cstack_push(&j->st, v) < 0)
		return jnomem(j);
	return 0;
}

static int parse_object(struct jp *j, struct xv **out)
{
	size_t base = j->st.n, i, n;
	struct xv_member *m;
	int r;

	if (enter(j) < 0 || mk(j, XV_STRUCT, out) < 0)
		return -1;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		goto done;
	}
	do {
		if (parse_member(j) < 0)
			return -1;
	} while ((r = next_item(j, '}')) > 0);
	if (r < 0)
		return -1;
	n = (j->st.n - base) / 2;
	m = arena_alloc(j->a, n * sizeof(*m));
	if (!m)
		return jnomem(j);
	for (i = 0; i < n; i++) {
		m[i].name = j->st.v[base + 2 * i];
		m[i].v = j->st.v[base + 2 * i + 1];
	}
	(*out)->u.m = m;
	(*out)->len = n;
	j->st.n = base;
done:
	j->depth--;
	return 0;
}

static int literal(struct jp *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return jfail(j, "unexpected character");
	j->p += n;
	return 0;
}

static int parse_value(struct jp *j, struct xv **out)
{
	char *s;
	size_t n;

	skip_ws(j);
	if (j->p >= j->end)
		return jfail(j, "unexpected end of input");
	switch (*j->p) {
	case '{':
		return parse_object(j, out);
	case '[':
		return parse_array(j, out);
	case '"':
		if (parse_string(j, &s, &n) < 0 || mk(j, XV_STRING, out) < 0)
			return -1;
		(*out)->u.s = s;
		(*out)->len = n;
		return 0;
	case 't':
		if (literal(j, "true", 4) < 0 || mk(j, XV_BOOL, out) < 0)
			return -1;
		(*out)->u.b = 1;
		return 0;
	case 'f':
		return literal(j, "false", 5) < 0 ? -1 : mk(j, XV_BOOL, out);
	case 'n':
		if (literal(j, "null", 4) < 0)
			return -1;
		return mk(j, XV_NIL, out);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return parse_number(j, out);
		return jfail(j, "unexpected character");
	}
}

int json_parse(struct arena *a, const char *s, size_t len, struct xv **out,
	       const char **err)
{
	struct jp j;
	int rc = -1;

	memset(&j, 0, sizeof(j));
	j.base = j.p = s ? s : "";
	j.end = j.base + (s ? len : 0);
	j.a = a;
	*out = NULL;
	if (parse_value(&j, out) < 0)
		goto out;
	skip_ws(&j);
	if (j.p != j.end) {
		jfail(&j, "junk after the value");
		goto out;
	}
	rc = 0;
out:
	cstack_free(&j.st);
	if (rc < 0) {
		*out = NULL;
		if (err)
			*err = j.failed ? json_err : "invalid JSON";
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * JSON-RPC requests */

int jsonrpc_parse_call(struct arena *a, const char *body, size_t len,
		       struct rpc_call *out, const char **err)
{
	const struct xv *method, *version, *params, *id;
	struct xv *req, *arr;
	const char *e = NULL;

	memset(out, 0, sizeof(*out));
	if (json_parse(a, body, len, &req, err) < 0)
		return -1;
	if (req->type != XV_STRUCT) {
		e = "JSON-RPC request is not an object";
		goto out;
	}
	version = xv_get(req, "jsonrpc");
	id = xv_get(req, "id");
	if (version && !(version->type == XV_STRING && version->len == 3 &&
			 !memcmp(version->u.s, "2.0", 3))) {
		e = "JSON-RPC: \"jsonrpc\" must be \"2.0\"";
		goto out;
	}
	out->jsonrpc_v2 = version != NULL;
	if (id && (id->type == XV_INT || id->type == XV_STRING))
		out->id = id;
	method = xv_get(req, "method");
	if (!method || method->type != XV_STRING ||
	    strlen(method->u.s) != method->len) {
		e = "JSON-RPC: \"method\" must be a string";
		goto out;
	}
	out->method = method->u.s;
	params = xv_get(req, "params");
	if (!params || (out->jsonrpc_v2 && params->type == XV_NIL)) {
		arr = xv_new(a, XV_ARRAY);
	} else if (params->type == XV_ARRAY) {
		arr = (struct xv *)params;
	} else if (out->jsonrpc_v2 && params->type == XV_STRUCT) {
		/* by-name params: one struct argument, as XAPI does */
		arr = xv_new(a, XV_ARRAY);
		if (arr) {
			arr->u.a = arena_alloc(a, sizeof(struct xv *));
			if (arr->u.a) {
				arr->u.a[0] = (struct xv *)params;
				arr->len = 1;
			} else {
				arr = NULL;
			}
		}
	} else {
		e = "JSON-RPC: \"params\" must be an array";
		goto out;
	}
	if (!arr) {
		e = "too large: request exceeds its memory limit";
		goto out;
	}
	out->params = arr;
	if (!id || id->type == XV_NIL) {
		e = "JSON-RPC: \"id\" is required and may not be null";
		goto out;
	}
	if (!out->id) {
		e = "JSON-RPC: \"id\" must be a number or a string";
		goto out;
	}
	return 0;
out:
	if (err)
		*err = e;
	return -1;
}

/* ---------------------------------------------------------------------
 * Emitter */

/* Bytes that need a backslash escape (Yojson's choice: C0 and DEL). */
static const unsigned char jesc[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/* Might the word hold a byte of jesc: C0, '"', '\\' or DEL? */
static inline int word_needs_escape(uint64_t w)
{
	return (swar_below(w, 0x20) | swar_zero(w ^ (SWAR_ONES * '"')) |
		swar_zero(w ^ (SWAR_ONES * '\\')) |
		swar_zero(w ^ (SWAR_ONES * 0x7f))) != 0;
}

static void json_string(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n,
			    *run;
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };

	cputc(out, '"');
	for (;;) {
		run = p;
		while (end - p >= 8 && !word_needs_escape(swar_load(p)))
			p += 8;
		while (p < end && !jesc[*p])
			p++;
		if (p > run)
			cput(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		switch (*p) {
		case '"': CPUT(out, "\\\""); break;
		case '\\': CPUT(out, "\\\\"); break;
		case '\b': CPUT(out, "\\b"); break;
		case '\f': CPUT(out, "\\f"); break;
		case '\n': CPUT(out, "\\n"); break;
		case '\r': CPUT(out, "\\r"); break;
		case '\t': CPUT(out, "\\t"); break;
		default:
			u[4] = hex[*p >> 4];
			u[5] = hex[*p & 0xf];
			cput(out, u, 6);
			break;
		}
		p++;
	}
	cputc(out, '"');
}

/* Before any value: the separating comma when needed.  first[d] is 1
 * before a container's first item, 0 after an item, 2 right after a
 * member name. */
static int j_pre(struct emit *e)
{
	unsigned char *f;

	if (e->error)
		return -1;
	if (e->depth) {
		f = &e->first[e->depth];
		if (*f == 0)
			cputc(e->out, ',');
		*f = 0;
	}
	return 0;
}

static void j_nil(struct emit *e)
{
	if (j_pre(e) == 0)
		CPUT(e->out, "null");
}

static void j_str(struct emit *e, const char *s, size_t n)
{
	if (j_pre(e) == 0)
		json_string(e->out, s, n);
}

static void j_i64(struct emit *e, int64_t v)
{
	char tmp[24], *p;
	size_t n;

	if (j_pre(e) < 0)
		return;
	p = cfmt_i64(tmp, sizeof(tmp), v, &n);
	cput(e->out, p, n);
}

static void j_i32(struct emit *e, int32_t v)
{
	j_i64(e, v);
}

static void j_bool(struct emit *e, int v)
{
	if (j_pre(e) < 0)
		return;
	if (v)
		CPUT(e->out, "true");
	else
		CPUT(e->out, "false");
}

static void j_dbl(struct emit *e, double v)
{
	char tmp[XV_DOUBLE_MAX];
	size_t n, i;

	if (j_pre(e) < 0)
		return;
	if (isnan(v)) {
		CPUT(e->out, "NaN");
		return;
	}
	if (isinf(v)) {
		if (v > 0)
			CPUT(e->out, "Infinity");
		else
			CPUT(e->out, "-Infinity");
		return;
	}
	n = xv_double_format(tmp, v);
	cput(e->out, tmp, n);
	for (i = 0; i < n; i++)
		if (tmp[i] != '-' && (tmp[i] < '0' || tmp[i] > '9'))
			return;
	CPUT(e->out, ".0");
}

static void j_datetime(struct emit *e, int64_t t)
{
	char tmp[XV_DATETIME_MAX];

	j_str(e, tmp, xv_datetime_format(tmp, t));
}

static int j_push(struct emit *e, char c)
{
	if (j_pre(e) < 0)
		return -1;
	if (e->depth >= EMIT_MAX_DEPTH) {
		e->error = 1;
		return -1;
	}
	cputc(e->out, c);
	e->first[++e->depth] = 1;
	return 0;
}

static void j_pop(struct emit *e, char c)
{
	if (e->error)
		return;
	if (e->depth <= 0) {
		e->error = 1;
		return;
	}
	cputc(e->out, c);
	e->depth--;
}

static void j_array_begin(struct emit *e)
{
	j_push(e, '[');
}

static void j_array_end(struct emit *e)
{
	j_pop(e, ']');
}

static void j_struct_begin(struct emit *e)
{
	j_push(e, '{');
}

static void j_member(struct emit *e, const char *name, size_t n)
{
	if (e->error)
		return;
	if (e->depth && e->first[e->depth] == 0)
		cputc(e->out, ',');
	json_string(e->out, name, n);
	cputc(e->out, ':');
	e->first[e->depth] = 2;
}

static void j_struct_end(struct emit *e)
{
	j_pop(e, '}');
}

static const struct emit_ops json_ops = {
	.nil = j_nil,
	.str = j_str,
	.i64 = j_i64,
	.i32 = j_i32,
	.boolean = j_bool,
	.dbl = j_dbl,
	.datetime = j_datetime,
	.array_begin = j_array_begin,
	.array_end = j_array_end,
	.struct_begin = j_struct_begin,
	.member = j_member,
	.struct_end = j_struct_end,
	.datetime_str = j_str,
};

void json_emit_init(struct emit *e, struct buf *out)
{
	memset(e, 0, sizeof(*e));
	e->ops = &json_ops;
	e->out = out;
	e->first[0] = 1;
}

/* ---------------------------------------------------------------------
 * JSON-RPC responses */

static void put_id(struct buf *out, const struct rpc_call *c)
{
	struct emit e;

	CPUT(out, ",\"id\":");
	json_emit_init(&e, out);
	emit_value(&e, c->id);         /* NULL: null */
	cputc(out, '}');
}

void jsonrpc_result_begin(struct buf *out, const struct rpc_call *c)
{
	if (c->jsonrpc_v2)
		CPUT(out, "{\"jsonrpc\":\"2.0\",\"result\":");
	else
		CPUT(out, "{\"result\":");
}

void jsonrpc_result_end(struct buf *out, const struct rpc_call *c)
{
	if (!c->jsonrpc_v2)
		CPUT(out, ",\"error\":null");
	put_id(out, c);
}

static void string_list(struct buf *out, const char *const *s, size_t n)
{
	size_t i;

	cputc(out, '[');
	for (i = 0; i < n; i++) {
		if (i)
			cputc(out, ',');
		json_string(out, s[i] ? s[i] : "", s[i] ? strlen(s[i]) : 0);
	}
	cputc(out, ']');
}

void jsonrpc_error(struct buf *out, const struct rpc_call *c,
		   const char *const *desc, size_t n)
{
	if (!c->jsonrpc_v2) {
		CPUT(out, "{\"result\":null,\"error\":");
		string_list(out, desc, n);
	} else {
		const char *code = n && desc[0] ? desc[0] : "";

		CPUT(out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":");
		json_string(out, code, strlen(code));
		CPUT(out, ",\"data\":");
		string_list(out, n ? desc + 1 : desc, n ? n - 1 : 0);
		cputc(out, '}');
	}
	put_id(out, c);
}

/* ---------------------------------------------------------------------
 * Re-encoding a call's parameters (the pool's forwarding) */

/* 0 when every double in v is finite.  O(tree); depth as parsed. */
static int all_finite(const struct xv *v)
{
	size_t i;

	if (v->type == XV_DOUBLE)
		return isfinite(v->u.d) ? 0 : -1;
	for (i = 0; i < v->len && (v->type == XV_ARRAY || v->type == XV_STRUCT); i++)
		if (all_finite(v->type == XV_ARRAY ? v->u.a[i] : v->u.m[i].v))
			return -1;
	return 0;
}

int json_emit_params(struct emit *e, const char *p0, const struct xv *params)
{
	size_t i;

	emit_str(e, p0);
	for (i = 1; i < params->len; i++) {
		if (all_finite(params->u.a[i]))
			return -1;
		emit_value(e, params->u.a[i]);
	}
	return e->error ? -1 : 0;
}
