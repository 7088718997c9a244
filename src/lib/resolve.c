/* A small DNS client (lib/resolve.h). */
#include "lib/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

const char *resolve_conf = "/etc/resolv.conf", *resolve_hosts = "/etc/hosts";
int resolve_port = 53;

size_t dns_query(unsigned char *q, const char *name, int type)
{
	size_t n = 12, len;

	memset(q + 2, 0, 10);
	q[2] = 1;                               /* recursion desired */
	q[5] = 1;                               /* one question */
	for (; *name; name += len + !!name[len]) {
		len = strcspn(name, ".");
		if (!len || len > 63 || n + len > 12 + 253)
			return 0;
		q[n++] = (unsigned char)len;
		memcpy(q + n, name, len);
		n += len;
	}
	if (n == 12)
		return 0;
	memcpy(q + n, (unsigned char[5]){ 0, 0, (unsigned char)type, 0, 1 }, 5);
	return n + 5;
}

int dns_reply(const unsigned char *q, size_t ql, const unsigned char *p, size_t n,
	      unsigned char *addr)
{
	size_t i = ql, k, alen = q[ql - 3] == 1 ? 4 : 16;
	int an;

	/* ours: the id, a response to a standard query, our one question */
	if (n < ql || p[0] != q[0] || p[1] != q[1] || (p[2] & 0xf8) != 0x80 || p[4] || p[5] != 1 ||
	    memcmp(p + 12, q + 12, ql - 12))
		return DNS_IGNORE;
	if (p[3] & 15)
		return (p[3] & 15) == 3 ? DNS_NXDOMAIN : DNS_FAIL;
	for (an = p[6] << 8 | p[7]; an > 0; an--, i += k) {
		/* the owner's name: labels, ended by the root or a pointer */
		while (i < n && p[i] && p[i] < 64)
			i += p[i] + 1u;
		if (i >= n || (p[i] && p[i] < 0xc0))
			break;
		i += p[i] ? 12 : 11;    /* then type, class, ttl, rdlength */
		if (i > n || i + (k = (size_t)p[i - 2] << 8 | p[i - 1]) > n)
			break;
		if (!p[i - 10] && p[i - 9] == q[ql - 3] && !p[i - 8] && p[i - 7] == 1 && k == alen) {
			memcpy(addr, p + i, alen);
			return DNS_ADDR;
		}
	}
	return an || (p[2] & 2) ? DNS_FAIL : DNS_NODATA;
}

/* ss := the address a (4 or 16 bytes by af) with port; its length.  Not
 * inlined: called from two places */
static __attribute__((noinline)) socklen_t put(struct sockaddr_storage *ss, int af, const void *a, int port)
{
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)af;
	s6->sin6_port = htons((uint16_t)port);  /* where sin_port is too */
	if (af == AF_INET6) {
		memcpy(&s6->sin6_addr, a, 16);
		return sizeof(*s6);
	}
	memcpy(&((struct sockaddr_in *)ss)->sin_addr, a, 4);
	return sizeof(struct sockaddr_in);
}

/* an IPv4 or IPv6 literal; 0 when s is not one */
static socklen_t literal(struct sockaddr_storage *ss, const char *s, int port)
{
	unsigned char a[16];
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	return inet_pton(af, s, a) == 1 ? put(ss, af, a, port) : 0;
}

void resolve_cancel(struct resolve *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static int fail(struct resolve *r, const char *why)
{
	resolve_cancel(r);
	r->err = why;
	return -1;
}

/* hosts (name): the first "ADDRESS NAME [ALIAS...]" line naming it, into
 * addr (1); resolv.conf (name NULL): its "nameserver ADDRESS" lines into
 * ns.  '#' starts a comment.  O(file). */
static int scan(struct resolve *r, const char *path, const char *name)
{
	char line[512], *a, *w, *sp;
	FILE *f = fopen(path, "re");
	int hit = 0;

	while (f && !hit && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = 0;
		a = strtok_r(line, " \t", &sp);
		while (!hit && (w = strtok_r(NULL, " \t", &sp)))
			if (!name && r->nns < 3 && !strcmp(a, "nameserver"))
				r->nns += !!literal(&r->ns[r->nns], w, resolve_port);
			else if (name && !strcasecmp(w, name))
				hit = !!(r->addrlen = literal(&r->addr, a, r->port));
	}
	if (f)
		fclose(f);
	return hit;
}

/* Ask the question in q, with RESOLVE_TRY_MS for the answer.  0, or -1. */
static int ask(struct resolve *r, int64_t now)
{
	r->deadline = now + RESOLVE_TRY_MS;
	return send(r->fd, r->q, r->qlen, 0) == (ssize_t)r->qlen ? 0 : -1;
}

/* The next try (k: server * 2 + try): for A, from a new socket. */
static int next(struct resolve *r, int64_t now)
{
	resolve_cancel(r);
	while (++r->k < 2 * r->nns) {
		r->q[r->qlen - 3] = 1;
		r->fd = socket(r->ns[r->k / 2].ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->fd >= 0 && !connect(r->fd, (void *)&r->ns[r->k / 2], sizeof(r->ns[0])) &&
		    !ask(r, now))
			return 1;
		r->err = "nameserver unreachable";
		resolve_cancel(r);
	}
	return fail(r, r->err ? r->err : "no answer");
}

int resolve_start(struct resolve *r, const char *name, int port, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->port = port;
	r->k = -1;
#ifdef XB_HOST_BUILD
	/* tests: their own files and a server on loopback */
	if (getenv("XENBOX_RESOLV_CONF"))
		resolve_conf = getenv("XENBOX_RESOLV_CONF");
	if (getenv("XENBOX_HOSTS"))
		resolve_hosts = getenv("XENBOX_HOSTS");
	if (getenv("XENBOX_DNS_PORT"))
		resolve_port = atoi(getenv("XENBOX_DNS_PORT"));
#endif
	if ((r->addrlen = literal(&r->addr, name, port)) || scan(r, resolve_hosts, name))
		return 0;
	scan(r, resolve_conf, NULL);
	if (!(r->qlen = dns_query(r->q, name, 1)))
		return fail(r, "not a name");
	if (!r->nns)
		return fail(r, "no nameserver");
	if (getrandom(r->q, 2, 0) != 2)
		return fail(r, "no random numbers");
	return next(r, now);
}

int resolve_step(struct resolve *r, int64_t now)
{
	unsigned char b[512], a[16];
	ssize_t n;

	while ((n = recv(r->fd, b, sizeof(b), 0)) > 0)
		switch (dns_reply(r->q, r->qlen, b, (size_t)n, a)) {
		case DNS_ADDR:
			resolve_cancel(r);
			r->addrlen = put(&r->addr, r->q[r->qlen - 3] == 1 ? AF_INET : AF_INET6, a,
					 r->port);
			return 0;
		case DNS_NODATA:
			if (r->q[r->qlen - 3] == 28)
				return fail(r, "no address");
			r->q[r->qlen - 3] = 28;         /* no A: AAAA then */
			if (ask(r, now))
				return next(r, now);
			break;
		case DNS_NXDOMAIN:
			return fail(r, "no such host");
		case DNS_FAIL:
			r->err = "nameserver failure";
			r->k |= 1;      /* not again: the next server */
			return next(r, now);
		}
	if (n < 0 && errno == ECONNREFUSED) {
		r->err = "nameserver unreachable";
		r->k |= 1;
		return next(r, now);
	}
	return now < r->deadline ? 1 : next(r, now);
}
