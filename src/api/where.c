/* XAPI's filter expressions for get_all_where / get_all_records_where:
 * a recursive-descent parser for the grammar in where.h (XAPI's is an
 * ocamlyacc one; this follows its tokens and precedence), and a matcher.
 *
 * Recursion is bounded: only "(" and "not" nest (WHERE_MAX_DEPTH), and
 * chains of and/or are lists, parsed and matched in a loop, so a long
 * chain costs no stack.  Matching is O(objects x expression size), plus
 * the text of the fields compared.
 */
#include "api/where.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "rpc/value.h"

enum { W_TRUE, W_FALSE, W_NOT, W_EQ, W_CHAIN, W_AND, W_OR };

#define REF_FIELD (-2)          /* field "_ref" */

struct wval {
	const char *s;          /* literal text, or the field's name */
	int field;              /* -1: literal; else field index or REF_FIELD */
};

/* W_NOT: a.  W_EQ: l = r.  W_CHAIN: a, then next: W_AND/W_OR links,
 * each with its term in a, applied left to right. */
struct where {
	unsigned char op;
	struct where *a, *next;
	struct wval l, r;
};

/* ---- lexer: XAPI's tokens; keywords need no separator ("notfield") ---- */

enum { T_EOF, T_ERR, T_EQ, T_LP, T_RP, T_STR, T_TRUE, T_FALSE, T_FIELD, T_AND, T_OR, T_NOT };

struct parser {
	struct arena *a;
	const char *s;
	size_t n, pos, at;      /* at: where the current token starts */
	int tok, depth;
	const char *str;        /* T_STR: the text, in the arena */
	const char *why;        /* first error */
};

static void next(struct parser *p)
{
	static const struct { const char *w; unsigned char len, tok; } kw[] = {
		{ "true", 4, T_TRUE }, { "false", 5, T_FALSE }, { "field", 5, T_FIELD },
		{ "and", 3, T_AND }, { "or", 2, T_OR }, { "not", 3, T_NOT },
	};
	const char *s = p->s;

	while (p->pos < p->n && (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n'))
		p->pos++;
	p->at = p->pos;
	if (p->pos == p->n) {
		p->tok = T_EOF;
		return;
	}
	switch (s[p->pos]) {
	case '=': p->tok = T_EQ; p->pos++; return;
	case '(': p->tok = T_LP; p->pos++; return;
	case ')': p->tok = T_RP; p->pos++; return;
	case '"': {
		const char *q = memchr(s + p->pos + 1, '"', p->n - p->pos - 1);

		if (!q) {
			p->tok = T_ERR;
			p->why = "a string without its closing quote";
			return;
		}
		p->str = arena_strndup(p->a, s + p->pos + 1, (size_t)(q - s) - p->pos - 1);
		p->pos = (size_t)(q - s) + 1;
		p->tok = p->str ? T_STR : T_ERR;
		if (!p->str)
			p->why = "out of memory";
		return;
	}
	}
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (p->n - p->pos >= kw[i].len && !memcmp(s + p->pos, kw[i].w, kw[i].len)) {
			p->tok = kw[i].tok;
			p->pos += kw[i].len;
			return;
		}
	p->tok = T_ERR;
	p->why = "unexpected character";
}

/* ---- parser ---- */

static struct where *fail(struct parser *p, const char *why)
{
	if (!p->why)
		p->why = why;
	return NULL;
}

static struct where *node(struct parser *p, int op)
{
	struct where *w = arena_alloc(p->a, sizeof(*w));

	if (!w)
		return fail(p, "out of memory");
	w->op = (unsigned char)op;
	w->l.field = w->r.field = -1;
	return w;
}

static int value(struct parser *p, struct wval *v)
{
	if (p->tok == T_FIELD) {
		next(p);
		if (p->tok != T_STR) {
			fail(p, "expected a quoted field name after field");
			return -1;
		}
		v->field = 0;           /* named; where_bind resolves it */
	} else if (p->tok != T_STR) {
		fail(p, "expected a value (\"text\" or field \"name\")");
		return -1;
	}
	v->s = p->str;
	next(p);
	return 0;
}

static struct where *expr(struct parser *p);

static struct where *term(struct parser *p)
{
	struct where *w;

	switch (p->tok) {
	case T_TRUE:
	case T_FALSE:
		if ((w = node(p, p->tok == T_TRUE ? W_TRUE : W_FALSE)))
			next(p);
		return w;
	case T_NOT:
	case T_LP: {
		int paren = p->tok == T_LP;

		if (++p->depth > WHERE_MAX_DEPTH)
			return fail(p, "nested too deeply");
		next(p);
		if (paren) {
			if (!(w = expr(p)))
				return NULL;
			if (p->tok != T_RP)
				return fail(p, "expected )");
			next(p);
		} else {
			/* not takes the whole expression after it */
			if (!(w = node(p, W_NOT)) || !(w->a = expr(p)))
				return NULL;
		}
		p->depth--;
		return w;
	}
	case T_STR:
	case T_FIELD:
		if (!(w = node(p, W_EQ)) || value(p, &w->l))
			return NULL;
		if (p->tok != T_EQ)
			return fail(p, "expected =");
		next(p);
		return value(p, &w->r) ? NULL : w;
	}
	return fail(p, p->tok == T_EOF ? "expected an expression, found the end" :
		    "expected an expression");
}

static struct where *expr(struct parser *p)
{
	struct where *first = term(p), *chain = NULL, **tail = NULL;

	while (first && (p->tok == T_AND || p->tok == T_OR)) {
		struct where *link = node(p, p->tok == T_AND ? W_AND : W_OR);

		if (!chain) {
			if (!(chain = node(p, W_CHAIN)))
				return NULL;
			chain->a = first;
			tail = &chain->next;
		}
		if (!link)
			return NULL;
		next(p);
		if (!(link->a = term(p)))
			return NULL;
		*tail = link;
		tail = &link->next;
	}
	return chain ? chain : first;
}

int where_parse(struct arena *a, const char *s, struct where **out,
		const char **why, size_t *at)
{
	struct parser p = { .a = a, .s = s, .n = strlen(s) };

	next(&p);
	*out = expr(&p);
	if (*out && p.tok != T_EOF)
		*out = fail(&p, p.tok == T_RP ? "a ) without its (" : "more after the expression");
	*why = p.why;
	*at = p.at;
	return *out ? 0 : -1;
}

/* ---- fields ---- */

static int bind_val(struct wval *v, const struct dm_class *k)
{
	const struct dm_field *f;
	char name[64];
	size_t j = 0;

	if (v->field < 0)
		return 0;
	if (!strcmp(v->s, "_ref")) {
		v->field = REF_FIELD;
		return 0;
	}
	f = dm_field_find(k, v->s);
	if (!f && strlen(v->s) < sizeof(name)) {
		/* the database's name: namespaces joined by "__" (name__label) */
		for (const char *c = v->s; *c; c++) {
			name[j++] = *c;
			if (c[0] == '_' && c[1] == '_')
				c++;
		}
		name[j] = 0;
		f = dm_field_find(k, name);
	}
	if (!f || (f->flags & DM_F_HIDDEN))
		return -1;
	v->field = f->idx;
	return 0;
}

int where_bind(struct where *w, const struct dm_class *k, const char **bad)
{
	for (; w; w = w->next) {
		if (w->op == W_EQ) {
			if (bind_val(&w->l, k)) {
				*bad = w->l.s;
				return -1;
			}
			if (bind_val(&w->r, k)) {
				*bad = w->r.s;
				return -1;
			}
		} else if (w->a && where_bind(w->a, k, bad)) {
			return -1;
		}
	}
	return 0;
}

/* A field's text as XAPI's database stores it (its marshalling into
 * strings: SExpr for sets and maps, "%0.18g" for floats). */
static void text(const struct dm_type *t, const struct dm_val *v, struct buf *b);

static void atom(const struct dm_type *t, const struct dm_val *v, struct buf *b)
{
	struct buf tmp = BUF_INIT;
	const char *s;

	buf_addc(b, '\'');
	if (t->kind == DM_STRING || t->kind == DM_REF) {
		s = v->u.s ? v->u.s : "";
	} else {
		text(t, v, &tmp);
		s = tmp.data ? tmp.data : "";
	}
	for (; *s; s++) {
		if (*s == '\\' || *s == '\'')
			buf_addc(b, '\\');
		buf_addc(b, *s);
	}
	buf_free(&tmp);
	buf_addc(b, '\'');
}

static void text(const struct dm_type *t, const struct dm_val *v, struct buf *b)
{
	char tmp[40];

	switch (t->kind) {
	case DM_STRING:
	case DM_REF:
		buf_adds(b, v->u.s ? v->u.s : "");
		break;
	case DM_INT:
		buf_add_i64(b, v->u.i);
		break;
	case DM_FLOAT:
		buf_addf(b, "%.18g", v->u.d);
		break;
	case DM_BOOL:
		buf_adds(b, v->u.i ? "true" : "false");
		break;
	case DM_DATETIME:
		buf_add(b, tmp, xv_datetime_format(tmp, v->u.i));
		break;
	case DM_ENUM:
		buf_adds(b, t->en->v[v->u.i]);
		break;
	case DM_SET:
	case DM_MAP:
		buf_addc(b, '(');
		for (size_t i = 0, n = dm_list_len(v); i < n; i++) {
			if (i)
				buf_addc(b, ' ');
			if (t->kind == DM_SET) {
				atom(t->elem, &v->u.l->v[i], b);
				continue;
			}
			buf_addc(b, '(');
			atom(t->key, &v->u.l->v[i], b);
			buf_addc(b, ' ');
			atom(t->elem, &v->u.l->v[++i], b);
			buf_addc(b, ')');
		}
		buf_addc(b, ')');
		break;
	}
}

static const char *value_text(const struct wval *v, const struct obj *o, struct buf *b)
{
	if (v->field == -1)
		return v->s;
	if (v->field == REF_FIELD)
		return o->ref;
	buf_reset(b);
	text(o->cls->fields[v->field].t, dm_fv(o, v->field), b);
	return b->data ? b->data : "";
}

int where_match(const struct where *w, const struct obj *o, struct buf *l, struct buf *r)
{
	int m;

	switch (w->op) {
	case W_TRUE:
		return 1;
	case W_NOT:
		return !where_match(w->a, o, l, r);
	case W_EQ:
		return !strcmp(value_text(&w->l, o, l), value_text(&w->r, o, r));
	case W_CHAIN:
		m = where_match(w->a, o, l, r);
		for (w = w->next; w; w = w->next)
			if (w->op == W_AND ? m : !m)
				m = where_match(w->a, o, l, r);
		return m;
	}
	return 0;               /* W_FALSE */
}

/* ---- the messages ---- */

int api_where_run(struct call *c, struct dm_class *k, int records)
{
	const struct xv *x = c->params->u.a[1];
	struct where *w;
	struct buf l = BUF_INIT, r = BUF_INIT;
	const char *why, *bad;
	char msg[160];
	size_t at;

	if (x->type != XV_STRING)
		return api_fail(c, "FIELD_TYPE_ERROR", "expr", NULL);
	if (strlen(x->u.s) != x->len)
		return api_fail(c, "INVALID_VALUE", x->u.s, "a NUL byte in the expression", NULL);
	if (where_parse(c->a, x->u.s, &w, &why, &at)) {
		snprintf(msg, sizeof(msg), "%s at offset %zu", why, at);
		return api_fail(c, "INVALID_VALUE", x->u.s, msg, NULL);
	}
	if (where_bind(w, k, &bad)) {
		snprintf(msg, sizeof(msg), "%s has no field \"%.64s\"", k->name, bad);
		return api_fail(c, "INVALID_VALUE", x->u.s, msg, NULL);
	}
	if (records)
		emit_struct_begin(c->e);
	else
		emit_array_begin(c->e);
	for (struct obj *o = k->first; o; o = o->next) {
		if (!where_match(w, o, &l, &r))
			continue;
		if (records) {
			emit_member(c->e, o->ref);
			api_emit_record(c->e, o);
		} else {
			emit_str(c->e, o->ref);
		}
	}
	if (records)
		emit_struct_end(c->e);
	else
		emit_array_end(c->e);
	buf_free(&l);
	buf_free(&r);
	return 0;
}
