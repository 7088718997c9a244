/* xenstore helpers for the Xen backend: typed writes and reads, nodes with
 * libxl's permissions, transactions that retry. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/xen_priv.h"

#define XS_TRANSACTION_TRIES 16

bool xen_xs_mkdir(struct xs_handle *xs, xs_transaction_t t, const char *path,
		  uint32_t domid, enum xen_perm perm)
{
	struct xs_permissions p[2];
	unsigned n = 2;

	/* The first entry names the owner and what everyone else may do. */
	switch (perm) {
	case XEN_PERM_RO:
		p[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
		p[1] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_READ };
		break;
	case XEN_PERM_FRONT:
		p[0] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_NONE };
		p[1] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_READ };
		break;
	case XEN_PERM_RW:
		p[0] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_NONE };
		n = 1;
		break;
	case XEN_PERM_NONE:
	default:
		p[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
		n = 1;
		break;
	}
	return xs_mkdir(xs, t, path) && xs_set_permissions(xs, t, path, p, n);
}

bool xen_xs_printf(struct xs_handle *xs, xs_transaction_t t, const char *path,
		   const char *fmt, ...)
{
	char buf[XEN_PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return false;
	}
	return xs_write(xs, t, path, buf, (unsigned)n);
}

const char *xen_pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		buf[0] = 0;     /* xenstore refuses "" */
	return buf;
}

bool xen_xs_put(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *name, const char *fmt, ...)
{
	char path[XEN_PATH_MAX], buf[XEN_PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    !*xen_pathf(path, sizeof(path), "%s/%s", dir, name)) {
		errno = ENAMETOOLONG;
		return false;
	}
	return xs_write(xs, t, path, buf, (unsigned)n);
}

bool xen_xs_read(struct xs_handle *xs, const char *path, char *buf,
		 size_t len)
{
	unsigned n;
	char *v = xs_read(xs, XBT_NULL, path, &n);

	if (!v)
		return false;
	snprintf(buf, len, "%s", v);
	free(v);
	return true;
}

bool xen_xs_read_u64(struct xs_handle *xs, const char *path, uint64_t *out)
{
	char buf[32], *end;
	unsigned long long v;

	if (!xen_xs_read(xs, path, buf, sizeof(buf)))
		return false;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return false;
	*out = v;
	return true;
}

int xen_xs_transact(struct xs_handle *xs,
		    bool (*fn)(struct xs_handle *xs, xs_transaction_t t,
			       void *arg),
		    void *arg)
{
	xs_transaction_t t;
	unsigned tries;

	for (tries = 0; tries < XS_TRANSACTION_TRIES; tries++) {
		t = xs_transaction_start(xs);
		if (t == XBT_NULL)
			return -errno;
		if (!fn(xs, t, arg)) {
			int e = errno ? errno : EIO;

			xs_transaction_end(xs, t, true);
			return -e;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}
