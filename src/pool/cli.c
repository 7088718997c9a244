/* `xenbox pool`: the pool's command line (docs/POOL.md).  So far one
 * command that needs no daemon:
 *
 *     xenbox pool fingerprint [--state-dir DIR]
 *
 * prints this host's pool_fingerprint, the SHA-256 of the certificate in
 * DIR/pool-master.pem (made by the daemon's first start), the value a
 * member's pool_fingerprint must have. */
#include <stdio.h>
#include <string.h>

#include "applet.h"
#include "server/tls.h"

static int pool_main(int argc, char **argv)
{
	const char *dir = "/var/lib/xenbox";
	char fp[100], err[700];

	if (argc < 2 || strcmp(argv[1], "fingerprint"))
		goto usage;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
			dir = argv[++i];
		else
			goto usage;
	}
	if (tls_pool_fingerprint(dir, fp, sizeof(fp), err, sizeof(err))) {
		fprintf(stderr, "xenbox pool: %s (the daemon makes it on its first start)\n", err);
		return 1;
	}
	puts(fp);
	return 0;
usage:
	fprintf(stderr, "usage: xenbox pool fingerprint [--state-dir DIR]\n");
	return 2;
}

XB_APPLET(pool, pool_main, "pool commands: fingerprint");
