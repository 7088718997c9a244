#include "server/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

static void set(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	set(&c->state_dir, "/var/lib/xenbox");
	set(&c->http, "");
	set(&c->https, "0.0.0.0:443");
	set(&c->unix_path, "/var/lib/xcp/xapi");    /* XenAPI.py's xapi_local() */
	set(&c->sim_opts, "");
	set(&c->network, "dhcp");
	set(&c->console, "menu");
	set(&c->storage, "state");
	set(&c->storage_format, "blank");
	set(&c->management_interface, "xenbr0");
	c->https_only = 1;
	c->clean_shutdown_timeout = 120;
	c->stats_save_interval = 3600;
	c->log_level = LOG_INFO;
	c->pool.dead_after = 60;
	c->pool.metrics_interval = 60;
}

void config_free(struct config *c)
{
	free(c->state_dir);
	free(c->http);
	free(c->https);
	free(c->unix_path);
	free(c->backend);
	free(c->sim_opts);
	free(c->hostname);
	free(c->root_password_hash);
	free(c->network);
	free(c->storage);
	free(c->storage_format);
	free(c->storage_root);
	free(c->management_interface);
	free(c->address);
	free(c->gateway);
	free(c->dns);
	free(c->ntp);
	free(c->console_password_hash);
	free(c->console);
	free(c->management_nic);
	free(c->vlan);
	free(c->pool.master);
	free(c->pool.master_host);
	free(c->pool.fingerprint);
	if (c->pool.token)
		secure_zero(c->pool.token, strlen(c->pool.token));
	free(c->pool.token);
	free(c->pool.username);
	if (c->pool.password)
		secure_zero(c->pool.password, strlen(c->pool.password));
	free(c->pool.password);
	free(c->pool.address);
	free(c->pool.relay_domain);
	free(c->pool.client_address);
	memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Value checks.  Each returns NULL if v is fine, else why not. */
enum { V_ANY, V_BACKEND, V_HOST, V_NETWORK, V_CONSOLE, V_CIDR, V_IPV4, V_IPV4S, V_HOSTS, V_CRYPT,
       V_IFNAME, V_HOSTPORT, V_ADDR, V_FPR, V_TOKEN, V_SECRET, V_STORAGE, V_FORMAT, V_NICS,
       V_VLAN };

/* s[0..n) is an address of family af (inet_pton wants it terminated) */
static int is_inet(int af, const char *s, size_t n)
{
	char a[64];
	struct in6_addr in;

	if (n >= sizeof(a))
		return 0;
	memcpy(a, s, n);
	a[n] = 0;
	return inet_pton(af, a, &in) == 1;
}

static int is_ipv4(const char *s, size_t n)
{
	return n < 16 && is_inet(AF_INET, s, n);
}

/* A host name or address: letters, digits, '-', '.', 1..253 bytes. */
static int is_host(const char *s, size_t n)
{
	if (!n || n > 253 || *s == '-' || *s == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static int is_ipv6(const char *s, size_t n)
{
	return is_inet(AF_INET6, s, n);
}

int config_hostport(const char *v, char **host, int *port)
{
	const char *h = v, *colon;
	size_t hn;
	long p = 443;
	char *end;

	if (*v == '[') {
		const char *rb = strchr(v, ']');

		if (!rb || !is_ipv6(v + 1, (size_t)(rb - v - 1)))
			return -1;
		h = v + 1;
		hn = (size_t)(rb - v - 1);
		colon = rb[1] == ':' ? rb + 1 : rb[1] ? v : NULL;
		if (colon == v)
			return -1;
	} else {
		colon = strchr(v, ':');
		hn = colon ? (size_t)(colon - v) : strlen(v);
		if (!is_host(v, hn))
			return -1;
	}
	if (colon) {
		p = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || p < 1 || p > 65535)
			return -1;
	}
	if (host)
		*host = xstrndup(h, hn);
	if (port)
		*port = (int)p;
	return 0;
}

int config_fingerprint(const char *v, char out[96])
{
	size_t n = 0;

	for (int i = 0; i < 32; i++) {
		if (!isxdigit((unsigned char)v[0]) || !isxdigit((unsigned char)v[1]))
			return -1;
		out[n++] = (char)toupper((unsigned char)v[0]);
		out[n++] = (char)toupper((unsigned char)v[1]);
		v += 2;
		if (i < 31) {
			out[n++] = ':';
			if (*v == ':')
				v++;
		}
	}
	out[n] = 0;
	return *v ? -1 : 0;
}

/* xbt1-<16 hex>-<64 hex> (pool/token.h's form) */
static int is_token(const char *v)
{
	if (strlen(v) != 86 || strncmp(v, "xbt1-", 5) || v[21] != '-')
		return 0;
	for (int i = 5; i < 86; i++)
		if (i != 21 && !strchr("0123456789abcdef", v[i]))
			return 0;
	return 1;
}

/* A list separated by commas (and optional blanks), each item checked;
 * returns the number of items, -1 if one is bad. */
static int each(const char *v, int (*ok)(const char *, size_t))
{
	int items = 0;

	while (*v) {
		size_t n = strcspn(v, ", \t");

		if (n && !ok(v, n))
			return -1;
		items += n > 0;
		v += n;
		v += strspn(v, ", \t");
	}
	return items;
}

/* A network interface's name (1..15 letters, digits, '-', '_', '.', '@':
 * the boot's shell splits the list, so no blank, quote or glob) or its
 * MAC address (six hex pairs joined by ':'). */
static int is_nic(const char *s, size_t n)
{
	if (n == 17) {
		for (size_t i = 0; i < n; i++)
			if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
				goto name;
		return 1;
	}
name:
	if (!n || n > 15)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.@", s[i]))
			return 0;
	return 1;
}

static const char *check(int kind, const char *v)
{
	const char *slash;
	char *end;
	long n;

	switch (kind) {
	case V_BACKEND:
		return strcmp(v, "xen") && strcmp(v, "sim") && strcmp(v, "none") ?
		       "backend must be xen, sim or none" : NULL;
	case V_HOST:
		return is_host(v, strlen(v)) ? NULL :
		       "expected a host name (letters, digits, '-', '.')";
	case V_NETWORK:
		return strcmp(v, "dhcp") && strcmp(v, "static") ? "expected dhcp or static" : NULL;
	case V_CONSOLE:
		return strcmp(v, "menu") && strcmp(v, "login") ? "expected menu or login" : NULL;
	case V_CIDR:
		slash = strchr(v, '/');
		if (!slash || !is_ipv4(v, slash - v))
			return "expected an IPv4 address with a prefix length (192.168.1.10/24)";
		n = strtol(slash + 1, &end, 10);
		return !slash[1] || *end || n < 1 || n > 32 ? "prefix length must be 1..32" : NULL;
	case V_IPV4:
		return is_ipv4(v, strlen(v)) ? NULL : "expected an IPv4 address";
	case V_IPV4S:
		return *v && each(v, is_ipv4) >= 0 ? NULL : "expected IPv4 addresses, comma separated";
	case V_HOSTS:
		return each(v, is_host) >= 0 ? NULL : "expected server names, comma separated";
	case V_NICS:
		n = each(v, is_nic);
		return n < 1 || n > 2 ?
		       "expected a network card's name or MAC address, or two of them "
		       "(an active-backup bond): eth0 or 52:54:00:12:34:56, eth0, eth1" : NULL;
	case V_VLAN:
		n = strtol(v, &end, 10);
		return !*v || *end || n < 1 || n > 4094 ? "expected a VLAN id, 1 to 4094" : NULL;
	case V_IFNAME:
		return !*v || strlen(v) > 15 || strpbrk(v, "/: \t") ?
		       "expected a network interface name (1 to 15 bytes, no '/', ':' or blank)" : NULL;
	case V_HOSTPORT:
		return config_hostport(v, NULL, NULL) ? "expected HOST[:PORT] or [IPv6]:PORT" : NULL;
	case V_ADDR:
		return is_host(v, strlen(v)) || is_ipv6(v, strlen(v)) ? NULL :
		       "expected a host name or an address";
	case V_FPR: {
		char f[96];

		return config_fingerprint(v, f) ? "expected a SHA-256 fingerprint "
		       "(32 hex pairs, as the master logs it: pool_fingerprint = AB:12:...)" : NULL;
	}
	case V_TOKEN:
		return is_token(v) ? NULL : "expected a join token (xbt1-<16 hex>-<64 hex>, "
		       "from `xenbox pool token create` on the master)";
	case V_SECRET:
		return *v ? NULL : "empty";
	case V_STORAGE:
		return strcmp(v, "auto") && strcmp(v, "none") && strcmp(v, "state") &&
		       (strncmp(v, "/dev/", 5) || strlen(v) > 200 || strstr(v, "/../")) ?
		       "expected auto, none, state or /dev/..." : NULL;
	case V_FORMAT:
		return strcmp(v, "blank") && strcmp(v, "force") ? "expected blank or force" : NULL;
	case V_CRYPT:
		return (strncmp(v, "$6$", 3) && strncmp(v, "$5$", 3)) || strpbrk(v, ": \t'") ?
		       "expected a SHA-512 or SHA-256 crypt hash ($6$... from `mkpasswd -m sha-512`)" : NULL;
	}
	return NULL;
}

static int apply(struct config *c, const char *k, const char *v, const char **why)
{
	static const struct { const char *key; size_t off; int kind; } strs[] = {
		{ "state_dir", offsetof(struct config, state_dir), V_ANY },
		{ "http", offsetof(struct config, http), V_ANY },
		{ "https", offsetof(struct config, https), V_ANY },
		{ "unix", offsetof(struct config, unix_path), V_ANY },
		{ "backend", offsetof(struct config, backend), V_BACKEND },
		{ "sim_opts", offsetof(struct config, sim_opts), V_ANY },
		{ "hostname", offsetof(struct config, hostname), V_HOST },
		{ "root_password_hash", offsetof(struct config, root_password_hash), V_ANY },
		{ "network", offsetof(struct config, network), V_NETWORK },
		{ "management_interface", offsetof(struct config, management_interface), V_IFNAME },
		{ "address", offsetof(struct config, address), V_CIDR },
		{ "gateway", offsetof(struct config, gateway), V_IPV4 },
		{ "dns", offsetof(struct config, dns), V_IPV4S },
		{ "ntp", offsetof(struct config, ntp), V_HOSTS },
		{ "console_password_hash", offsetof(struct config, console_password_hash), V_CRYPT },
		{ "console", offsetof(struct config, console), V_CONSOLE },
		{ "management_nic", offsetof(struct config, management_nic), V_NICS },
		{ "vlan", offsetof(struct config, vlan), V_VLAN },
		{ "pool_master", offsetof(struct config, pool.master), V_HOSTPORT },
		{ "pool_fingerprint", offsetof(struct config, pool.fingerprint), V_FPR },
		{ "pool_token", offsetof(struct config, pool.token), V_TOKEN },
		{ "pool_username", offsetof(struct config, pool.username), V_SECRET },
		{ "pool_password", offsetof(struct config, pool.password), V_SECRET },
		{ "pool_address", offsetof(struct config, pool.address), V_HOSTPORT },
		{ "pool_relay_domain", offsetof(struct config, pool.relay_domain), V_HOST },
		{ "pool_client_address", offsetof(struct config, pool.client_address), V_ADDR },
		{ "storage", offsetof(struct config, storage), V_STORAGE },
		{ "storage_format", offsetof(struct config, storage_format), V_FORMAT },
	};
	static const struct { const char *key; size_t off; int min, max; } ints[] = {
		{ "clean_shutdown_timeout", offsetof(struct config, clean_shutdown_timeout), 0, 86400 },
		{ "log_level", offsetof(struct config, log_level), 0, 86400 },
		{ "stats_save_interval", offsetof(struct config, stats_save_interval), 0, 86400 },
		{ "pool_dead_after", offsetof(struct config, pool.dead_after), 3, 3600 },
		{ "pool_metrics_interval", offsetof(struct config, pool.metrics_interval), 0, 3600 },
	};
	char *end;
	long n;

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (!strcmp(k, strs[i].key)) {
			*why = check(strs[i].kind, v);
			if (*why)
				return -1;
			set((char **)((char *)c + strs[i].off), v);
			if (strs[i].kind == V_FPR) {
				char f[96];

				config_fingerprint(v, f);
				set(&c->pool.fingerprint, f);
			}
			return 0;
		}
	if (!strcmp(k, "https_only")) {
		if (strcmp(v, "true") && strcmp(v, "false")) {
			*why = "expected true or false";
			return -1;
		}
		c->https_only = !strcmp(v, "true");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (strcmp(k, ints[i].key))
			continue;
		n = strtol(v, &end, 10);
		if (!*v || *end || n < ints[i].min || n > ints[i].max) {
			static char msg[48];

			snprintf(msg, sizeof(msg), "expected a whole number, %d to %d",
				 ints[i].min, ints[i].max);
			*why = msg;
			return -1;
		}
		*(int *)((char *)c + ints[i].off) = (int)n;
		return 0;
	}
	*why = "unknown key";
	return -1;
}

/* The pool_* lines together (docs/POOL.md 3.1).  A join needs the
 * master's fingerprint (a headless join never trusts on first use); the
 * credential only while the host has not joined yet, which the pool
 * module knows (pool_link), not this file: it checks that at start. */
static void pool_checks(struct config *c, const char *path, int password_line)
{
	struct config_pool *p = &c->pool;
	const char *why = NULL;

	free(p->master_host);
	p->master_host = NULL;
	p->join = 0;
	if (!p->master)
		return;
	config_hostport(p->master, &p->master_host, &p->master_port);
	if (!p->fingerprint)
		why = "needs pool_fingerprint (the master logs it as \"pool_fingerprint = ...\")";
	if (why) {
		log_err("%s:%d: pool_master: %s; not joining", path, p->master_line, why);
		c->errors++;
		return;
	}
	if (p->token && p->password)
		log_warn("%s:%d: pool_password: pool_token is given too; the token is used",
			 path, password_line);
	p->join = 1;
}

int config_load(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0, network_line = 0, password_line = 0;

	if (!f) {
		log_err("%s: %s", path, strerror(errno));
		c->errors++;
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *k, *v;
		const char *why = NULL;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			int ch;

			log_err("%s:%d: line too long; ignored", path, lineno);
			c->errors++;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			log_err("%s:%d: expected 'key = value'; ignored", path, lineno);
			c->errors++;
			continue;
		}
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (strlen(v) >= 2 && v[0] == '"' && v[strlen(v) - 1] == '"') {
			v[strlen(v) - 1] = 0;
			v++;
		}
		if (apply(c, k, v, &why)) {
			log_err("%s:%d: %s: %s; ignored", path, lineno, k, why);
			c->errors++;
		} else if (!strcmp(k, "network")) {
			network_line = lineno;
		} else if (!strcmp(k, "pool_master")) {
			c->pool.master_line = lineno;
		} else if (!strcmp(k, "pool_password")) {
			password_line = lineno;
		}
	}
	fclose(f);
	pool_checks(c, path, password_line);
	if (!strcmp(c->network, "static") && !c->address) {
		log_err("%s:%d: network: static needs an address line; using dhcp",
			path, network_line);
		c->errors++;
		set(&c->network, "dhcp");
	}
	return 0;
}

static void print_shell(FILE *f, const char *k, const char *v)
{
	if (!v)
		return;
	fprintf(f, "xb_%s='", k);
	for (; *v; v++)
		if (*v == '\'')
			fputs("'\\''", f);
		else
			fputc(*v, f);
	fputs("'\n", f);
}

void config_print_shell(const struct config *c, FILE *f)
{
	print_shell(f, "hostname", c->hostname);
	print_shell(f, "network", c->network);
	print_shell(f, "address", c->address);
	print_shell(f, "gateway", c->gateway);
	print_shell(f, "dns", c->dns);
	print_shell(f, "ntp", c->ntp);
	print_shell(f, "console_password_hash", c->console_password_hash);
	print_shell(f, "console", c->console);
	print_shell(f, "management_nic", c->management_nic);
	print_shell(f, "vlan", c->vlan);
}
