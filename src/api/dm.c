/* Datamodel engine: type specs, values, objects, indexes, generations. */
#include "api/dm.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "lib/util.h"

uint64_t dm_gen = 1;
static void (*change_hook)(void);

#ifdef XB_HOST_BUILD
int dm_foreign_ok;

static void foreign(const struct obj *o, const char *what)
{
	if (!o->owner || dm_foreign_ok)
		return;
	fprintf(stderr, "xenbox: %s of %s %s, owned by %u, outside the pool's mirror\n", what,
		o->cls->name, o->ref, o->owner);
	abort();
}
#else
#define foreign(o, what) ((void)0)
#endif

void dm_set_change_hook(void (*fn)(void))
{
	change_hook = fn;
}

static void changed(void)
{
	if (change_hook)
		change_hook();
}

/* ---- type specs ---- */

struct type_cache {
	struct type_cache *next;
	char *spec;
	struct dm_type t;
};
static struct type_cache *types;

const struct dm_enum *dm_enum_find(const char *name)
{
	for (struct dm_enum *const *e = dm_enums; *e; e++)
		if (!strcmp((*e)->name, name))
			return *e;
	return NULL;
}

int dm_enum_index(const struct dm_enum *en, const char *s, size_t n)
{
	for (int i = 0; i < en->n; i++)
		if (strlen(en->v[i]) == n && !memcmp(en->v[i], s, n))
			return i;
	return -1;
}

static int enum_init(struct dm_enum *en)
{
	char *copy, *tok, *save = NULL;
	int n = 0;

	if (en->v)
		return 0;
	copy = xstrdup(en->values);
	en->v = xcalloc(strlen(copy) / 2 + 2, sizeof(*en->v));
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		en->v[n++] = tok;       /* copy is kept for the process lifetime */
	en->n = n;
	return n ? 0 : -1;
}

static int has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && !memcmp(s + n - k, suf, k);
}

static const struct dm_type *parse_n(const char *s, size_t n);

static const struct dm_type *intern(const char *s, size_t n, const struct dm_type *t)
{
	struct type_cache *c = xcalloc(1, sizeof(*c));

	c->spec = xstrndup(s, n);
	c->t = *t;
	c->next = types;
	types = c;
	return &c->t;
}

static const struct dm_type *parse_n(const char *s, size_t n)
{
	struct dm_type t = { 0 };
	static const struct { const char *name; enum dm_kind k; } basic[] = {
		{ "string", DM_STRING }, { "int", DM_INT }, { "float", DM_FLOAT },
		{ "bool", DM_BOOL }, { "datetime", DM_DATETIME },
	};

	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	for (struct type_cache *c = types; c; c = c->next)
		if (strlen(c->spec) == n && !memcmp(c->spec, s, n))
			return &c->t;
	for (size_t i = 0; i < ARRAY_SIZE(basic); i++)
		if (strlen(basic[i].name) == n && !memcmp(basic[i].name, s, n)) {
			t.kind = basic[i].k;
			return intern(s, n, &t);
		}
	if (n > 6 && s[0] == '(' && has_suffix(s, n, ") map")) {
		const char *arrow = memmem(s, n, "->", 2);

		if (!arrow)
			return NULL;
		t.kind = DM_MAP;
		t.key = parse_n(s + 1, (size_t)(arrow - s - 1));
		t.elem = parse_n(arrow + 2, (size_t)(s + n - 5 - arrow - 2));
		return t.key && t.elem ? intern(s, n, &t) : NULL;
	}
	if (has_suffix(s, n, " set")) {
		t.kind = DM_SET;
		t.elem = parse_n(s, n - 4);
		return t.elem ? intern(s, n, &t) : NULL;
	}
	if (has_suffix(s, n, " ref")) {
		t.kind = DM_REF;
		t.cls = xstrndup(s, n - 4);
		return intern(s, n, &t);
	}
	{
		char name[64];
		const struct dm_enum *en;

		if (n >= sizeof(name))
			return NULL;
		memcpy(name, s, n);
		name[n] = 0;
		en = dm_enum_find(name);
		if (!en || enum_init((struct dm_enum *)en))
			return NULL;
		t.kind = DM_ENUM;
		t.en = en;
		return intern(s, n, &t);
	}
}

const struct dm_type *dm_type_parse(const char *spec)
{
	return parse_n(spec, strlen(spec));
}

/* ---- interned strings ---- */

/* FNV-1a from a random start: a peer that names objects or sets strings
 * cannot aim them all at one bucket. */
static uint32_t hash_seed;

static uint32_t hash_n(const char *s, size_t n)
{
	uint32_t h;

	if (!hash_seed) {
		while (getrandom(&hash_seed, sizeof(hash_seed), 0) != sizeof(hash_seed))
			;
		hash_seed |= 1;
	}
	h = 2166136261u ^ hash_seed;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static uint32_t hash_str(const char *s)
{
	return hash_n(s, strlen(s));
}

#define STR_MAGIC 0x5d7a11c3u

struct istr {
	struct istr *next;
	uint32_t hash, refs;
#ifdef XB_HOST_BUILD
	uint32_t magic;
#endif
	char s[];
};

static const char str_empty[] = "", str_null[] = "OpaqueRef:NULL";
static struct istr **stab;
static size_t stab_size, stab_count;

static int str_static(const char *s)
{
	return s == str_empty || s == str_null;
}

static struct istr *str_hdr(const char *s)
{
	struct istr *i = (struct istr *)(void *)(s - offsetof(struct istr, s));

#ifdef XB_HOST_BUILD
	if (i->magic != STR_MAGIC) {
		fprintf(stderr, "xenbox: '%.40s' in a dm_val is not a dm_str\n", s);
		abort();
	}
#endif
	return i;
}

char *dm_strn(const char *s, size_t n)
{
	struct istr *i;
	uint32_t h;

	if (!n)
		return (char *)str_empty;
	if (n == sizeof(str_null) - 1 && !memcmp(s, str_null, n))
		return (char *)str_null;
	h = hash_n(s, n);
	for (i = stab_size ? stab[h & (stab_size - 1)] : NULL; i; i = i->next)
		if (i->hash == h && !memcmp(i->s, s, n) && !i->s[n]) {
			i->refs++;
			return i->s;
		}
	if (stab_count >= stab_size) {
		size_t size = stab_size ? stab_size * 2 : 1024;
		struct istr **b = xcalloc(size, sizeof(*b));

		for (size_t k = 0; k < stab_size; k++)
			for (struct istr *j = stab[k], *nx; j; j = nx) {
				nx = j->next;
				j->next = b[j->hash & (size - 1)];
				b[j->hash & (size - 1)] = j;
			}
		free(stab);
		stab = b;
		stab_size = size;
	}
	i = xmalloc(sizeof(*i) + n + 1);
	i->hash = h;
	i->refs = 1;
#ifdef XB_HOST_BUILD
	i->magic = STR_MAGIC;
#endif
	memcpy(i->s, s, n);
	i->s[n] = 0;
	i->next = stab[h & (stab_size - 1)];
	stab[h & (stab_size - 1)] = i;
	stab_count++;
	return i->s;
}

char *dm_str(const char *s)
{
	return dm_strn(s ? s : "", s ? strlen(s) : 0);
}

char *dm_str_ref(const char *s)
{
	if (!s)
		return (char *)str_empty;
	if (!str_static(s))
		str_hdr(s)->refs++;
	return (char *)s;
}

void dm_str_put(const char *s)
{
	struct istr *i, **p;

	if (!s || str_static(s))
		return;
	i = str_hdr(s);
	if (--i->refs)
		return;
	for (p = &stab[i->hash & (stab_size - 1)]; *p != i; p = &(*p)->next)
		;
	*p = i->next;
	stab_count--;
#ifdef XB_HOST_BUILD
	i->magic = 0;
#endif
	free(i);
}

size_t dm_str_count(void)
{
	return stab_count;
}

/* ---- values ---- */

size_t dm_list_len(const struct dm_val *v)
{
	return v->u.l ? v->u.l->n : 0;
}

void dm_val_free(const struct dm_type *t, struct dm_val *v)
{
	switch (t->kind) {
	case DM_STRING:
	case DM_REF:
		dm_str_put(v->u.s);
		v->u.s = NULL;
		break;
	case DM_SET:
	case DM_MAP:
		if (v->u.l) {
			for (size_t i = 0; i < v->u.l->n; i++)
				dm_val_free(t->kind == DM_MAP && !(i & 1) ? t->key : t->elem,
					    &v->u.l->v[i]);
			free(v->u.l);
			v->u.l = NULL;
		}
		break;
	default:
		break;
	}
}

static const struct dm_type *list_item_type(const struct dm_type *t, size_t i)
{
	return t->kind == DM_MAP && !(i & 1) ? t->key : t->elem;
}

void dm_val_copy(const struct dm_type *t, struct dm_val *dst, const struct dm_val *src)
{
	switch (t->kind) {
	case DM_STRING:
	case DM_REF:
		dst->u.s = dm_str(src->u.s);     /* src's may be a caller's text */
		break;
	case DM_SET:
	case DM_MAP:
		dst->u.l = NULL;
		if (src->u.l && src->u.l->n) {
			size_t n = src->u.l->n;

			dst->u.l = xmalloc(sizeof(struct dm_list) + n * sizeof(struct dm_val));
			dst->u.l->n = dst->u.l->cap = (uint32_t)n;
			for (size_t i = 0; i < n; i++)
				dm_val_copy(list_item_type(t, i), &dst->u.l->v[i], &src->u.l->v[i]);
		}
		break;
	default:
		*dst = *src;
		break;
	}
}

int dm_val_equal(const struct dm_type *t, const struct dm_val *a, const struct dm_val *b)
{
	switch (t->kind) {
	case DM_STRING:
	case DM_REF:
		return !strcmp(a->u.s ? a->u.s : "", b->u.s ? b->u.s : "");
	case DM_FLOAT:
		return a->u.d == b->u.d;
	case DM_SET:
	case DM_MAP: {
		size_t n = dm_list_len(a);

		if (n != dm_list_len(b))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!dm_val_equal(list_item_type(t, i), &a->u.l->v[i], &b->u.l->v[i]))
				return 0;
		return 1;
	}
	default:
		return a->u.i == b->u.i;
	}
}

void dm_list_push(const struct dm_type *elem, struct dm_val *set, const struct dm_val *e)
{
	struct dm_list *l = set->u.l;

	(void)elem;
	if (!l || l->n == l->cap) {
		size_t cap = l ? l->cap * 2 : 2;       /* most sets hold 1, maps 1 pair */

		l = xrealloc(l, sizeof(struct dm_list) + cap * sizeof(struct dm_val));
		if (!set->u.l)
			l->n = 0;
		l->cap = (uint32_t)cap;
		set->u.l = l;
	}
	l->v[l->n++] = *e;      /* takes ownership */
}

const struct dm_val *dm_map_get(const struct dm_type *mt, const struct dm_val *map,
			       const char *key)
{
	const struct dm_list *l = map->u.l;

	if (!l || mt->key->kind != DM_STRING)
		return NULL;
	for (size_t i = 0; i + 1 < l->n; i += 2)
		if (!strcmp(l->v[i].u.s, key))
			return &l->v[i + 1];
	return NULL;
}

void dm_map_put_str(struct dm_val *map, const char *key, const char *val)
{
	struct dm_list *l = map->u.l;
	struct dm_val k, v;

	for (size_t i = 0; l && i + 1 < l->n; i += 2)
		if (!strcmp(l->v[i].u.s, key)) {
			dm_str_put(l->v[i + 1].u.s);
			l->v[i + 1].u.s = dm_str(val);
			return;
		}
	k.u.s = dm_str(key);
	v.u.s = dm_str(val);
	dm_list_push(NULL, map, &k);
	dm_list_push(NULL, map, &v);
}

int dm_val_from_literal(const struct dm_type *t, const char *lit, struct dm_val *v)
{
	char *end;

	memset(v, 0, sizeof(*v));
	if (!lit)
		lit = "";
	switch (t->kind) {
	case DM_STRING:
		v->u.s = dm_str(lit);
		return 0;
	case DM_REF:
		v->u.s = dm_str(*lit ? lit : str_null);
		return 0;
	case DM_INT:
	case DM_DATETIME:
		v->u.i = *lit ? strtoll(lit, &end, 10) : 0;
		return *lit && *end ? -1 : 0;
	case DM_FLOAT:
		v->u.d = *lit ? strtod(lit, &end) : 0.0;
		return *lit && *end ? -1 : 0;
	case DM_BOOL:
		if (!*lit || !strcmp(lit, "false"))
			v->u.i = 0;
		else if (!strcmp(lit, "true"))
			v->u.i = 1;
		else
			return -1;
		return 0;
	case DM_ENUM: {
		int i = *lit ? dm_enum_index(t->en, lit, strlen(lit)) : 0;

		v->u.i = i;
		return i < 0 ? -1 : 0;
	}
	case DM_SET:
	case DM_MAP:
		return *lit && strcmp(lit, "{}") && strcmp(lit, "()") ? -1 : 0;
	}
	return -1;
}

/* ---- classes ---- */

struct dm_class *dm_class_find(const char *name)
{
	for (size_t i = 0; i < dm_nclasses; i++)
		if (!strcmp(dm_classes[i]->name, name))
			return dm_classes[i];
	return NULL;
}

struct dm_class *dm_class_find_ci(const char *name)
{
	for (size_t i = 0; i < dm_nclasses; i++)
		if (!strcasecmp(dm_classes[i]->name, name))
			return dm_classes[i];
	return NULL;
}

const struct dm_field *dm_field_find(const struct dm_class *c, const char *name)
{
	for (int i = 0; i < c->nfields; i++)
		if (!strcmp(c->fields[i].name, name))
			return &c->fields[i];
	return NULL;
}

#ifdef XB_HOST_BUILD
/* OF()'s check in the test build: o must be of class cls (a strcmp). */
int dm_of_check(const struct obj *o, const char *cls, int idx, const char *file, int line)
{
	if (!o || strcmp(o->cls->name, cls)) {
		fprintf(stderr, "xenbox: %s:%d: field %d of %s used on a%s %s\n", file, line,
			idx, cls, o ? "" : " NULL", o ? o->cls->name : "object");
		abort();
	}
	return idx;
}
#endif

const struct dm_msg *dm_msg_find(const struct dm_class *c, const char *name)
{
	for (const struct dm_msg *m = c->msgs; m && m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

static int init_msg(struct dm_class *c, struct dm_msg *m, char *err, size_t errlen)
{
	int n = 0;

	if (m->result && strcmp(m->result, "void") && !(m->rt = dm_type_parse(m->result))) {
		snprintf(err, errlen, "%s.%s: bad result type '%s'", c->name, m->name, m->result);
		return -1;
	}
	while (m->params && m->params[n].name)
		n++;
	if (n > UCHAR_MAX) {            /* nparams is packed into a byte */
		snprintf(err, errlen, "%s.%s: too many parameters", c->name, m->name);
		return -1;
	}
	m->nparams = (unsigned char)n;
	m->nrequired = 0;
	m->pt = xcalloc((size_t)n + 1, sizeof(*m->pt));
	for (int i = 0; i < n; i++) {
		m->pt[i] = dm_type_parse(m->params[i].type);
		if (!m->pt[i]) {
			snprintf(err, errlen, "%s.%s: bad type '%s' of parameter %s",
				 c->name, m->name, m->params[i].type, m->params[i].name);
			return -1;
		}
		if (!m->params[i].def)
			m->nrequired = (unsigned char)(i + 1);
	}
	return 0;
}

int dm_init(char *err, size_t errlen)
{
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		struct dm_class *c = dm_classes[ci];
		int n = 0;

		if (c->lname)
			continue;       /* already initialised */
		c->lname = xstrdup(c->name);
		for (char *p = c->lname; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		c->f_uuid = c->f_name_label = -1;
		for (struct dm_field *f = c->fields; f->name; f++, n++) {
			struct dm_val v;

			if (n > SHRT_MAX) {     /* idx is packed into a short */
				snprintf(err, errlen, "%s: too many fields", c->name);
				return -1;
			}
			f->idx = (short)n;
			f->inv_idx = -1;
			f->t = dm_type_parse(f->type);
			if (!f->t) {
				snprintf(err, errlen, "%s.%s: bad type '%s'", c->name, f->name, f->type);
				return -1;
			}
			if (dm_val_from_literal(f->t, f->def, &v)) {
				snprintf(err, errlen, "%s.%s: default '%s' is not a %s",
					 c->name, f->name, f->def, f->type);
				return -1;
			}
			f->dv = v;      /* the literal is not needed again */
			if (!strcmp(f->name, "uuid"))
				c->f_uuid = n;
			if (!strcmp(f->name, "name_label"))
				c->f_name_label = n;
		}
		c->nfields = n;
		for (struct dm_msg *m = c->msgs; m && m->name; m++)
			if (init_msg(c, m, err, errlen))
				return -1;
	}
	/* inverse relations: "VBD.VM" on VM.VBDs -> VBD.VM mirrors into it */
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		struct dm_class *c = dm_classes[ci];

		for (struct dm_field *f = c->fields; f->name; f++) {
			const char *dot;
			char cname[64];
			struct dm_class *fc;
			struct dm_field *ff;

			if (!f->inverse)
				continue;
			dot = strchr(f->inverse, '.');
			if (!dot || (size_t)(dot - f->inverse) >= sizeof(cname))
				goto bad_inverse;
			memcpy(cname, f->inverse, (size_t)(dot - f->inverse));
			cname[dot - f->inverse] = 0;
			fc = dm_class_find(cname);
			ff = fc ? (struct dm_field *)dm_field_find(fc, dot + 1) : NULL;
			if (!ff || ff->t->kind != DM_REF || f->t->kind != DM_SET)
				goto bad_inverse;
			ff->inv_cls = c;
			ff->inv_idx = f->idx;
			continue;
bad_inverse:
			snprintf(err, errlen, "%s.%s: bad inverse '%s'", c->name, f->name, f->inverse);
			return -1;
		}
	}
	return 0;
}

/* ---- object indexes: two chained hash tables (ref, uuid) ---- */

struct htab {
	struct obj **b;
	size_t size, count;
	int by_uuid;
};
static struct htab h_ref, h_uuid = { .by_uuid = 1 };

static struct obj **hnext(struct htab *h, struct obj *o)
{
	return h->by_uuid ? &o->hnext_uuid : &o->hnext_ref;
}

static const char *hkey(struct htab *h, const struct obj *o)
{
	return h->by_uuid ? dm_fv(o, o->cls->f_uuid)->u.s : o->ref;
}

static void h_insert(struct htab *h, struct obj *o);

static void h_grow(struct htab *h)
{
	struct obj **old = h->b;
	size_t oldsize = h->size;

	h->size = h->size ? h->size * 2 : 256;
	h->b = xcalloc(h->size, sizeof(*h->b));
	h->count = 0;
	for (size_t i = 0; i < oldsize; i++)
		for (struct obj *o = old[i], *n; o; o = n) {
			n = *hnext(h, o);
			h_insert(h, o);
		}
	free(old);
}

static void h_insert(struct htab *h, struct obj *o)
{
	size_t i;

	if (h->count >= h->size)
		h_grow(h);
	i = hash_str(hkey(h, o)) & (h->size - 1);
	*hnext(h, o) = h->b[i];
	h->b[i] = o;
	h->count++;
}

static void h_remove(struct htab *h, struct obj *o)
{
	struct obj **p;

	if (!h->size)
		return;
	for (p = &h->b[hash_str(hkey(h, o)) & (h->size - 1)]; *p; p = hnext(h, *p))
		if (*p == o) {
			*p = *hnext(h, o);
			h->count--;
			return;
		}
}

static struct obj *h_find(struct htab *h, const char *key)
{
	if (!h->size)
		return NULL;
	for (struct obj *o = h->b[hash_str(key) & (h->size - 1)]; o; o = *hnext(h, o))
		if (!strcmp(hkey(h, o), key))
			return o;
	return NULL;
}

struct obj *dm_obj_by_ref(const char *ref)
{
	return ref ? h_find(&h_ref, ref) : NULL;
}

struct obj *dm_obj_by_ref_cls(const struct dm_class *c, const char *ref)
{
	struct obj *o = dm_obj_by_ref(ref);

	return o && o->cls == c ? o : NULL;
}

struct obj *dm_obj_by_uuid(const struct dm_class *c, const char *uuid)
{
	struct obj *o;

	if (!uuid || !h_uuid.size)
		return NULL;
	/* uuids are unique across classes in practice; check the class */
	for (o = h_uuid.b[hash_str(uuid) & (h_uuid.size - 1)]; o; o = o->hnext_uuid)
		if (o->cls == c && !strcmp(dm_fv(o, c->f_uuid)->u.s, uuid))
			return o;
	return NULL;
}

/* A change: the next generation, and the second it happened. */
static void stamp(struct obj *o)
{
	o->gen_modified = ++dm_gen;
	o->mtime = (uint32_t)time(NULL);
}

/* ---- sparse objects (docs/POOL.md 11.3) ---- */

static int nwords(const struct dm_class *c)
{
	return (c->nfields + 63) >> 6;
}

static uint64_t *smask(const struct obj *o)
{
	return (uint64_t *)(void *)o->f_;       /* the words' u.i */
}

static int has(const struct obj *o, int i)
{
	return (int)(smask(o)[i >> 6] >> (i & 63) & 1);
}

/* the slot of field i: the fields before it that o holds */
static int slot(const struct obj *o, int i)
{
	const uint64_t *m = smask(o);
	int n = 0;

	for (int w = 0; w < i >> 6; w++)
		n += __builtin_popcountll(m[w]);
	return n + __builtin_popcountll(m[i >> 6] & ((1ull << (i & 63)) - 1));
}

static int nslots(const struct obj *o)
{
	return slot(o, o->cls->nfields - 1) + has(o, o->cls->nfields - 1);
}

const struct dm_val *dm_fv(const struct obj *o, int i)
{
	if (!o->sparse)
		return &o->f_[i];
	return has(o, i) ? &o->f_[nwords(o->cls)].u.v[slot(o, i)] : &o->cls->fields[i].dv;
}

/* A slot for field i (zero), the others moved up: o's values move. */
static struct dm_val *slot_add(struct obj *o, int i)
{
	struct dm_val **vp = &o->f_[nwords(o->cls)].u.v;
	int n = nslots(o), k = slot(o, i);

	*vp = xrealloc(*vp, (size_t)(n + 1) * sizeof(**vp));
	memmove(&(*vp)[k + 1], &(*vp)[k], (size_t)(n - k) * sizeof(**vp));
	(*vp)[k].u.i = 0;
	smask(o)[i >> 6] |= 1ull << (i & 63);
	return &(*vp)[k];
}

/* Field i's slot goes (its value freed); the last frees the array. */
static void slot_drop(struct obj *o, int i)
{
	struct dm_val **vp = &o->f_[nwords(o->cls)].u.v;
	int n = nslots(o), k = slot(o, i);

	dm_val_free(o->cls->fields[i].t, &(*vp)[k]);
	memmove(&(*vp)[k], &(*vp)[k + 1], (size_t)(n - k - 1) * sizeof(**vp));
	smask(o)[i >> 6] &= ~(1ull << (i & 63));
	if (n == 1) {
		free(*vp);
		*vp = NULL;
	}
}

struct dm_val *dm_fw(struct obj *o, int i)
{
	struct dm_val *v;

	if (!o->sparse)
		return &o->f_[i];
	if (has(o, i))
		return &o->f_[nwords(o->cls)].u.v[slot(o, i)];
	v = slot_add(o, i);
	dm_val_copy(o->cls->fields[i].t, v, &o->cls->fields[i].dv);
	return v;
}

/* Field i of o becomes nv (taken): the old value freed; a sparse object
 * holds it only if it is not the default. */
static void put(struct obj *o, int i, struct dm_val nv)
{
	const struct dm_field *f = &o->cls->fields[i];

	if (!o->sparse) {
		dm_val_free(f->t, &o->f_[i]);
		o->f_[i] = nv;
	} else if (dm_val_equal(f->t, &nv, &o->cls->fields[i].dv)) {
		dm_val_free(f->t, &nv);
		if (has(o, i))
			slot_drop(o, i);
	} else {
		struct dm_val *v = has(o, i) ? dm_fw(o, i) : slot_add(o, i);

		dm_val_free(f->t, v);
		*v = nv;
	}
}

/* After field i was changed in place: a sparse object's slot goes if it
 * now holds the default. */
static void settle(struct obj *o, int i)
{
	if (o->sparse && has(o, i) &&
	    dm_val_equal(o->cls->fields[i].t, dm_fv(o, i), &o->cls->fields[i].dv))
		slot_drop(o, i);
}

/* ---- inverse relation maintenance ---- */

static void inv_remove(struct obj *target, int idx, const char *ref)
{
	struct dm_list *l = dm_fv(target, idx)->u.l;   /* a default: NULL */

	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i].u.s, ref)) {
			dm_str_put(l->v[i].u.s);
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
			l->n--;
			settle(target, idx);
			stamp(target);
			return;
		}
}

static void inv_add(struct obj *target, int idx, const char *ref)
{
	struct dm_val e = { .u.s = dm_str_ref(ref) };      /* ref: an obj->ref */

	dm_list_push(NULL, dm_fw(target, idx), &e);
	stamp(target);
}

static void inv_update(struct obj *o, const struct dm_field *f, const char *oldref,
		       const char *newref)
{
	struct obj *t;

	if (!f->inv_cls)
		return;
	if (oldref && (t = dm_obj_by_ref_cls(f->inv_cls, oldref)))
		inv_remove(t, f->inv_idx, o->ref);
	if (newref && (t = dm_obj_by_ref_cls(f->inv_cls, newref)))
		inv_add(t, f->inv_idx, o->ref);
}

void dm_rebuild_inverses(void)
{
	for (size_t ci = 0; ci < dm_nclasses; ci++)
		for (struct obj *o = dm_classes[ci]->first; o; o = o->next)
			for (int i = 0; i < o->cls->nfields; i++)
				if (o->cls->fields[i].inverse)
					put(o, i, (struct dm_val){ .u.l = NULL });
	for (size_t ci = 0; ci < dm_nclasses; ci++)
		for (struct obj *o = dm_classes[ci]->first; o; o = o->next)
			for (int i = 0; i < o->cls->nfields; i++)
				inv_update(o, &o->cls->fields[i], NULL, dm_fv(o, i)->u.s);
}

/* ---- objects ---- */

/* The dirty list (dm_dirty_all): an array of the objects with the bit. */
static struct obj **dirt;
static size_t ndirt, capdirt;

static void mark_dirty(struct obj *o)
{
	if (o->dirty)
		return;
	if (ndirt == capdirt) {
		capdirt = capdirt ? capdirt * 2 : 256;
		dirt = xrealloc(dirt, capdirt * sizeof(*dirt));
	}
	dirt[ndirt++] = o;
	o->dirty = 1;
}

/* o leaves the list: looked for from the end, where the objects made or
 * changed last are (an object made and deleted before a commit is near
 * it); the last entry takes its place (the order does not matter to the
 * store: deletions are applied before the writes). */
static void unmark_dirty(struct obj *o)
{
	size_t i = ndirt;

	if (!o->dirty)
		return;
	while (i > 0 && dirt[i - 1] != o)
		i--;
	if (i > 0)
		dirt[i - 1] = dirt[--ndirt];
	o->dirty = 0;
}

size_t dm_dirty_all(struct obj *const **out)
{
	*out = dirt;
	return ndirt;
}

void dm_dirty_clear(void)
{
	for (size_t i = 0; i < ndirt; i++)
		dirt[i]->dirty = 0;
	ndirt = 0;
}

struct obj *dm_obj_new(struct dm_class *c, const char *ref, const char *uuid)
{
	return dm_obj_new_owned(c, ref, uuid, 0);
}

struct obj *dm_obj_new_owned(struct dm_class *c, const char *ref, const char *uuid,
			     unsigned owner)
{
	int sparse = owner && (c->flags & DM_C_MIRROR);
	struct obj *o = xcalloc(1, sizeof(*o) + (size_t)(sparse ? nwords(c) + 1 : c->nfields) *
					   sizeof(struct dm_val));
	char tmp[37], r[DM_REF_LEN];

	o->cls = c;
	o->owner = owner & 0xffff;
	o->sparse = sparse & 1;
	if (!ref) {
		dm_new_ref(r);
		ref = r;
	}
	o->ref = dm_strn(ref, strnlen(ref, DM_REF_LEN - 1));
	for (int i = 0; i < c->nfields && !sparse; i++)
		dm_val_copy(c->fields[i].t, &o->f_[i], &c->fields[i].dv);
	if (c->f_uuid >= 0) {
		if (!uuid) {
			dm_new_uuid(tmp);
			uuid = tmp;
		}
		put(o, c->f_uuid, (struct dm_val){ .u.s = dm_str(uuid) });
	}
	o->prev = c->last;
	if (c->last)
		c->last->next = o;
	else
		c->first = o;
	c->last = o;
	c->count++;
	h_insert(&h_ref, o);
	if (c->f_uuid >= 0)
		h_insert(&h_uuid, o);
	stamp(o);
	o->gen_created = o->gen_modified;
	mark_dirty(o);
	for (int i = 0; i < c->nfields; i++)
		if (c->fields[i].inv_cls)
			inv_update(o, &c->fields[i], NULL, dm_fv(o, i)->u.s);
	changed();
	return o;
}

/* Tombstones: a growing array, trimmed once persisted and old enough that
 * no event token should still need them.  Trimming is O(n). */
#define TOMB_KEEP 1024
static struct dm_tomb *tombs;
static size_t ntombs, captombs;
static uint64_t tomb_floor;     /* deletions at or below this gen are lost */

void dm_obj_delete(struct obj *o)
{
	struct dm_class *c = (struct dm_class *)o->cls;
	struct dm_tomb *t;

	foreign(o, "deletion");
	for (int i = 0; i < c->nfields; i++)
		if (c->fields[i].inv_cls)
			inv_update(o, &c->fields[i], dm_fv(o, i)->u.s, NULL);
	if (ntombs == captombs) {
		captombs = captombs ? captombs * 2 : 64;
		tombs = xrealloc(tombs, captombs * sizeof(*tombs));
	}
	t = &tombs[ntombs++];
	t->cls = c;
	snprintf(t->ref, sizeof(t->ref), "%s", o->ref);
	t->gen = ++dm_gen;
	t->time = (uint32_t)time(NULL);
	t->persisted = (c->flags & DM_C_VOLATILE) || o->transient;
	unmark_dirty(o);
	h_remove(&h_ref, o);
	if (c->f_uuid >= 0)
		h_remove(&h_uuid, o);
	if (o->prev)
		o->prev->next = o->next;
	else
		c->first = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		c->last = o->prev;
	c->count--;
	for (int i = 0; i < c->nfields; i++)
		if (!o->sparse)
			dm_val_free(c->fields[i].t, &o->f_[i]);
		else if (has(o, i))
			slot_drop(o, i);
	dm_str_put(o->ref);
	free(o);
	changed();
}

size_t dm_tombs_since(uint64_t gen, const struct dm_tomb **out, int *lost)
{
	size_t i = ntombs;

	*lost = gen < tomb_floor;
	while (i > 0 && tombs[i - 1].gen > gen)
		i--;
	*out = tombs ? tombs + i : NULL;
	return ntombs - i;
}

size_t dm_tombs_all(const struct dm_tomb **out)
{
	*out = tombs;
	return ntombs;
}

void dm_tombs_persisted(void)
{
	size_t drop;

	for (size_t i = 0; i < ntombs; i++)
		tombs[i].persisted = 1;
	if (ntombs <= TOMB_KEEP)
		return;
	drop = ntombs - TOMB_KEEP;
	tomb_floor = tombs[drop - 1].gen;
	memmove(tombs, tombs + drop, TOMB_KEEP * sizeof(*tombs));
	ntombs = TOMB_KEEP;
}

void dm_touch(struct obj *o)
{
	stamp(o);
	changed();
}

void dm_obj_set_uuid(struct obj *o, const char *uuid)
{
	int f = o->cls->f_uuid;

	if (f < 0 || !uuid)
		return;
	h_remove(&h_uuid, o);
	put(o, f, (struct dm_val){ .u.s = dm_str(uuid) });
	h_insert(&h_uuid, o);
	dm_touch(o);
	mark_dirty(o);
}

void dm_set(struct obj *o, int field, const struct dm_val *v)
{
	const struct dm_field *f = &o->cls->fields[field];
	struct dm_val nv;

	foreign(o, f->name);
	if (dm_val_equal(f->t, dm_fv(o, field), v))
		return;
	dm_val_copy(f->t, &nv, v);
	if (f->inv_cls)         /* the old ref lives until put: o's values may move */
		inv_update(o, f, dm_fv(o, field)->u.s, nv.u.s);
	put(o, field, nv);
	/* volatile fields change events, not the store */
	if (!(f->flags & DM_F_VOLATILE))
		mark_dirty(o);
	dm_touch(o);
}

void dm_set_str(struct obj *o, int field, const char *s)
{
	struct dm_val v = { .u.s = (char *)(s ? s : "") };

	dm_set(o, field, &v);
}

void dm_set_int(struct obj *o, int field, int64_t i)
{
	struct dm_val v = { .u.i = i };

	dm_set(o, field, &v);
}

void dm_set_float(struct obj *o, int field, double d)
{
	struct dm_val v = { .u.d = d };

	dm_set(o, field, &v);
}

void dm_set_enum(struct obj *o, int field, const char *name)
{
	const struct dm_type *t = o->cls->fields[field].t;
	int i = dm_enum_index(t->en, name, strlen(name));

	if (i < 0) {
		fprintf(stderr, "xenbox: '%s' is not a %s\n", name, t->en->name);
		abort();
	}
	dm_set_int(o, field, i);
}

const char *dm_get_str(const struct obj *o, int field)
{
	const char *s = dm_fv(o, field)->u.s;

	return s ? s : "";
}

const char *dm_get_enum(const struct obj *o, int field)
{
	const struct dm_type *t = o->cls->fields[field].t;

	return t->en->v[dm_fv(o, field)->u.i];
}

void dm_dispose(void)
{
	DM_FOREIGN(1);
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		struct dm_class *c = dm_classes[ci];

		while (c->first)
			dm_obj_delete(c->first);
	}
	free(tombs);
	tombs = NULL;
	ntombs = captombs = 0;
	free(dirt);
	dirt = NULL;
	ndirt = capdirt = 0;
	free(h_ref.b);
	free(h_uuid.b);
	h_ref.b = h_uuid.b = NULL;
	h_ref.size = h_uuid.size = h_ref.count = h_uuid.count = 0;
	DM_FOREIGN(0);
}

/* ---- uuids ---- */

void dm_new_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r <= 0)
			abort();
		got += (size_t)r;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
		 b[11], b[12], b[13], b[14], b[15]);
}

void dm_new_ref(char out[DM_REF_LEN])
{
	memcpy(out, "OpaqueRef:", 10);
	dm_new_uuid(out + 10);
}

int dm_uuid_valid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (strlen(s) != 36)
		return 0;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}
