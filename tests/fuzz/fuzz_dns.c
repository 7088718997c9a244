/* libFuzzer target: the DNS client's wire (lib/resolve.c, dns_query and
 * dns_reply).
 *
 * 1. The input as a reply to a fixed query, as it comes and with the
 *    query's header and question pasted over its start (so the parser
 *    gets past its checks and into the answers): the verdict is one of the
 *    five, an address is 4 or 16 bytes found in the input, a reply not
 *    echoing the id or the question is DNS_IGNORE.
 * 2. The input's first bytes as a name: dns_query's length is 0 or within
 *    DNS_QMAX and says exactly which names are names; the query echoed as
 *    a reply with no answers is DNS_NODATA, with the rest of the input as
 *    an A record it is DNS_ADDR with those 4 bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/resolve.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int contains(const uint8_t *h, size_t n, const uint8_t *x, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(h + i, x, k))
			return 1;
	return 0;
}

/* A name by the rules dns_query promises: labels of 1..63, 253 at most
 * (a trailing dot allowed), no NUL */
static int is_name(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (!n || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '.') {
			if (++label > 63)
				return 0;
		} else if (!label) {
			return 0;
		} else {
			label = 0;
		}
	}
	return label > 0;
}

static void as_reply(const uint8_t *data, size_t size)
{
	unsigned char q[DNS_QMAX], addr[16], *p;
	size_t ql;

	for (int type = 1; type <= 28; type += 27) {
		q[0] = 0x12;
		q[1] = 0x34;
		ql = dns_query(q, "pool.example.org", type);
		CHECK(ql == 12 + 18 + 4);
		for (int paste = 0; paste < 2; paste++) {
			int r;

			p = malloc(size > ql ? size : ql);
			if (size)
				memcpy(p, data, size);
			if (paste && size >= ql) {
				memcpy(p, q, 2);
				memcpy(p + 12, q + 12, ql - 12);
			}
			memset(addr, 0xee, sizeof(addr));
			r = dns_reply(q, ql, p, size, addr);
			CHECK(r >= DNS_IGNORE && r <= DNS_FAIL);
			if (r == DNS_ADDR)
				CHECK(contains(p, size, addr, type == 1 ? 4 : 16));
			if (type == 1 && r == DNS_ADDR)
				CHECK(addr[4] == 0xee);
			if (r != DNS_IGNORE)
				CHECK(size >= ql && p[0] == 0x12 && p[1] == 0x34 && (p[2] & 0x80));
			free(p);
		}
	}
}

static void as_name(const uint8_t *data, size_t size)
{
	char name[300];
	unsigned char q[DNS_QMAX], r[DNS_QMAX + 16], addr[16];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1, ql;

	memcpy(name, data, n);
	name[n] = 0;
	q[0] = 0xab;
	q[1] = 0xcd;
	ql = dns_query(q, name, 1);
	CHECK(ql <= DNS_QMAX);
	CHECK(!ql == !is_name(name));
	if (!ql)
		return;
	memcpy(r, q, ql);
	r[2] = 0x81;
	r[3] = 0x80;
	CHECK(dns_reply(q, ql, r, ql, addr) == DNS_NODATA);
	if (size < n + 4)
		return;
	/* one A record, its owner a pointer to the question */
	r[7] = 1;
	memcpy(r + ql, (unsigned char[12]){ 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 }, 12);
	memcpy(r + ql + 12, data + size - 4, 4);
	CHECK(dns_reply(q, ql, r, ql + 16, addr) == DNS_ADDR);
	CHECK(!memcmp(addr, data + size - 4, 4));
	/* cut anywhere in the record: no address, a failure */
	CHECK(dns_reply(q, ql, r, ql + 1 + size % 15, addr) == DNS_FAIL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_reply(data, size);
	as_name(data, size);
	return 0;
}
