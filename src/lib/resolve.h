/* A host name to one address, without blocking and without musl's
 * getaddrinfo (~14 KB of binary): A and AAAA only, over UDP, no search
 * domains, no TCP (docs/POOL.md 2.5; pool_master is its user).
 *
 *   1. an IP literal is its own answer;
 *   2. resolve_hosts (/etc/hosts): the first line that names it;
 *   3. the nameservers of resolve_conf (/etc/resolv.conf; the first 3, in
 *      order), from a socket connected to each (the kernel drops datagrams
 *      from anyone else), with a random id: first for an A record, and
 *      for AAAA when the name has none (an IPv4 address is preferred, and
 *      the usual case costs one round trip).  A reply must echo the id
 *      and the question.  No answer in RESOLVE_TRY_MS: asked once more,
 *      then the next server.  NXDOMAIN, or no address of either type,
 *      ends it; a server failure (SERVFAIL, REFUSED, garbage, a truncated
 *      reply without an address) moves on to the next server.
 *
 * Datagrams go to those nameservers only.  It has no loop of its own: the
 * caller watches fd for reading and calls resolve_step when it is readable
 * or at deadline.  Knows no pool. */
#ifndef XB_RESOLVE_H
#define XB_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESOLVE_TRY_MS 2000
#define DNS_QMAX (12 + 255 + 4)         /* header, name, type and class */

struct resolve {
	int fd;                         /* watch it for reading; -1: none */
	int64_t deadline;               /* now_ms by which to call resolve_step */
	const char *err;                /* why it failed (static text) */
	struct sockaddr_storage addr;   /* the answer, with the port */
	socklen_t addrlen;
	/* the rest is resolve.c's */
	struct sockaddr_storage ns[3];
	int nns, k, port;
	size_t qlen;
	unsigned char q[DNS_QMAX];      /* the question asked now */
};

/* What it reads (tests point them at their own files and a loopback
 * server's port; the host build also takes XENBOX_RESOLV_CONF,
 * XENBOX_HOSTS and XENBOX_DNS_PORT from the environment). */
extern const char *resolve_conf, *resolve_hosts;
extern int resolve_port;

/* Resolve name; the answer gets port.  0: answered (addr, addrlen),
 * 1: waiting (fd, deadline), -1: failed (err).  r need not be initialised;
 * one that is waiting must be cancelled first. */
int resolve_start(struct resolve *r, const char *name, int port, int64_t now);
/* fd readable, or deadline reached: as resolve_start. */
int resolve_step(struct resolve *r, int64_t now);
/* Stop waiting: fd closed.  Idempotent. */
void resolve_cancel(struct resolve *r);

/* The wire, pure (the unit tests and tests/fuzz/fuzz_dns.c): */
enum { DNS_IGNORE, DNS_ADDR, DNS_NODATA, DNS_NXDOMAIN, DNS_FAIL };
/* The query for name, type 1 (A) or 28 (AAAA, the byte at q[len - 3]),
 * with recursion desired, into q (DNS_QMAX bytes; its id, q[0] and q[1],
 * is the caller's): its length, or 0 when name is not a name (an empty
 * label, one over 63 bytes, over 253 in all). */
size_t dns_query(unsigned char *q, const char *name, int type);
/* What reply p[0..n) says to query q[0..qlen): DNS_IGNORE (not a reply
 * to it: id, flags or question differ, byte for byte, or too short), DNS_ADDR (the first
 * record of the query's type and class IN in the answers: 4 or 16 bytes
 * to addr), DNS_NODATA (none, every answer read), DNS_NXDOMAIN, or
 * DNS_FAIL (another error code; answers cut short or malformed, or
 * truncated, with no address before that).  O(n). */
int dns_reply(const unsigned char *q, size_t qlen, const unsigned char *p, size_t n,
	      unsigned char *addr);

#endif
