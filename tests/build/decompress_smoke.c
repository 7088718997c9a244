/* Build smoke test for the kernel decompressors as libxenguest's bzImage
 * loader calls them: .xz through xc_try_xz_decode (package/xen/xb_unxz.c,
 * Xen's own XZ decoder, staged as lib/xen-loaders/xb_unxz.o) and gzip
 * through zlib's inflate.  The input is a bzImage payload: the compressed
 * stream followed by the uncompressed size (LE32), as Linux appends it.
 * The libxenguest functions the decoder calls are stubbed here: a panic
 * prints "error: <message>", the kernel size limit is 64 MiB.
 *
 * usage: decompress_smoke xz|gz IN OUT
 * exit 0 with OUT written; 1 with "error: ..." on stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xenguest.h>
#include <zlib.h>

int xc_try_xz_decode(struct xc_dom_image *dom, void **blob, size_t *size);

void xc_dom_printf(xc_interface *xch, const char *fmt, ...)
{
}

void xc_dom_panic_func(xc_interface *xch, const char *file, int line,
		       xc_error_code err, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int xc_dom_kernel_check_size(struct xc_dom_image *dom, size_t sz)
{
	return sz > (64u << 20);
}

static void *registered;

int xc_dom_register_external(struct xc_dom_image *dom, void *ptr, size_t size)
{
	registered = ptr;
	return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			if (!(p = realloc(p, cap)))
				exit(2);
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*len = n;
	return p;
}

static int unxz(unsigned char *in, size_t len, FILE *out)
{
	struct xc_dom_image dom;
	void *blob = in;
	size_t size = len;

	memset(&dom, 0, sizeof(dom));
	if (xc_try_xz_decode(&dom, &blob, &size))
		return 1;
	if (blob != registered) {
		fputs("error: the output was not registered with the domain\n", stderr);
		return 1;
	}
	return fwrite(blob, 1, size, out) == size ? 0 : 1;
}

static int gunzip(const unsigned char *in, size_t len, FILE *out)
{
	z_stream z;
	unsigned char buf[1 << 16];
	int r;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, MAX_WBITS + 32) != Z_OK)   /* +32: gzip header */
		return 1;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = inflate(&z, Z_NO_FLUSH);
		if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) != sizeof(buf) - z.avail_out)
			r = Z_ERRNO;
	} while (r == Z_OK);
	inflateEnd(&z);
	if (r == Z_STREAM_END)
		return 0;
	fprintf(stderr, "error: %s\n", r == Z_DATA_ERROR ? "data" : "other");
	return 1;
}

int main(int argc, char **argv)
{
	unsigned char *in;
	size_t len;
	FILE *out;
	int rc;

	if (argc != 4 || !(in = slurp(argv[2], &len)) || !(out = fopen(argv[3], "wb")))
		return 2;
	if (!strcmp(argv[1], "xz"))
		rc = unxz(in, len, out);
	else
		rc = gunzip(in, len, out);
	if (fclose(out))
		rc = 1;
	free(in);
	return rc;
}
