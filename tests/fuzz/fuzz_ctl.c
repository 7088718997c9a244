/* libFuzzer target: the control channel's packets (io/ctl.c), the
 * daemon's and the helper's only parser of each other's words.
 *
 * The input as a packet: ctl_parse either refuses it or gives a message
 * whose strings lie inside the packet, each ended by its NUL, with no more
 * parameters than CTL_MAX_PARAMS; such a message formats back to exactly
 * the same bytes (one spelling per message), and parses again to the same
 * message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ctl.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static int inside(const char *s, const char *p, size_t n)
{
	return s >= p && s < p + n && memchr(s, 0, (size_t)(p + n - s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[CTL_MAX];
	struct ctl_msg m, m2;
	char *p = malloc(size ? size : 1);      /* exact size: ASan sees overreads */
	long n;

	memcpy(p, data, size);
	if (ctl_parse(p, size, &m) == 0) {
		CHECK(m.fd == -1 && ctl_verb(m.type));
		CHECK(m.nparam <= CTL_MAX_PARAMS);
		if (m.s) {
			CHECK(inside(m.s, p, size));
			CHECK(strlen(m.s) == m.len);
		}
		for (unsigned i = 0; i < m.nparam; i++)
			CHECK(inside(m.param[i], p, size));
		n = ctl_format(&m, out, sizeof(out));
		CHECK(n == (long)size && !memcmp(out, p, size));
		CHECK(ctl_parse(out, (size_t)n, &m2) == 0);
		CHECK(m2.type == m.type && m2.n[0] == m.n[0] && m2.n[1] == m.n[1]);
		CHECK(m2.nparam == m.nparam && m2.len == m.len);
	}
	free(p);
	return 0;
}
