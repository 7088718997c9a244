/* Certificate fingerprints (certfp.h). */
#include "lib/certfp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/sha256.h"
#include "lib/util.h"

#define PEM_MAX 65536
#define BEGIN "-----BEGIN CERTIFICATE-----"
#define END "-----END CERTIFICATE-----"

void certfp_format(const unsigned char h[32], char *fp, size_t fplen)
{
	size_t n = 0;

	*fp = 0;
	for (size_t i = 0; i < 32 && n + 4 <= fplen; i++)
		n += (size_t)snprintf(fp + n, fplen - n, i ? ":%02X" : "%02X", h[i]);
}

int certfp_file(const char *path, char *fp, size_t fplen, char *err, size_t errlen)
{
	char *pem = xmalloc(PEM_MAX + 1), *b, *e;
	unsigned char h[32];
	size_t len = 0;
	ssize_t r = 0;
	long der;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (len < PEM_MAX && (r = read(fd, pem + len, PEM_MAX - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	pem[len] = 0;
	b = strstr(pem, BEGIN);
	e = b ? strstr(b, END) : NULL;
	if (!e) {
		snprintf(err, errlen, "%s: no certificate in it", path);
		goto out;
	}
	b += sizeof(BEGIN) - 1;
	/* decoded in place: the output is shorter than the input */
	der = b64_decode(b, (size_t)(e - b), b);
	if (der <= 0) {
		snprintf(err, errlen, "%s: the certificate is not base64", path);
		goto out;
	}
	sha256(b, (size_t)der, h);
	certfp_format(h, fp, fplen);
	rc = 0;
out:
	secure_zero(pem, PEM_MAX + 1);
	free(pem);
	return rc;
}
