#include "server/config.h"

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
	set(&c->unix_path, "/run/xenbox/xapi");
	set(&c->sim_opts, "");
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

static int apply(struct config *c, const char *k, const char *v, const char **why)
{
	static const struct { const char *key; size_t off; } strs[] = {
		{ "state_dir", offsetof(struct config, state_dir) },
		{ "http", offsetof(struct config, http) },
		{ "https", offsetof(struct config, https) },
		{ "unix", offsetof(struct config, unix_path) },
		{ "backend", offsetof(struct config, backend) },
		{ "sim_opts", offsetof(struct config, sim_opts) },
		{ "hostname", offsetof(struct config, hostname) },
		{ "root_password_hash", offsetof(struct config, root_password_hash) },
	};
	char *end;
	long n;

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (!strcmp(k, strs[i].key)) {
			if (!strcmp(k, "backend") && strcmp(v, "xen") && strcmp(v, "sim")) {
				*why = "backend must be xen or sim";
				return -1;
			}
			set((char **)((char *)c + strs[i].off), v);
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
	int lineno = 0;

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
		}
	}
	fclose(f);
	return 0;
}
