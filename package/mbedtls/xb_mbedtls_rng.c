/* xenbox: the PSA external RNG for mbedTLS, from the kernel's getrandom().
 *
 * mbedTLS only uses getrandom() itself when built against glibc; under musl
 * it would read /dev/random (blocking on old kernels, needing /dev).  With
 * MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG every random byte the library uses comes
 * from here.  getrandom() without flags blocks only until the kernel's pool
 * is first initialised, early in boot.
 */
#include <errno.h>
#include <sys/random.h>

#include <psa/crypto.h>

psa_status_t mbedtls_psa_external_get_random(
	mbedtls_psa_external_random_context_t *context,
	uint8_t *output, size_t output_size, size_t *output_length)
{
	size_t done = 0;

	(void)context;
	while (done < output_size) {
		ssize_t n = getrandom(output + done, output_size - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*output_length = done;
			return PSA_ERROR_INSUFFICIENT_ENTROPY;
		}
		done += (size_t)n;
	}
	*output_length = done;
	return PSA_SUCCESS;
}
