/* SHA-256, HMAC-SHA256 and PBKDF2 against published vectors (FIPS 180-4
 * examples, RFC 4231, RFC 7914 section 11), and the password hash format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/auth.h"
#include "lib/sha256.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void check_sha(const char *msg, size_t reps, const char *want)
{
	struct sha256 s;
	unsigned char d[32];
	char h[65];

	sha256_init(&s);
	for (size_t i = 0; i < reps; i++)
		sha256_update(&s, msg, strlen(msg));
	sha256_final(&s, d);
	hex(d, 32, h);
	assert_string_equal(h, want);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	check_sha("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a's, fed in 1000-byte pieces: crosses block edges */
	{
		char a[1001];

		memset(a, 'a', 1000);
		a[1000] = 0;
		check_sha(a, 1000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char key[20], d[32], big[131];
	char h[65];

	(void)state;
	memset(key, 0x0b, sizeof(key));
	hmac_sha256(key, sizeof(key), "Hi There", 8, d);
	hex(d, 32, h);
	assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
	hex(d, 32, h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* a key longer than the block is hashed first (test case 6) */
	memset(big, 0xaa, sizeof(big));
	hmac_sha256(big, sizeof(big), "Test Using Larger Than Block-Size Key - Hash Key First",
		    54, d);
	hex(d, 32, h);
	assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_pbkdf2(void **state)
{
	unsigned char d[64];
	char h[129];

	(void)state;
	pbkdf2_sha256("password", 8, "salt", 4, 1, d, 32);
	hex(d, 32, h);
	assert_string_equal(h, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
	pbkdf2_sha256("password", 8, "salt", 4, 4096, d, 32);
	hex(d, 32, h);
	assert_string_equal(h, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
	/* RFC 7914 section 11: 64 bytes, two blocks */
	pbkdf2_sha256("passwd", 6, "salt", 4, 1, d, 64);
	hex(d, 64, h);
	assert_string_equal(h, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
			       "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
}

static void test_password_hash_format(void **state)
{
	char stored[256], bad[256];

	(void)state;
	assert_int_equal(auth_hash_make("s3cret", 1000, stored, sizeof(stored)), 0);
	assert_true(!strncmp(stored, "pbkdf2-sha256$1000$", 19));
	assert_int_equal(auth_hash_check(stored, "s3cret"), 0);
	assert_int_equal(auth_hash_check(stored, "s3cret "), 1);
	assert_int_equal(auth_hash_check(stored, ""), 1);
	/* two hashes of one password differ (random salt) */
	assert_int_equal(auth_hash_make("s3cret", 1000, bad, sizeof(bad)), 0);
	assert_string_not_equal(stored, bad);
	/* malformed hashes are errors, not matches */
	assert_int_equal(auth_hash_check("md5$x", "a"), -1);
	assert_int_equal(auth_hash_check("pbkdf2-sha256$0$00112233445566778899$00", "a"), -1);
	assert_int_equal(auth_hash_check("pbkdf2-sha256$10$zz$00112233445566778899aabbccddeeff", "a"), -1);
	assert_int_equal(auth_hash_check("pbkdf2-sha256$10$0011223344556677", "a"), -1);
	/* too small an output buffer fails */
	assert_int_equal(auth_hash_make("x", 10, bad, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_pbkdf2),
		cmocka_unit_test(test_password_hash_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
