#ifndef XB_LIB_DISKPROBE_H
#define XB_LIB_DISKPROBE_H
/*
 * The storage disk classifier (docs/STORAGE.md 2.3): which whole disks may
 * carry the SR, and what a disk's first and last MiB hold.  Pure functions
 * over a root directory (sys/block, proc/self/mounts under it: "/" on a
 * host, a fake tree in the unit tests) and over buffers the caller read;
 * nothing here opens a device.  `xenbox-io disk-probe` (io/disk.c) reads
 * the devices and prints what these say.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_MIB (1024u * 1024u)
#define DP_MIN_BYTES (4ull << 30)		/* 4 GiB */

/* Why a disk is passed over (DP_OK: a candidate). */
enum dp_verdict {
	DP_OK = 0,
	DP_READ_ONLY,
	DP_SMALL,		/* under 4 GiB */
	DP_BOOT,		/* holds /boot or /state: the stick */
	DP_MOUNTED,		/* it or a partition of it is mounted */
	DP_REMOVABLE,		/* auto only */
	DP_USB,			/* auto only */
};

struct dp_disk {
	char name[32];		/* sda, nvme0n1 */
	uint64_t bytes;
	bool removable, usb, read_only;
	enum dp_verdict verdict;
};

/* auto passes over removable and USB disks; a named disk does not. */
enum dp_mode { DP_AUTO, DP_NAMED };

/*
 * The whole disks of ROOT/sys/block, sorted by name, without loop, ram,
 * zram, dm-, md and sr devices, each with its verdict.  At most MAX go to
 * DISKS; *N is how many there were.  0, or -1 (errno) when ROOT/sys/block
 * or ROOT/proc/self/mounts cannot be read.
 */
int dp_scan(const char *root, enum dp_mode mode, struct dp_disk *disks,
	    size_t max, size_t *n);

/* "read-only", "smaller than 4 GiB", ... ("candidate" for DP_OK). */
const char *dp_verdict_str(enum dp_verdict v);

/*
 * The name udev's rules would give the disk under /dev/disk/by-id, derived
 * from ROOT/sys/block/NAME without udev (docs/STORAGE.md 2.3):
 * ata-MODEL_SERIAL (vendor "ATA", the serial from device/vpd_pg80),
 * nvme-MODEL_SERIAL (the controller's model and serial), virtio-SERIAL;
 * whitespace runs as one '_', other unsafe bytes as '_'.  0, or -1 when
 * the disk is of another kind or lacks the attributes (then OUT is "").
 */
int dp_by_id(const char *root, const char *name, char *out, size_t len);

/* What a disk holds, from its first and last MiB. */
enum dp_content {
	DP_BLANK = 0,		/* both all zeros */
	DP_XENBOX_SR,		/* XFS labelled xenbox-sr: adopt, never format */
	DP_XFS,
	DP_GPT,
	DP_MBR,
	DP_EXT,
	DP_BTRFS,
	DP_LVM2,
	DP_LUKS,
	DP_MD,
	DP_NTFS,
	DP_FAT,
	DP_SWAP,
	DP_DATA,		/* none of those: non-zero data at *at */
};

/*
 * HEAD: the disk's first HEAD_LEN bytes, TAIL: its last TAIL_LEN (1 MiB
 * each when the disk is that large; the same bytes may appear in both).
 * *AT (may be NULL): for DP_DATA the offset of the first non-zero byte,
 * counted from the disk's start given DISK_BYTES.  LABEL (may be NULL, 13
 * bytes): an XFS label, NUL-terminated.
 */
enum dp_content dp_classify(const unsigned char *head, size_t head_len,
			    const unsigned char *tail, size_t tail_len,
			    uint64_t disk_bytes, uint64_t *at, char *label);

/* "blank", "xenbox SR", "GPT partition table", ... */
const char *dp_content_str(enum dp_content c);

#endif
