/* `xenbox disk-probe [--root DIR] [--named]`: the disks the SR could go on
 * (docs/STORAGE.md 2.3), one line each, sorted by name:
 *
 *     NAME BYTES USE CONTENT BY-ID # what a person reads
 *
 * USE is `candidate` or why the disk is passed over (read-only, small,
 * boot, mounted, removable, usb); CONTENT what its first and last MiB hold
 * (blank, xenbox-sr, xfs, gpt, mbr, ext, btrfs, lvm2, luks, md, ntfs, fat,
 * swap, data@OFFSET; unreadable or no-medium when there was nothing to
 * read); BY-ID the /dev/disk/by-id name derived from sysfs, or `-`.  The
 * classifier is lib/diskprobe.c's; this file reads the devices
 * (ROOT/dev/NAME: O_DIRECT, plain reads where the device or the size does
 * not allow it).  --root points it at a fake sys/, proc/ and dev/ (tests);
 * --named judges each disk as a `storage = /dev/...` line would (USB and
 * removable disks allowed).  A disk that cannot be read is never a
 * candidate: its USE says `unreadable`.
 *
 * `xenbox disk-format [--force] DEV`: the daemon's mkfs (2.1, 2.3): reads
 * DEV's first and last MiB again, refuses a disk that carries xenbox's SR
 * (never reformatted) or, without --force, anything not blank; else zeroes
 * the last MiB (a backup GPT, md 1.0) and runs `mkfs.xfs -q -f -L
 * xenbox-sr -m crc=1,reflink=1 DEV` from PATH.  Exit 0 formatted, 3
 * refused, 1 for other failures (stderr says why). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applet.h"
#include "lib/diskprobe.h"

#define MAX_DISKS 256

static const char *const use_token[] = {
	[DP_OK] = "candidate", [DP_READ_ONLY] = "read-only", [DP_SMALL] = "small",
	[DP_BOOT] = "boot", [DP_MOUNTED] = "mounted", [DP_REMOVABLE] = "removable",
	[DP_USB] = "usb",
};

static const char *const content_token[] = {
	[DP_BLANK] = "blank", [DP_XENBOX_SR] = "xenbox-sr", [DP_XFS] = "xfs",
	[DP_GPT] = "gpt", [DP_MBR] = "mbr", [DP_EXT] = "ext", [DP_BTRFS] = "btrfs",
	[DP_LVM2] = "lvm2", [DP_LUKS] = "luks", [DP_MD] = "md", [DP_NTFS] = "ntfs",
	[DP_FAT] = "fat", [DP_SWAP] = "swap", [DP_DATA] = "data",
};

/* LEN bytes at OFF: O_DIRECT first (aligned buffer), then a plain read
 * when the kernel refuses it (EINVAL: a filesystem without O_DIRECT, an
 * unaligned size).  0, or an errno. */
static int read_at(const char *path, int *dfd, int *pfd, unsigned char *buf,
		   size_t len, off_t off)
{
	size_t got = 0;
	ssize_t r = 0;

	if (*dfd >= 0) {
		while (got < len) {
			r = pread(*dfd, buf + got, len - got, off + (off_t)got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (got == len)
			return 0;
		if (r < 0 && errno != EINVAL)
			return errno;
		got = 0;
	}
	if (*pfd < 0) {
		*pfd = open(path, O_RDONLY | O_CLOEXEC);
		if (*pfd < 0)
			return errno;
	}
	while (got < len) {
		r = pread(*pfd, buf + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return EIO;	/* shorter than it said */
		got += (size_t)r;
	}
	return 0;
}

/* The disk's first and last MiB classified; -1 with *err (an errno) when
 * it could not be read, 1 when it has no bytes (a card reader without a
 * card). */
static int probe(const char *path, unsigned char *buf, enum dp_content *c,
		 uint64_t *at, char *label, uint64_t *bytes, int *err)
{
	int dfd, pfd = -1, rc = -1;
	size_t head, tail;
	off_t end;

	dfd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
	if (dfd < 0 && (errno != EINVAL || (pfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)) {
		*err = errno;
		return -1;
	}
	end = lseek(dfd >= 0 ? dfd : pfd, 0, SEEK_END);
	if (end < 0) {
		*err = errno;
		goto out;
	}
	*bytes = (uint64_t)end;
	if (end == 0) {
		rc = 1;
		goto out;
	}
	head = *bytes < DP_MIB ? (size_t)*bytes : DP_MIB;
	tail = head;
	if ((*err = read_at(path, &dfd, &pfd, buf, head, 0)) ||
	    (*err = read_at(path, &dfd, &pfd, buf + DP_MIB, tail, end - (off_t)tail)))
		goto out;
	*c = dp_classify(buf, head, buf + DP_MIB, tail, *bytes, at, label);
	rc = 0;
out:
	if (dfd >= 0)
		close(dfd);
	if (pfd >= 0)
		close(pfd);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: xenbox disk-probe [--root DIR] [--named]\n"
		"  one line per disk: NAME BYTES USE CONTENT BY-ID # text (docs/STORAGE.md 2.3)\n");
	return 2;
}

static int disk_probe_main(int argc, char **argv)
{
	struct dp_disk *disks = NULL;
	enum dp_mode mode = DP_AUTO;
	const char *root = "/";
	unsigned char *buf = NULL;
	size_t n = 0, i;
	int rc = 1;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--root") && a + 1 < argc)
			root = argv[++a];
		else if (!strcmp(argv[a], "--named"))
			mode = DP_NAMED;
		else
			return usage();
	}
	disks = calloc(MAX_DISKS, sizeof(*disks));
	if (!disks || posix_memalign((void **)&buf, 4096, 2 * DP_MIB)) {
		fprintf(stderr, "disk-probe: out of memory\n");
		goto out;
	}
	if (dp_scan(root, mode, disks, MAX_DISKS, &n)) {
		fprintf(stderr, "disk-probe: %s: sys/block or proc/self/mounts: %s\n", root,
			strerror(errno));
		goto out;
	}
	if (n > MAX_DISKS) {
		fprintf(stderr, "disk-probe: %zu disks, the first %d listed\n", n, MAX_DISKS);
		n = MAX_DISKS;
	}
	for (i = 0; i < n; i++) {
		const struct dp_disk *d = &disks[i];
		char path[PATH_MAX], id[256], label[13] = "", content[40];
		enum dp_content c = DP_BLANK;
		uint64_t at = 0, bytes = d->bytes;
		const char *text;
		int err = 0, r;

		snprintf(path, sizeof(path), "%s/dev/%s", strcmp(root, "/") ? root : "", d->name);
		r = probe(path, buf, &c, &at, label, &bytes, &err);
		if (r < 0) {
			snprintf(content, sizeof(content), "unreadable");
			text = strerror(err);
		} else if (r > 0) {
			snprintf(content, sizeof(content), "no-medium");
			text = "no medium";
		} else if (c == DP_DATA) {
			snprintf(content, sizeof(content), "data@%llu", (unsigned long long)at);
			text = dp_content_str(c);
		} else {
			snprintf(content, sizeof(content), "%s", content_token[c]);
			text = dp_content_str(c);
		}
		if (dp_by_id(root, d->name, id, sizeof(id)))
			strcpy(id, "-");
		printf("%s %llu %s %s %s # %s; %s", d->name, (unsigned long long)d->bytes,
		       r < 0 && !d->verdict ? "unreadable" : use_token[d->verdict], content, id,
		       r < 0 && !d->verdict ? "not readable" : dp_verdict_str(d->verdict), text);
		if (r == 0 && c == DP_DATA)
			printf(" at byte %llu", (unsigned long long)at);
		if (r == 0 && c == DP_XFS && label[0])
			printf(" labelled '%s'", label);
		putchar('\n');
	}
	rc = fflush(stdout) ? 1 : 0;
out:
	free(buf);
	free(disks);
	return rc;
}
XB_APPLET_NAMED(disk_probe, "disk-probe", disk_probe_main,
		"the disks the SR could use, and what is on them (docs/STORAGE.md 2.3)");

static int disk_format_main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[argc - 1] : NULL;
	int force = argc == 3 && !strcmp(argv[1], "--force"), err = 0, fd, r, st;
	unsigned char *buf = NULL;
	enum dp_content c = DP_BLANK;
	uint64_t at = 0, bytes = 0;
	char label[13];
	pid_t pid;

	if (!dev || *dev == '-' || argc > 2 + force) {
		fprintf(stderr, "usage: xenbox disk-format [--force] DEV\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, 4096, 2 * DP_MIB))
		return 1;
	r = probe(dev, buf, &c, &at, label, &bytes, &err);
	if (r) {
		fprintf(stderr, "disk-format: %s: %s\n", dev, r < 0 ? strerror(err) : "no medium");
		free(buf);
		return 1;
	}
	if (c == DP_XENBOX_SR || (c != DP_BLANK && !force)) {
		fprintf(stderr, "disk-format: %s: %s; not formatted%s\n", dev, dp_content_str(c),
			c == DP_XENBOX_SR ? " (xenbox's SR is adopted, never reformatted)" :
			" without --force");
		free(buf);
		return 3;
	}
	memset(buf, 0, DP_MIB);
	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || (c != DP_BLANK && bytes >= DP_MIB &&
		       pwrite(fd, buf, DP_MIB, (off_t)(bytes - DP_MIB)) != (ssize_t)DP_MIB) ||
	    fsync(fd)) {
		fprintf(stderr, "disk-format: %s: %s\n", dev, strerror(errno));
		free(buf);
		return 1;
	}
	close(fd);
	free(buf);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execlp("mkfs.xfs", "mkfs.xfs", "-q", "-f", "-L", "xenbox-sr", "-m", "crc=1,reflink=1",
		       dev, (char *)NULL);
		fprintf(stderr, "disk-format: mkfs.xfs: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "disk-format: %s: mkfs.xfs failed\n", dev);
		return 1;
	}
	return 0;
}
XB_APPLET_NAMED(disk_format, "disk-format", disk_format_main,
		"format a blank disk as xenbox's SR (XFS; the daemon runs it: docs/STORAGE.md 2.3)");
