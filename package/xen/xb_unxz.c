/* xc_try_xz_decode for libxenguest's bzImage loader, on Xen's own XZ
 * decoder (xen/common/xz, the hypervisor's; MiniOS's libxenguest uses it
 * too) instead of liblzma: 24,576 B less in xenbox (docs/STORAGE.md 8.2).
 * package/xen/xen-unxz.patch makes the loader call this one.
 *
 * Single-call mode: the output is one buffer of the size the bzImage
 * states after its payload (checked against libxenguest's kernel size
 * limit), and the decoder writes nothing past it.  The CRC-32 of the data
 * is verified (kernels are packed with it); streams with a CRC-64 or
 * SHA-256 check are refused, as are filters other than LZMA2 and x86 BCJ.
 * No static state but the CRC table, made once: the daemon builds domains
 * in several threads.  The output is registered with the domain, freed
 * with it.
 *
 * Compiled in tools/libs/guest with the flags of that directory
 * (package/xen/xen.mk). */
#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xg_private.h"

/* What xen/common/xz expects from its environment outside the hypervisor. */
typedef char bool_t;
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint32_t __le32;

static inline u32 cpu_to_le32(u32 v)
{
	return htole32(v);
}

static inline u32 le32_to_cpup(const u32 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

#define __force
#define always_inline
#define XZ_DEC_X86      /* x86 kernels are packed with the x86 BCJ filter */
#define XZ_DEC_SINGLE   /* only single-call mode: no dictionary of its own */
/* xg_private.h has a get_unaligned_le32 of another type */
#define get_unaligned_le32 xb_xz_get_unaligned_le32

#include "../../../xen/common/unxz.c"

#undef get_unaligned_le32

static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static const char *xz_error(enum xz_ret ret)
{
	switch (ret) {
	case XZ_FORMAT_ERROR:
		return "not an XZ stream";
	case XZ_OPTIONS_ERROR:
		return "unsupported options (an integrity check other than "
		       "CRC-32, or a filter other than LZMA2 and x86 BCJ)";
	case XZ_DATA_ERROR:
		return "the data is corrupt";
	case XZ_BUF_ERROR:
		return "the data is truncated or larger than its stated size";
	case XZ_MEM_ERROR:
		return "out of memory";
	default:
		return "decoder error";
	}
}

int xc_try_xz_decode(struct xc_dom_image *dom, void **blob, size_t *size);

int xc_try_xz_decode(struct xc_dom_image *dom, void **blob, size_t *size)
{
	struct xz_dec *s;
	struct xz_buf b;
	enum xz_ret ret;
	size_t outsize;
	uint8_t *out;

	if (*size < 8) {
		xc_dom_panic(dom->xch, XC_INVALID_KERNEL,
			     "XZ: insufficient input data");
		return -1;
	}
	/* the uncompressed size follows the payload (Linux's size_append) */
	outsize = get_unaligned_le32((const uint8_t *)*blob + *size - 4);
	if (xc_dom_kernel_check_size(dom, outsize)) {
		xc_dom_panic(dom->xch, XC_INVALID_KERNEL,
			     "XZ: output too large (%zu bytes)", outsize);
		return -1;
	}
	out = malloc(outsize ? outsize : 1);
	pthread_once(&crc_once, xz_crc32_init);
	s = out ? xz_dec_init(XZ_SINGLE, 0) : NULL;
	if (!s) {
		free(out);
		xc_dom_panic(dom->xch, XC_OUT_OF_MEMORY,
			     "XZ: cannot allocate %zu bytes", outsize);
		return -1;
	}
	b.in = *blob;
	b.in_pos = 0;
	b.in_size = *size - 4;
	b.out = out;
	b.out_pos = 0;
	b.out_size = outsize;
	ret = xz_dec_run(s, &b);
	xz_dec_end(s);
	if (ret == XZ_STREAM_END && b.out_pos != outsize) {
		xc_dom_panic(dom->xch, XC_INVALID_KERNEL,
			     "XZ: got %zu bytes instead of %zu", b.out_pos,
			     outsize);
		goto err;
	}
	if (ret != XZ_STREAM_END) {
		xc_dom_panic(dom->xch, XC_INVALID_KERNEL,
			     "XZ: decompression error: %s", xz_error(ret));
		goto err;
	}
	if (xc_dom_register_external(dom, out, outsize)) {
		xc_dom_panic(dom->xch, XC_OUT_OF_MEMORY,
			     "XZ: error registering the output");
		goto err;
	}
	DOMPRINTF("%s: XZ decompress OK, 0x%zx -> 0x%zx", __func__, *size,
		  outsize);
	*blob = out;
	*size = outsize;
	return 0;
err:
	free(out);
	return -1;
}
