/* Virtual devices for the Xen backend, served by dom0's kernel backends.
 *
 * VBD (blkback): a raw image file is attached to a free loop device
 * (/dev/loop-control LOOP_CTL_GET_FREE, LOOP_SET_FD, LOOP_SET_STATUS64
 * with LO_FLAGS_AUTOCLEAR), a block device is used as it is.  The backend
 * node gets physical-device = "major:minor" (hex, what blkback scans)
 * from the start, so no hotplug script runs.  We hold the loop fd until
 * destroy; autoclear then frees the loop device when blkback lets go too,
 * and also when the daemon dies first.
 *
 * VIF (netback): both halves are written; netback creates vif<domid>.<devid>
 * on probe and keeps the backend in InitWait until hotplug-status says
 * "connected".  The daemon is the hotplug script: it waits for the
 * interface, adds it to the bridge (SIOCBRADDIF), copies the bridge's MTU,
 * brings it up (SIOCSIFFLAGS) and writes hotplug-status.  "script" is left
 * empty so that no udev rule acts as well.
 *
 * Teardown removes the xenstore nodes; the backends release the device
 * when their node goes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/loop.h>

/* <linux/sockios.h> clashes with musl's ioctl numbers; this one is all
 * we need of it. */
#ifndef SIOCBRADDIF
#define SIOCBRADDIF 0x89a2
#endif

#include "lib/log.h"
#include "vmm/xen_priv.h"

#define BACKEND_DOMID 0         /* the kernel backends live in dom0 */
#define VIF_WAIT_MS 10000
#define LOOP_TRIES 8

/* ---- device numbers ---- */

/* "a".."z", "aa".. -> 0, 1, ...: the letters of sda, xvdab. */
static const char *disk_index(const char *s, unsigned *disk)
{
	unsigned d = 0;
	const char *p = s;

	while (*p >= 'a' && *p <= 'z' && p - s < 4)
		d = d * 26 + (unsigned)(*p++ - 'a') + 1;
	*disk = d - 1;
	return p == s ? NULL : p;
}

/* The numbers libxl uses (docs/misc/vbd-interface.txt in Xen's tree). */
int xen_vdev_number(const char *vdev)
{
	unsigned disk, part = 0;
	const char *p;
	char *end;

	if (!strncmp(vdev, "xvd", 3))
		p = disk_index(vdev + 3, &disk);
	else if (!strncmp(vdev, "sd", 2) || !strncmp(vdev, "hd", 2))
		p = disk_index(vdev + 2, &disk);
	else
		return -EINVAL;
	if (!p)
		return -EINVAL;
	if (*p) {
		part = (unsigned)strtoul(p, &end, 10);
		if (*end || *p == '0')
			return -EINVAL;
	}
	if (vdev[0] == 'x') {
		if (disk < 16 && part < 16)
			return (int)(202 << 8 | disk << 4 | part);
		if (disk < (1 << 20) && part < 256)
			return (int)(1 << 28 | disk << 8 | part);
		return -EINVAL;
	}
	if (vdev[0] == 's')
		return disk < 16 && part < 16 ? (int)(8 << 8 | disk << 4 | part) :
		       -EINVAL;
	if (disk >= 4 || part >= 64)
		return -EINVAL;
	return (int)((disk < 2 ? 3 : 22) << 8 | (disk & 1) << 6 | part);
}

/* ---- loop devices ---- */

/* Binds file to a free loop device; *lo_fd stays open. */
static int loop_bind(int ctl, int file, bool ro, int *lo_fd, char *dev,
		     size_t devlen)
{
	unsigned tries;
	int n, lo;

	for (tries = 0; tries < LOOP_TRIES; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return -errno;
		snprintf(dev, devlen, "/dev/loop%d", n);
		lo = open(dev, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lo < 0)
			return -errno;
		if (!ioctl(lo, LOOP_SET_FD, file)) {
			*lo_fd = lo;
			return 0;
		}
		n = errno;
		close(lo);
		if (n != EBUSY)         /* else someone took it: next */
			return -n;
	}
	return -EBUSY;
}

static int loop_attach(const char *path, bool ro, int *lo_fd, dev_t *rdev,
		       char *dev, size_t devlen, char *err, size_t errlen)
{
	struct loop_info64 info;
	struct stat st;
	int file = -1, ctl = -1, lo = -1, rc;

	file = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (file < 0) {
		rc = vmm_seterr(err, errlen, -errno, "disk %s: %s", path,
				strerror(errno));
		goto out;
	}
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		rc = vmm_seterr(err, errlen, -errno,
				"/dev/loop-control: %s (is the loop module"
				" loaded?)", strerror(errno));
		goto out;
	}
	rc = loop_bind(ctl, file, ro, &lo, dev, devlen);
	if (rc) {
		vmm_seterr(err, errlen, rc, "disk %s: no loop device: %s", path,
			   strerror(-rc));
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	snprintf((char *)info.lo_file_name, sizeof(info.lo_file_name), "%s",
		 path);
	if (ioctl(lo, LOOP_SET_STATUS64, &info) || fstat(lo, &st)) {
		rc = vmm_seterr(err, errlen, -errno, "%s: %s", dev,
				strerror(errno));
		ioctl(lo, LOOP_CLR_FD, 0);
		close(lo);
		goto out;
	}
	*rdev = st.st_rdev;
	*lo_fd = lo;
	rc = 0;
out:
	if (ctl >= 0)
		close(ctl);
	if (file >= 0)
		close(file);
	return rc;
}

/* ---- the nodes every backend/frontend pair has ---- */

/* Fills back and front (XEN_PATH_MAX each), clears both and writes the
 * common keys; the caller adds its own in the same transaction. */
static bool write_pair(struct xs_handle *xs, xs_transaction_t t, const char *kind,
		       uint32_t domid, unsigned devid, char *back, char *front)
{
	snprintf(back, XEN_PATH_MAX, "/local/domain/%u/backend/%s/%u/%u",
		 BACKEND_DOMID, kind, domid, devid);
	snprintf(front, XEN_PATH_MAX, "/local/domain/%u/device/%s/%u",
		 domid, kind, devid);
	xs_rm(xs, t, back);
	xs_rm(xs, t, front);
	return xen_xs_mkdir(xs, t, back, domid, XEN_PERM_RO) &&
	       xen_xs_put(xs, t, back, "frontend", "%s", front) &&
	       xen_xs_put(xs, t, back, "frontend-id", "%u", domid) &&
	       xen_xs_put(xs, t, back, "online", "1") &&
	       xen_xs_put(xs, t, back, "state", "1") &&
	       xen_xs_mkdir(xs, t, front, domid, XEN_PERM_FRONT) &&
	       xen_xs_put(xs, t, front, "backend", "%s", back) &&
	       xen_xs_put(xs, t, front, "backend-id", "%u", BACKEND_DOMID) &&
	       xen_xs_put(xs, t, front, "state", "1");
}

/* ---- VBD ---- */

struct vbd {
	uint32_t domid;
	int devid;
	const struct vmm_disk *disk;
	dev_t rdev;
	const char *dev;        /* /dev/loopN or the block device */
};

static bool write_vbd(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct vbd *v = arg;
	char back[XEN_PATH_MAX], front[XEN_PATH_MAX];
	bool ro = v->disk->readonly;

	return write_pair(xs, t, "vbd", v->domid, (unsigned)v->devid, back, front) &&
	       xen_xs_put(xs, t, back, "removable", "0") &&
	       xen_xs_put(xs, t, back, "bootable", "1") &&
	       xen_xs_put(xs, t, back, "dev", "%s", v->disk->vdev) &&
	       xen_xs_put(xs, t, back, "type", "phy") &&
	       xen_xs_put(xs, t, back, "mode", "%s", ro ? "r" : "w") &&
	       xen_xs_put(xs, t, back, "device-type", "disk") &&
	       xen_xs_put(xs, t, back, "discard-enable", "%d", !ro) &&
	       xen_xs_put(xs, t, back, "params", "%s", v->disk->path) &&
	       xen_xs_put(xs, t, back, "physical-device", "%x:%x",
			  major(v->rdev), minor(v->rdev)) &&
	       xen_xs_put(xs, t, back, "physical-device-path", "%s",
			  v->dev) &&
	       xen_xs_put(xs, t, back, "hotplug-status", "connected") &&
	       xen_xs_put(xs, t, front, "virtual-device", "%d",
			  v->devid) &&
	       xen_xs_put(xs, t, front, "device-type", "disk") &&
	       xen_xs_put(xs, t, front, "trusted", "1");
}

int xen_vbd_add(struct xen *x, uint32_t domid, const struct vmm_disk *disk,
		int *loop_fd, char *err, size_t errlen)
{
	struct vbd v = { .domid = domid, .disk = disk, .dev = disk->path };
	char dev[32];
	struct stat st;
	int rc;

	*loop_fd = -1;
	v.devid = xen_vdev_number(disk->vdev);
	if (v.devid < 0)
		return vmm_seterr(err, errlen, -EINVAL, "disk name %s: unknown",
				  disk->vdev);
	if (stat(disk->path, &st))
		return vmm_seterr(err, errlen, -errno, "disk %s: %s",
				  disk->path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		v.rdev = st.st_rdev;
	} else {
		rc = loop_attach(disk->path, disk->readonly, loop_fd, &v.rdev,
				 dev, sizeof(dev), err, errlen);
		if (rc)
			return rc;
		v.dev = dev;
	}
	rc = xen_xs_transact(x->xsh, write_vbd, &v);
	if (rc) {
		if (*loop_fd >= 0)
			close(*loop_fd);
		*loop_fd = -1;
		return vmm_seterr(err, errlen, -EIO, "disk %s: xenstore: %s",
				  disk->vdev, strerror(-rc));
	}
	return 0;
}

/* ---- VIF ---- */

struct vif {
	uint32_t domid;
	const struct vmm_nic *nic;
};

static bool write_vif(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct vif *v = arg;
	char back[XEN_PATH_MAX], front[XEN_PATH_MAX];
	uint32_t id = v->nic->devid;

	return write_pair(xs, t, "vif", v->domid, id, back, front) &&
	       xen_xs_put(xs, t, back, "script", "%s", "") &&
	       xen_xs_put(xs, t, back, "mac", "%s", v->nic->mac) &&
	       xen_xs_put(xs, t, back, "bridge", "%s", v->nic->bridge) &&
	       xen_xs_put(xs, t, back, "handle", "%u", id) &&
	       xen_xs_put(xs, t, back, "type", "vif") &&
	       xen_xs_put(xs, t, front, "handle", "%u", id) &&
	       xen_xs_put(xs, t, front, "mac", "%s", v->nic->mac);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls for netback's interface (it appears on probe, milliseconds after
 * the backend node): at most VIF_WAIT_MS. */
static int wait_netdev(const char *ifname)
{
	char path[XEN_PATH_MAX];
	unsigned waited;

	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	for (waited = 0; waited < VIF_WAIT_MS; waited += 20) {
		if (!access(path, F_OK))
			return 0;
		sleep_ms(20);
	}
	return -ETIMEDOUT;
}

static int ifreq_ioctl(int s, unsigned long req, const char *name,
		       struct ifreq *ifr)
{
	xen_pathf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);  /* too long: "", ENODEV */
	return ioctl(s, req, ifr) ? -errno : 0;
}

/* What vif-bridge does: bridge, MTU, up. */
static int bridge_attach(const char *ifname, const char *bridge,
			 char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, rc, mtu = 0;

	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return vmm_seterr(err, errlen, -errno, "socket: %s",
				  strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)if_nametoindex(ifname);
	rc = ifr.ifr_ifindex ? ifreq_ioctl(s, SIOCBRADDIF, bridge, &ifr) :
	     -errno;
	if (rc) {
		vmm_seterr(err, errlen, rc, "adding %s to bridge %s: %s",
			   ifname, bridge, strerror(-rc));
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (!ifreq_ioctl(s, SIOCGIFMTU, bridge, &ifr))
		mtu = ifr.ifr_mtu;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = mtu;
	if (mtu && ifreq_ioctl(s, SIOCSIFMTU, ifname, &ifr))
		log_warn("xen: %s: setting MTU %d failed", ifname, mtu);
	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(s, SIOCGIFFLAGS, ifname, &ifr);
	if (!rc) {
		ifr.ifr_flags |= IFF_UP;
		rc = ifreq_ioctl(s, SIOCSIFFLAGS, ifname, &ifr);
	}
	if (rc)
		vmm_seterr(err, errlen, rc, "bringing %s up: %s", ifname,
			   strerror(-rc));
out:
	close(s);
	return rc;
}

int xen_vif_add(struct xen *x, uint32_t domid, const struct vmm_nic *nic,
		char *err, size_t errlen)
{
	struct vif v = { .domid = domid, .nic = nic };
	char ifname[IFNAMSIZ], path[XEN_PATH_MAX];
	int rc;

	rc = xen_xs_transact(x->xsh, write_vif, &v);
	if (rc)
		return vmm_seterr(err, errlen, -EIO, "NIC %u: xenstore: %s",
				  nic->devid, strerror(-rc));
	snprintf(ifname, sizeof(ifname), "vif%u.%u", domid, nic->devid);
	rc = wait_netdev(ifname);
	if (rc)
		return vmm_seterr(err, errlen, rc,
				  "NIC %u: netback made no %s within %d s (is"
				  " xen-netback loaded?)", nic->devid, ifname,
				  VIF_WAIT_MS / 1000);
	rc = bridge_attach(ifname, nic->bridge, err, errlen);
	if (rc)
		return rc;
	snprintf(path, sizeof(path),
		 "/local/domain/%u/backend/vif/%u/%u/hotplug-status",
		 BACKEND_DOMID, domid, nic->devid);
	if (!xen_xs_printf(x->xsh, XBT_NULL, path, "connected"))
		return vmm_seterr(err, errlen, -EIO, "writing %s: %s", path,
				  strerror(errno));
	return 0;
}

/* ---- teardown ---- */

void xen_devices_remove(struct xen *x, uint32_t domid)
{
	static const char *const kinds[] = { "vbd", "vif" };
	char dir[XEN_PATH_MAX], path[XEN_PATH_MAX];
	char **ents;
	unsigned n, i, k;

	for (k = 0; k < 2; k++) {
		snprintf(dir, sizeof(dir), "/local/domain/%u/backend/%s/%u",
			 BACKEND_DOMID, kinds[k], domid);
		ents = xs_directory(x->xsh, XBT_NULL, dir, &n);
		for (i = 0; ents && i < n; i++) {
			snprintf(path, sizeof(path),
				 "/local/domain/%u/device/%s/%s", domid,
				 kinds[k], ents[i]);
			xs_rm(x->xsh, XBT_NULL, path);
			xen_pathf(path, sizeof(path), "%s/%s", dir, ents[i]);
			xs_rm(x->xsh, XBT_NULL, path);
		}
		free(ents);
		xs_rm(x->xsh, XBT_NULL, dir);
	}
}

/* ---- stats ---- */

static uint64_t sysfs_u64(const char *dir, const char *name)
{
	char path[XEN_PATH_MAX], buf[32];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = 0;
	return strtoull(buf, NULL, 10);
}

/* From the guest's side: what vifN.M transmits the guest receives. */
static void vif_stats(uint32_t domid, char **ents, unsigned n,
		      struct vmm_domain_stats *out)
{
	char dir[XEN_PATH_MAX];
	struct vmm_vif_stats *s;
	unsigned i;

	for (i = 0; i < n && out->nr_vifs < VMM_MAX_DEVS; i++) {
		snprintf(dir, sizeof(dir), "/sys/class/net/vif%u.%s/statistics",
			 domid, ents[i]);
		if (access(dir, F_OK))
			continue;
		s = &out->vifs[out->nr_vifs++];
		s->devid = (uint32_t)strtoul(ents[i], NULL, 10);
		s->rx_bytes = sysfs_u64(dir, "tx_bytes");
		s->tx_bytes = sysfs_u64(dir, "rx_bytes");
		s->rx_packets = sysfs_u64(dir, "tx_packets");
		s->tx_packets = sysfs_u64(dir, "rx_packets");
	}
}

static void vbd_stats(struct xen *x, uint32_t domid, char **ents, unsigned n,
		      struct vmm_domain_stats *out)
{
	char dir[XEN_PATH_MAX], path[XEN_PATH_MAX];
	struct vmm_vbd_stats *s;
	unsigned i;

	for (i = 0; i < n && out->nr_vbds < VMM_MAX_DEVS; i++) {
		snprintf(dir, sizeof(dir),
			 "/sys/bus/xen-backend/devices/vbd-%u-%s/statistics",
			 domid, ents[i]);
		if (access(dir, F_OK))
			continue;
		s = &out->vbds[out->nr_vbds++];
		snprintf(path, sizeof(path), "/local/domain/%u/backend/vbd/%u/%s/dev",
			 BACKEND_DOMID, domid, ents[i]);
		if (!xen_xs_read(x->xsh, path, s->vdev, sizeof(s->vdev)))
			snprintf(s->vdev, sizeof(s->vdev), "%s", ents[i]);
		s->rd_bytes = sysfs_u64(dir, "rd_sect") * 512;
		s->wr_bytes = sysfs_u64(dir, "wr_sect") * 512;
		s->rd_reqs = sysfs_u64(dir, "rd_req");
		s->wr_reqs = sysfs_u64(dir, "wr_req");
	}
}

/* O(devices): one xenstore listing per kind, a few sysfs files each. */
void xen_devices_stats(struct xen *x, uint32_t domid,
		       struct vmm_domain_stats *out)
{
	char dir[XEN_PATH_MAX];
	char **ents;
	unsigned n;

	snprintf(dir, sizeof(dir), "/local/domain/%u/backend/vif/%u",
		 BACKEND_DOMID, domid);
	ents = xs_directory(x->xsh, XBT_NULL, dir, &n);
	if (ents)
		vif_stats(domid, ents, n, out);
	free(ents);
	snprintf(dir, sizeof(dir), "/local/domain/%u/backend/vbd/%u",
		 BACKEND_DOMID, domid);
	ents = xs_directory(x->xsh, XBT_NULL, dir, &n);
	if (ents)
		vbd_stats(x, domid, ents, n, out);
	free(ents);
}
