/* Build smoke test for the staged liblzma and zlib, the way libxenguest
 * uses them for guest kernels: a whole buffer through lzma_stream_decoder
 * (.xz), lzma_alone_decoder (.lzma) or inflate with gzip headers.  The
 * integrity checks are what this guards: CRC-32 (zlib's, also serving
 * liblzma), CRC-64 and SHA-256 must be computed and compared, so a stream
 * whose data was altered fails, and a check type liblzma cannot compute
 * fails too (LZMA_TELL_UNSUPPORTED_CHECK) instead of passing unverified.
 *
 * usage: decompress_smoke xz|lzma|gz IN OUT
 * exit 0 with OUT written; 1 with "error: ..." on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>

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

static int put(FILE *out, const unsigned char *p, size_t n)
{
	return fwrite(p, 1, n, out) == n ? 0 : -1;
}

static int unxz(int alone, const unsigned char *in, size_t len, FILE *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	unsigned char buf[1 << 16];
	lzma_ret r;

	r = alone ? lzma_alone_decoder(&s, UINT64_MAX)
		  : lzma_stream_decoder(&s, UINT64_MAX, LZMA_TELL_UNSUPPORTED_CHECK);
	if (r != LZMA_OK) {
		fprintf(stderr, "error: decoder init %d\n", r);
		return 1;
	}
	s.next_in = in;
	s.avail_in = len;
	do {
		s.next_out = buf;
		s.avail_out = sizeof(buf);
		r = lzma_code(&s, LZMA_FINISH);
		if (put(out, buf, sizeof(buf) - s.avail_out))
			r = LZMA_PROG_ERROR;
	} while (r == LZMA_OK);
	lzma_end(&s);
	if (r == LZMA_STREAM_END)
		return 0;
	fprintf(stderr, "error: %s\n", r == LZMA_DATA_ERROR ? "data" :
		r == LZMA_UNSUPPORTED_CHECK ? "unsupported check" : "other");
	return 1;
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
		if (put(out, buf, sizeof(buf) - z.avail_out))
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
	if (!strcmp(argv[1], "xz") || !strcmp(argv[1], "lzma"))
		rc = unxz(argv[1][0] == 'l', in, len, out);
	else
		rc = gunzip(in, len, out);
	if (fclose(out))
		rc = 1;
	free(in);
	return rc;
}
