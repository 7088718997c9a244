/* Backend "none": a host with no hypervisor (a management-only pool
 * master on a plain server).  There are no domains, not even dom0's, and
 * none can be made: every domain operation fails with -EPERM "this host
 * has no hypervisor".  host_info is the server's own: CPUs online
 * (sysconf) and memory (sysinfo(2)); no Xen version, and empty
 * capabilities, which is how the API layer knows that no guest can run
 * here (api/host.c).  No CPU times: the stats collector records no CPU
 * figures for this host. */
#include "vmm/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <unistd.h>

struct none {
	struct vmm vmm;
	int efd;        /* never signalled: the loop watches it all the same */
};

static int no_hv(char *err, size_t errlen)
{
	return vmm_seterr(err, errlen, -EPERM, "this host has no hypervisor");
}

static int no_dom(char *err, size_t errlen)
{
	return vmm_seterr(err, errlen, -ENOENT, "no domains on a host without a hypervisor");
}

static void none_close(struct vmm *v)
{
	close(((struct none *)v)->efd);
	free(v);
}

static int none_host_info(struct vmm *v, struct vmm_host_info *out,
			  char *err, size_t errlen)
{
	struct sysinfo si;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	(void)v;
	memset(out, 0, sizeof(*out));
	if (sysinfo(&si) < 0)
		return vmm_seterr(err, errlen, -errno, "sysinfo: %s", strerror(errno));
	out->nr_cpus = n > 0 ? (unsigned)n : 1;
	out->total_memory = (uint64_t)si.totalram * si.mem_unit;
	out->free_memory = (uint64_t)si.freeram * si.mem_unit;
	return 0;
}

static int none_pcpu_times(struct vmm *v, struct vmm_pcpu_time *out,
			   unsigned max, unsigned *nr, char *err, size_t errlen)
{
	(void)v, (void)out, (void)max;
	*nr = 0;
	return no_hv(err, errlen);
}

static int none_create(struct vmm *v, const struct vmm_domain_config *cfg,
		       uint32_t *domid, char *err, size_t errlen)
{
	(void)v, (void)cfg, (void)domid;
	return no_hv(err, errlen);
}

/* pause, unpause, destroy */
static int none_dom_op(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	(void)v, (void)domid;
	return no_hv(err, errlen);
}

static int none_shutdown(struct vmm *v, uint32_t domid,
			 enum vmm_shutdown_request req, char *err, size_t errlen)
{
	(void)v, (void)domid, (void)req;
	return no_hv(err, errlen);
}

static int none_set_mem(struct vmm *v, uint32_t domid, uint64_t n,
			char *err, size_t errlen)
{
	(void)v, (void)domid, (void)n;
	return no_hv(err, errlen);
}

static int none_set_vcpus(struct vmm *v, uint32_t domid, unsigned n,
			  char *err, size_t errlen)
{
	(void)v, (void)domid, (void)n;
	return no_hv(err, errlen);
}

/* No domains at all: the one backend whose list may be empty. */
static int none_list(struct vmm *v, struct vmm_domain_info **out, size_t *nr,
		     char *err, size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	*out = NULL;
	*nr = 0;
	return 0;
}

static int none_info(struct vmm *v, uint32_t domid, struct vmm_domain_info *out,
		     char *err, size_t errlen)
{
	(void)v, (void)domid, (void)out;
	return no_dom(err, errlen);
}

static int none_stats(struct vmm *v, uint32_t domid,
		      struct vmm_domain_stats *out, char *err, size_t errlen)
{
	(void)v, (void)domid, (void)out;
	return no_dom(err, errlen);
}

static int none_event_fd(struct vmm *v)
{
	return ((struct none *)v)->efd;
}

static int none_handle_events(struct vmm *v, vmm_event_cb *cb, void *opaque)
{
	(void)v, (void)cb, (void)opaque;
	return 0;
}

static ssize_t none_console_read(struct vmm *v, uint32_t domid, char *buf,
				 size_t len)
{
	(void)v, (void)domid, (void)buf, (void)len;
	return -ENOENT;
}

static ssize_t none_console_write(struct vmm *v, uint32_t domid, const char *buf,
				  size_t len)
{
	(void)v, (void)domid, (void)buf, (void)len;
	return -ENOENT;
}

static const struct vmm_ops none_ops = {
	.name = "none",
	.close = none_close,
	.host_info = none_host_info,
	.pcpu_times = none_pcpu_times,
	.create = none_create,
	.pause = none_dom_op,
	.unpause = none_dom_op,
	.destroy = none_dom_op,
	.shutdown = none_shutdown,
	.set_memory_target = none_set_mem,
	.set_vcpus = none_set_vcpus,
	.list = none_list,
	.info = none_info,
	.stats = none_stats,
	.event_fd = none_event_fd,
	.handle_events = none_handle_events,
	.console_read = none_console_read,
	.console_write = none_console_write,
};

/* opts: none are known; any is refused rather than ignored. */
static int none_open(const char *opts, struct vmm **out, char *err, size_t errlen)
{
	struct none *n;

	if (*opts)
		return vmm_seterr(err, errlen, -EINVAL, "backend none takes no options");
	n = calloc(1, sizeof(*n));
	if (!n)
		return vmm_seterr(err, errlen, -ENOMEM, "out of memory");
	n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->efd < 0) {
		int rc = -errno;

		free(n);
		return vmm_seterr(err, errlen, rc, "eventfd: %s", strerror(-rc));
	}
	n->vmm.ops = &none_ops;
	n->vmm.restart = VMM_RESTART_DEFAULT;
	*out = &n->vmm;
	return 0;
}

const struct vmm_backend vmm_backend_none = {
	.name = "none",
	.open = none_open,
};
