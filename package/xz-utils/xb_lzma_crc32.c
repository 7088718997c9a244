/*
 * liblzma's CRC-32 from zlib: xenbox links both (libxenguest's gzip and xz
 * kernels), and both use the same CRC (reflected 0xEDB88320, inverted in and
 * out), so one implementation serves them.  This object replaces liblzma's
 * crc32_fast.o, whose 8 KiB of tables would be a second copy of zlib's
 * (package/xz-utils/xz-utils.mk says how; docs/BUILDING.md why).
 */
#include <lzma.h>
#include <zlib.h>

uint32_t lzma_crc32(const uint8_t *buf, size_t size, uint32_t crc)
{
	return (uint32_t)crc32_z(crc, buf, size);
}
