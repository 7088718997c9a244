/* The stats relay's pure parts (pool/relay.c, docs/POOL.md 7.3): which
 * Host: headers name a member under pool_relay_domain, and the query sent
 * down the channel (the client's session and task stay on the master).
 * The relay itself, with two daemons: tests/integration/test_pool_relay.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pool/relay.h"

#define U "0f4c2a1e-9b3d-4c5e-8f70-123456789abc"

static void test_host_names_a_member(void **state)
{
	char u[37];

	(void)state;
	assert_int_equal(relay_host(U ".relay.test", "relay.test", u), 0);
	assert_string_equal(u, U);
	/* a port, a trailing dot, upper case: the same member */
	assert_int_equal(relay_host("0F4C2A1E-9B3D-4C5E-8F70-123456789ABC.Relay.Test.:443",
				    "relay.test", u), 0);
	assert_string_equal(u, U);
	assert_int_equal(relay_host(U ".relay.test:8443", "relay.test", u), 0);
	assert_string_equal(u, U);
	/* under the domain but not a uuid: relayed, and no such host (404) */
	assert_int_equal(relay_host("www.relay.test", "relay.test", u), 0);
	assert_string_equal(u, "");
	assert_int_equal(relay_host("x." U ".relay.test", "relay.test", u), 0);
	assert_string_equal(u, "");
	assert_int_equal(relay_host("0f4c2a1e-9b3d-4c5e-8f70-123456789abg.relay.test",
				    "relay.test", u), 0);
	assert_string_equal(u, "");
}

static void test_host_not_under_the_domain(void **state)
{
	char u[37];

	(void)state;
	assert_int_equal(relay_host("relay.test", "relay.test", u), -1);        /* the master */
	assert_int_equal(relay_host(".relay.test", "relay.test", u), -1);
	assert_int_equal(relay_host(U ".xrelay.test", "relay.test", u), -1);
	assert_int_equal(relay_host(U ".relay.test.evil", "relay.test", u), -1);
	assert_int_equal(relay_host("127.0.0.1:443", "relay.test", u), -1);
	assert_int_equal(relay_host("[::1]:443", "relay.test", u), -1);
	assert_int_equal(relay_host(NULL, "relay.test", u), -1);                /* no Host: */
	assert_int_equal(relay_host(U ".relay.test", NULL, u), -1);             /* no domain */
	assert_int_equal(relay_host(U ".relay.test", "", u), -1);
}

static void test_query_without_credentials(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" },
		{ "session_id=OpaqueRef:s", "" },
		{ "cf=AVERAGE&session_id=OpaqueRef:s&host=true&task_id=OpaqueRef:t&json=true",
		  "cf=AVERAGE&host=true&json=true" },
		{ "task_id=t&start=10", "start=10" },
		{ "start=10&&interval=5&", "start=10&interval=5" },
		{ "my_session_id=1&session_idx=2", "my_session_id=1&session_idx=2" },
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		relay_query(cases[i].in, out);
		assert_string_equal(out, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_names_a_member),
		cmocka_unit_test(test_host_not_under_the_domain),
		cmocka_unit_test(test_query_without_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
