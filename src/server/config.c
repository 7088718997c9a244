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
	set(&c->management_interface, "xenbr0");
	c->https_only = 1;
	c->clean_shutdown_timeout = 120;
	c->stats_save_interval = 3600;
	c->log_level = LOG_INFO;
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
	free(c->management_interface);
	free(c->address);
	free(c->gateway);
	free(c->dns);
	free(c->ntp);
	free(c->console_password_hash);
	free(c->pool_master);
	free(c->pool_username);
	free(c->pool_password);
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
enum { V_ANY, V_BACKEND, V_HOST, V_NETWORK, V_CIDR, V_IPV4, V_IPV4S, V_HOSTS, V_CRYPT,
       V_IFNAME };

static int is_ipv4(const char *s, size_t n)
{
	char a[16];
	struct in_addr in;

	if (n >= sizeof(a))
		return 0;
	memcpy(a, s, n);
	a[n] = 0;
	return inet_pton(AF_INET, a, &in) == 1;
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

/* A list separated by commas (and optional blanks), each item checked. */
static int each(const char *v, int (*ok)(const char *, size_t))
{
	while (*v) {
		size_t n = strcspn(v, ", \t");

		if (n && !ok(v, n))
			return 0;
		v += n;
		v += strspn(v, ", \t");
	}
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
	case V_CIDR:
		slash = strchr(v, '/');
		if (!slash || !is_ipv4(v, slash - v))
			return "expected an IPv4 address with a prefix length (192.168.1.10/24)";
		n = strtol(slash + 1, &end, 10);
		return !slash[1] || *end || n < 1 || n > 32 ? "prefix length must be 1..32" : NULL;
	case V_IPV4:
		return is_ipv4(v, strlen(v)) ? NULL : "expected an IPv4 address";
	case V_IPV4S:
		return *v && each(v, is_ipv4) ? NULL : "expected IPv4 addresses, comma separated";
	case V_HOSTS:
		return each(v, is_host) ? NULL : "expected server names, comma separated";
	case V_IFNAME:
		return !*v || strlen(v) > 15 || strpbrk(v, "/: \t") ?
		       "expected a network interface name (1 to 15 bytes, no '/', ':' or blank)" : NULL;
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
		{ "pool_master", offsetof(struct config, pool_master), V_HOST },
		{ "pool_username", offsetof(struct config, pool_username), V_ANY },
		{ "pool_password", offsetof(struct config, pool_password), V_ANY },
	};
	char *end;
	long n;

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (!strcmp(k, strs[i].key)) {
			*why = check(strs[i].kind, v);
			if (*why)
				return -1;
			set((char **)((char *)c + strs[i].off), v);
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
	if (!strcmp(k, "clean_shutdown_timeout") || !strcmp(k, "log_level") ||
	    !strcmp(k, "stats_save_interval")) {
		n = strtol(v, &end, 10);
		if (!*v || *end || n < 0 || n > 86400) {
			*why = "expected a whole number";
			return -1;
		}
		if (!strcmp(k, "log_level"))
			c->log_level = (int)n;
		else if (!strcmp(k, "stats_save_interval"))
			c->stats_save_interval = (int)n;
		else
			c->clean_shutdown_timeout = (int)n;
		return 0;
	}
	*why = "unknown key";
	return -1;
}

int config_load(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0, network_line = 0;

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
		}
	}
	fclose(f);
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
}
