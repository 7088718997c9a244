/* `xenbox pool ...`: the pool's command line, a client of the daemon's API
 * over its Unix socket (docs/POOL.md 3.2).
 *
 *   xenbox pool [--unix PATH] token create [--uses N] [--ttl 24h] [--label TEXT]
 *   xenbox pool [--unix PATH] token list
 *   xenbox pool [--unix PATH] token revoke ID
 *   xenbox pool [--unix PATH] status | members
 *   xenbox pool [--unix PATH] join ADDRESS FINGERPRINT [USER] < secret
 *   xenbox pool [--unix PATH] revoke HOST-UUID
 *   xenbox pool fingerprint [--state-dir DIR]
 *
 * `fingerprint` needs no daemon: it prints this host's pool_fingerprint,
 * the SHA-256 of the certificate in DIR/pool-master.pem (made by the
 * daemon's first start), the value a member's pool_fingerprint must have
 * (lib/certfp.c: this applet lives in xenbox-io, which has no TLS).
 * `join` reads the master's root password, or a join token, from standard
 * input (never from the command line, which other users can see) and
 * calls pool.join_pinned (docs/POOL.md 3.6).  Subcommands are a table. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "lib/certfp.h"
#include "lib/util.h"
#include "pool/client.h"

#define DEFAULT_SOCKET "/var/lib/xcp/xapi"      /* the daemon's default --unix */

static int usage(void)
{
	fputs("usage: xenbox pool [--unix PATH] token create [--uses N] [--ttl 24h] [--label TEXT]\n"
	      "       xenbox pool [--unix PATH] token list\n"
	      "       xenbox pool [--unix PATH] token revoke ID\n"
	      "       xenbox pool [--unix PATH] status | members\n"
	      "       xenbox pool [--unix PATH] join ADDRESS FINGERPRINT [USER] <PASSWORD\n"
	      "       xenbox pool [--unix PATH] revoke HOST-UUID\n"
	      "       xenbox pool fingerprint [--state-dir DIR]\n"
	      "  --ttl: seconds, or a number with s, m, h or d (at most 30d)\n", stderr);
	return 2;
}

/* "90", "90s", "30m", "24h", "7d" -> seconds; -1 if not that */
static long long parse_ttl(const char *s)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0 || n > 100000000)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return n;
	if (!strcmp(end, "m"))
		return n * 60;
	if (!strcmp(end, "h"))
		return n * 3600;
	if (!strcmp(end, "d"))
		return n * 86400;
	return -1;
}

static int call_failed(struct xb_client *cl, const char *what)
{
	fprintf(stderr, "xenbox pool %s: %s\n", what, cl->err);
	return 1;
}

static int token_create(struct xb_client *cl, int argc, char **argv)
{
	char uses_s[24] = "1", ttl_s[24] = "86400";
	const char *label = "";
	struct xv uses = { .type = XV_STRING }, ttl = { .type = XV_STRING }, lab = { .type = XV_STRING };
	const struct xv *args[3] = { &uses, &ttl, &lab }, *r;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return usage();
		if (!strcmp(a, "--uses")) {
			/* the daemon checks it (FIELD_TYPE_ERROR, INVALID_VALUE) */
			snprintf(uses_s, sizeof(uses_s), "%.20s", v);
		} else if (!strcmp(a, "--ttl")) {
			long long n = parse_ttl(v);

			if (n < 0) {
				fprintf(stderr, "xenbox pool token create: --ttl %s: expected seconds "
					"or a number with s, m, h or d\n", v);
				return 2;
			}
			snprintf(ttl_s, sizeof(ttl_s), "%lld", n);
		} else if (!strcmp(a, "--label")) {
			label = v;
		} else {
			return usage();
		}
		i++;
	}
	/* int parameters as strings, as XenAPI clients send them */
	uses.u.s = uses_s;
	uses.len = strlen(uses_s);
	ttl.u.s = ttl_s;
	ttl.len = strlen(ttl_s);
	lab.u.s = label;
	lab.len = strlen(label);
	r = xbc_call(cl, "pool.create_join_token", args, 3);
	if (!r)
		return call_failed(cl, "token create");
	if (r->type != XV_STRING)
		return call_failed(cl, "token create");
	/* the only time the whole token is shown */
	printf("%s\n", r->u.s);
	fprintf(stderr, "(shown once: the daemon keeps only its hash; "
		"put it in the member's xenbox.conf as pool_token)\n");
	return 0;
}

static const char *member(const struct xv *m, const char *k)
{
	const struct xv *v = xv_get(m, k);

	return v && v->type == XV_STRING ? v->u.s : "";
}

static int token_list(struct xb_client *cl)
{
	const struct xv *r = xbc_call(cl, "pool.get_join_tokens", NULL, 0);

	if (!r || r->type != XV_ARRAY)
		return call_failed(cl, "token list");
	printf("%-16s  %-9s  %-20s  %-8s  %s\n", "ID", "USES LEFT", "EXPIRES", "STATE", "LABEL");
	for (size_t i = 0; i < r->len; i++) {
		const struct xv *m = r->u.a[i];

		printf("%-16s  %-9s  %-20s  %-8s  %s\n", member(m, "id"), member(m, "uses_left"),
		       member(m, "expires"), member(m, "state"), member(m, "label"));
		if (*member(m, "used_by"))
			printf("%16s  used by %s\n", "", member(m, "used_by"));
	}
	return 0;
}

/* method(v[0], ... v[n - 1]), strings, with nothing to print */
static int calln(struct xb_client *cl, const char *method, const char *const *v, int n)
{
	struct xv x[4];
	const struct xv *args[4];

	for (int i = 0; i < n; i++) {
		x[i] = (struct xv){ .type = XV_STRING, .len = strlen(v[i]), .u.s = v[i] };
		args[i] = &x[i];
	}
	return xbc_call(cl, method, args, (size_t)n) ? 0 : call_failed(cl, method + 5);
}

static int cmd_token(struct xb_client *cl, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "create"))
		return token_create(cl, argc - 1, argv + 1);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return token_list(cl);
	if (argc == 2 && !strcmp(argv[0], "revoke"))
		return calln(cl, "pool.revoke_join_token", (const char **)argv + 1, 1);
	return usage();
}

/* cl is NULL: this one reads the state directory, not the daemon */
static int cmd_fingerprint(struct xb_client *cl, int argc, char **argv)
{
	const char *dir = "/var/lib/xenbox";
	char fp[CERTFP_LEN], path[600], err[700];

	(void)cl;
	if (argc == 2 && !strcmp(argv[0], "--state-dir"))
		dir = argv[1];
	else if (argc)
		return usage();
	if (xsnprintf(path, sizeof(path), "%s/pool-master.pem", dir) < 0) {
		fprintf(stderr, "xenbox pool: %s: path too long\n", dir);
		return 1;
	}
	if (certfp_file(path, fp, sizeof(fp), err, sizeof(err))) {
		fprintf(stderr, "xenbox pool: %s (the daemon makes it on its first start)\n", err);
		return 1;
	}
	puts(fp);
	return 0;
}

/* `status`: this host's channel to its master; `members`: this master's
 * members (pool.get_channel_status's "member:" entries). */
static int status(struct xb_client *cl, int members)
{
	const struct xv *r = xbc_call(cl, "pool.get_channel_status", NULL, 0);

	if (!r || r->type != XV_STRUCT)
		return call_failed(cl, "status");
	for (size_t i = 0; i < r->len; i++) {
		const char *k = r->u.m[i].name, *v = r->u.m[i].v->type == XV_STRING ?
			r->u.m[i].v->u.s : "";

		if (!strncmp(k, "member:", 7) == !!members)
			printf("%s: %s\n", k + (members ? 7 : 0), v);
	}
	return 0;
}

/* "status" or "members": argv[-1] is the command's name */
static int cmd_status(struct xb_client *cl, int argc, char **argv)
{
	return argc ? usage() : status(cl, argv[-1][0] == 'm');
}

/* `revoke HOST-UUID`: the member refused from now on, cut off if online */
static int cmd_revoke(struct xb_client *cl, int argc, char **argv)
{
	return argc == 1 ? calln(cl, "pool.revoke_member", (const char **)argv, 1) : usage();
}

/* `join ADDRESS FINGERPRINT [USER]`: the password or token from stdin
 * (an empty one when none: the master refuses it) */
static int cmd_join(struct xb_client *cl, int argc, char **argv)
{
	char s[512] = "";
	const char *v[4] = { argv[0], argv[1], argc > 2 ? argv[2] : "root", s };
	int rc;

	if (argc < 2 || argc > 3)
		return usage();
	if (fgets(s, sizeof(s), stdin))
		s[strcspn(s, "\r\n")] = 0;
	rc = calln(cl, "pool.join_pinned", v, 4);
	secure_zero(s, sizeof(s));
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct xb_client *cl, int argc, char **argv);
	bool daemon;                    /* talks to the daemon's Unix socket */
} cmds[] = {
	{ "token", cmd_token, true },
	{ "fingerprint", cmd_fingerprint, false },
	{ "status", cmd_status, true },
	{ "members", cmd_status, true },
	{ "join", cmd_join, true },
	{ "revoke", cmd_revoke, true },
};

static int pool_main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCKET;
	struct xb_client cl;
	int i = 1, rc;

	if (argc > 2 && !strcmp(argv[1], "--unix")) {
		sock = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage();
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(argv[i], cmds[k].name))
			continue;
		if (!cmds[k].daemon)
			return cmds[k].fn(NULL, argc - i - 1, argv + i + 1);
		if (xbc_open(&cl, sock)) {
			fprintf(stderr, "xenbox pool: %s\n", cl.err);
			xbc_close(&cl);
			return 1;
		}
		rc = cmds[k].fn(&cl, argc - i - 1, argv + i + 1);
		xbc_close(&cl);
		return rc;
	}
	return usage();
}

XB_APPLET(pool, pool_main, "pool commands: join tokens, members, join, revoke (docs/POOL.md)");
