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
 * removable disks allowed). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		       use_token[d->verdict], content, id, dp_verdict_str(d->verdict), text);
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
