/* lib/resolve.c: the small DNS client against a fake server on 127.0.0.1
 * (a UDP socket of this test, on a port the kernel picks), and its own
 * hosts and resolv.conf files.  The test plays both sides in one thread:
 * it reads the resolver's queries, answers (or not), and steps the
 * resolver with the clock it chooses, so timeouts take no time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/resolve.h"

static int srv = -1;                    /* the fake nameserver */
static int srv_port;
static char dir[] = "/tmp/xb-resolve-XXXXXX";
static char conf[64], hosts[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	write_file(hosts, "# hosts\n127.0.0.1 localhost\n");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(srv, (struct sockaddr *)&a, &al), 0);
	srv_port = ntohs(a.sin_port);
	/* two servers, both the fake one (on its port): never anything else */
	write_file(conf, "search example.org\nnameserver 127.0.0.1\n  nameserver 127.0.0.1 \n");
	resolve_conf = conf;
	resolve_hosts = hosts;
	resolve_port = srv_port;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf);
	unlink(hosts);
	rmdir(dir);
	close(srv);
	return 0;
}

/* A query the fake server received, and from where */
struct q {
	unsigned char b[512];
	size_t n;
	struct sockaddr_in from;
};

static int get_query(struct q *q, int wait_ms)
{
	struct pollfd p = { .fd = srv, .events = POLLIN };
	socklen_t fl = sizeof(q->from);
	ssize_t n;

	if (poll(&p, 1, wait_ms) != 1)
		return 0;
	n = recvfrom(srv, q->b, sizeof(q->b), 0, (struct sockaddr *)&q->from, &fl);
	assert_true(n > 12);
	q->n = (size_t)n;
	return 1;
}

static int qtype(const struct q *q)
{
	return q->b[q->n - 3];
}

/* The next query, of type t: recursion desired, one question */
static void get_one(struct q *q, int t)
{
	assert_true(get_query(q, 2000));
	assert_int_equal(qtype(q), t);
	assert_int_equal(q->b[2], 1);
	assert_int_equal(q->b[5], 1);
}

/* The reply to q: rcode, flags to add to byte 2, then answers (raw) */
static void answer(const struct q *q, int rcode, int flags, const unsigned char *ans,
		   size_t alen, int ancount)
{
	unsigned char r[1024];

	memcpy(r, q->b, q->n);
	r[2] = (unsigned char)(0x80 | (q->b[2] & 1) | flags);
	r[3] = (unsigned char)(0x80 | rcode);
	r[6] = 0;
	r[7] = (unsigned char)ancount;
	if (alen)
		memcpy(r + q->n, ans, alen);
	assert_int_equal(sendto(srv, r, q->n + alen, 0, (const struct sockaddr *)&q->from,
				sizeof(q->from)), (ssize_t)(q->n + alen));
}

/* A record: a pointer to the question's name (offset 12), type, IN, ttl */
static size_t rr(unsigned char *o, int type, const void *data, size_t n)
{
	unsigned char h[12] = { 0xc0, 12, 0, (unsigned char)type, 0, 1, 0, 0, 1, 0, 0,
				(unsigned char)n };

	memcpy(o, h, 12);
	memcpy(o + 12, data, n);
	return 12 + n;
}

/* Step the resolver once its socket is readable (or after 2 s) */
static int step(struct resolve *r, int64_t now)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };

	assert_true(r->fd >= 0);
	poll(&p, 1, 2000);
	return resolve_step(r, now);
}

static void assert_v4(const struct resolve *r, const char *want, int port)
{
	const struct sockaddr_in *s = (const void *)&r->addr;
	char t[64];

	assert_int_equal(s->sin_family, AF_INET);
	assert_int_equal(r->addrlen, sizeof(*s));
	assert_int_equal(ntohs(s->sin_port), port);
	assert_string_equal(inet_ntop(AF_INET, &s->sin_addr, t, sizeof(t)), want);
}

static void assert_v6(const struct resolve *r, const char *want, int port)
{
	const struct sockaddr_in6 *s = (const void *)&r->addr;
	char t[64];

	assert_int_equal(s->sin6_family, AF_INET6);
	assert_int_equal(r->addrlen, sizeof(*s));
	assert_int_equal(ntohs(s->sin6_port), port);
	assert_string_equal(inet_ntop(AF_INET6, &s->sin6_addr, t, sizeof(t)), want);
}

static void test_literals_and_hosts(void **state)
{
	struct resolve r;
	struct q q;

	(void)state;
	assert_int_equal(resolve_start(&r, "192.0.2.9", 443, 0), 0);
	assert_v4(&r, "192.0.2.9", 443);
	assert_int_equal(resolve_start(&r, "2001:db8::5", 8443, 0), 0);
	assert_v6(&r, "2001:db8::5", 8443);
	write_file(hosts, "# comment line\n\n10.1.2.3\tmaster master.example.org # a comment\n"
		   "::1 six six.example.org\n10.9.9.9 master\n");
	assert_int_equal(resolve_start(&r, "MASTER.example.org", 443, 0), 0);
	assert_v4(&r, "10.1.2.3", 443);         /* the first line naming it */
	assert_int_equal(resolve_start(&r, "master", 443, 0), 0);
	assert_v4(&r, "10.1.2.3", 443);
	assert_int_equal(resolve_start(&r, "six.example.org", 444, 0), 0);
	assert_v6(&r, "::1", 444);
	assert_int_equal(r.fd, -1);
	/* none of them asked the nameserver */
	assert_false(get_query(&q, 0));
	write_file(hosts, "127.0.0.1 localhost\n");
}

static void test_answer_a_after_cname(void **state)
{
	static const unsigned char cname_rdata[] = { 3, 'w', 'w', 'w', 0xc0, 12 };
	unsigned char ans[256];
	struct resolve r;
	struct q q;
	size_t n;

	(void)state;
	assert_int_equal(resolve_start(&r, "pool.example.org", 443, 1000), 1);
	assert_true(r.fd >= 0);
	assert_int_equal(r.deadline, 1000 + RESOLVE_TRY_MS);
	get_one(&q, 1);
	/* the query asks for the name, encoded */
	assert_memory_equal(q.b + 12, "\4pool\7example\3org\0", 18);
	/* a CNAME, then the A record */
	n = rr(ans, 5, cname_rdata, sizeof(cname_rdata));
	n += rr(ans + n, 1, (unsigned char[]){ 198, 51, 100, 7 }, 4);
	answer(&q, 0, 0, ans, n, 2);
	assert_int_equal(step(&r, 1001), 0);
	assert_v4(&r, "198.51.100.7", 443);
	assert_int_equal(r.fd, -1);
	/* an A record answers: no AAAA question */
	assert_false(get_query(&q, 0));
}

/* No A record: then AAAA, on the same socket */
static void test_aaaa_when_no_a(void **state)
{
	unsigned char ans[64], six[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	struct resolve r;
	struct q q, q6;

	(void)state;
	assert_int_equal(resolve_start(&r, "six.example", 80, 0), 1);
	get_one(&q, 1);
	answer(&q, 0, 0, NULL, 0, 0);           /* A: no data */
	assert_int_equal(step(&r, 1), 1);
	get_one(&q6, 28);
	assert_int_equal(q6.from.sin_port, q.from.sin_port);
	assert_memory_equal(q6.b, q.b, 2);
	/* a late answer to the A question is not one to AAAA */
	answer(&q, 0, 0, ans, rr(ans, 1, "\1\2\3\4", 4), 1);
	assert_int_equal(step(&r, 2), 1);
	answer(&q6, 0, 0, ans, rr(ans, 28, six, 16), 1);
	assert_int_equal(step(&r, 3), 0);
	assert_v6(&r, "2001:db8::2", 80);
}

static void test_nxdomain_and_nodata(void **state)
{
	struct resolve r;
	struct q q;

	(void)state;
	assert_int_equal(resolve_start(&r, "nope.example", 443, 0), 1);
	get_one(&q, 1);
	answer(&q, 3, 0, NULL, 0, 0);
	assert_int_equal(step(&r, 1), -1);
	assert_string_equal(r.err, "no such host");
	assert_int_equal(r.fd, -1);
	/* a name with no address of either type */
	assert_int_equal(resolve_start(&r, "mx-only.example", 443, 0), 1);
	get_one(&q, 1);
	answer(&q, 0, 0, NULL, 0, 0);
	assert_int_equal(step(&r, 1), 1);
	get_one(&q, 28);
	answer(&q, 0, 0, NULL, 0, 0);
	assert_int_equal(step(&r, 2), -1);
	assert_string_equal(r.err, "no address");
	assert_false(get_query(&q, 0));
}

/* Replies that are not to our queries are ignored; a server failure, a
 * truncated or malformed reply moves on to the next server (a new socket:
 * another source port), not to another try of the same one, until none is
 * left. */
static void test_garbage_truncated_servfail(void **state)
{
	unsigned char junk[40], ans[64], cut[16];
	struct resolve r;
	struct q q, again, other;
	size_t n;

	(void)state;
	assert_int_equal(resolve_start(&r, "junk.example", 443, 0), 1);
	get_one(&q, 1);
	/* another id, another question (a byte, or the case of a letter),
	 * random bytes, a short datagram */
	other = q;
	other.b[1] ^= 0x55;
	answer(&other, 0, 0, ans, rr(ans, 1, "\1\2\3\4", 4), 1);
	other = q;
	other.b[13] = 'x';
	answer(&other, 0, 0, ans, rr(ans, 1, "\1\2\3\4", 4), 1);
	other = q;
	other.b[13] = 'J';
	answer(&other, 0, 0, ans, rr(ans, 1, "\1\2\3\4", 4), 1);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	sendto(srv, junk, sizeof(junk), 0, (struct sockaddr *)&q.from, sizeof(q.from));
	sendto(srv, junk, 5, 0, (struct sockaddr *)&q.from, sizeof(q.from));
	assert_int_equal(step(&r, 1), 1);
	assert_false(get_query(&again, 0));     /* still waiting, nothing resent */
	/* truncated, without an address: the next server */
	answer(&q, 0, 2, NULL, 0, 0);
	assert_int_equal(step(&r, 2), 1);
	get_one(&again, 1);
	assert_int_not_equal(again.from.sin_port, q.from.sin_port);
	/* an answer cut short (rdlength past the end): no server left */
	n = rr(cut, 1, "\1\2\3\4", 4);
	cut[11] = 9;
	answer(&again, 0, 0, cut, n, 1);
	assert_int_equal(step(&r, 3), -1);
	assert_string_equal(r.err, "nameserver failure");
	assert_int_equal(r.fd, -1);
	assert_false(get_query(&q, 0));
	/* SERVFAIL from each */
	assert_int_equal(resolve_start(&r, "servfail.example", 443, 0), 1);
	get_one(&q, 1);
	answer(&q, 2, 0, NULL, 0, 0);
	assert_int_equal(step(&r, 1), 1);
	get_one(&q, 1);
	answer(&q, 2, 0, NULL, 0, 0);
	assert_int_equal(step(&r, 2), -1);
	assert_string_equal(r.err, "nameserver failure");
	assert_false(get_query(&q, 0));
}

/* No answer: asked once more, then the next server, then it fails; the
 * clock is the test's (no waiting).  A truncated reply that has the
 * address is an answer. */
static void test_timeouts(void **state)
{
	unsigned char ans[64];
	struct resolve r;
	struct q q;
	int64_t now = 0;

	(void)state;
	assert_int_equal(resolve_start(&r, "silent.example", 443, now), 1);
	for (int k = 0; k < 4; k++) {           /* 2 servers, 2 tries each */
		get_one(&q, 1);
		assert_int_equal(resolve_step(&r, now + RESOLVE_TRY_MS - 1), 1);
		now += RESOLVE_TRY_MS;
		assert_int_equal(resolve_step(&r, now), k < 3 ? 1 : -1);
	}
	assert_string_equal(r.err, "no answer");
	assert_false(get_query(&q, 0));
	/* the fourth try answers, truncated but with its address */
	assert_int_equal(resolve_start(&r, "late.example", 443, 0), 1);
	now = 0;
	for (int k = 0; k < 3; k++) {
		get_one(&q, 1);
		now += RESOLVE_TRY_MS;
		assert_int_equal(resolve_step(&r, now), 1);
	}
	get_one(&q, 1);
	answer(&q, 0, 2, ans, rr(ans, 1, (unsigned char[]){ 10, 0, 0, 4 }, 4), 1);
	assert_int_equal(step(&r, now + 1), 0);
	assert_v4(&r, "10.0.0.4", 443);
}

/* No nameserver: fails without a socket; a closed port: refused at once */
static void test_no_server(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	struct resolve r;
	int s;

	(void)state;
	write_file(conf, "# nothing\nnameserver not-an-address\n");
	assert_int_equal(resolve_start(&r, "any.example", 443, 0), -1);
	assert_string_equal(r.err, "no nameserver");
	assert_int_equal(r.fd, -1);
	/* a port nobody listens on (bound, then closed) */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	resolve_port = ntohs(a.sin_port);
	write_file(conf, "nameserver 127.0.0.1\n");
	/* refused (ICMP) on the first datagram or the second: not asked again */
	if (resolve_start(&r, "any.example", 443, 0) == 1)
		assert_int_equal(step(&r, 1), -1);
	assert_string_equal(r.err, "nameserver unreachable");
	assert_int_equal(r.fd, -1);
	resolve_port = srv_port;
	write_file(conf, "nameserver 127.0.0.1\nnameserver 127.0.0.1\n");
	/* names that are not names */
	assert_int_equal(resolve_start(&r, "a..b", 443, 0), -1);
	assert_string_equal(r.err, "not a name");
}

static void test_query_names(void **state)
{
	unsigned char q[DNS_QMAX], addr[16];
	char name[300];

	(void)state;
	assert_int_equal(dns_query(q, "", 1), 0);
	assert_int_equal(dns_query(q, ".", 1), 0);
	assert_int_equal(dns_query(q, "a..b", 1), 0);
	memset(name, 'a', 64);
	name[64] = 0;
	assert_int_equal(dns_query(q, name, 1), 0);             /* label of 64 */
	name[63] = 0;
	assert_int_equal(dns_query(q, name, 1), 12 + 65 + 4);
	/* 253 bytes in all is the longest name; a trailing dot is the root */
	for (int i = 0; i < 253; i++)
		name[i] = i % 4 == 3 ? '.' : 'b';
	name[253] = 0;
	assert_int_equal(dns_query(q, name, 28), DNS_QMAX);
	name[253] = '.';
	name[254] = 0;
	assert_int_equal(dns_query(q, name, 28), DNS_QMAX);
	name[254] = 'c';
	name[255] = 0;
	assert_int_equal(dns_query(q, name, 28), 0);
	/* the id is the caller's; the rest is a standard query */
	q[0] = 0xbe;
	q[1] = 0xef;
	assert_int_equal(dns_query(q, "x.y", 1), 12 + 5 + 4);
	assert_memory_equal(q, "\xbe\xef\1\0\0\1\0\0\0\0\0\0\1x\1y\0\0\1\0\1", 21);
	/* a reply shorter than the query, or the query itself */
	assert_int_equal(dns_reply(q, 21, q, 12, addr), DNS_IGNORE);
	assert_int_equal(dns_reply(q, 21, q, 21, addr), DNS_IGNORE);   /* not a response */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_and_hosts),
		cmocka_unit_test(test_answer_a_after_cname),
		cmocka_unit_test(test_aaaa_when_no_a),
		cmocka_unit_test(test_nxdomain_and_nodata),
		cmocka_unit_test(test_garbage_truncated_servfail),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_query_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
