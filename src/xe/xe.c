/* `xe`: XAPI's command-line client, its syntax and its output, for the
 * common commands (docs/XE.md).  Where XAPI's xe sends the command line to
 * the server (POST /cli) and the server prints, this one is a client of
 * the XenAPI like any other: it makes the calls and prints as XAPI's CLI
 * server would.  Local over the daemon's Unix socket (as root, no
 * password), or with -s HOST over TLS with -u/-pw (pool/client.c).
 *
 * The fields a record shows, their names, kinds and "( RO)"/"(MRW)"...
 * qualifiers come from xe_fields.h, generated from the datamodel
 * (support/gen-xe-fields.c): XEF_<class>__<field> names one, so a
 * misspelt field fails the build.
 *
 * Output (XAPI's cli_printer): a record is its "name (tag): value" lines,
 * the first label padded on the right and the others on the left to 4 +
 * the longest label, then two empty lines; --minimal prints the first
 * field of each record on one line, joined by commas (a comma or backslash
 * in a value escaped by a backslash).  Errors go to stderr, exit 1. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "applet.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "pool/client.h"
#include "xe_fields.h"

#define DEFAULT_SOCKET "/var/lib/xcp/xapi"
#define NOT_IN_DB "<not in database>"

/* Everything xe keeps lives in one arena, and the client's arenas it took
 * over (call()) in a list: all freed once at the end. */
static struct arena mem;

struct kept {
	struct arena a;
	struct kept *next;
};
static struct kept *kept;

static void *m_alloc(size_t n)
{
	return arena_alloc(&mem, n);
}

static char *m_strndup(const char *s, size_t n)
{
	return arena_strndup(&mem, s, n);
}

static char *m_strdup(const char *s)
{
	return arena_strdup(&mem, s);
}

/* ---- the command line ---- */

struct param {
	const char *k, *v;
};

struct xe {
	struct param p[256];
	int np;
	const char *cmd;
	const char *topic;              /* help's */
	struct xb_client cl;
	int connected;
	int minimal;
	struct buf out;                 /* --minimal's line */
	int nmin;
};

/* Parameters that never select objects (XAPI's standard ones, and ours). */
static const char *const standard[] = {
	"server", "port", "username", "password", "passwordfile", "nossl", "minimal",
	"force", "multiple", "all", "params", "unix", "debug", "debug-on-fail", "trace",
	"message-priority", "traceparent", NULL,
};

static int is_standard(const char *k)
{
	for (int i = 0; standard[i]; i++)
		if (!strcmp(standard[i], k))
			return 1;
	return 0;
}

static const char *get(struct xe *x, const char *k)
{
	for (int i = 0; i < x->np; i++)
		if (!strcmp(x->p[i].k, k))
			return x->p[i].v;
	return NULL;
}

static int flag(struct xe *x, const char *k)
{
	const char *v = get(x, k);

	return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
		     !strcasecmp(v, "on"));
}

/* k=v, unless the command line (added first) said k already */
static int add_param(struct xe *x, const char *k, size_t klen, const char *v)
{
	for (int i = 0; i < x->np; i++)
		if (strlen(x->p[i].k) == klen && !strncmp(x->p[i].k, k, klen))
			return 0;
	if (x->np == (int)(sizeof(x->p) / sizeof(x->p[0])))
		return -1;
	x->p[x->np].k = m_strndup(k, klen);
	x->p[x->np++].v = m_strdup(v);
	return 0;
}

static int param_error(const char *kind, const char *detail)
{
	if (*kind)
		fprintf(stderr, "%s: %s\n", kind, detail);
	else
		fprintf(stderr, "%s\n", detail);
	fputs("For usage run: 'xe help'\n", stderr);
	return 1;
}

static int other_error(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* One argument: -s HOST style switches take the next; --x is x=true. */
static int parse_args(struct xe *x, int argc, char **argv)
{
	static const struct { const char *sw, *k; } sws[] = {
		{ "-s", "server" }, { "-h", "server" }, { "-p", "port" }, { "-u", "username" },
		{ "-pw", "password" }, { "-pwf", "passwordfile" }, { "--unix", "unix" },
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t j;

		for (j = 0; j < sizeof(sws) / sizeof(sws[0]); j++)
			if (!strcmp(a, sws[j].sw))
				break;
		if (j < sizeof(sws) / sizeof(sws[0])) {
			if (i + 1 >= argc)
				return param_error("Syntax error", a);
			add_param(x, sws[j].k, strlen(sws[j].k), argv[++i]);
		} else if (!strncmp(a, "--", 2) && a[2]) {
			add_param(x, a + 2, strlen(a + 2), "true");
		} else if ((eq = strchr(a, '=')) && eq != a) {
			add_param(x, a, (size_t)(eq - a), eq + 1);
		} else if (!x->cmd && a[0] != '-') {
			x->cmd = a;
		} else if (x->cmd && !strcmp(x->cmd, "help") && !x->topic && a[0] != '-') {
			x->topic = a;           /* xe help CMD */
		} else {
			return param_error("Syntax error", a);
		}
	}
	return 0;
}

/* XE_EXTRA_ARGS: comma-separated, "\," a comma; below the command line. */
static void extra_args(struct xe *x)
{
	const char *e = getenv("XE_EXTRA_ARGS");
	struct buf b = BUF_INIT;

	if (!e)
		return;
	for (const char *p = e;; p++) {
		if (*p == '\\' && p[1] == ',') {
			buf_add(&b, ",", 1);
			p++;
		} else if (*p && *p != ',') {
			buf_add(&b, p, 1);
		} else {
			if (b.len) {
				char *s = m_strndup(b.data, b.len), *eq = strchr(s, '=');

				if (eq && eq != s)
					add_param(x, s, (size_t)(eq - s), eq + 1);
				else if (!strncmp(s, "--", 2))
					add_param(x, s + 2, strlen(s + 2), "true");
			}
			b.len = 0;
			if (!*p)
				break;
		}
	}
	buf_free(&b);
}

/* ~/.xe: key=value lines (server, username, password, port...), below
 * XE_EXTRA_ARGS and the command line, as XAPI's xe reads it. */
static void dot_xe(struct xe *x)
{
	const char *home = getenv("HOME");
	char path[512], line[1024];
	FILE *f;

	if (!home || snprintf(path, sizeof(path), "%s/.xe", home) >= (int)sizeof(path))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		line[strcspn(line, "\r\n")] = 0;
		if (eq && eq != line && line[0] != '#')
			add_param(x, line, (size_t)(eq - line), eq + 1);
	}
	fclose(f);
}

/* ---- the connection ---- */

static int api_error(struct xe *x);

static int connect_server(struct xe *x)
{
	const char *server = get(x, "server"), *user = get(x, "username");
	const char *pw = get(x, "password"), *pwf = get(x, "passwordfile");
	char line1[256] = "", line2[256] = "";

	if (x->connected)
		return 0;
	if (pwf) {
		FILE *f = fopen(pwf, "r");

		if (!f)
			return other_error("cannot read %s: %s", pwf, strerror(errno));
		if (fgets(line1, sizeof(line1), f))
			fgets(line2, sizeof(line2), f);
		fclose(f);
		line1[strcspn(line1, "\r\n")] = 0;
		line2[strcspn(line2, "\r\n")] = 0;
		if (!user)
			user = line1;
		if (!pw)
			pw = line2;
	}
	/* XAPI's xe takes 127.0.0.1 for the local socket; with a port, ours
	 * goes to that port over TLS (how the tests reach a daemon's TLS) */
	if (server && (strcmp(server, "127.0.0.1") || get(x, "port"))) {
		const char *ps = get(x, "port");
		long port = ps ? strtol(ps, NULL, 10) : 443;

		if (flag(x, "nossl"))
			return other_error("--nossl: xenbox's xe speaks TLS only to a remote host");
		if (port <= 0 || port > 65535)
			return param_error("Syntax error", "port");
		if (xbc_open_tls(&x->cl, server, (int)port, user ? user : "root", pw ? pw : "")) {
			const struct xv *f = x->cl.fault;

			if (f && f->len && !strcmp(f->u.a[0]->u.s, "SESSION_AUTHENTICATION_FAILED")) {
				int rc = api_error(x);

				xbc_close(&x->cl);
				return rc;
			}
			fprintf(stderr, "Unable to contact server. Please check server and port settings.\n"
				"(%s)\n", x->cl.err);
			xbc_close(&x->cl);
			return 1;
		}
	} else {
		const char *path = get(x, "unix");

		if (xbc_open(&x->cl, path ? path : DEFAULT_SOCKET)) {
			fprintf(stderr, "Unable to contact server. Please check server and port settings.\n"
				"(%s)\n", x->cl.err);
			xbc_close(&x->cl);
			return 1;
		}
	}
	x->connected = 1;
	return 0;
}

/* The records get_all_records brought (ref -> record), for the uuid of a
 * reference in an error's parameters. */
struct seen {
	const struct xv *all;
	struct seen *next;
};
static struct seen *seen;

static const char *ref_convert(const char *p)
{
	if (strncmp(p, "OpaqueRef:", 10))
		return p;
	for (struct seen *s = seen; s; s = s->next)
		for (size_t i = 0; i < s->all->len; i++)
			if (!strcmp(s->all->u.m[i].name, p)) {
				const struct xv *u = xv_get(s->all->u.m[i].v, "uuid");

				return u && u->type == XV_STRING ? u->u.s : p;
			}
	return p;
}

/* An API failure as XAPI's xe prints one it has no description of (the
 * references among its parameters as uuids, as xe's ref_convert). */
static int api_error(struct xe *x)
{
	const struct xv *f = x->cl.fault;

	if (!f || !f->len) {
		fprintf(stderr, "Lost connection to the server.\n(%s)\n", x->cl.err);
		return 1;
	}
	/* XAPI's CLI says this for a refused login wherever it comes from
	 * (pool-join's master too): its first parameter is the user name */
	if (!strcmp(f->u.a[0]->u.s, "SESSION_AUTHENTICATION_FAILED"))
		return param_error("", f->len > 1 && f->u.a[1]->type == XV_STRING &&
					       *f->u.a[1]->u.s ? "Authentication failed"
							       : "Username/password must be specified");
	fprintf(stderr, "Error code: %s\nError parameters: ", f->u.a[0]->u.s);
	for (size_t i = 1; i < f->len; i++)
		fprintf(stderr, "%s%s", i > 1 ? ", " : "",
			f->u.a[i]->type == XV_STRING ? ref_convert(f->u.a[i]->u.s) : "?");
	fputc('\n', stderr);
	return 1;
}

/* A call whose result stays valid for the rest of the run (the client's
 * arena is handed over to us: it would be reset by the next call). */
static const struct xv *call(struct xe *x, const char *method, int n, ...)
{
	const struct xv *args[8], *r;
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n && i < 8; i++)
		args[i] = va_arg(ap, const struct xv *);
	va_end(ap);
	r = xbc_call(&x->cl, method, args, (size_t)n);
	if (r || x->cl.fault) {         /* the fault too lives in the arena */
		struct kept *k = m_alloc(sizeof(*k));

		k->a = x->cl.a;
		k->next = kept;
		kept = k;
		arena_init(&x->cl.a, 0);
	}
	return r;
}

static struct xv *str(const char *s)
{
	struct xv *v = m_alloc(sizeof(*v));

	v->type = XV_STRING;
	v->len = strlen(s);
	v->u.s = m_strdup(s);
	return v;
}

static struct xv *boolean(int b)
{
	struct xv *v = m_alloc(sizeof(*v));

	v->type = XV_BOOL;
	v->u.b = b;
	return v;
}

/* ---- values as xe prints them ---- */

static const struct xe_class *class_of(const char *name)
{
	for (int i = 0; i < XE_NCLASSES; i++)
		if (!strcmp(xe_classes[i].name, name))
			return &xe_classes[i];
	return NULL;
}

struct refinfo {
	const char *ref, *uuid, *name;
	struct refinfo *next;
};
static struct refinfo *refs;

static const struct refinfo *lookup_ref(struct xe *x, const char *cls, const char *ref)
{
	struct refinfo *ri;
	const struct xv *rec, *u, *n;
	char method[96];

	for (ri = refs; ri; ri = ri->next)
		if (!strcmp(ri->ref, ref))
			return ri;
	ri = m_alloc(sizeof(*ri));
	ri->ref = m_strdup(ref);
	ri->uuid = NOT_IN_DB;
	ri->name = NOT_IN_DB;
	if (strcmp(ref, "OpaqueRef:NULL") && *ref && class_of(cls)) {
		snprintf(method, sizeof(method), "%s.get_record", cls);
		rec = call(x, method, 1, str(ref));
		if (rec && (u = xv_get(rec, "uuid")) && u->type == XV_STRING)
			ri->uuid = u->u.s;   /* in a kept arena */
		if (rec && (n = xv_get(rec, "name_label")) && n->type == XV_STRING)
			ri->name = n->u.s;
	}
	ri->next = refs;
	refs = ri;
	return ri;
}

static void scalar(struct xe *x, struct buf *b, const struct xv *v, int kind, const char *cls)
{
	char tmp[XV_DOUBLE_MAX + 8];

	if (!v) {
		return;
	}
	switch (v->type) {
	case XV_STRING:
	case XV_DATETIME:
		if (kind == XE_REF && cls) {
			const char *u = lookup_ref(x, cls, v->u.s)->uuid;

			buf_add(b, u, strlen(u));
		} else {
			buf_add(b, v->u.s, v->len);
		}
		break;
	case XV_INT:
		buf_addf(b, "%lld", (long long)v->u.i);
		break;
	case XV_BOOL:
		buf_addf(b, "%s", v->u.b ? "true" : "false");
		break;
	case XV_DOUBLE:
		xv_double_format(tmp, v->u.d);
		buf_addf(b, "%s", tmp);
		break;
	case XV_NIL:
		break;
	case XV_ARRAY:
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				buf_add(b, "; ", 2);
			scalar(x, b, v->u.a[i], kind, cls);
		}
		break;
	case XV_STRUCT:
		for (size_t i = 0; i < v->len; i++) {
			buf_addf(b, "%s%s: ", i ? "; " : "", v->u.m[i].name);
			scalar(x, b, v->u.m[i].v, XE_STRING, NULL);
		}
		break;
	}
}

/* The field's value in rec as xe shows it (a string owned by b). */
static const char *field_text(struct xe *x, const struct xe_class *c, const struct xe_field *f,
			      const struct xv *rec, struct buf *b)
{
	const struct xv *v = xv_get(rec, f->api);

	b->len = 0;
	if (f->derived) {
		if (v && v->type == XV_STRING) {
			const char *n = lookup_ref(x, f->ref, v->u.s)->name;

			buf_add(b, n, strlen(n));
		}
	} else if (f->kind == XE_REF || (f->kind == XE_SET && f->elem == XE_REF)) {
		scalar(x, b, v, XE_REF, f->ref);
	} else {
		scalar(x, b, v, f->kind, NULL);
	}
	buf_add(b, "", 1);
	b->len--;
	/* XAPI's CLI prints power states in lower case */
	if (c == &xe_classes[XEC_VM] && f == &xe_f_VM[XEF_VM__power_state])
		for (char *p = b->data; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return b->data;
}

static const struct xe_field *field_named(const struct xe_class *c, const char *name, size_t n)
{
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->f[i].xe) == n && !strncmp(c->f[i].xe, name, n))
			return &c->f[i];
	return NULL;
}

static const char *tag(const struct xe_field *f)
{
	if (f->kind == XE_MAP)
		return f->rw ? "(MRW)" : "(MRO)";
	if (f->kind == XE_SET)
		return f->rw ? "(SRW)" : "(SRO)";
	return f->rw && !f->derived ? "( RW)" : "( RO)";
}

/* ---- records ---- */

/* The fields to print: params=a,b (record order), params=all, or the
 * command's defaults (-1 ended). */
static int pick_fields(struct xe *x, const struct xe_class *c, const short *defaults,
		       const struct xe_field **out, int max)
{
	const char *params = get(x, "params");
	int n = 0;

	if (!params) {
		for (int i = 0; defaults && defaults[i] >= 0 && n < max; i++)
			out[n++] = &c->f[defaults[i]];
		return n;
	}
	for (size_t i = 0; i < c->n && n < max; i++) {
		const char *p = params;
		int want = !strcmp(params, "all");

		while (!want && *p) {
			size_t l = strcspn(p, ",");

			if (l == strlen(c->f[i].xe) && !strncmp(p, c->f[i].xe, l))
				want = 1;
			p += l + (p[l] == ',');
		}
		if (want)
			out[n++] = &c->f[i];
	}
	return n;
}

static void print_record(struct xe *x, const struct xe_class *c, const struct xv *rec,
			 const struct xe_field **fs, int n)
{
	struct buf b = BUF_INIT, lab = BUF_INIT;
	size_t w = 0;
	char **vals, **labs;

	if (!n)
		return;
	if (x->minimal) {
		const char *v = field_text(x, c, fs[0], rec, &b);

		if (x->nmin++)
			buf_add(&x->out, ",", 1);
		for (; *v; v++) {
			if (*v == ',' || *v == '\\')
				buf_add(&x->out, "\\", 1);
			buf_add(&x->out, v, 1);
		}
		buf_free(&b);
		return;
	}
	vals = xcalloc((size_t)n, sizeof(*vals));
	labs = xcalloc((size_t)n, sizeof(*labs));
	for (int i = 0; i < n; i++) {
		vals[i] = xstrdup(field_text(x, c, fs[i], rec, &b));
		lab.len = 0;
		buf_addf(&lab, "%s %s", fs[i]->xe, tag(fs[i]));
		labs[i] = xstrndup(lab.data, lab.len);
		if (lab.len > w)
			w = lab.len;
	}
	w += 4;
	for (int i = 0; i < n; i++) {
		if (i == 0)
			printf("%-*s: %s\n", (int)w, labs[i], vals[i]);
		else
			printf("%*s: %s\n", (int)w, labs[i], vals[i]);
		free(vals[i]);
		free(labs[i]);
	}
	printf("\n\n");
	free(vals);
	free(labs);
	buf_free(&b);
	buf_free(&lab);
}

static void finish_minimal(struct xe *x)
{
	if (x->minimal)
		printf("%.*s\n", (int)x->out.len, x->out.data ? x->out.data : "");
}

/* ---- selecting objects ---- */

/* Does rec match every selector (the parameters that are not standard nor
 * in skip, space separated)?  field=value compares with what xe prints;
 * map-field:key=value one key; vm=/host=/sr=... a name-label or uuid. */
static int matches(struct xe *x, const struct xe_class *c, const struct xv *rec, const char *skip)
{
	struct buf b = BUF_INIT;
	int ok = 1;

	for (int i = 0; i < x->np && ok; i++) {
		const char *k = x->p[i].k, *v = x->p[i].v, *colon;
		const struct xe_field *f;
		char lc[64];
		size_t kl = strlen(k);

		if (is_standard(k))
			continue;
		if (skip) {
			const char *s = skip;
			int found = 0;

			while (*s && !found) {
				size_t l = strcspn(s, " ");

				found = l == kl && !strncmp(s, k, l);
				s += l + (s[l] == ' ');
			}
			if (found)
				continue;
		}
		snprintf(lc, sizeof(lc), "%s", c->name);
		for (char *p = lc; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		if (!strcmp(k, lc)) {   /* vm=NAME-OR-UUID */
			const struct xv *u = xv_get(rec, "uuid"), *nl = xv_get(rec, "name_label");

			ok = (u && u->type == XV_STRING && !strcmp(u->u.s, v)) ||
			     (nl && nl->type == XV_STRING && !strcmp(nl->u.s, v));
			continue;
		}
		if ((colon = strchr(k, ':')) && (f = field_named(c, k, (size_t)(colon - k))) &&
		    f->kind == XE_MAP) {
			const struct xv *m = xv_get(rec, f->api), *mv = xv_get(m, colon + 1);

			ok = mv && mv->type == XV_STRING && !strcmp(mv->u.s, v);
			continue;
		}
		f = field_named(c, k, kl);
		ok = f && !strcmp(field_text(x, c, f, rec, &b), v);
	}
	buf_free(&b);
	return ok;
}

/* <class>.get_all_records: a struct of ref -> record, or NULL (printed). */
static const struct xv *all_records(struct xe *x, const struct xe_class *c)
{
	char method[96];
	const struct xv *r;

	if (connect_server(x))
		return NULL;
	snprintf(method, sizeof(method), "%s.get_all_records", c->name);
	r = call(x, method, 0);
	if (!r) {
		api_error(x);
		return NULL;
	}
	if (r->type != XV_STRUCT) {
		other_error("%s: not a map of records", method);
		return NULL;
	}
	{
		struct seen *sn = m_alloc(sizeof(*sn));

		sn->all = r;
		sn->next = seen;
		seen = sn;
	}
	return r;
}

static const char *rec_str(const struct xv *rec, const char *api)
{
	const struct xv *v = xv_get(rec, api);

	return v && v->type == XV_STRING ? v->u.s : "";
}

static int rec_bool(const struct xv *rec, const char *api)
{
	const struct xv *v = xv_get(rec, api);

	return v && v->type == XV_BOOL && v->u.b;
}

/* The object uuid=... names: its ref and record, or an error printed. */
static int by_uuid(struct xe *x, const struct xe_class *c, const char *uuid, const char **ref,
		   const struct xv **rec)
{
	const struct xv *all = all_records(x, c);

	if (!all)
		return 1;
	for (size_t i = 0; i < all->len; i++)
		if (!strcmp(rec_str(all->u.m[i].v, "uuid"), uuid)) {
			*ref = all->u.m[i].name;
			*rec = all->u.m[i].v;
			return 0;
		}
	fprintf(stderr, "Error code: UUID_INVALID\nError parameters: %s, %s\n", c->name, uuid);
	return 1;
}

/* ---- commands ---- */

struct cmd;
typedef int cmd_fn(struct xe *x, const struct cmd *cmd);

struct cmd {
	const char *name;
	cmd_fn *fn;
	int cls;                        /* XEC_... */
	const short *defaults;          /* list commands: the fields shown */
	const char *reqd;               /* required parameters, space separated */
	const char *opt;                /* optional parameters (for help) */
	const char *op;                 /* the API call (operations) */
	const char *desc;
};

static int need(struct xe *x, const struct cmd *cmd)
{
	const char *s = cmd->reqd;

	while (s && *s) {
		size_t l = strcspn(s, " ");
		char k[64];

		snprintf(k, sizeof(k), "%.*s", (int)l, s);
		if (!get(x, k))
			return param_error("Required parameter not found", k);
		s += l + (s[l] == ' ');
	}
	return 0;
}

static int cmd_list(struct xe *x, const struct cmd *cmd)
{
	const struct xe_class *c = &xe_classes[cmd->cls];
	const struct xe_field *fs[512];
	const struct xv *all;
	int n;

	/* vm-list shows no templates unless asked (is-a-template=...) */
	if (cmd->cls == XEC_VM && !get(x, "is-a-template") && !flag(x, "all"))
		add_param(x, "is-a-template", 13, "false");
	if (!(all = all_records(x, c)))
		return 1;
	n = pick_fields(x, c, cmd->defaults, fs, 512);
	for (size_t i = 0; i < all->len; i++)
		if (matches(x, c, all->u.m[i].v, NULL))
			print_record(x, c, all->u.m[i].v, fs, n);
	finish_minimal(x);
	return 0;
}

static int cmd_param_list(struct xe *x, const struct cmd *cmd)
{
	const struct xe_class *c = &xe_classes[cmd->cls];
	const struct xe_field *fs[512];
	const struct xv *rec;
	const char *ref;
	int n = 0;

	if (need(x, cmd) || by_uuid(x, c, get(x, "uuid"), &ref, &rec))
		return 1;
	for (size_t i = 0; i < c->n; i++)
		fs[n++] = &c->f[i];
	x->minimal = 0;
	print_record(x, c, rec, fs, n);
	return 0;
}

static int cmd_param_get(struct xe *x, const struct cmd *cmd)
{
	const struct xe_class *c = &xe_classes[cmd->cls];
	const char *name = get(x, "param-name"), *key = get(x, "param-key"), *ref;
	const struct xe_field *f;
	const struct xv *rec;
	struct buf b = BUF_INIT;

	if (need(x, cmd))
		return 1;
	if (!(f = field_named(c, name, strlen(name))))
		return other_error("Unknown field '%s'", name);
	if (by_uuid(x, c, get(x, "uuid"), &ref, &rec))
		return 1;
	if (key) {
		const struct xv *m = xv_get(rec, f->api), *v;

		if (f->kind != XE_MAP)
			return other_error("param-key is for a map parameter: '%s' is not one", name);
		v = xv_get(m, key);
		if (!v)
			return other_error("Key %s not found in map", key);
		scalar(x, &b, v, XE_STRING, NULL);
		printf("%.*s\n", (int)b.len, b.data ? b.data : "");
	} else {
		printf("%s\n", field_text(x, c, f, rec, &b));
	}
	buf_free(&b);
	return 0;
}

/* A value typed on the command line as the field's type wants it. */
static struct xv *typed(struct xe *x, const struct xe_field *f, const char *s)
{
	struct xv *v = m_alloc(sizeof(*v));
	char *end;

	switch (f->kind) {
	case XE_INT:
		v->type = XV_INT;
		errno = 0;
		v->u.i = strtoll(s, &end, 10);
		if (end == s || *end || errno)
			return NULL;
		return v;
	case XE_FLOAT:
		v->type = XV_DOUBLE;
		v->u.d = strtod(s, &end);
		return end == s || *end ? NULL : v;
	case XE_BOOL:
		if (strcasecmp(s, "true") && strcasecmp(s, "false"))
			return NULL;
		return boolean(!strcasecmp(s, "true"));
	case XE_REF: {
		/* a uuid, as xe shows references */
		char method[96];
		const struct xv *r;

		if (!*s || !strcmp(s, NOT_IN_DB))
			return str("OpaqueRef:NULL");
		snprintf(method, sizeof(method), "%s.get_by_uuid", f->ref);
		r = call(x, method, 1, str(s));
		return r && r->type == XV_STRING ? str(r->u.s) : NULL;
	}
	default:
		return str(s);
	}
}

static int cmd_param_set(struct xe *x, const struct cmd *cmd)
{
	const struct xe_class *c = &xe_classes[cmd->cls];
	const struct xv *rec;
	const char *ref;
	char method[128];

	if (need(x, cmd) || by_uuid(x, c, get(x, "uuid"), &ref, &rec))
		return 1;
	for (int i = 0; i < x->np; i++) {
		const char *k = x->p[i].k, *v = x->p[i].v, *colon = strchr(k, ':');
		const struct xe_field *f;
		struct xv *val;

		if (is_standard(k) || !strcmp(k, "uuid"))
			continue;
		f = field_named(c, k, colon ? (size_t)(colon - k) : strlen(k));
		if (!f)
			return other_error("Unknown field '%s'", k);
		if (!f->rw || f->derived)
			return other_error("Field '%s' is read-only", f->xe);
		if (colon) {
			if (f->kind != XE_MAP)
				return other_error("'%s' is not a map parameter", f->xe);
			snprintf(method, sizeof(method), "%s.remove_from_%s", c->name, f->api);
			call(x, method, 2, str(ref), str(colon + 1));
			snprintf(method, sizeof(method), "%s.add_to_%s", c->name, f->api);
			if (!call(x, method, 3, str(ref), str(colon + 1), str(v)))
				return api_error(x);
			continue;
		}
		if (f->kind == XE_MAP || f->kind == XE_SET)
			return other_error("Use %s:KEY=VALUE to set a key of '%s'", f->xe, f->xe);
		val = typed(x, f, v);
		if (!val) {
			if (x->cl.fault)
				return api_error(x);
			return other_error("Invalid value for '%s': %s", f->xe, v);
		}
		snprintf(method, sizeof(method), "%s.set_%s", c->name, f->api);
		if (!call(x, method, 2, str(ref), val))
			return api_error(x);
	}
	return 0;
}

/* vm-start, vm-shutdown, vm-reboot: XAPI's do_vm_op: the VMs the
 * selectors match (never templates or the control domain), one unless
 * --multiple, each failure printed with the VM's uuid. */
static int cmd_vm_op(struct xe *x, const struct cmd *cmd)
{
	const struct xe_class *c = &xe_classes[XEC_VM];
	const struct xv *all;
	const char *refs_[4096];
	const struct xv *recs[4096];
	size_t n = 0;
	int force = flag(x, "force"), rc = 0, nfail = 0;
	char method[64];

	if (!(all = all_records(x, c)))
		return 1;
	for (size_t i = 0; i < all->len && n < 4096; i++) {
		const struct xv *r = all->u.m[i].v;

		if (rec_bool(r, "is_a_template") || rec_bool(r, "is_control_domain"))
			continue;
		if (matches(x, c, r, "paused on"))
			refs_[n] = all->u.m[i].name, recs[n++] = r;
	}
	if (!n)
		return other_error("No matching VMs found");
	if (n > 1 && !flag(x, "multiple"))
		return other_error("Multiple matches VMs found. --multiple required to complete the operation");
	if (!strcmp(cmd->op, "start"))
		snprintf(method, sizeof(method), "VM.start");
	else if (!strcmp(cmd->op, "shutdown"))
		snprintf(method, sizeof(method), force ? "VM.hard_shutdown" : "VM.clean_shutdown");
	else
		snprintf(method, sizeof(method), force ? "VM.hard_reboot" : "VM.clean_reboot");
	for (size_t i = 0; i < n; i++) {
		const struct xv *r;

		if (!strcmp(cmd->op, "start"))
			r = call(x, method, 3, str(refs_[i]), boolean(flag(x, "paused")), boolean(force));
		else
			r = call(x, method, 1, str(refs_[i]));
		if (r)
			continue;
		if (n == 1)
			return api_error(x);
		/* XAPI's Multiple_failure: "operation failed on UUID: message" */
		nfail++;
		{
			const struct xv *f = x->cl.fault;
			struct buf m = BUF_INIT;

			if (f && f->len)
				for (size_t j = 0; j < f->len; j++)
					buf_addf(&m, "%s%s", j ? (j == 1 ? ": " : ", ") : "",
						 f->u.a[j]->type == XV_STRING ?
						 ref_convert(f->u.a[j]->u.s) : "?");
			else
				buf_addf(&m, "%s", x->cl.err);
			printf("operation failed on %s: %.*s\n", rec_str(recs[i], "uuid"), (int)m.len,
			       m.data);
			buf_free(&m);
		}
	}
	if (nfail)
		rc = 1;
	return rc;
}

/* "10GiB", "512MiB", "1024" -> bytes (XAPI's units: KiB MiB GiB TiB, and
 * the decimal KB MB GB TB). */
static int parse_size(const char *s, long long *out)
{
	static const struct { const char *u; long long m; } units[] = {
		{ "KiB", 1LL << 10 }, { "MiB", 1LL << 20 }, { "GiB", 1LL << 30 },
		{ "TiB", 1LL << 40 }, { "KB", 1000LL }, { "MB", 1000000LL },
		{ "GB", 1000000000LL }, { "TB", 1000000000000LL }, { "", 1 },
	};
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].u)) {
			if (n > INT64_MAX / units[i].m)
				return -1;
			*out = n * units[i].m;
			return 0;
		}
	return -1;
}

static struct xv *rec_new(size_t cap)
{
	struct xv *v = m_alloc(sizeof(*v));

	v->type = XV_STRUCT;
	v->u.m = m_alloc(cap * sizeof(v->u.m[0]));
	return v;
}

static void rec_put(struct xv *r, const char *k, struct xv *v)
{
	r->u.m[r->len].name = k;
	r->u.m[r->len++].v = v;
}

static struct xv *empty(enum xv_type t)
{
	struct xv *v = m_alloc(sizeof(*v));

	v->type = t;
	return v;
}

static int cmd_vdi_create(struct xe *x, const struct cmd *cmd)
{
	const char *sr_ref, *type = get(x, "type"), *u;
	const struct xv *sr_rec, *ref, *uuid;
	struct xv *rec = rec_new(16), *size = empty(XV_INT);
	long long bytes;

	if (need(x, cmd))
		return 1;
	if (parse_size(get(x, "virtual-size"), &bytes))
		return other_error("Invalid size: %s", get(x, "virtual-size"));
	if (by_uuid(x, &xe_classes[XEC_SR], get(x, "sr-uuid"), &sr_ref, &sr_rec))
		return 1;
	size->u.i = bytes;
	rec_put(rec, "name_label", str(get(x, "name-label")));
	rec_put(rec, "name_description", str((u = get(x, "name-description")) ? u : ""));
	rec_put(rec, "SR", str(sr_ref));
	rec_put(rec, "virtual_size", size);
	rec_put(rec, "type", str(type ? type : "user"));
	rec_put(rec, "sharable", boolean(flag(x, "sharable")));
	rec_put(rec, "read_only", boolean(flag(x, "read-only")));
	rec_put(rec, "other_config", empty(XV_STRUCT));
	rec_put(rec, "xenstore_data", empty(XV_STRUCT));
	rec_put(rec, "sm_config", empty(XV_STRUCT));
	rec_put(rec, "tags", empty(XV_ARRAY));
	if (!(ref = call(x, "VDI.create", 1, rec)))
		return api_error(x);
	if (!(uuid = call(x, "VDI.get_uuid", 1, str(ref->u.s))))
		return api_error(x);
	printf("%s\n", uuid->u.s);
	return 0;
}

/* vm-install: XAPI's sequence, VM.clone of the template then
 * VM.provision; xenbox has no templates until storage stage 3, so today
 * this says so (docs/XE.md). */
static int cmd_vm_install(struct xe *x, const struct cmd *cmd)
{
	const struct xe_class *c = &xe_classes[XEC_VM];
	const char *tmpl = get(x, "template"), *name = get(x, "new-name-label"), *ref = NULL;
	const struct xv *all, *vm, *uuid;
	int n = 0;

	if (need(x, cmd))
		return 1;
	if (!(all = all_records(x, c)))
		return 1;
	for (size_t i = 0; i < all->len; i++) {
		const struct xv *r = all->u.m[i].v;

		if (rec_bool(r, "is_a_template") && (!strcmp(rec_str(r, "uuid"), tmpl) ||
						     !strcmp(rec_str(r, "name_label"), tmpl))) {
			ref = all->u.m[i].name;
			n++;
		}
	}
	if (!n)
		return other_error("Template not found: %s", tmpl);
	if (n > 1)
		return other_error("More than one template matches: %s (use its uuid)", tmpl);
	if (!(vm = call(x, "VM.clone", 2, str(ref), str(name))) ||
	    !call(x, "VM.provision", 1, str(vm->u.s)) ||
	    !(uuid = call(x, "VM.get_uuid", 1, str(vm->u.s))))
		return api_error(x);
	printf("%s\n", uuid->u.s);
	return 0;
}

static int cmd_pool_join(struct xe *x, const struct cmd *cmd)
{
	if (need(x, cmd) || connect_server(x))
		return 1;
	if (!call(x, flag(x, "force") ? "pool.join_force" : "pool.join", 3,
		  str(get(x, "master-address")), str(get(x, "master-username")),
		  str(get(x, "master-password"))))
		return api_error(x);
	return 0;
}

static int cmd_pool_eject(struct xe *x, const struct cmd *cmd)
{
	const struct xv *rec;
	const char *ref;

	if (need(x, cmd) || by_uuid(x, &xe_classes[XEC_host], get(x, "host-uuid"), &ref, &rec))
		return 1;
	if (!flag(x, "force")) {
		char line[64] = "";

		printf("WARNING: Ejecting a host from the pool will reinitialise that host's local SRs.\n"
		       "WARNING: Any data contained with the local SRs will be lost.\n"
		       "Type 'yes' to continue\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			line[0] = 0;
		line[strcspn(line, "\r\n")] = 0;
		if (strcasecmp(line, "yes")) {
			printf("Aborted (you typed: '%s')\n", line);
			return 0;
		}
	}
	if (!call(x, "pool.eject", 1, str(ref)))
		return api_error(x);
	return 0;
}

/* event-wait class=vm [field=value...]: until an object of the class
 * matches (XAPI's `field=/=value`, not equal, too): event.from on the
 * class, then the records again. */
static int cmd_event_wait(struct xe *x, const struct cmd *cmd)
{
	const char *cname = get(x, "class");
	const struct xe_class *c = NULL;
	const struct xv *token = str("");

	if (need(x, cmd))
		return 1;
	for (int i = 0; i < XE_NCLASSES; i++)
		if (!strcasecmp(xe_classes[i].name, cname))
			c = &xe_classes[i];
	if (!c)
		return other_error("Unknown class: %s", cname);
	if (connect_server(x))
		return 1;
	for (;;) {
		const struct xv *all = all_records(x, c), *ev, *classes, *tok;
		struct xv *arr = empty(XV_ARRAY), *timeout = empty(XV_DOUBLE);
		struct buf b = BUF_INIT;

		if (!all)
			return 1;
		for (size_t i = 0; i < all->len; i++) {
			const struct xv *r = all->u.m[i].v;
			int ok = 1;

			for (int j = 0; j < x->np && ok; j++) {
				const char *k = x->p[j].k, *v = x->p[j].v;
				const struct xe_field *f;
				int neg = v[0] == '/' && v[1] == '=';

				if (is_standard(k) || !strcmp(k, "class"))
					continue;
				f = field_named(c, k, strlen(k));
				ok = f && (!strcmp(field_text(x, c, f, r, &b), neg ? v + 2 : v) ^ neg);
			}
			if (ok) {
				buf_free(&b);
				return 0;
			}
		}
		buf_free(&b);
		arr->len = 1;
		arr->u.a = m_alloc(sizeof(arr->u.a[0]));
		arr->u.a[0] = str(c->name);
		classes = arr;
		timeout->u.d = 30.0;
		ev = call(x, "event.from", 3, classes, token, timeout);
		if (!ev)
			return api_error(x);
		tok = xv_get(ev, "token");
		if (tok && tok->type == XV_STRING)
			token = str(tok->u.s);
	}
}

/* The HTTP transfers, as XAPI's xe makes them: a task, then the file PUT
 * to or GOT from the host's route with the session and the task in the
 * query (/import_raw_vdi, /export_raw_vdi, /import, /export).  The
 * daemon serves none of them before storage stage 4 (docs/STORAGE.md):
 * then this prints what it answers.  cmd->op is "PUT /route" or "GET
 * /route"; the file goes through memory (the reply's bound, 64 MiB). */
static int cmd_transfer(struct xe *x, const struct cmd *cmd)
{
	const char *file = get(x, "filename"), *route = cmd->op + 4, *out = NULL;
	int put = !strncmp(cmd->op, "PUT", 3), status = 0;
	const struct xv *task, *rec = NULL, *einfo;
	const char *ref = NULL;
	struct buf path = BUF_INIT, body = BUF_INIT;
	size_t outlen = 0;
	int rc = 1;

	if (need(x, cmd))
		return 1;
	if (cmd->cls == XEC_VDI || (!put && get(x, "uuid"))) {
		if (!get(x, "uuid"))
			return param_error("Required parameter not found", "uuid");
		if (by_uuid(x, &xe_classes[cmd->cls], get(x, "uuid"), &ref, &rec))
			return 1;
	} else if (!put) {
		return param_error("Required parameter not found", "uuid");
	}
	if (connect_server(x))
		return 1;
	if (put) {
		FILE *f = fopen(file, "rb");
		char tmp[65536];
		size_t n;

		if (!f) {
			fprintf(stderr, "Operation failed. Error: %s: %s\n", file, strerror(errno));
			return 1;
		}
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			buf_add(&body, tmp, n);
		fclose(f);
	} else if (!access(file, F_OK)) {
		fprintf(stderr, "Operation failed. Error: %s: %s\n", file, strerror(EEXIST));
		return 1;
	}
	if (!(task = call(x, "task.create", 2, str(cmd->name), str(""))))
		goto api;
	buf_addf(&path, "%s?session_id=%s&task_id=%s", route, x->cl.session, task->u.s);
	if (ref)
		buf_addf(&path, cmd->cls == XEC_VDI ? "&vdi=%s" : "&ref=%s", ref);
	if (cmd->cls == XEC_VDI)
		buf_addf(&path, "&format=%s", get(x, "format") ? get(x, "format") : "raw");
	if (put && get(x, "sr-uuid")) {
		const struct xv *srrec;
		const char *sr;

		if (by_uuid(x, &xe_classes[XEC_SR], get(x, "sr-uuid"), &sr, &srrec))
			goto out;
		buf_addf(&path, "&sr_id=%s", sr);
	}
	buf_add(&path, "", 1);
	if (!xbc_http(&x->cl, put ? "PUT" : "GET", path.data, body.data, body.len, &status, &out,
		      &outlen)) {
		if (!put) {
			FILE *f = fopen(file, "wbx");

			if (!f || fwrite(out, 1, outlen, f) != outlen) {
				fprintf(stderr, "Operation failed. Error: %s: %s\n", file,
					strerror(errno));
				if (f)
					fclose(f);
				goto out;
			}
			fclose(f);
		}
		rc = 0;
		goto out;
	}
	/* the task may say why; else the HTTP answer is all there is */
	einfo = call(x, "task.get_error_info", 1, str(task->u.s));
	if (einfo && einfo->type == XV_ARRAY && einfo->len) {
		fprintf(stderr, "Error code: %s\nError parameters: ", einfo->u.a[0]->u.s);
		for (size_t i = 1; i < einfo->len; i++)
			fprintf(stderr, "%s%s", i > 1 ? ", " : "", einfo->u.a[i]->u.s);
		fputc('\n', stderr);
	} else if (status) {
		fprintf(stderr, "Operation failed. Error: the server answered HTTP %d to %s %s\n",
			status, put ? "PUT" : "GET", route);
	} else {
		fprintf(stderr, "Lost connection to the server.\n(%s)\n", x->cl.err);
	}
	goto out;
api:
	api_error(x);
out:
	if (task && x->cl.fd >= 0)
		call(x, "task.destroy", 1, str(task->u.s));
	buf_free(&path);
	buf_free(&body);
	return rc;
}

static int cmd_help(struct xe *x, const struct cmd *cmd);

/* ---- the table ---- */

#define L(...) ((const short[]){ __VA_ARGS__, -1 })
#define LIST(n, cl, d) { n "-list", cmd_list, XEC_##cl, d, NULL, "params", NULL, \
	"List the " n "s (selectors: any field=value)." }
#define PARAMS(n, cl) \
	{ n "-param-list", cmd_param_list, XEC_##cl, NULL, "uuid", NULL, NULL, \
	  "Every parameter of one object." }, \
	{ n "-param-get", cmd_param_get, XEC_##cl, NULL, "uuid param-name", "param-key", NULL, \
	  "One parameter of one object (param-key: one key of a map)." }, \
	{ n "-param-set", cmd_param_set, XEC_##cl, NULL, "uuid", NULL, NULL, \
	  "Set parameters: field=value, map-field:key=value." }

static const struct cmd cmds[] = {
	{ "help", cmd_help, 0, NULL, NULL, "all minimal", NULL, "This help; help CMD for one command." },
	LIST("vm", VM, L(XEF_VM__uuid, XEF_VM__name_label, XEF_VM__power_state)),
	PARAMS("vm", VM),
	{ "vm-start", cmd_vm_op, XEC_VM, NULL, NULL, "paused force multiple", "start",
	  "Start the selected VMs." },
	{ "vm-shutdown", cmd_vm_op, XEC_VM, NULL, NULL, "force multiple", "shutdown",
	  "Shut the selected VMs down (force=true: at once)." },
	{ "vm-reboot", cmd_vm_op, XEC_VM, NULL, NULL, "force multiple", "reboot",
	  "Reboot the selected VMs (force=true: at once)." },
	{ "vm-install", cmd_vm_install, XEC_VM, NULL, "template new-name-label", "sr-uuid", NULL,
	  "A new VM from a template (none before storage stage 3)." },
	{ "vm-import", cmd_transfer, XEC_VM, NULL, "filename", "sr-uuid", "PUT /import",
	  "Import a VM (needs the daemon's /import: storage stage 4)." },
	{ "vm-export", cmd_transfer, XEC_VM, NULL, "filename uuid", NULL, "GET /export",
	  "Export a VM (needs the daemon's /export: storage stage 4)." },
	LIST("host", host, L(XEF_host__uuid, XEF_host__name_label, XEF_host__name_description)),
	PARAMS("host", host),
	LIST("sr", SR, L(XEF_SR__uuid, XEF_SR__name_label, XEF_SR__name_description, XEF_SR__type,
			 XEF_SR__content_type)),
	PARAMS("sr", SR),
	LIST("vdi", VDI, L(XEF_VDI__uuid, XEF_VDI__name_label, XEF_VDI__name_description,
			   XEF_VDI__SR, XEF_VDI__virtual_size, XEF_VDI__sharable,
			   XEF_VDI__read_only)),
	PARAMS("vdi", VDI),
	{ "vdi-create", cmd_vdi_create, XEC_VDI, NULL, "sr-uuid name-label virtual-size",
	  "type sharable read-only name-description", NULL,
	  "Create a VDI (virtual-size: bytes, or with KiB, MiB, GiB, TiB); prints its uuid." },
	{ "vdi-import", cmd_transfer, XEC_VDI, NULL, "uuid filename", "format", "PUT /import_raw_vdi",
	  "Import a disk image (needs the daemon's /import_raw_vdi: storage stage 4)." },
	{ "vdi-export", cmd_transfer, XEC_VDI, NULL, "uuid filename", "format", "GET /export_raw_vdi",
	  "Export a disk image (needs the daemon's /export_raw_vdi: storage stage 4)." },
	LIST("network", network, L(XEF_network__uuid, XEF_network__name_label,
				   XEF_network__name_description, XEF_network__bridge)),
	PARAMS("network", network),
	LIST("vif", VIF, L(XEF_VIF__uuid, XEF_VIF__VM, XEF_VIF__device, XEF_VIF__network)),
	PARAMS("vif", VIF),
	LIST("vbd", VBD, L(XEF_VBD__uuid, XEF_VBD__VM, XEF_VBD__VM__name_label, XEF_VBD__VDI,
			   XEF_VBD__empty, XEF_VBD__device)),
	PARAMS("vbd", VBD),
	LIST("pool", pool, L(XEF_pool__uuid, XEF_pool__name_label, XEF_pool__name_description,
			     XEF_pool__master, XEF_pool__default_SR)),
	PARAMS("pool", pool),
	{ "pool-join", cmd_pool_join, XEC_pool, NULL, "master-address master-username master-password",
	  "force", NULL, "Join this host to a pool." },
	{ "pool-eject", cmd_pool_eject, XEC_pool, NULL, "host-uuid", "force", NULL,
	  "Eject a member from the pool." },
	{ "event-wait", cmd_event_wait, 0, NULL, "class", NULL, NULL,
	  "Wait until an object of the class has the given field values (field=/=value: not)." },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* help CMD: XAPI's record of a command (what bash completion reads). */
static int cmd_help(struct xe *x, const struct cmd *self)
{
	const struct cmd *c = x->topic ? find_cmd(x->topic) : NULL;

	if (x->topic && !c)
		return param_error("Unknown command", x->topic);
	if (c) {
		struct buf o = BUF_INIT;
		const char *s = c->opt;

		if (s)
			while (*s) {
				size_t l = strcspn(s, " ");

				buf_addf(&o, "%s%.*s", o.len ? ", " : "", (int)l, s);
				s += l + (*(s + l) == ' ');
			}
		/* list and operation commands take the class's fields as selectors */
		if (c->fn == cmd_list || c->fn == cmd_vm_op || c->fn == cmd_param_set) {
			const struct xe_class *k = &xe_classes[c->cls];

			for (size_t i = 0; i < k->n; i++)
				if (c->fn != cmd_param_set || (k->f[i].rw && !k->f[i].derived))
					buf_addf(&o, "%s%s", o.len ? ", " : "", k->f[i].xe);
		}
		printf("command name            : %s\n", c->name);
		printf("        reqd params     : ");
		for (const char *r = c->reqd; r && *r;) {
			size_t l = strcspn(r, " ");

			printf("%.*s%s", (int)l, r, r[l] ? ", " : "");
			r += l + (r[l] == ' ');
		}
		printf("\n        optional params : %.*s\n", (int)o.len, o.data ? o.data : "");
		printf("        description     : %s\n\n", c->desc);
		buf_free(&o);
		return 0;
	}
	if (flag(x, "minimal")) {
		for (size_t i = 0; i < NCMDS; i++)
			printf("%s%s", i ? "," : "", cmds[i].name);
		printf("\n");
		return 0;
	}
	printf("Usage: xe [-s server] [-p port] ([-u user] [-pw password] or [-pwf <password file>])"
	       " <command> [command specific arguments]\n\n"
	       "Local by default (the daemon's Unix socket, as root); -s HOST: over TLS on port 443.\n"
	       "For help on a particular command: xe help <command>\n"
	       "For a list of every command: xe help --all (--minimal: on one line)\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		printf("    %s\n", cmds[i].name);
	(void)self;
	return 0;
}

static int run(struct xe *x, int argc, char **argv)
{
	const struct cmd *c;

	if (parse_args(x, argc, argv))
		return 1;
	extra_args(x);
	dot_xe(x);
	x->minimal = flag(x, "minimal");
	if (!x->cmd)
		x->cmd = "help";
	c = find_cmd(x->cmd);
	if (!c)
		return param_error("Unknown command", x->cmd);
	return c->fn(x, c);
}

static int xe_main(int argc, char **argv)
{
	struct xe *x;
	int rc;

	arena_init(&mem, 0);
	x = m_alloc(sizeof(*x));
	x->cl.fd = -1;
	rc = run(x, argc, argv);
	fflush(stdout);
	if (x->connected)
		xbc_close(&x->cl);
	buf_free(&x->out);
	while (kept) {
		struct kept *k = kept;

		kept = k->next;
		arena_free(&k->a);
	}
	refs = NULL;
	seen = NULL;
	arena_free(&mem);
	return rc;
}

XB_APPLET(xe, xe_main, "XAPI's xe: the common commands, its syntax and output (docs/XE.md)");
