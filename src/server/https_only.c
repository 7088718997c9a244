/* HTTPS only on the network: host.https_only (XAPI's field; XAPI closes
 * port 80 in its firewall).  With the policy on, the plain HTTP listener
 * that --http / xenbox.conf's http names binds the loopback address of
 * its family instead, at the same port, unless it is on loopback already;
 * off, it binds what it names.  Changing the policy at run time moves the
 * listener, and turning it on closes the plain connections that came from
 * beyond loopback.  HTTPS and the Unix socket are never affected.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

static char *spec;              /* the configured plain listener, "" none */
static int policy;

int addr_is_loopback(const char *a)
{
	if (!strncmp(a, "::ffff:", 7))
		a += 7;
	return !strncmp(a, "127.", 4) || !strcmp(a, "::1");
}

/* The listener the policy allows for spec: out (a copy or the loopback
 * form), "" for none. */
static void effective(int on, char *out, size_t n)
{
	const char *colon = strrchr(spec, ':');
	char host[64];
	size_t hl = colon ? (size_t)(colon - spec) : 0;

	snprintf(out, n, "%s", spec);
	if (!on || !colon || hl >= sizeof(host))
		return;         /* a bad spec fails in server_listen_tcp */
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (host[0] == '[') {
		memmove(host, host + 1, hl);
		host[strcspn(host, "]")] = 0;
	}
	if (!addr_is_loopback(host))
		snprintf(out, n, "%s%s", strchr(host, ':') ? "[::1]" : "127.0.0.1", colon);
}

static void say(const char *where, int on)
{
	if (*where)
		log_info("http on %s (https_only %s)", where, on ? "true" : "false");
}

static int apply(int on, char *err, size_t errlen)
{
	char now[128], want[128];

	effective(policy, now, sizeof(now));
	effective(on, want, sizeof(want));
	if (strcmp(now, want)) {
		server_close_plain(on);
		if (*want && server_listen_tcp(want, 0, err, errlen)) {
			/* put back what was there; the policy stays */
			if (*now && server_listen_tcp(now, 0, want, sizeof(want)))
				log_err("http: %s: cannot listen again: %s", now, want);
			return -1;
		}
		say(want, on);
	}
	policy = on;
	return 0;
}

int https_only_init(const char *http, int on, char *err, size_t errlen)
{
	char want[128];

	free(spec);
	spec = xstrdup(http);
	policy = on;
	effective(on, want, sizeof(want));
	if (*want && server_listen_tcp(want, 0, err, errlen))
		return -1;
	say(want, on);
	dm_set_int(api_this_host, OF(api_this_host, host, https_only), on);
	api_https_only_hook = apply;
	return 0;
}

void https_only_dispose(void)
{
	api_https_only_hook = NULL;
	free(spec);
	spec = NULL;
}
