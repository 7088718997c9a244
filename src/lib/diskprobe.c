#include "lib/diskprobe.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Devices that are never disks for the SR, by their name's start. */
static const char *const skip_prefix[] = {
	"loop", "ram", "zram", "dm-", "md", "sr",
};

static bool skipped_kind(const char *name)
{
	for (size_t i = 0; i < sizeof(skip_prefix) / sizeof(skip_prefix[0]); i++)
		if (!strncmp(name, skip_prefix[i], strlen(skip_prefix[i])))
			return true;
	return false;
}

/* The first line of ROOT/sys/block/DISK[/SUB]/FILE as an integer; -1 if absent. */
static long long read_num(const char *root, const char *disk, const char *sub,
			  const char *file)
{
	char path[PATH_MAX], line[64];
	long long v = -1;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/sys/block/%s%s%s/%s", root, disk,
		     sub ? "/" : "", sub ? sub : "", file) >= (int)sizeof(path))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		char *end;

		errno = 0;
		v = strtoll(line, &end, 10);
		if (errno || end == line)
			v = -1;
	}
	fclose(f);
	return v;
}

/* Is NAME (a /dev/NAME) the disk or one of its partitions? */
static bool names_disk(const char *root, const char *disk, const char *name)
{
	char path[PATH_MAX];

	if (!strcmp(name, disk))
		return true;
	/* a partition: ROOT/sys/block/DISK/NAME/partition exists */
	if (strncmp(name, disk, strlen(disk)) || strchr(name, '/'))
		return false;
	if (snprintf(path, sizeof(path), "%s/sys/block/%s/%s/partition", root, disk,
		     name) >= (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

/* Mounted (any mount of it or a partition), and on /boot or /state. */
static int mount_state(const char *root, const char *disk, bool *mounted, bool *boot)
{
	char path[PATH_MAX], line[1024];
	FILE *f;

	*mounted = *boot = false;
	if (snprintf(path, sizeof(path), "%s/proc/self/mounts", root) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *dev = strtok(line, " "), *dir = strtok(NULL, " ");

		if (!dev || !dir || strncmp(dev, "/dev/", 5))
			continue;
		if (!names_disk(root, disk, dev + 5))
			continue;
		*mounted = true;
		if (!strcmp(dir, "/boot") || !strcmp(dir, "/state"))
			*boot = true;
	}
	fclose(f);
	return 0;
}

static bool on_usb(const char *root, const char *disk)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t r;

	if (snprintf(path, sizeof(path), "%s/sys/block/%s", root, disk) >= (int)sizeof(path))
		return false;
	r = readlink(path, target, sizeof(target) - 1);
	if (r < 0)
		return false;
	target[r] = '\0';
	return strstr(target, "/usb") != NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dp_disk *)a)->name, ((const struct dp_disk *)b)->name);
}

int dp_scan(const char *root, enum dp_mode mode, struct dp_disk *disks,
	    size_t max, size_t *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t count = 0;
	int rc = -1;
	DIR *d;

	*n = 0;
	if (snprintf(path, sizeof(path), "%s/sys/block", root) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		struct dp_disk disk = { 0 };
		bool mounted, boot;
		long long v;

		if (de->d_name[0] == '.' || skipped_kind(de->d_name))
			continue;
		if (strlen(de->d_name) >= sizeof(disk.name))
			continue;
		strcpy(disk.name, de->d_name);
		if (mount_state(root, disk.name, &mounted, &boot))
			goto out;
		v = read_num(root, disk.name, NULL, "size");	/* 512-byte sectors */
		disk.bytes = v > 0 ? (uint64_t)v * 512 : 0;
		disk.read_only = read_num(root, disk.name, NULL, "ro") == 1;
		disk.removable = read_num(root, disk.name, NULL, "removable") == 1;
		disk.usb = on_usb(root, disk.name);
		/* the order of the rules is the order of the reasons given */
		if (boot)
			disk.verdict = DP_BOOT;
		else if (mounted)
			disk.verdict = DP_MOUNTED;
		else if (disk.read_only)
			disk.verdict = DP_READ_ONLY;
		else if (disk.bytes < DP_MIN_BYTES)
			disk.verdict = DP_SMALL;
		else if (mode == DP_AUTO && disk.usb)
			disk.verdict = DP_USB;
		else if (mode == DP_AUTO && disk.removable)
			disk.verdict = DP_REMOVABLE;
		if (count < max)
			disks[count] = disk;
		count++;
	}
	qsort(disks, count < max ? count : max, sizeof(*disks), by_name);
	*n = count;
	rc = 0;
out:
	closedir(d);
	return rc;
}

const char *dp_verdict_str(enum dp_verdict v)
{
	switch (v) {
	case DP_OK: return "candidate";
	case DP_READ_ONLY: return "read-only";
	case DP_SMALL: return "smaller than 4 GiB";
	case DP_BOOT: return "the boot stick";
	case DP_MOUNTED: return "mounted";
	case DP_REMOVABLE: return "removable";
	case DP_USB: return "USB";
	}
	return "?";
}

/* Up to LEN - 1 bytes of ROOT/sys/block/DISK/FILE, NUL-terminated; the
 * count, or -1 if absent. */
static ssize_t read_attr(const char *root, const char *disk, const char *file,
			 char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t r;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/sys/block/%s/%s", root, disk, file) >=
	    (int)sizeof(path))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	r = (ssize_t)fread(buf, 1, len - 1, f);
	fclose(f);
	buf[r] = '\0';
	return r;
}

static bool id_safe(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       strchr("#+-.:=@_", c);
}

/* SRC[0..N) appended to OUT as udev spells it: trimmed, each whitespace run
 * one '_', every other unsafe byte '_'.  false when OUT is full or nothing
 * was left of SRC. */
static bool id_append(char *out, size_t len, const char *src, size_t n)
{
	size_t o = strlen(out), start = o;

	while (n && (src[n - 1] == ' ' || src[n - 1] == '\n' || src[n - 1] == '\t' ||
		     src[n - 1] == '\0'))
		n--;
	while (n && (*src == ' ' || *src == '\t' || *src == '\n')) {
		src++;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == ' ' || c == '\t' || c == '\n') {
			if (o > start && out[o - 1] == '_')
				continue;
			c = '_';
		} else if (!id_safe(c)) {
			c = '_';
		}
		if (o + 1 >= len)
			return false;
		out[o++] = (char)c;
		out[o] = '\0';
	}
	return o > start;
}

int dp_by_id(const char *root, const char *name, char *out, size_t len)
{
	char model[128], serial[256], vendor[16];
	const char *ser = serial;
	ssize_t sn;

	if (len < 2)
		return -1;
	out[0] = '\0';
	if (!strncmp(name, "nvme", 4)) {
		if (read_attr(root, name, "device/model", model, sizeof(model)) <= 0 ||
		    (sn = read_attr(root, name, "device/serial", serial, sizeof(serial))) <= 0)
			goto none;
		strcpy(out, "nvme-");
	} else if (!strncmp(name, "vd", 2)) {
		if ((sn = read_attr(root, name, "serial", serial, sizeof(serial))) <= 0)
			goto none;
		strcpy(out, "virtio-");
		if (!id_append(out, len, serial, (size_t)sn))
			goto none;
		return 0;
	} else {
		/* libata's disks: vendor "ATA", the serial in VPD page 0x80
		 * (4 header bytes, then the page's length at byte 3) */
		if (read_attr(root, name, "device/vendor", vendor, sizeof(vendor)) <= 0 ||
		    strncmp(vendor, "ATA ", 4) ||
		    read_attr(root, name, "device/model", model, sizeof(model)) <= 0 ||
		    (sn = read_attr(root, name, "device/vpd_pg80", serial, sizeof(serial))) < 4)
			goto none;
		ser = serial + 4;
		if ((size_t)sn - 4 > (unsigned char)serial[3])
			sn = (unsigned char)serial[3] + 4;
		sn -= 4;
		strcpy(out, "ata-");
	}
	if (!id_append(out, len, model, strlen(model)) || strlen(out) + 2 >= len)
		goto none;
	strcat(out, "_");
	if (!id_append(out, len, ser, (size_t)sn))
		goto none;
	return 0;
none:
	out[0] = '\0';
	return -1;
}

static bool has(const unsigned char *buf, size_t len, size_t off, const void *magic, size_t mlen)
{
	return off + mlen <= len && !memcmp(buf + off, magic, mlen);
}

static const unsigned char *first_nonzero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return buf + i;
	return NULL;
}

enum dp_content dp_classify(const unsigned char *head, size_t head_len,
			    const unsigned char *tail, size_t tail_len,
			    uint64_t disk_bytes, uint64_t *at, char *label)
{
	static const unsigned char md_magic[] = { 0xfc, 0x4e, 0x2b, 0xa9 };	/* le 0xa92b4efc */
	static const unsigned char ext_magic[] = { 0x53, 0xef };
	const unsigned char *p;

	if (label)
		label[0] = '\0';
	if (has(head, head_len, 0, "XFSB", 4)) {
		char l[13] = { 0 };

		if (head_len >= 120)
			memcpy(l, head + 108, 12);	/* sb_fname, NUL-padded */
		if (label)
			memcpy(label, l, sizeof(l));
		return !strcmp(l, "xenbox-sr") ? DP_XENBOX_SR : DP_XFS;
	}
	if (has(head, head_len, 0, "LUKS\xba\xbe", 6))
		return DP_LUKS;
	if (has(head, head_len, 512, "EFI PART", 8) || has(head, head_len, 4096, "EFI PART", 8))
		return DP_GPT;
	if (has(head, head_len, 512, "LABELONE", 8) || has(head, head_len, 24, "LVM2 001", 8) ||
	    has(head, head_len, 536, "LVM2 001", 8))
		return DP_LVM2;
	if (has(head, head_len, 65536 + 64, "_BHRfS_M", 8))
		return DP_BTRFS;
	if (has(head, head_len, 1024 + 56, ext_magic, 2))
		return DP_EXT;
	if (has(head, head_len, 4096 - 10, "SWAPSPACE2", 10) ||
	    has(head, head_len, 4096 - 10, "SWAP-SPACE", 10))
		return DP_SWAP;
	if (has(head, head_len, 0, md_magic, 4) || has(head, head_len, 4096, md_magic, 4))
		return DP_MD;
	if (has(head, head_len, 3, "NTFS    ", 8))
		return DP_NTFS;
	if (has(head, head_len, 54, "FAT", 3) || has(head, head_len, 82, "FAT32", 5))
		return DP_FAT;
	if (has(head, head_len, 510, "\x55\xaa", 2))
		return DP_MBR;
	p = first_nonzero(head, head_len);
	if (p) {
		if (at)
			*at = (uint64_t)(p - head);
		return DP_DATA;
	}
	p = first_nonzero(tail, tail_len);
	if (p) {
		if (at)
			*at = disk_bytes - tail_len + (uint64_t)(p - tail);
		return DP_DATA;
	}
	return DP_BLANK;
}

const char *dp_content_str(enum dp_content c)
{
	switch (c) {
	case DP_BLANK: return "blank";
	case DP_XENBOX_SR: return "xenbox SR";
	case DP_XFS: return "XFS filesystem";
	case DP_GPT: return "GPT partition table";
	case DP_MBR: return "MBR partition table";
	case DP_EXT: return "ext2/3/4 filesystem";
	case DP_BTRFS: return "btrfs filesystem";
	case DP_LVM2: return "LVM2 physical volume";
	case DP_LUKS: return "LUKS encrypted volume";
	case DP_MD: return "md RAID member";
	case DP_NTFS: return "NTFS filesystem";
	case DP_FAT: return "FAT filesystem";
	case DP_SWAP: return "swap space";
	case DP_DATA: return "non-zero data";
	}
	return "?";
}
