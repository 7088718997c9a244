/* `xenbox growfs DISK PARTNO MOUNTPOINT`: let the USB stick's state
 * partition (ext4, the last MBR partition) fill the stick, while mounted.
 *
 * The image is built small (board/pc_x86_64_usb/mkimage.sh); on first boot
 * the partition's MBR entry is extended to the end of the disk, the kernel
 * is told (BLKPG, works while partitions are in use) and ext4 grows online
 * (EXT4_IOC_RESIZE_FS, what resize2fs does on a mounted filesystem).  Each
 * step is skipped when already done, so running it on every boot writes
 * nothing once the stick is full size. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "applet.h"

/* From the kernel's uapi (linux/fs.h, linux/blkpg.h, ext4): musl-gcc sees
 * only musl's headers. */
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#define BLKPG _IO(0x12, 105)
#define BLKPG_RESIZE_PARTITION 3
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
struct blkpg_ioctl_arg { int op, flags, datalen; void *data; };
struct blkpg_partition { long long start, length; int pno; char devname[64], volname[64]; };
#define SECTOR 512
#define EXT4_MAGIC 0xEF53

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Extends MBR entry `pno` to the end of the disk if it is the last one.
 * *start and *count get its extent in sectors. */
static int grow_entry(int fd, const char *disk, int pno, uint64_t *start, uint64_t *count)
{
	unsigned char mbr[SECTOR], *e = mbr + 446 + 16 * (pno - 1);
	struct blkpg_partition part = { 0 };
	struct blkpg_ioctl_arg arg = { .op = BLKPG_RESIZE_PARTITION,
				       .datalen = sizeof(part), .data = &part };
	uint64_t bytes, end;

	if (pread(fd, mbr, SECTOR, 0) != SECTOR || mbr[510] != 0x55 || mbr[511] != 0xAA) {
		fprintf(stderr, "growfs: %s: no MBR partition table\n", disk);
		return -1;
	}
	*start = le32(e + 8);
	*count = le32(e + 12);
	if (!e[4] || !*count) {
		fprintf(stderr, "growfs: %s: partition %d is empty\n", disk, pno);
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		const unsigned char *o = mbr + 446 + 16 * i;

		if (i != pno - 1 && o[4] && le32(o + 8) > *start) {
			fprintf(stderr, "growfs: %s: partition %d is not the last one\n", disk, pno);
			return -1;
		}
	}
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
		fprintf(stderr, "growfs: %s: size: %s\n", disk, strerror(errno));
		return -1;
	}
	end = bytes / SECTOR;
	if (end > UINT32_MAX)
		end = UINT32_MAX;       /* MBR's limit: 2 TiB */
	end &= ~(uint64_t)2047;         /* whole MiB */
	if (end <= *start + *count)
		return 0;
	*count = end - *start;
	put_le32(e + 12, (uint32_t)*count);
	if (pwrite(fd, mbr, SECTOR, 0) != SECTOR || fsync(fd) < 0) {
		fprintf(stderr, "growfs: %s: writing the MBR: %s\n", disk, strerror(errno));
		return -1;
	}
	part.pno = pno;
	part.start = (long long)*start * SECTOR;
	part.length = (long long)*count * SECTOR;
	if (ioctl(fd, BLKPG, &arg) < 0) {
		fprintf(stderr, "growfs: %s: telling the kernel about partition %d: %s\n",
			disk, pno, strerror(errno));
		return -1;
	}
	printf("growfs: %s partition %d now %llu MiB\n", disk, pno,
	       (unsigned long long)(*count / 2048));
	return 0;
}

static int growfs_main(int argc, char **argv)
{
	unsigned char sb[1024];
	uint64_t start, count, blocks, want, bsize;
	int fd = -1, mfd = -1, pno, rc = 1;

	if (argc != 4 || (pno = atoi(argv[2])) < 1 || pno > 4) {
		fprintf(stderr, "usage: xenbox growfs DISK PARTNO(1-4) MOUNTPOINT\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "growfs: %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	if (grow_entry(fd, argv[1], pno, &start, &count))
		goto out;
	/* ext4's superblock, 1024 bytes into the partition. */
	if (pread(fd, sb, sizeof(sb), (off_t)start * SECTOR + 1024) != sizeof(sb) ||
	    (sb[0x38] | sb[0x39] << 8) != EXT4_MAGIC) {
		fprintf(stderr, "growfs: %s partition %d: no ext4 superblock\n", argv[1], pno);
		goto out;
	}
	bsize = 1024ULL << le32(sb + 0x18);
	blocks = le32(sb + 0x04);
	if (le32(sb + 0x60) & 0x80)     /* INCOMPAT_64BIT */
		blocks |= (uint64_t)le32(sb + 0x150) << 32;
	want = count * SECTOR / bsize;
	if (want <= blocks) {
		rc = 0;
		goto out;
	}
	mfd = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0 || ioctl(mfd, EXT4_IOC_RESIZE_FS, &want) < 0) {
		fprintf(stderr, "growfs: %s: resizing to %llu blocks: %s\n", argv[3],
			(unsigned long long)want, strerror(errno));
		goto out;
	}
	printf("growfs: %s grown from %llu to %llu blocks of %llu bytes\n", argv[3],
	       (unsigned long long)blocks, (unsigned long long)want, (unsigned long long)bsize);
	rc = 0;
out:
	if (mfd >= 0)
		close(mfd);
	if (fd >= 0)
		close(fd);
	return rc;
}
XB_APPLET(growfs, growfs_main, "grow the USB stick's state partition to fill the stick");
