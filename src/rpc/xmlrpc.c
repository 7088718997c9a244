/* XML-RPC codec.
 *
 * The parser is a hand-written recursive descent over the whole body:
 * one pass, O(input), no DOM and no libxml.  It accepts the subset of XML
 * that XML-RPC needs: an optional UTF-8 BOM and <?xml ...?> declaration,
 * comments and processing instructions between and inside elements,
 * attributes (ignored), CDATA sections, the five predefined entities and
 * character references.  DOCTYPE (hence any DTD or external entity) is
 * refused.  Text must be well-formed UTF-8 made of XML Chars; line ends
 * are normalised to \n as XML requires.  Recursion is bounded by
 * XMLRPC_MAX_DEPTH and all decoded data lives in the caller's arena, so
 * its limit bounds memory too.  Text needing no decoding (the common
 * case) is copied once, straight from the input into the arena.
 *
 * The emitter writes XAPI's style (ocaml-rpc's Xmlrpc.to_string): no
 * whitespace, untyped strings with &<>" escaped and control characters
 * other than \t \n \r dropped, int64 as strings, <i4> only for int32.
 */
#include "rpc/xmlrpc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base64.h"
#include "rpc/codec.h"

/* ---------------------------------------------------------------------
 * Parser state and errors */

struct xp {
	const char *base, *p, *end;
	struct arena *a;
	int depth;
	int failed;
	struct buf tmp;         /* decoded text when entities etc. occur */
	struct cstack st;       /* children of open arrays and structs */
};

/* Error messages live here until the thread's next parse. */
static __thread char xml_err[128];

__attribute__((format(printf, 3, 4)))
static int xfail_at(struct xp *x, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->failed)
		return -1;
	x->failed = 1;
	n = snprintf(xml_err, sizeof(xml_err), "not well-formed at byte %zu: ",
		     (size_t)(at - x->base));
	if (n < 0 || (size_t)n >= sizeof(xml_err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(xml_err + n, sizeof(xml_err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

#define xfail(x, ...) xfail_at((x), (x)->p, __VA_ARGS__)

static int xnomem(struct xp *x)
{
	if (!x->failed) {
		x->failed = 1;
		snprintf(xml_err, sizeof(xml_err),
			 "too large at byte %zu: request exceeds its memory limit",
			 (size_t)(x->p - x->base));
	}
	return -1;
}

/* ---------------------------------------------------------------------
 * Characters */

/* Bytes that end a run of plain text: markup, references, CR, C0
 * controls (only \t and \n are plain) and non-ASCII (to validate). */
static const unsigned char text_special[256] = {
	[0x00 ... 0x08] = 1, [0x0b ... 0x1f] = 1, ['<'] = 1, ['&'] = 1,
	[0x80 ... 0xff] = 1,
};

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int all_ws(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_ws((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The XML 1.0 Char production, for code points from UTF-8 or &#..; */
static int is_xml_char(uint32_t c)
{
	if (c < 0x20)
		return c == 0x9 || c == 0xa || c == 0xd;
	if (c < 0xd800)
		return 1;
	if (c < 0xe000)
		return 0;
	return c != 0xfffe && c != 0xffff && c <= 0x10ffff;
}

/* Validate the non-ASCII sequence at *pp, advancing past it. */
static int check_utf8(struct xp *x, const unsigned char **pp)
{
	uint32_t cp;
	size_t n = utf8_decode(*pp, (const unsigned char *)x->end, &cp);

	if (!n) {
		x->p = (const char *)*pp;
		return xfail(x, "invalid UTF-8");
	}
	if (!is_xml_char(cp)) {
		x->p = (const char *)*pp;
		return xfail(x, "character U+%04X not allowed in XML",
			     (unsigned)cp);
	}
	*pp += n;
	return 0;
}

static int starts(const struct xp *x, const char *p, const char *lit,
		  size_t n)
{
	return (size_t)(x->end - p) >= n && memcmp(p, lit, n) == 0;
}

/* ---------------------------------------------------------------------
 * Markup that may appear between and inside elements */

/* At "<!--": skip the comment.  "--" may only end it. O(length). */
static int skip_comment(struct xp *x)
{
	const char *p = x->p + 4, *q;

	for (;;) {
		q = memchr(p, '-', (size_t)(x->end - p));
		if (!q || x->end - q < 3)
			return xfail(x, "unterminated comment");
		if (q[1] == '-') {
			if (q[2] != '>') {
				x->p = q;
				return xfail(x, "'--' inside a comment");
			}
			x->p = q + 3;
			return 0;
		}
		p = q + 1;
	}
}

/* XML name characters (ASCII exactly; any non-ASCII byte is let through,
 * no element we know has one): 1 may start a name, 2 may continue it. */
static const unsigned char name_class[256] = {
	['a' ... 'z'] = 3, ['A' ... 'Z'] = 3, ['_'] = 3, [':'] = 3,
	[0x80 ... 0xff] = 3, ['0' ... '9'] = 2, ['-'] = 2, ['.'] = 2,
};

static size_t name_len(const struct xp *x, const char *p)
{
	const char *q = p;

	if (q < x->end && (name_class[(unsigned char)*q] & 1))
		for (q++; q < x->end && name_class[(unsigned char)*q]; q++)
			;
	return (size_t)(q - p);
}

/* At "<?": skip a processing instruction (not the XML declaration). */
static int skip_pi(struct xp *x)
{
	const char *p = x->p + 2, *q;
	size_t n = name_len(x, p);

	if (!n)
		return xfail(x, "bad processing instruction");
	if (n == 3 && (p[0] | 0x20) == 'x' && (p[1] | 0x20) == 'm' &&
	    (p[2] | 0x20) == 'l')
		return xfail(x, "XML declaration not at the start");
	for (q = p + n; (q = memchr(q, '?', (size_t)(x->end - q))); q++) {
		if (q + 1 < x->end && q[1] == '>') {
			x->p = q + 2;
			return 0;
		}
	}
	return xfail(x, "unterminated processing instruction");
}

static int bad_decl(struct xp *x)
{
	if (starts(x, x->p, "<!DOCTYPE", 9))
		return xfail(x, "DOCTYPE not allowed");
	return xfail(x, "unexpected markup");
}

/* Whitespace, comments and PIs between elements. */
static int skip_misc(struct xp *x)
{
	for (;;) {
		while (x->p < x->end && is_ws((unsigned char)*x->p))
			x->p++;
		if (x->end - x->p < 2 || x->p[0] != '<')
			return 0;
		if (x->p[1] == '?') {
			if (skip_pi(x) < 0)
				return -1;
		} else if (x->p[1] == '!') {
			if (!starts(x, x->p, "<!--", 4))
				return bad_decl(x);
			if (skip_comment(x) < 0)
				return -1;
		} else {
			return 0;
		}
	}
}

/* ---------------------------------------------------------------------
 * Character data */

/* At '&': decode a reference into x->tmp. */
static int entity(struct xp *x)
{
	static const struct { char name[6]; char c; } ents[] = {
		{ "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	const char *p = x->p + 1;
	uint32_t cp = 0;
	size_t i, nd = 0;
	char u[4];

	if (p < x->end && *p == '#') {
		int hex = ++p < x->end && *p == 'x';

		for (p += hex; p < x->end && *p != ';'; p++, nd++) {
			unsigned c = (unsigned char)*p, d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				return xfail(x, "bad character reference");
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10ffff)
				cp = 0x110000;  /* saturate: invalid anyway */
		}
		if (p >= x->end || !nd)
			return xfail(x, "bad character reference");
		if (!is_xml_char(cp))
			return xfail(x, "character reference to U+%04X not allowed",
				     (unsigned)cp);
		cput(&x->tmp, u, utf8_encode(u, cp));
		x->p = p + 1;
		return 0;
	}
	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		size_t n = strlen(ents[i].name);

		if (starts(x, p, ents[i].name, n)) {
			cputc(&x->tmp, ents[i].c);
			x->p = p + n;
			return 0;
		}
	}
	return xfail(x, "undefined entity");
}

/* Append [p, end) to x->tmp, validating characters and normalising line
 * ends (CDATA content).  O(n). */
static int copy_chars(struct xp *x, const char *p, const char *end)
{
	const unsigned char *q = (const unsigned char *)p, *run = q,
			    *e = (const unsigned char *)end;

	while (q < e) {
		if (*q == '\r') {
			cput(&x->tmp, run, (size_t)(q - run));
			cputc(&x->tmp, '\n');
			q += q + 1 < e && q[1] == '\n' ? 2 : 1;
			run = q;
		} else if (*q >= 0x80) {
			if (check_utf8(x, &q) < 0)
				return -1;
		} else if (*q < 0x20 && *q != '\t' && *q != '\n') {
			x->p = (const char *)q;
			return xfail(x, "control character not allowed in XML");
		} else {
			q++;
		}
	}
	cput(&x->tmp, run, (size_t)(q - run));
	return 0;
}

/* At "<![CDATA[": append its content to x->tmp. */
static int cdata(struct xp *x)
{
	const char *p = x->p + 9, *q;

	for (q = p; (q = memchr(q, ']', (size_t)(x->end - q))); q++) {
		if (x->end - q >= 3 && q[1] == ']' && q[2] == '>') {
			if (copy_chars(x, p, q) < 0)
				return -1;
			x->p = q + 3;
			return 0;
		}
	}
	return xfail(x, "unterminated CDATA section");
}

/* At a CR, entity, comment, PI, CDATA or bad byte inside text: handle it,
 * appending to x->tmp and advancing x->p. */
static int text_special_case(struct xp *x)
{
	const char *p = x->p;

	if (*p == '&')
		return entity(x);
	if (*p == '\r') {
		cputc(&x->tmp, '\n');
		x->p += x->end - p > 1 && p[1] == '\n' ? 2 : 1;
		return 0;
	}
	if (*p != '<')
		return xfail(x, "control character not allowed in XML");
	if (p[1] == '?')
		return skip_pi(x);
	if (starts(x, p, "<!--", 4))
		return skip_comment(x);
	if (starts(x, p, "<![CDATA[", 9))
		return cdata(x);
	return bad_decl(x);
}

/* Character data from x->p to the next tag, decoded.  (*s, *n) is either a
 * slice of the input (nothing needed decoding) or x->tmp; copy it before
 * the next read_text.  O(length). */
static int read_text(struct xp *x, const char **s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)x->p,
			    *end = (const unsigned char *)x->end, *run = p;
	int slow = 0;

	for (;;) {
		while (p < end && !text_special[*p])
			p++;
		if (p >= end) {
			x->p = x->end;
			return xfail(x, "unexpected end of input");
		}
		if (*p >= 0x80) {
			if (check_utf8(x, &p) < 0)
				return -1;
			continue;
		}
		if (*p == '<' && (end - p < 2 || (p[1] != '!' && p[1] != '?')))
			break;
		if (!slow) {
			buf_reset(&x->tmp);
			slow = 1;
		}
		cput(&x->tmp, run, (size_t)(p - run));
		x->p = (const char *)p;
		if (text_special_case(x) < 0)
			return -1;
		p = run = (const unsigned char *)x->p;
	}
	x->p = (const char *)p;
	if (!slow) {
		*s = (const char *)run;
		*n = (size_t)(p - run);
		return 0;
	}
	cput(&x->tmp, run, (size_t)(p - run));
	*s = x->tmp.data;
	*n = x->tmp.len;
	return 0;
}

/* ---------------------------------------------------------------------
 * Tags */

struct tag {
	const char *at;         /* its '<' */
	const char *name;
	size_t len;
	int end;                /* </name> */
	int empty;              /* <name/> */
};

static int tag_is(const struct tag *t, const char *name, size_t n)
{
	return t->len == n && memcmp(t->name, name, n) == 0;
}

/* Skip attributes up to '>' or "/>" (XML-RPC has none we use). */
static int skip_attrs(struct xp *x, struct tag *t)
{
	for (;;) {
		const char *p = x->p;
		size_t n;
		char q;

		while (x->p < x->end && is_ws((unsigned char)*x->p))
			x->p++;
		if (x->p >= x->end)
			return xfail(x, "unexpected end of input");
		if (*x->p == '>') {
			x->p++;
			return 0;
		}
		if (*x->p == '/') {
			if (x->end - x->p < 2 || x->p[1] != '>')
				return xfail(x, "expected '>' after '/'");
			x->p += 2;
			t->empty = 1;
			return 0;
		}
		n = name_len(x, x->p);
		if (!n || x->p == p)
			return xfail(x, "bad attribute");
		x->p += n;
		while (x->p < x->end && is_ws((unsigned char)*x->p))
			x->p++;
		if (x->p >= x->end || *x->p != '=')
			return xfail(x, "expected '=' in attribute");
		for (x->p++; x->p < x->end && is_ws((unsigned char)*x->p);)
			x->p++;
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return xfail(x, "expected quoted attribute value");
		q = *x->p++;
		while (x->p < x->end && *x->p != q && *x->p != '<')
			x->p++;
		if (x->p >= x->end || *x->p != q)
			return xfail(x, "bad attribute value");
		x->p++;
	}
}

/* At '<' (after skip_misc or read_text): a start, empty or end tag. */
static int read_tag(struct xp *x, struct tag *t)
{
	memset(t, 0, sizeof(*t));
	t->at = x->p;
	if (x->p >= x->end)
		return xfail(x, "unexpected end of input");
	if (*x->p != '<')
		return xfail(x, "text not allowed here");
	x->p++;
	if (x->p < x->end && *x->p == '/') {
		t->end = 1;
		x->p++;
	}
	t->name = x->p;
	t->len = name_len(x, x->p);
	if (!t->len)
		return xfail(x, "bad tag");
	x->p += t->len;
	if (!t->end)
		return skip_attrs(x, t);
	while (x->p < x->end && is_ws((unsigned char)*x->p))
		x->p++;
	if (x->p >= x->end || *x->p != '>')
		return xfail(x, "expected '>'");
	x->p++;
	return 0;
}

/* Skip misc, then require <name> or <name/>. */
static int expect_start(struct xp *x, const char *name, struct tag *t)
{
	if (skip_misc(x) < 0 || read_tag(x, t) < 0)
		return -1;
	if (t->end || !tag_is(t, name, strlen(name)))
		return xfail_at(x, t->at, "expected <%s>", name);
	return 0;
}

static int expect_end(struct xp *x, const char *name)
{
	struct tag t;

	if (skip_misc(x) < 0 || read_tag(x, &t) < 0)
		return -1;
	if (!t.end || !tag_is(&t, name, strlen(name)))
		return xfail_at(x, t.at, "expected </%s>", name);
	return 0;
}

/* Skip misc; 1 if an end tag comes next (not consumed), else 0. */
static int at_end_tag(struct xp *x)
{
	if (skip_misc(x) < 0)
		return -1;
	return x->end - x->p >= 2 && x->p[0] == '<' && x->p[1] == '/';
}

/* ---------------------------------------------------------------------
 * Values */

static int parse_value(struct xp *x, struct xv **out);

static int mk(struct xp *x, enum xv_type type, struct xv **out)
{
	*out = xv_new(x->a, type);
	return *out ? 0 : xnomem(x);
}

static int mk_str(struct xp *x, enum xv_type type, const char *s, size_t n,
		  struct xv **out)
{
	char *copy = arena_strndup(x->a, s, n);

	if (!copy || mk(x, type, out) < 0)
		return xnomem(x);
	(*out)->u.s = copy;
	(*out)->len = n;
	return 0;
}

/* Text content of a scalar element t, which must end with </t>. */
static int scalar_text(struct xp *x, const struct tag *t, const char **s,
		       size_t *n)
{
	struct tag e;

	if (t->empty) {
		*s = "";
		*n = 0;
		return 0;
	}
	if (read_text(x, s, n) < 0 || read_tag(x, &e) < 0)
		return -1;
	if (!e.end)
		return xfail_at(x, e.at, "element not allowed in a scalar");
	if (!tag_is(&e, t->name, t->len))
		return xfail_at(x, e.at, "mismatched end tag");
	return 0;
}

/* [+-]?[0-9]+ within int64.  O(n). */
static int parse_i64(const char *s, size_t n, int64_t *v)
{
	uint64_t u = 0, lim = INT64_MAX;
	size_t i = 0;
	int neg = 0;

	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		lim += neg;
		i++;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || u > (lim - d) / 10)
			return -1;
		u = u * 10 + d;
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

/* Decimal float syntax; strtod would also take hex, "infinity", ... */
static int double_syntax(const char *s, size_t n)
{
	size_t i = 0, intd = 0, fracd = 0, expd = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		intd++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			fracd++;
	if (!intd && !fracd)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			expd++;
		if (!expd)
			return -1;
	}
	return i == n ? 0 : -1;
}

static int parse_double(struct xp *x, const char *s, size_t n, double *d)
{
	char small[64], *z = small;

	if ((n == 3 && !memcmp(s, "nan", 3)) ||
	    (n == 4 && !memcmp(s, "-nan", 4))) {
		/* what our emitter (and OCaml's %.16g) writes */
		*d = NAN;
		return 0;
	}
	if ((n == 3 && !memcmp(s, "inf", 3)) ||
	    (n == 4 && !memcmp(s, "-inf", 4))) {
		*d = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (double_syntax(s, n) < 0)
		return -1;
	if (n >= sizeof(small)) {
		z = arena_strndup(x->a, s, n);
		if (!z)
			return xnomem(x);
	} else {
		memcpy(small, s, n);
		small[n] = 0;
	}
	*d = strtod(z, NULL);
	return isinf(*d) ? -1 : 0;
}

/* Padded base64, whitespace ignored, into a new XV_STRING.  O(n). */
static int parse_base64(struct xp *x, const char *at, const char *s,
			size_t n, struct xv **out)
{
	char *buf = arena_alloc(x->a, n / 4 * 3 + 3);
	long len;

	if (!buf)
		return xnomem(x);
	len = b64_decode(s, n, buf);
	if (len < 0)
		return xfail_at(x, at, "bad base64");
	if (mk(x, XV_STRING, out) < 0)
		return -1;
	buf[len] = 0;
	(*out)->u.s = buf;
	(*out)->len = (size_t)len;
	return 0;
}

static int parse_scalar(struct xp *x, const struct tag *t, struct xv **out)
{
	const char *s;
	size_t n;

	if (scalar_text(x, t, &s, &n) < 0)
		return -1;
	if (tag_is(t, "string", 6))
		return mk_str(x, XV_STRING, s, n, out);
	if (tag_is(t, "i4", 2) || tag_is(t, "int", 3) || tag_is(t, "i8", 2)) {
		int64_t v;

		if (parse_i64(s, n, &v) < 0)
			return xfail_at(x, t->at, "bad or out-of-range integer");
		if (mk(x, XV_INT, out) < 0)
			return -1;
		(*out)->u.i = v;
		return 0;
	}
	if (tag_is(t, "boolean", 7)) {
		if (n != 1 || (s[0] != '0' && s[0] != '1'))
			return xfail_at(x, t->at, "boolean must be 0 or 1");
		if (mk(x, XV_BOOL, out) < 0)
			return -1;
		(*out)->u.b = s[0] == '1';
		return 0;
	}
	if (tag_is(t, "double", 6)) {
		double d = 0;

		if (parse_double(x, s, n, &d) < 0)
			return xfail_at(x, t->at, "bad or out-of-range double");
		if (mk(x, XV_DOUBLE, out) < 0)
			return -1;
		(*out)->u.d = d;
		return 0;
	}
	if (tag_is(t, "dateTime.iso8601", 16))
		return mk_str(x, XV_DATETIME, s, n, out);
	if (tag_is(t, "base64", 6))
		return parse_base64(x, t->at, s, n, out);
	if (tag_is(t, "nil", 3)) {
		if (!all_ws(s, n))
			return xfail_at(x, t->at, "<nil/> must be empty");
		return mk(x, XV_NIL, out);
	}
	return xfail_at(x, t->at, "unknown value type");
}

/* Move the top n stack slots into a new arena array. */
static void **pop_children(struct xp *x, size_t base)
{
	size_t n = x->st.n - base;
	void **v;

	if (!n)
		return NULL;
	v = arena_alloc(x->a, n * sizeof(*v));
	if (v)
		memcpy(v, x->st.v + base, n * sizeof(*v));
	x->st.n = base;
	return v;
}

static int enter(struct xp *x, const struct tag *t)
{
	if (++x->depth > XMLRPC_MAX_DEPTH)
		return xfail_at(x, t->at, "nesting deeper than %d",
				XMLRPC_MAX_DEPTH);
	return 0;
}

static int parse_array(struct xp *x, const struct tag *t, struct xv **out)
{
	size_t base = x->st.n;
	struct tag d;
	struct xv *item;
	int r;

	if (enter(x, t) < 0 || mk(x, XV_ARRAY, out) < 0)
		return -1;
	if (t->empty)
		goto done;
	if (expect_start(x, "data", &d) < 0)
		return -1;
	if (!d.empty) {
		while (!(r = at_end_tag(x))) {
			if (parse_value(x, &item) < 0)
				return -1;
			if (cstack_push(&x->st, item) < 0)
				return xnomem(x);
		}
		if (r < 0 || expect_end(x, "data") < 0)
			return -1;
	}
	if (expect_end(x, "array") < 0)
		return -1;
	(*out)->len = x->st.n - base;
	(*out)->u.a = (struct xv **)pop_children(x, base);
	if ((*out)->len && !(*out)->u.a)
		return xnomem(x);
done:
	x->depth--;
	return 0;
}

static int parse_member(struct xp *x)
{
	struct tag m, nm;
	const char *s = "";
	size_t n = 0;
	char *name;
	struct xv *v;

	if (expect_start(x, "member", &m) < 0)
		return -1;
	if (m.empty)
		return xfail_at(x, m.at, "empty <member>");
	if (expect_start(x, "name", &nm) < 0 || scalar_text(x, &nm, &s, &n) < 0)
		return -1;
	name = arena_strndup(x->a, s, n);
	if (!name)
		return xnomem(x);
	if (parse_value(x, &v) < 0 || expect_end(x, "member") < 0)
		return -1;
	if (cstack_push(&x->st, name) < 0 || cstack_push(&x->st, v) < 0)
		return xnomem(x);
	return 0;
}

static int parse_struct(struct xp *x, const struct tag *t, struct xv **out)
{
	size_t base = x->st.n, i, n;
	struct xv_member *m;
	int r;

	if (enter(x, t) < 0 || mk(x, XV_STRUCT, out) < 0)
		return -1;
	if (!t->empty) {
		while (!(r = at_end_tag(x)))
			if (parse_member(x) < 0)
				return -1;
		if (r < 0 || expect_end(x, "struct") < 0)
			return -1;
	}
	n = (x->st.n - base) / 2;
	if (n) {
		m = arena_alloc(x->a, n * sizeof(*m));
		if (!m)
			return xnomem(x);
		for (i = 0; i < n; i++) {
			m[i].name = x->st.v[base + 2 * i];
			m[i].v = x->st.v[base + 2 * i + 1];
		}
		(*out)->u.m = m;
		(*out)->len = n;
	}
	x->st.n = base;
	x->depth--;
	return 0;
}

/* <value>...</value>, typed or not. */
static int parse_value(struct xp *x, struct xv **out)
{
	struct tag v, t;
	const char *s;
	size_t n;

	if (expect_start(x, "value", &v) < 0)
		return -1;
	if (v.empty)
		return mk_str(x, XV_STRING, "", 0, out);
	if (read_text(x, &s, &n) < 0 || read_tag(x, &t) < 0)
		return -1;
	if (t.end) {
		if (!tag_is(&t, "value", 5))
			return xfail_at(x, t.at, "expected </value>");
		return mk_str(x, XV_STRING, s, n, out);
	}
	if (!all_ws(s, n))
		return xfail_at(x, t.at, "text before a typed value");
	if (tag_is(&t, "array", 5)) {
		if (parse_array(x, &t, out) < 0)
			return -1;
	} else if (tag_is(&t, "struct", 6)) {
		if (parse_struct(x, &t, out) < 0)
			return -1;
	} else if (parse_scalar(x, &t, out) < 0) {
		return -1;
	}
	return expect_end(x, "value");
}

/* ---------------------------------------------------------------------
 * Documents */

/* The XML declaration's pseudo-attributes: version 1.x, and an encoding
 * we can read as UTF-8 if one is named. */
static int xml_decl(struct xp *x)
{
	int have_version = 0;

	x->p += 5;
	for (;;) {
		const char *name, *val;
		size_t n, vn;
		char q;

		while (x->p < x->end && is_ws((unsigned char)*x->p))
			x->p++;
		if (starts(x, x->p, "?>", 2)) {
			x->p += 2;
			break;
		}
		name = x->p;
		n = name_len(x, name);
		x->p += n;
		while (x->p < x->end && is_ws((unsigned char)*x->p))
			x->p++;
		if (!n || x->p >= x->end || *x->p != '=')
			return xfail(x, "bad XML declaration");
		for (x->p++; x->p < x->end && is_ws((unsigned char)*x->p);)
			x->p++;
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return xfail(x, "bad XML declaration");
		q = *x->p++;
		val = x->p;
		while (x->p < x->end && *x->p != q && *x->p != '<' &&
		       *x->p != '?')
			x->p++;
		if (x->p >= x->end || *x->p != q)
			return xfail(x, "bad XML declaration");
		vn = (size_t)(x->p++ - val);
		if (n == 7 && !memcmp(name, "version", 7)) {
			if (vn < 3 || memcmp(val, "1.", 2))
				return xfail_at(x, val, "unsupported XML version");
			have_version = 1;
		} else if (n == 8 && !memcmp(name, "encoding", 8)) {
			if (!((vn == 5 && !strncasecmp(val, "utf-8", 5)) ||
			      (vn == 4 && !strncasecmp(val, "utf8", 4)) ||
			      (vn == 8 && !strncasecmp(val, "us-ascii", 8)) ||
			      (vn == 5 && !strncasecmp(val, "ascii", 5))))
				return xfail_at(x, val, "unsupported encoding");
		} else if (!(n == 10 && !memcmp(name, "standalone", 10))) {
			return xfail_at(x, name, "bad XML declaration");
		}
	}
	if (!have_version)
		return xfail(x, "XML declaration without version");
	return 0;
}

static int prolog(struct xp *x)
{
	if (starts(x, x->p, "\xef\xbb\xbf", 3))
		x->p += 3;
	if (starts(x, x->p, "<?xml", 5) && x->end - x->p > 5 &&
	    (is_ws((unsigned char)x->p[5]) || x->p[5] == '?'))
		if (xml_decl(x) < 0)
			return -1;
	return skip_misc(x);
}

static int epilog(struct xp *x)
{
	if (skip_misc(x) < 0)
		return -1;
	if (x->p != x->end)
		return xfail(x, "junk after the document element");
	return 0;
}

static void xp_init(struct xp *x, struct arena *a, const char *body,
		    size_t len)
{
	memset(x, 0, sizeof(*x));
	x->base = x->p = body ? body : "";
	x->end = x->base + (body ? len : 0);
	x->a = a;
	buf_init(&x->tmp);
}

static int xp_done(struct xp *x, int rc, const char **err)
{
	buf_free(&x->tmp);
	cstack_free(&x->st);
	if (rc < 0 && err)
		*err = x->failed ? xml_err : "not well-formed";
	return rc < 0 ? -1 : 0;
}

/* <params> with any number of <param><value/></param>, into an array. */
static int parse_params(struct xp *x, struct xv **out)
{
	size_t base = x->st.n;
	struct tag t;
	struct xv *v;
	int r;

	if (mk(x, XV_ARRAY, out) < 0)
		return -1;
	if ((r = at_end_tag(x)) != 0)   /* </methodCall>: no <params> */
		return r < 0 ? -1 : 0;
	if (expect_start(x, "params", &t) < 0)
		return -1;
	if (t.empty)
		return 0;
	while (!(r = at_end_tag(x))) {
		if (expect_start(x, "param", &t) < 0)
			return -1;
		if (t.empty)
			return xfail_at(x, t.at, "empty <param>");
		if (parse_value(x, &v) < 0 || expect_end(x, "param") < 0)
			return -1;
		if (cstack_push(&x->st, v) < 0)
			return xnomem(x);
	}
	if (r < 0 || expect_end(x, "params") < 0)
		return -1;
	(*out)->len = x->st.n - base;
	(*out)->u.a = (struct xv **)pop_children(x, base);
	if ((*out)->len && !(*out)->u.a)
		return xnomem(x);
	return 0;
}

int xmlrpc_parse_call(struct arena *a, const char *body, size_t len,
		      struct rpc_call *out, const char **err)
{
	struct xp x;
	struct tag t;
	const char *s;
	size_t n;
	int rc = -1;

	xp_init(&x, a, body, len);
	memset(out, 0, sizeof(*out));
	if (prolog(&x) < 0 || expect_start(&x, "methodCall", &t) < 0)
		goto out;
	if (t.empty) {
		xfail_at(&x, t.at, "empty <methodCall>");
		goto out;
	}
	if (expect_start(&x, "methodName", &t) < 0 ||
	    scalar_text(&x, &t, &s, &n) < 0)
		goto out;
	out->method = arena_strndup(a, s, n);
	if (!out->method) {
		xnomem(&x);
		goto out;
	}
	if (parse_params(&x, &out->params) < 0 ||
	    expect_end(&x, "methodCall") < 0 || epilog(&x) < 0)
		goto out;
	rc = 0;
out:
	return xp_done(&x, rc, err);
}

int xmlrpc_parse_response(struct arena *a, const char *body, size_t len,
			  struct xv **result, int *is_fault, const char **err)
{
	struct xp x;
	struct tag t;
	int rc = -1;

	xp_init(&x, a, body, len);
	*result = NULL;
	*is_fault = 0;
	if (prolog(&x) < 0 || expect_start(&x, "methodResponse", &t) < 0)
		goto out;
	if (t.empty) {
		xfail_at(&x, t.at, "empty <methodResponse>");
		goto out;
	}
	if (skip_misc(&x) < 0 || read_tag(&x, &t) < 0)
		goto out;
	if (!t.end && !t.empty && tag_is(&t, "fault", 5)) {
		*is_fault = 1;
		if (parse_value(&x, result) < 0 || expect_end(&x, "fault") < 0)
			goto out;
	} else if (!t.end && !t.empty && tag_is(&t, "params", 6)) {
		if (expect_start(&x, "param", &t) < 0)
			goto out;
		if (t.empty) {
			xfail_at(&x, t.at, "empty <param>");
			goto out;
		}
		if (parse_value(&x, result) < 0 ||
		    expect_end(&x, "param") < 0 || expect_end(&x, "params") < 0)
			goto out;
	} else {
		xfail_at(&x, t.at, "expected <params> or <fault>");
		goto out;
	}
	if (expect_end(&x, "methodResponse") < 0 || epilog(&x) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		*result = NULL;
	return xp_done(&x, rc, err);
}

/* ---------------------------------------------------------------------
 * Emitter */

/* 0: copy; 1: escape; 2: drop (not representable in XML 1.0). */
#define ESC_COMMON \
	[0x00 ... 0x08] = 2, [0x0b ... 0x0c] = 2, [0x0e ... 0x1f] = 2, \
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1
static const unsigned char esc_text[256] = { ESC_COMMON };
static const unsigned char esc_attr[256] = { ESC_COMMON, ['\''] = 1 };

/* Might the word hold a byte of esc_text's classes 1 or 2?  C0, and
 * '<' '>' (0x3c 0x3e: both 0x3e once bit 1 is set), '"' '&' (0x22 0x26:
 * both 0x26 once bit 2 is set). */
static inline int word_needs_escape(uint64_t w)
{
	return (swar_below(w, 0x20) |
		swar_zero((w | SWAR_ONES * 0x02) ^ (SWAR_ONES * 0x3e)) |
		swar_zero((w | SWAR_ONES * 0x04) ^ (SWAR_ONES * 0x26))) != 0;
}

/* XAPI's escaping (ocaml-rpc Xmlrpc.encode); attr adds '.  O(n). */
static void escape(struct buf *out, const char *s, size_t n, int attr)
{
	const unsigned char *p = (const unsigned char *)s,
			    *end = p + n, *run = p;
	const unsigned char *cls = attr ? esc_attr : esc_text;

	for (;;) {
		if (!attr)
			while (end - p >= 8 && !word_needs_escape(swar_load(p)))
				p += 8;
		while (p < end && !cls[*p])
			p++;
		if (p > run)
			cput(out, run, (size_t)(p - run));
		if (p >= end)
			return;
		switch (*p) {
		case '&': CPUT(out, "&amp;"); break;
		case '<': CPUT(out, "&lt;"); break;
		case '>': CPUT(out, "&gt;"); break;
		case '"': CPUT(out, "&quot;"); break;
		case '\'': CPUT(out, "&apos;"); break;
		default: break;                 /* dropped */
		}
		run = ++p;
	}
}

void xml_escape(struct buf *out, const char *s, size_t n)
{
	escape(out, s, n, 1);
}

static void x_nil(struct emit *e)
{
	if (!e->error)
		CPUT(e->out, "<value><nil/></value>");
}

static void x_str(struct emit *e, const char *s, size_t n)
{
	if (e->error)
		return;
	CPUT(e->out, "<value>");
	escape(e->out, s, n, 0);
	CPUT(e->out, "</value>");
}

static void x_i64(struct emit *e, int64_t v)
{
	char tmp[24], *p;
	size_t n;

	if (e->error)
		return;
	p = cfmt_i64(tmp, sizeof(tmp), v, &n);
	CPUT(e->out, "<value>");
	cput(e->out, p, n);
	CPUT(e->out, "</value>");
}

static void x_i32(struct emit *e, int32_t v)
{
	char tmp[24], *p;
	size_t n;

	if (e->error)
		return;
	p = cfmt_i64(tmp, sizeof(tmp), v, &n);
	CPUT(e->out, "<value><i4>");
	cput(e->out, p, n);
	CPUT(e->out, "</i4></value>");
}

static void x_bool(struct emit *e, int v)
{
	if (e->error)
		return;
	if (v)
		CPUT(e->out, "<value><boolean>1</boolean></value>");
	else
		CPUT(e->out, "<value><boolean>0</boolean></value>");
}

static void x_dbl(struct emit *e, double v)
{
	char tmp[XV_DOUBLE_MAX];
	size_t n;

	if (e->error)
		return;
	n = xv_double_format(tmp, v);
	CPUT(e->out, "<value><double>");
	cput(e->out, tmp, n);
	CPUT(e->out, "</double></value>");
}

static void x_datetime_str(struct emit *e, const char *s, size_t n)
{
	if (e->error)
		return;
	CPUT(e->out, "<value><dateTime.iso8601>");
	escape(e->out, s, n, 0);
	CPUT(e->out, "</dateTime.iso8601></value>");
}

static void x_datetime(struct emit *e, int64_t t)
{
	char tmp[XV_DATETIME_MAX];

	x_datetime_str(e, tmp, xv_datetime_format(tmp, t));
}

/* Depth bookkeeping shared by arrays and structs: first[d] is 1 while
 * the struct at depth d has no <member> open. */
static int x_push(struct emit *e)
{
	if (e->error)
		return -1;
	if (e->depth >= EMIT_MAX_DEPTH) {
		e->error = 1;
		return -1;
	}
	e->first[++e->depth] = 1;
	return 0;
}

static int x_pop(struct emit *e)
{
	if (e->error)
		return -1;
	if (e->depth <= 0) {
		e->error = 1;
		return -1;
	}
	return 0;
}

static void x_array_begin(struct emit *e)
{
	if (x_push(e) == 0)
		CPUT(e->out, "<value><array><data>");
}

static void x_array_end(struct emit *e)
{
	if (x_pop(e) < 0)
		return;
	CPUT(e->out, "</data></array></value>");
	e->depth--;
}

static void x_struct_begin(struct emit *e)
{
	if (x_push(e) == 0)
		CPUT(e->out, "<value><struct>");
}

static void x_member(struct emit *e, const char *name, size_t n)
{
	if (e->error)
		return;
	if (!e->first[e->depth])
		CPUT(e->out, "</member><member><name>");
	else
		CPUT(e->out, "<member><name>");
	e->first[e->depth] = 0;
	escape(e->out, name, n, 0);
	CPUT(e->out, "</name>");
}

static void x_struct_end(struct emit *e)
{
	if (x_pop(e) < 0)
		return;
	if (!e->first[e->depth])
		CPUT(e->out, "</member></struct></value>");
	else
		CPUT(e->out, "</struct></value>");
	e->depth--;
}

static const struct emit_ops xmlrpc_ops = {
	.nil = x_nil,
	.str = x_str,
	.i64 = x_i64,
	.i32 = x_i32,
	.boolean = x_bool,
	.dbl = x_dbl,
	.datetime = x_datetime,
	.array_begin = x_array_begin,
	.array_end = x_array_end,
	.struct_begin = x_struct_begin,
	.member = x_member,
	.struct_end = x_struct_end,
	.datetime_str = x_datetime_str,
};

void xmlrpc_emit_init(struct emit *e, struct buf *out)
{
	memset(e, 0, sizeof(*e));
	e->ops = &xmlrpc_ops;
	e->out = out;
	e->first[0] = 1;
}

void xmlrpc_response_begin(struct buf *out)
{
	CPUT(out, "<?xml version=\"1.0\"?><methodResponse><params><param>");
}

void xmlrpc_response_end(struct buf *out)
{
	CPUT(out, "</param></params></methodResponse>");
}

void xmlrpc_call_begin(struct buf *out, const char *method)
{
	CPUT(out, "<?xml version=\"1.0\"?><methodCall><methodName>");
	escape(out, method, strlen(method), 0);
	CPUT(out, "</methodName><params>");
}

void xmlrpc_param_begin(struct buf *out)
{
	CPUT(out, "<param>");
}

void xmlrpc_param_end(struct buf *out)
{
	CPUT(out, "</param>");
}

void xmlrpc_call_end(struct buf *out)
{
	CPUT(out, "</params></methodCall>");
}
