/* A small DNS client (lib/resolve.h). */
#include "lib/resolve.h"

#include <arpa/inet.h>
#include <ctype.h>
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

size_t dns_query(unsigned char *q, const char *name, int type, unsigned id)
{
	size_t n = 12, len;
	const char *dot;

	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 1;                               /* recursion desired */
	q[5] = 1;                               /* one question */
	for (; *name; name = *dot ? dot + 1 : dot) {
		dot = strchrnul(name, '.');
		len = (size_t)(dot - name);
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
	if (n < ql || p[0] != q[0] || p[1] != q[1] || (p[2] & 0xf8) != 0x80 || p[4] || p[5] != 1)
		return DNS_IGNORE;
	for (k = 12; k < ql; k++)
		if (tolower(p[k]) != tolower(q[k]))
			return DNS_IGNORE;
	if ((p[3] & 15) == 3)
		return DNS_NXDOMAIN;
	if (p[3] & 15)
		return DNS_FAIL;
	for (an = p[6] << 8 | p[7]; an > 0; an--) {
		/* the owner's name: labels, ended by the root or a pointer */
		while (i < n && p[i] && p[i] < 64)
			i += p[i] + 1u;
		if (i >= n || (p[i] && p[i] < 0xc0))
			break;
		i += p[i] ? 2 : 1;
		if (i + 10 > n)
			break;
		k = (size_t)p[i + 8] << 8 | p[i + 9];          /* rdlength */
		if (i + 10 + k > n)
			break;
		if (!p[i] && p[i + 1] == q[ql - 3] && !p[i + 2] && p[i + 3] == 1 && k == alen) {
			memcpy(addr, p + i + 10, alen);
			return DNS_ADDR;
		}
		i += 10 + k;
	}
	return an || (p[2] & 2) ? DNS_FAIL : DNS_NODATA;
}

/* ss := the address a (4 or 16 bytes by af) with port; its length */
static socklen_t put(struct sockaddr_storage *ss, int af, const void *a, int port)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)af;
	s4->sin_port = htons((uint16_t)port);   /* sin6_port is at the same place */
	if (af == AF_INET6) {
		memcpy(&s6->sin6_addr, a, 16);
		return sizeof(*s6);
	}
	memcpy(&s4->sin_addr, a, 4);
	return sizeof(*s4);
}

/* an IPv4 or IPv6 literal; 0 when s is not one */
static socklen_t literal(struct sockaddr_storage *ss, const char *s, int port)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 ? put(ss, AF_INET, a, port) :
	       inet_pton(AF_INET6, s, a) == 1 ? put(ss, AF_INET6, a, port) : 0;
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

static int found(struct resolve *r, int af, const void *a)
{
	resolve_cancel(r);
	r->addrlen = put(&r->addr, af, a, r->port);
	return 0;
}

/* Ask the next server, or the same once more (k: server * 2 + try). */
static int next(struct resolve *r, int64_t now)
{
	resolve_cancel(r);
	while (++r->k < 2 * r->nns) {
		r->got = 0;
		r->fd = socket(r->ns[r->k / 2].ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->fd >= 0 && !connect(r->fd, (void *)&r->ns[r->k / 2], sizeof(r->ns[0])) &&
		    send(r->fd, r->q[0], r->qlen, 0) > 0 && send(r->fd, r->q[1], r->qlen, 0) > 0) {
			r->deadline = now + RESOLVE_TRY_MS;
			return 1;
		}
		r->err = "the nameserver is unreachable";
		resolve_cancel(r);
	}
	return fail(r, r->err ? r->err : "no answer from the nameservers");
}

int resolve_start(struct resolve *r, const char *name, int port, int64_t now)
{
	char line[512], a[64], *s, *t;
	unsigned short id;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->port = port;
	r->k = -1;
#ifdef XB_HOST_BUILD
	/* tests: their own files and a server on loopback */
	if ((s = getenv("XENBOX_RESOLV_CONF")))
		resolve_conf = s;
	if ((s = getenv("XENBOX_HOSTS")))
		resolve_hosts = s;
	if ((s = getenv("XENBOX_DNS_PORT")))
		resolve_port = atoi(s);
#endif
	if ((r->addrlen = literal(&r->addr, name, port)))
		return 0;
	if ((f = fopen(resolve_hosts, "re"))) {
		/* O(file): ADDRESS NAME [ALIAS...] per line, '#' comments */
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "#\n")] = 0;
			s = strtok(line, " \t");
			while ((t = strtok(NULL, " \t")))
				if (!strcasecmp(t, name) && (r->addrlen = literal(&r->addr, s, port))) {
					fclose(f);
					return 0;
				}
		}
		fclose(f);
	}
	if ((f = fopen(resolve_conf, "re"))) {
		while (r->nns < 3 && fgets(line, sizeof(line), f))
			if (sscanf(line, " nameserver %63s", a) == 1 &&
			    literal(&r->ns[r->nns], a, resolve_port))
				r->nns++;
		fclose(f);
	}
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		return fail(r, "no random numbers");
	if (!(r->qlen = dns_query(r->q[0], name, 1, id)))
		return fail(r, "not a host name");
	dns_query(r->q[1], name, 28, id ^ 1u);
	if (!r->nns)
		return fail(r, "no nameserver in resolv.conf");
	return next(r, now);
}

int resolve_step(struct resolve *r, int64_t now)
{
	unsigned char b[512], a[16];
	ssize_t n;

	while ((n = recv(r->fd, b, sizeof(b), 0)) > 0)
		for (int t = 0; t < 2; t++)
			switch (dns_reply(r->q[t], r->qlen, b, (size_t)n, a)) {
			case DNS_ADDR:
				if (!t)
					return found(r, AF_INET, a);
				memcpy(r->six, a, 16);
				r->got |= 4;
				break;
			case DNS_NODATA:
				r->got |= 1 << t;
				break;
			case DNS_NXDOMAIN:
				return fail(r, "no such host (NXDOMAIN)");
			case DNS_FAIL:
				r->err = "the nameserver failed";
				r->k |= 1;      /* not again: the next server */
				return next(r, now);
			}
	if (n < 0 && errno == ECONNREFUSED) {
		r->err = "the nameserver is unreachable";
		r->k |= 1;
		return next(r, now);
	}
	if ((r->got & 5) == 5 || (r->got & 4 && now >= r->deadline))
		return found(r, AF_INET6, r->six);
	if ((r->got & 3) == 3)
		return fail(r, "no address for this name");
	return now >= r->deadline ? next(r, now) : 1;
}
