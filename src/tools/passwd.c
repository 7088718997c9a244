/* `xenbox passwd [--state-dir DIR] [--print]`: read root's new password
 * from stdin (one line) and store its PBKDF2-HMAC-SHA256 hash in
 * DIR/passwd (0600, written atomically).  --print writes the hash to
 * stdout instead, for root_password_hash in xenbox.conf.  The running
 * daemon reads the file at start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/auth.h"
#include "applet.h"
#include "lib/util.h"

static int passwd_main(int argc, char **argv)
{
	const char *dir = "/var/lib/xenbox";
	char pwd[1024], hash[256], path[600], tmp[620];
	int print = 0, fd, rc = 1;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--state-dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--print"))
			print = 1;
		else {
			fprintf(stderr, "usage: xenbox passwd [--state-dir DIR] [--print] < password\n");
			return 2;
		}
	}
	if (!fgets(pwd, sizeof(pwd), stdin)) {
		fprintf(stderr, "xenbox passwd: no password on standard input\n");
		return 1;
	}
	n = strcspn(pwd, "\r\n");
	pwd[n] = 0;
	if (!n) {
		fprintf(stderr, "xenbox passwd: empty password refused\n");
		goto out;
	}
	if (auth_hash_make(pwd, AUTH_DEFAULT_ITER, hash, sizeof(hash))) {
		fprintf(stderr, "xenbox passwd: cannot hash\n");
		goto out;
	}
	if (print) {
		puts(hash);
		rc = 0;
		goto out;
	}
	if (xsnprintf(path, sizeof(path), "%s/passwd", dir) < 0 ||
	    xsnprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
		fprintf(stderr, "xenbox passwd: %s: path too long\n", dir);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", hash) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "xenbox passwd: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fprintf(stderr, "xenbox passwd: password stored in %s (restart the daemon to use it)\n", path);
	rc = 0;
out:
	secure_zero(pwd, sizeof(pwd));
	return rc;
}

XB_APPLET(passwd, passwd_main, "set root's password (read from stdin)");
