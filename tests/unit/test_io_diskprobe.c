/* lib/diskprobe.c: the storage disk classifier (docs/STORAGE.md 2.3) over
 * a fake root: sys/block with the files and links the kernel gives, and
 * proc/self/mounts; and the content of a disk's first and last MiB from
 * buffers the test fills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "lib/diskprobe.h"

static char root[] = "/tmp/xb-diskprobe-XXXXXX";

static void write_file(const char *rel, const char *text)
{
	char path[512], dir[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(dir), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A disk as the kernel shows it: /sys/block/NAME -> ../devices/PATH/block/NAME */
static void add_disk(const char *name, const char *devpath, unsigned long long sectors,
		     int ro, int removable)
{
	char rel[256], text[64], link[512], target[512], cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/sys/devices/%s/block/%s' '%s/sys/block'",
		 root, devpath, name, root);
	assert_int_equal(system(cmd), 0);
	snprintf(link, sizeof(link), "%s/sys/block/%s", root, name);
	snprintf(target, sizeof(target), "../devices/%s/block/%s", devpath, name);
	assert_int_equal(symlink(target, link), 0);
	snprintf(rel, sizeof(rel), "sys/block/%s/size", name);
	snprintf(text, sizeof(text), "%llu\n", sectors);
	write_file(rel, text);
	snprintf(rel, sizeof(rel), "sys/block/%s/ro", name);
	write_file(rel, ro ? "1\n" : "0\n");
	snprintf(rel, sizeof(rel), "sys/block/%s/removable", name);
	write_file(rel, removable ? "1\n" : "0\n");
}

static void add_part(const char *disk, const char *part)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/block/%s/%s/partition", disk, part);
	write_file(rel, "1\n");
}

#define GIB (2ull * 1024 * 1024)	/* sectors */

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	add_disk("sda", "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0", 500 * GIB, 0, 0);
	add_disk("nvme0n1", "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", 1000 * GIB, 0, 0);
	add_disk("sdb", "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host1/target1:0:0/1:0:0:0",
		 16 * GIB, 0, 1);	/* the boot stick */
	add_part("sdb", "sdb1");
	add_part("sdb", "sdb2");
	add_disk("sdc", "pci0000:00/0000:00:14.0/usb2/2-2/2-2:1.0/host2/target2:0:0/2:0:0:0",
		 2000 * GIB, 0, 0);	/* a USB disk, not removable */
	add_disk("sdd", "pci0000:00/0000:00:1f.2/ata2/host3/target3:0:0/3:0:0:0", 3 * GIB, 0, 0);
	add_disk("sde", "pci0000:00/0000:00:1f.2/ata3/host4/target4:0:0/4:0:0:0", 100 * GIB, 1, 0);
	add_disk("sdf", "pci0000:00/0000:00:1f.2/ata4/host5/target5:0:0/5:0:0:0", 100 * GIB, 0, 0);
	add_part("sdf", "sdf1");
	add_disk("sdg", "pci0000:00/0000:00:1f.2/ata5/host6/target6:0:0/6:0:0:0", 100 * GIB, 0, 1);
	add_disk("loop0", "virtual", 100 * GIB, 0, 0);
	add_disk("dm-0", "virtual", 100 * GIB, 0, 0);
	add_disk("sr0", "pci0000:00/0000:00:1f.2/ata6/host7/target7:0:0/7:0:0:0", 100 * GIB, 0, 1);
	write_file("proc/self/mounts",
		   "none / squashfs ro 0 0\n"
		   "/dev/sdb1 /boot vfat ro 0 0\n"
		   "/dev/sdb2 /state ext4 rw 0 0\n"
		   "/dev/sdf1 /mnt/data ext4 rw 0 0\n"
		   "tmpfs /run tmpfs rw 0 0\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static const struct dp_disk *find(const struct dp_disk *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return &d[i];
	fail_msg("no disk %s", name);
	return NULL;
}

static void test_auto_candidates_and_reasons(void **state)
{
	struct dp_disk d[16];
	size_t n;

	(void)state;
	assert_int_equal(dp_scan(root, DP_AUTO, d, 16, &n), 0);
	/* loop0, dm-0, sr0 are not disks for an SR at all; the rest sorted */
	assert_int_equal(n, 8);
	assert_string_equal(d[0].name, "nvme0n1");
	assert_string_equal(d[1].name, "sda");
	assert_string_equal(d[7].name, "sdg");
	assert_int_equal(find(d, n, "sda")->verdict, DP_OK);
	assert_int_equal(find(d, n, "sda")->bytes, 500ull << 30);
	assert_int_equal(find(d, n, "nvme0n1")->verdict, DP_OK);
	assert_int_equal(find(d, n, "sdb")->verdict, DP_BOOT);
	assert_int_equal(find(d, n, "sdc")->verdict, DP_USB);
	assert_true(find(d, n, "sdc")->usb);
	assert_int_equal(find(d, n, "sdd")->verdict, DP_SMALL);
	assert_int_equal(find(d, n, "sde")->verdict, DP_READ_ONLY);
	assert_int_equal(find(d, n, "sdf")->verdict, DP_MOUNTED);
	assert_int_equal(find(d, n, "sdg")->verdict, DP_REMOVABLE);
	assert_string_equal(dp_verdict_str(DP_BOOT), "the boot stick");
}

static void test_named_disk_may_be_usb_but_never_the_stick(void **state)
{
	struct dp_disk d[16];
	size_t n;

	(void)state;
	assert_int_equal(dp_scan(root, DP_NAMED, d, 16, &n), 0);
	assert_int_equal(find(d, n, "sdc")->verdict, DP_OK);
	assert_int_equal(find(d, n, "sdg")->verdict, DP_OK);
	assert_int_equal(find(d, n, "sdb")->verdict, DP_BOOT);
	assert_int_equal(find(d, n, "sdf")->verdict, DP_MOUNTED);
}

static void test_scan_counts_beyond_max_and_fails_without_sysfs(void **state)
{
	struct dp_disk d[2];
	size_t n;

	(void)state;
	assert_int_equal(dp_scan(root, DP_AUTO, d, 2, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(dp_scan("/nonexistent-xb", DP_AUTO, d, 2, &n), -1);
	assert_int_equal(n, 0);
}

static unsigned char head[DP_MIB], tail[DP_MIB];
#define DISK (100ull << 30)

static enum dp_content classify(uint64_t *at, char *label)
{
	return dp_classify(head, sizeof(head), tail, sizeof(tail), DISK, at, label);
}

static void test_blank_and_stray_bytes(void **state)
{
	uint64_t at = 0;

	(void)state;
	memset(head, 0, sizeof(head));
	memset(tail, 0, sizeof(tail));
	assert_int_equal(classify(&at, NULL), DP_BLANK);
	tail[DP_MIB - 1] = 1;		/* md 1.0 or a backup GPT lives at the end */
	assert_int_equal(classify(&at, NULL), DP_DATA);
	assert_int_equal(at, DISK - 1);
	tail[DP_MIB - 1] = 0;
	head[700000] = 0x20;
	assert_int_equal(classify(&at, NULL), DP_DATA);
	assert_int_equal(at, 700000);
	assert_string_equal(dp_content_str(DP_DATA), "non-zero data");
}

static void test_signatures(void **state)
{
	char label[13];

	(void)state;
	memset(tail, 0, sizeof(tail));
#define SIG(off, s, want) do { \
		memset(head, 0, sizeof(head)); \
		memcpy(head + (off), s, sizeof(s) - 1); \
		assert_int_equal(classify(NULL, label), want); \
	} while (0)
	SIG(512, "EFI PART", DP_GPT);
	SIG(4096, "EFI PART", DP_GPT);		/* 4Kn disk */
	SIG(510, "\x55\xaa", DP_MBR);
	SIG(1080, "\x53\xef", DP_EXT);
	SIG(65600, "_BHRfS_M", DP_BTRFS);
	SIG(512, "LABELONE", DP_LVM2);
	SIG(0, "LUKS\xba\xbe", DP_LUKS);
	SIG(4096, "\xfc\x4e\x2b\xa9", DP_MD);	/* md 1.2 */
	SIG(4086, "SWAPSPACE2", DP_SWAP);
	SIG(3, "NTFS    ", DP_NTFS);
	/* a FAT boot sector ends in 55 aa too: FAT, not MBR */
	memset(head, 0, sizeof(head));
	memcpy(head + 82, "FAT32   ", 8);
	head[510] = 0x55;
	head[511] = 0xaa;
	assert_int_equal(classify(NULL, NULL), DP_FAT);
}

static void test_xfs_label_decides_adoption(void **state)
{
	char label[13];

	(void)state;
	memset(head, 0, sizeof(head));
	memset(tail, 0, sizeof(tail));
	memcpy(head, "XFSB", 4);
	memcpy(head + 108, "xenbox-sr", 9);
	assert_int_equal(classify(NULL, label), DP_XENBOX_SR);
	assert_string_equal(label, "xenbox-sr");
	memcpy(head + 108, "data\0\0\0\0\0\0\0\0", 12);
	assert_int_equal(classify(NULL, label), DP_XFS);
	assert_string_equal(label, "data");
	/* a 12-character label is not NUL-terminated on disk */
	memcpy(head + 108, "xenbox-sr-xx", 12);
	assert_int_equal(classify(NULL, label), DP_XFS);
	assert_string_equal(label, "xenbox-sr-xx");
}

static void test_by_id_names_as_udev_spells_them(void **state)
{
	/* VPD page 0x80: 4 header bytes, the length at byte 3, then the serial */
	static const char pg80[] = "\0\x80\0\x0c   WD-WCC4E1  trailing junk";
	char id[64], path[512];
	FILE *f;

	(void)state;
	write_file("sys/block/sda/device/vendor", "ATA     \n");
	write_file("sys/block/sda/device/model", "WDC  WD40EFRX-68N32N0 \n");
	snprintf(path, sizeof(path), "%s/sys/block/sda/device/vpd_pg80", root);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(pg80, 1, sizeof(pg80) - 1, f), sizeof(pg80) - 1);
	fclose(f);
	assert_int_equal(dp_by_id(root, "sda", id, sizeof(id)), 0);
	assert_string_equal(id, "ata-WDC_WD40EFRX-68N32N0_WD-WCC4E1");
	/* too small a buffer: nothing, not a cut name */
	assert_int_equal(dp_by_id(root, "sda", id, 12), -1);
	assert_string_equal(id, "");

	write_file("sys/block/nvme0n1/device/model", "Samsung SSD 970 EVO/Plus 1TB      \n");
	write_file("sys/block/nvme0n1/device/serial", "  S467NX0M123456A\n");
	assert_int_equal(dp_by_id(root, "nvme0n1", id, sizeof(id)), 0);
	assert_string_equal(id, "nvme-Samsung_SSD_970_EVO_Plus_1TB_S467NX0M123456A");

	/* not ATA (a USB bridge's vendor), or no attributes: no name */
	write_file("sys/block/sdc/device/vendor", "JMicron \n");
	write_file("sys/block/sdc/device/model", "Generic\n");
	assert_int_equal(dp_by_id(root, "sdc", id, sizeof(id)), -1);
	assert_int_equal(dp_by_id(root, "sdd", id, sizeof(id)), -1);
	assert_string_equal(id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_candidates_and_reasons),
		cmocka_unit_test(test_named_disk_may_be_usb_but_never_the_stick),
		cmocka_unit_test(test_scan_counts_beyond_max_and_fails_without_sysfs),
		cmocka_unit_test(test_blank_and_stray_bytes),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_xfs_label_decides_adoption),
		cmocka_unit_test(test_by_id_names_as_udev_spells_them),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
