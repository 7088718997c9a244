/* The vmm backend interface and the sim backend. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/backend.h"
#include "vmm/sim.h"

#define MiB (1024 * 1024ULL)
#define GiB (1024 * MiB)

#define UUID1 "11111111-1111-1111-1111-111111111111"
#define UUID2 "22222222-2222-2222-2222-222222222222"
#define UUID3 "33333333-3333-3333-3333-333333333333"
#define UUID4 "44444444-4444-4444-4444-444444444444"

/* ---- helpers ---- */

static char err[VMM_ERR_MAX];

static struct vmm *open_sim(const char *opts)
{
	struct vmm *v = NULL;
	int rc;

	err[0] = 0;
	rc = vmm_open("sim", opts, &v, err, sizeof(err));
	if (rc)
		fail_msg("vmm_open(sim, %s): %d %s", opts, rc, err);
	assert_non_null(v);
	return v;
}

static const struct vmm_disk disks[] = {
	{ "/images/a.img", "xvda", false },
	{ "/images/b.iso", "xvdb", true },
};

static const struct vmm_nic nics[] = {
	{ "00:16:3e:00:00:01", "xenbr0", 0 },
	{ "00:16:3e:00:00:02", "xenbr1", 1 },
};

static const struct vmm_kv platform[] = {
	{ "tsc_mode", "native" },
};

static struct vmm_domain_config config(const char *uuid, const char *name,
				       uint64_t mem)
{
	struct vmm_domain_config c = {
		.uuid = uuid,
		.name = name,
		.type = VMM_TYPE_PVH,
		.mem_static_max = mem,
		.mem_dynamic_min = mem,
		.mem_dynamic_max = mem,
		.mem_target = mem,
		.vcpus_max = 2,
		.vcpus_online = 2,
		.kernel = "/boot/vmlinuz",
		.ramdisk = "/boot/initrd",
		.cmdline = "console=hvc0",
		.platform = platform,
		.nr_platform = 1,
		.disks = disks,
		.nr_disks = 2,
		.nics = nics,
		.nr_nics = 2,
	};
	return c;
}

static uint32_t create(struct vmm *v, const char *uuid, const char *name,
		       uint64_t mem)
{
	struct vmm_domain_config c = config(uuid, name, mem);
	uint32_t domid = 0;
	int rc;

	rc = vmm_create(v, &c, &domid, err, sizeof(err));
	if (rc)
		fail_msg("create %s: %d %s", name, rc, err);
	return domid;
}

static struct vmm_domain_info info(struct vmm *v, uint32_t domid)
{
	struct vmm_domain_info i;
	int rc = vmm_info(v, domid, &i, err, sizeof(err));

	if (rc)
		fail_msg("info %u: %d %s", domid, rc, err);
	return i;
}

static enum vmm_state state_of(struct vmm *v, uint32_t domid)
{
	return info(v, domid).state;
}

static uint64_t free_mem(struct vmm *v)
{
	struct vmm_host_info h;

	assert_int_equal(vmm_host_info(v, &h, err, sizeof(err)), 0);
	return h.free_memory;
}

struct events {
	struct vmm_event ev[64];
	int n;
};

static void collect(void *opaque, const struct vmm_event *ev)
{
	struct events *e = opaque;

	assert_true(e->n < 64);
	e->ev[e->n++] = *ev;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* Events pending now; checks the fd agreed about there being some. */
static struct events events(struct vmm *v)
{
	struct events e = { .n = 0 };
	bool ready = readable(vmm_event_fd(v), 0);
	int n = vmm_handle_events(v, collect, &e);

	assert_int_equal(n, e.n);
	assert_int_equal(ready, e.n > 0);
	assert_false(readable(vmm_event_fd(v), 0));
	return e;
}

static const struct vmm_event *find_event(const struct events *e,
					  enum vmm_event_type type,
					  uint32_t domid)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (e->ev[i].type == type && e->ev[i].domid == domid)
			return &e->ev[i];
	return NULL;
}

static char *console(struct vmm *v, uint32_t domid)
{
	static char buf[65536];
	ssize_t n = vmm_console_read(v, domid, buf, sizeof(buf) - 1);

	assert_true(n >= 0);
	buf[n] = 0;
	return buf;
}

static void make_dir(char *tmpl)
{
	strcpy(tmpl, "/tmp/test_sim.XXXXXX");
	assert_non_null(mkdtemp(tmpl));
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "domains", "domains.tmp", "lock" };
	char path[512];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *path)
{
	static char text[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	return text;
}

/* ---- registry and shared helpers ---- */

static void test_registry(void **state)
{
	struct vmm *v = (struct vmm *)1;

	assert_true(vmm_backend_available("sim"));
	assert_false(vmm_backend_available("xen"));     /* host build */
	assert_false(vmm_backend_available(NULL));
	assert_int_equal(vmm_open("bogus", NULL, &v, err, sizeof(err)), -ENOENT);
	assert_null(v);
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(vmm_open("xen", NULL, &v, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not in this build"));
	vmm_close(NULL);

	v = open_sim("clock=manual");
	assert_string_equal(vmm_name(v), "sim");
	vmm_close(v);
}

static void test_probe(void **state)
{
	/* no Xen: none, not a simulation that would claim to run guests */
	assert_string_equal(vmm_probe("/nonexistent/privcmd"), "none");
	assert_string_equal(vmm_probe("/dev/null"), "xen");
	if (access("/dev/xen/privcmd", F_OK) == 0)
		assert_string_equal(vmm_probe_default(), "xen");
	else
		assert_string_equal(vmm_probe_default(), "none");
}

static void test_names(void **state)
{
	enum vmm_state s;
	enum vmm_shutdown_reason r;
	enum vmm_shutdown_request q;
	enum vmm_domain_type t;

	assert_string_equal(vmm_state_name(VMM_STATE_SHUTDOWN), "shutdown");
	assert_string_equal(vmm_reason_name(VMM_REASON_WATCHDOG), "watchdog");
	assert_string_equal(vmm_request_name(VMM_REQ_HALT), "halt");
	assert_string_equal(vmm_type_name(VMM_TYPE_PVH), "pvh");
	assert_string_equal(vmm_state_name((enum vmm_state)99), "unknown");
	assert_int_equal(vmm_state_parse("paused", &s), 0);
	assert_int_equal(s, VMM_STATE_PAUSED);
	assert_int_equal(vmm_reason_parse("crash", &r), 0);
	assert_int_equal(r, VMM_REASON_CRASH);
	assert_int_equal(vmm_request_parse("reboot", &q), 0);
	assert_int_equal(q, VMM_REQ_REBOOT);
	assert_int_equal(vmm_type_parse("pv", &t), 0);
	assert_int_equal(t, VMM_TYPE_PV);
	assert_int_equal(vmm_state_parse("Running", &s), -EINVAL);
	assert_int_equal(vmm_type_parse("hvm", &t), -EINVAL);
}

static void test_validators(void **state)
{
	assert_true(vmm_uuid_valid(UUID1));
	assert_true(vmm_uuid_valid("ABCDEF01-2345-6789-abcd-ef0123456789"));
	assert_false(vmm_uuid_valid("11111111-1111-1111-1111-11111111111"));
	assert_false(vmm_uuid_valid("11111111x1111-1111-1111-111111111111"));
	assert_false(vmm_uuid_valid("g1111111-1111-1111-1111-111111111111"));
	assert_false(vmm_uuid_valid(NULL));
	assert_true(vmm_mac_valid("00:16:3e:aa:BB:cc"));
	assert_false(vmm_mac_valid("01:16:3e:aa:bb:cc"));       /* multicast */
	assert_false(vmm_mac_valid("00-16-3e-aa-bb-cc"));
	assert_false(vmm_mac_valid("00:16:3e:aa:bb"));
	assert_true(vmm_vdev_valid("xvda"));
	assert_true(vmm_vdev_valid("xvdaa1"));
	assert_false(vmm_vdev_valid("1xvd"));
	assert_false(vmm_vdev_valid("xvd/a"));
	assert_false(vmm_vdev_valid(""));
	assert_false(vmm_vdev_valid("xvdaaaaaaaaaaaaaaaaa"));
}

static void test_config_check(void **state)
{
	static const struct vmm_disk dd0[2] = { { "/a", "xvda", false },
						{ "/b", "xvda", false } };
	static const struct vmm_nic nn0[2] = { { "00:16:3e:00:00:01", "br", 3 },
					       { "00:16:3e:00:00:02", "br", 3 } };
	struct vmm_domain_config c;
	struct vmm_disk dd[2];
	struct vmm_nic nn[2];

#define BAD_CONFIG(change, needle)                                        \
	do {                                                              \
		c = config(UUID1, "vm", 256 * MiB);                       \
		memcpy(dd, dd0, sizeof(dd));                              \
		memcpy(nn, nn0, sizeof(nn));                              \
		change;                                                   \
		assert_int_equal(vmm_config_check(&c, err, sizeof(err)),  \
				 -EINVAL);                                \
		if (!strstr(err, needle))                                 \
			fail_msg("'%s' lacks '%s'", err, needle);         \
	} while (0)

	c = config(UUID1, "vm", 256 * MiB);
	assert_int_equal(vmm_config_check(&c, err, sizeof(err)), 0);
	c.ramdisk = NULL;
	c.cmdline = NULL;
	c.nr_disks = c.nr_nics = c.nr_platform = 0;
	assert_int_equal(vmm_config_check(&c, NULL, 0), 0);

	BAD_CONFIG(c.uuid = "nope", "uuid");
	BAD_CONFIG(c.uuid = NULL, "uuid");
	BAD_CONFIG(c.name = "", "name");
	BAD_CONFIG(c.type = (enum vmm_domain_type)7, "type");
	BAD_CONFIG(c.mem_dynamic_min = 0, "memory");
	BAD_CONFIG(c.mem_target = 512 * MiB, "memory");
	BAD_CONFIG(c.mem_static_max = 128 * MiB, "memory");
	BAD_CONFIG(c.vcpus_online = 3, "vcpus");
	BAD_CONFIG(c.vcpus_max = VMM_MAX_VCPUS + 1, "vcpus");
	BAD_CONFIG(c.vcpus_online = 0, "vcpus");
	BAD_CONFIG(c.kernel = "", "kernel");
	BAD_CONFIG(c.disks = dd, "two disks are xvda");
	BAD_CONFIG((c.disks = dd, dd[1].vdev = "sd/a"), "bad device name");
	BAD_CONFIG((c.disks = dd, dd[1].path = ""), "no backing path");
	BAD_CONFIG(c.nics = nn, "two NICs have devid 3");
	BAD_CONFIG((c.nics = nn, nn[1].mac = "zz"), "bad MAC");
	BAD_CONFIG((c.nics = nn, nn[1].bridge = NULL), "no bridge");
	BAD_CONFIG(c.nr_disks = VMM_MAX_DEVS + 1, "at most");
	BAD_CONFIG((c.disks = NULL), "missing");
#undef BAD_CONFIG
}

/* ---- host ---- */

static void test_host_and_dom0(void **state)
{
	struct vmm *v = open_sim("clock=manual,mem=4G,cpus=2,dom0_mem=512M");
	struct vmm_host_info h;
	struct vmm_domain_info *list;
	struct vmm_domain_info d0;
	size_t nr;

	assert_int_equal(vmm_host_info(v, &h, err, sizeof(err)), 0);
	assert_int_equal(h.nr_cpus, 2);
	assert_int_equal(h.total_memory, 4 * GiB);
	assert_int_equal(h.free_memory, 4 * GiB - 512 * MiB);
	assert_string_equal(h.capabilities, "xen-3.0-x86_64 hvm-3.0-x86_64");
	assert_non_null(strstr(h.version, "sim"));
	assert_true(h.cpu_khz > 0);

	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(list[0].domid, 0);
	assert_string_equal(list[0].name, "Domain-0");
	assert_string_equal(list[0].uuid, "00000000-0000-0000-0000-000000000000");
	assert_int_equal(list[0].state, VMM_STATE_RUNNING);
	assert_int_equal(list[0].mem_actual, 512 * MiB);
	assert_int_equal(list[0].vcpus_online, 1);
	free(list);

	/* dom0 is not to be stopped. */
	assert_int_equal(vmm_pause(v, 0, err, sizeof(err)), -EPERM);
	assert_int_equal(vmm_unpause(v, 0, err, sizeof(err)), -EPERM);
	assert_int_equal(vmm_destroy(v, 0, err, sizeof(err)), -EPERM);
	assert_int_equal(vmm_shutdown(v, 0, VMM_REQ_POWEROFF, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "domain 0"));
	assert_int_equal(sim_inject(v, "crash=0"), -EPERM);
	/* but it can balloon */
	assert_int_equal(vmm_set_memory_target(v, 0, 256 * MiB, err, sizeof(err)), 0);
	d0 = info(v, 0);
	assert_int_equal(d0.mem_actual, 256 * MiB);
	assert_int_equal(free_mem(v), 4 * GiB - 256 * MiB);
	vmm_close(v);
}

static void test_pcpu_times(void **state)
{
	struct vmm *v = open_sim("clock=manual,cpus=3");
	struct vmm_pcpu_time t[4], t2[4];
	unsigned nr, p;

	assert_int_equal(vmm_pcpu_times(v, t, 4, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 3);
	for (p = 0; p < 3; p++)
		assert_int_equal(t[p].busy_ns + t[p].idle_ns, 0);
	create(v, UUID1, "a", 256 * MiB);
	assert_int_equal(vmm_unpause(v, 1, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 10000), 0);
	assert_int_equal(vmm_pcpu_times(v, t2, 1, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(vmm_pcpu_times(v, t2, 4, &nr, err, sizeof(err)), 0);
	for (p = 0; p < 3; p++) {
		assert_int_equal(t2[p].busy_ns + t2[p].idle_ns, 10000 * 1000000ULL);
		assert_true(t2[p].busy_ns > 0);
	}
	/* runtime cpus= change */
	assert_int_equal(sim_inject(v, "cpus=4"), 0);
	assert_int_equal(vmm_pcpu_times(v, t2, 4, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 4);
	vmm_close(v);
}

/* ---- lifecycle ---- */

static void test_create_info(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct vmm_domain_info i, *list;
	struct vmm_domain_stats st;
	const struct vmm_event *ev;
	struct events e;
	size_t nr;
	uint32_t a, b;

	assert_false(readable(vmm_event_fd(v), 0));
	a = create(v, UUID1, "alpha", 512 * MiB);
	b = create(v, UUID2, "beta", 256 * MiB);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);

	i = info(v, a);
	assert_string_equal(i.uuid, UUID1);
	assert_string_equal(i.name, "alpha");
	assert_int_equal(i.type, VMM_TYPE_PVH);
	assert_int_equal(i.state, VMM_STATE_PAUSED);
	assert_int_equal(i.reason, VMM_REASON_NONE);
	assert_int_equal(i.mem_actual, 512 * MiB);
	assert_int_equal(i.mem_target, 512 * MiB);
	assert_int_equal(i.mem_max, 512 * MiB);
	assert_int_equal(i.vcpus_max, 2);
	assert_int_equal(i.vcpus_online, 2);
	assert_int_equal(i.cpu_time_ns, 0);
	assert_int_equal(free_mem(v), 8 * GiB - 1 * GiB - 768 * MiB);

	assert_int_equal(vmm_stats(v, a, &st, err, sizeof(err)), 0);
	assert_int_equal(st.nr_vcpus, 2);
	assert_int_equal(st.nr_vifs, 2);
	assert_int_equal(st.vifs[1].devid, 1);
	assert_int_equal(st.nr_vbds, 2);
	assert_string_equal(st.vbds[0].vdev, "xvda");
	assert_string_equal(st.vbds[1].vdev, "xvdb");
	assert_int_equal(st.vifs[0].rx_bytes, 0);

	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(list[1].domid, 1);
	assert_int_equal(list[2].domid, 2);
	assert_string_equal(list[2].name, "beta");
	free(list);

	e = events(v);
	assert_int_equal(e.n, 2);
	ev = find_event(&e, VMM_EVENT_APPEARED, a);
	assert_non_null(ev);
	assert_string_equal(ev->uuid, UUID1);
	assert_int_equal(ev->state, VMM_STATE_PAUSED);
	assert_non_null(find_event(&e, VMM_EVENT_APPEARED, b));

	/* Same uuid twice: refused. */
	{
		struct vmm_domain_config c = config(UUID1, "again", 64 * MiB);
		uint32_t d = 77;

		assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -EEXIST);
		assert_non_null(strstr(err, "domid 1"));
		assert_int_equal(d, 77);
		c = config("bad", "x", 64 * MiB);
		assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -EINVAL);
	}
	assert_int_equal(vmm_info(v, 99, &i, err, sizeof(err)), -ENOENT);
	assert_int_equal(vmm_stats(v, 99, &st, err, sizeof(err)), -ENOENT);
	assert_int_equal(events(v).n, 0);
	vmm_close(v);
}

static void test_pause_unpause(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct events e;
	uint32_t a = create(v, UUID1, "alpha", 256 * MiB);

	events(v);
	assert_string_equal(console(v, a), "");
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_RUNNING);
	e = events(v);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ev[0].type, VMM_EVENT_CHANGED);
	assert_int_equal(e.ev[0].state, VMM_STATE_RUNNING);
	assert_int_equal(e.ev[1].type, VMM_EVENT_CONSOLE);
	assert_string_equal(console(v, a), "sim: alpha booted\n");
	assert_string_equal(console(v, a), "");

	/* Idempotent: no event for a no-op. */
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_int_equal(events(v).n, 0);

	assert_int_equal(vmm_pause(v, a, err, sizeof(err)), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_PAUSED);
	assert_int_equal(vmm_pause(v, a, err, sizeof(err)), 0);
	e = events(v);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ev[0].state, VMM_STATE_PAUSED);

	/* Booting happens once. */
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_string_equal(console(v, a), "");
	events(v);

	assert_int_equal(vmm_pause(v, 42, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no domain 42");
	assert_int_equal(vmm_unpause(v, 42, err, sizeof(err)), -ENOENT);

	/* A shut down domain can be neither paused nor unpaused. */
	assert_int_equal(sim_inject(v, "poweroff=1"), 0);
	assert_int_equal(vmm_pause(v, a, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "shutdown"));
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), -EBUSY);
	assert_int_equal(vmm_shutdown(v, a, VMM_REQ_REBOOT, err, sizeof(err)),
			 -EBUSY);
	vmm_close(v);
}

static void test_destroy(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct vmm_domain_info i;
	const struct vmm_event *ev;
	struct events e;
	uint64_t before = free_mem(v);
	uint32_t a = create(v, UUID1, "alpha", 1 * GiB);
	uint32_t b = create(v, UUID2, "beta", 1 * GiB);

	assert_int_equal(free_mem(v), before - 2 * GiB);
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	events(v);
	assert_int_equal(vmm_destroy(v, a, err, sizeof(err)), 0);
	assert_int_equal(free_mem(v), before - 1 * GiB);
	assert_int_equal(vmm_info(v, a, &i, err, sizeof(err)), -ENOENT);
	assert_int_equal(vmm_console_read(v, a, (char[8]){ 0 }, 8), -ENOENT);
	e = events(v);
	assert_int_equal(e.n, 1);
	ev = find_event(&e, VMM_EVENT_DIED, a);
	assert_non_null(ev);
	assert_string_equal(ev->uuid, UUID1);
	assert_int_equal(ev->state, VMM_STATE_DYING);
	assert_int_equal(vmm_destroy(v, a, err, sizeof(err)), -ENOENT);

	/* Destroying a paused domain and a shut down one works too. */
	assert_int_equal(vmm_destroy(v, b, err, sizeof(err)), 0);
	a = create(v, UUID1, "alpha", 1 * GiB);
	assert_int_equal(a, 3);         /* domids are not reused at once */
	assert_int_equal(sim_inject(v, "crash=3"), 0);
	assert_int_equal(vmm_destroy(v, a, err, sizeof(err)), 0);
	assert_int_equal(free_mem(v), before);
	vmm_close(v);
}

/* ---- shutdown ---- */

static void test_shutdown_cooperative(void **state)
{
	static const struct {
		enum vmm_shutdown_request req;
		enum vmm_shutdown_reason reason;
		const char *line;
	} cases[] = {
		{ VMM_REQ_POWEROFF, VMM_REASON_POWEROFF, "sim: vm powering off\n" },
		{ VMM_REQ_REBOOT, VMM_REASON_REBOOT, "sim: vm rebooting\n" },
		{ VMM_REQ_HALT, VMM_REASON_POWEROFF, "sim: vm halting\n" },
	};
	struct vmm *v = open_sim("clock=manual,shutdown_delay=500");
	struct vmm_domain_info i;
	const struct vmm_event *ev;
	struct events e;
	size_t k;

	for (k = 0; k < 3; k++) {
		uint32_t d = create(v, UUID1, "vm", 128 * MiB);

		assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
		console(v, d);
		events(v);
		assert_int_equal(vmm_shutdown(v, d, cases[k].req, err, sizeof(err)), 0);
		assert_int_equal(state_of(v, d), VMM_STATE_RUNNING);
		assert_int_equal(sim_advance(v, 499), 0);
		assert_int_equal(state_of(v, d), VMM_STATE_RUNNING);
		assert_int_equal(events(v).n, 0);
		assert_int_equal(sim_advance(v, 1), 0);
		assert_true(readable(vmm_event_fd(v), 0));
		i = info(v, d);
		assert_int_equal(i.state, VMM_STATE_SHUTDOWN);
		assert_int_equal(i.reason, cases[k].reason);
		assert_int_equal(i.mem_actual, 128 * MiB); /* until destroyed */
		e = events(v);
		ev = find_event(&e, VMM_EVENT_CHANGED, d);
		assert_non_null(ev);
		assert_int_equal(ev->state, VMM_STATE_SHUTDOWN);
		assert_int_equal(ev->reason, cases[k].reason);
		assert_non_null(find_event(&e, VMM_EVENT_CONSOLE, d));
		assert_string_equal(console(v, d), cases[k].line);
		assert_int_equal(vmm_destroy(v, d, err, sizeof(err)), 0);
		events(v);
	}
	vmm_close(v);
}

static void test_shutdown_uncooperative(void **state)
{
	struct vmm *v = open_sim("clock=manual,shutdown_delay=100,"
				 "guest=" UUID1 ":uncooperative");
	struct events e;
	uint32_t a = create(v, UUID1, "stubborn", 128 * MiB);
	uint32_t b = create(v, UUID2, "polite", 128 * MiB);

	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_int_equal(vmm_unpause(v, b, err, sizeof(err)), 0);
	events(v);
	assert_int_equal(vmm_shutdown(v, a, VMM_REQ_POWEROFF, err, sizeof(err)), 0);
	assert_int_equal(vmm_shutdown(v, b, VMM_REQ_POWEROFF, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 60000), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_RUNNING);
	assert_int_equal(state_of(v, b), VMM_STATE_SHUTDOWN);
	e = events(v);
	assert_null(find_event(&e, VMM_EVENT_CHANGED, a));
	assert_non_null(find_event(&e, VMM_EVENT_CHANGED, b));

	/* It ignores ballooning and vcpu hotplug too. */
	assert_int_equal(vmm_set_memory_target(v, a, 64 * MiB, err, sizeof(err)), 0);
	assert_int_equal(info(v, a).mem_target, 64 * MiB);
	assert_int_equal(info(v, a).mem_actual, 128 * MiB);
	assert_int_equal(vmm_set_vcpus(v, a, 1, err, sizeof(err)), 0);
	assert_int_equal(info(v, a).vcpus_online, 2);

	/* Made cooperative at run time, it reads the request afresh. */
	assert_int_equal(sim_inject(v, "guest=" UUID1 ":cooperative:250"), 0);
	assert_int_equal(sim_advance(v, 249), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_RUNNING);
	assert_int_equal(sim_advance(v, 1), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_SHUTDOWN);
	assert_int_equal(info(v, a).reason, VMM_REASON_POWEROFF);

	/* And the other way round, at run time. */
	assert_int_equal(vmm_destroy(v, b, err, sizeof(err)), 0);
	b = create(v, UUID2, "polite", 128 * MiB);
	assert_int_equal(vmm_unpause(v, b, err, sizeof(err)), 0);
	assert_int_equal(sim_inject(v, "guest=" UUID2 ":uncooperative"), 0);
	assert_int_equal(vmm_shutdown(v, b, VMM_REQ_REBOOT, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 100000), 0);
	assert_int_equal(state_of(v, b), VMM_STATE_RUNNING);
	vmm_close(v);
}

static void test_shutdown_while_paused(void **state)
{
	struct vmm *v = open_sim("clock=manual,shutdown_delay=100");
	uint32_t a = create(v, UUID1, "sleepy", 128 * MiB);

	/* Never booted: the guest acts once it runs. */
	assert_int_equal(vmm_shutdown(v, a, VMM_REQ_POWEROFF, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 1000), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_PAUSED);
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_SHUTDOWN);
	assert_string_equal(console(v, a),
			    "sim: sleepy booted\nsim: sleepy powering off\n");
	vmm_close(v);
}

static void test_shutdown_bad_request(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	uint32_t a = create(v, UUID1, "x", 128 * MiB);

	assert_int_equal(vmm_shutdown(v, a, (enum vmm_shutdown_request)9,
				      err, sizeof(err)), -EINVAL);
	assert_int_equal(vmm_shutdown(v, 5, VMM_REQ_POWEROFF, err, sizeof(err)),
			 -ENOENT);
	vmm_close(v);
}

/* ---- guest-initiated stops, through the event fd ---- */

static void test_guest_stops(void **state)
{
	static const struct {
		const char *key;
		enum vmm_shutdown_reason reason;
		const char *line;
	} cases[] = {
		{ "crash", VMM_REASON_CRASH, "sim: g crashed\n" },
		{ "poweroff", VMM_REASON_POWEROFF, "sim: g powering off\n" },
		{ "reboot", VMM_REASON_REBOOT, "sim: g rebooting\n" },
		{ "watchdog", VMM_REASON_WATCHDOG, "sim: g stopped by its watchdog\n" },
	};
	struct vmm *v = open_sim("clock=manual");
	const struct vmm_event *ev;
	struct events e;
	char spec[64];
	size_t k;

	for (k = 0; k < 4; k++) {
		uint32_t d = create(v, UUID3, "g", 64 * MiB);

		assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
		console(v, d);
		events(v);
		snprintf(spec, sizeof(spec), "%s=%u", cases[k].key, d);
		assert_int_equal(sim_inject(v, spec), 0);
		assert_true(readable(vmm_event_fd(v), 0));
		e = events(v);
		ev = find_event(&e, VMM_EVENT_CHANGED, d);
		assert_non_null(ev);
		assert_string_equal(ev->uuid, UUID3);
		assert_int_equal(ev->state, VMM_STATE_SHUTDOWN);
		assert_int_equal(ev->reason, cases[k].reason);
		assert_int_equal(info(v, d).reason, cases[k].reason);
		assert_string_equal(console(v, d), cases[k].line);
		/* Once stopped it cannot stop again. */
		assert_int_equal(sim_inject_err(v, spec, err, sizeof(err)), -EBUSY);
		assert_non_null(strstr(err, "shutdown"));
		assert_int_equal(vmm_destroy(v, d, err, sizeof(err)), 0);
		events(v);
	}
	assert_int_equal(sim_inject_err(v, "crash=99", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no domain 99"));
	assert_int_equal(sim_inject(v, "crash=x"), -EINVAL);

	/* A paused guest can crash too. */
	{
		uint32_t d = create(v, UUID3, "g", 64 * MiB);

		assert_int_equal(sim_inject(v, "crash=5"), 0);
		assert_int_equal(d, 5);
		assert_int_equal(info(v, d).reason, VMM_REASON_CRASH);
	}
	vmm_close(v);
}

/* ---- memory and vcpus ---- */

/* stop=UUID:REASON:MS: the guest stops itself MS ms of running after
 * each boot; the countdown survives a reopen; bad specs are refused. */
static void test_stop_after_boot(void **state)
{
	char dir[64], opts[256];
	struct vmm *v;
	struct events e;
	const struct vmm_event *ev;
	uint32_t d;

	make_dir(dir);
	snprintf(opts, sizeof(opts), "clock=manual,state=%s,stop=" UUID1 ":crash:500", dir);
	v = open_sim(opts);
	d = create(v, UUID1, "g", 64 * MiB);
	assert_int_equal(sim_advance(v, 1000), 0);      /* paused: nothing */
	assert_int_equal(info(v, d).state, VMM_STATE_PAUSED);
	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	events(v);
	assert_int_equal(sim_advance(v, 300), 0);
	assert_int_equal(info(v, d).state, VMM_STATE_RUNNING);
	vmm_close(v);
	v = open_sim(opts);                             /* adopted, still due */
	assert_int_equal(sim_advance(v, 199), 0);
	assert_int_equal(info(v, d).state, VMM_STATE_RUNNING);
	assert_int_equal(sim_advance(v, 1), 0);
	e = events(v);
	ev = find_event(&e, VMM_EVENT_CHANGED, d);
	assert_non_null(ev);
	assert_int_equal(ev->state, VMM_STATE_SHUTDOWN);
	assert_int_equal(ev->reason, VMM_REASON_CRASH);
	assert_string_equal(console(v, d), "sim: g crashed\n");     /* console: not kept */
	assert_int_equal(vmm_destroy(v, d, err, sizeof(err)), 0);
	/* none: never again */
	assert_int_equal(sim_inject(v, "stop=" UUID1 ":none:0"), 0);
	d = create(v, UUID1, "g", 64 * MiB);
	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 10000), 0);
	assert_int_equal(info(v, d).state, VMM_STATE_RUNNING);
	assert_int_equal(sim_inject_err(v, "stop=" UUID1 ":suspend:5", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "REASON"));
	assert_int_equal(sim_inject(v, "stop=" UUID1 ":crash"), -EINVAL);
	assert_int_equal(sim_inject(v, "stop=nonsense:crash:5"), -EINVAL);
	assert_int_equal(sim_inject(v, "create_delay=x"), -EINVAL);
	vmm_close(v);
}

static void test_memory_exhaustion(void **state)
{
	struct vmm *v = open_sim("clock=manual,mem=2G,dom0_mem=1G");
	struct vmm_domain_config c = config(UUID2, "big", 768 * MiB);
	uint32_t a, d = 0;

	a = create(v, UUID1, "small", 512 * MiB);
	assert_int_equal(free_mem(v), 512 * MiB);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "not enough free memory for domain big"));
	assert_non_null(strstr(err, "768 MiB"));
	assert_non_null(strstr(err, "512 MiB free"));
	/* Exactly what is free fits. */
	c = config(UUID2, "fits", 512 * MiB);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	assert_int_equal(free_mem(v), 0);
	assert_int_equal(vmm_destroy(v, d, err, sizeof(err)), 0);
	assert_int_equal(vmm_destroy(v, a, err, sizeof(err)), 0);
	/* A bigger host at run time. */
	assert_int_equal(sim_inject(v, "mem=4G"), 0);
	assert_int_equal(free_mem(v), 3 * GiB);
	/* nomem: creates fail whatever is free. */
	assert_int_equal(sim_inject(v, "nomem"), 0);
	c = config(UUID2, "tiny", 16 * MiB);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "not enough free memory"));
	assert_int_equal(sim_inject(v, "nomem=0"), 0);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	vmm_close(v);

	v = open_sim("clock=manual,nomem");
	c = config(UUID2, "tiny", 16 * MiB);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -ENOMEM);
	vmm_close(v);
}

static void test_memory_target(void **state)
{
	struct vmm *v = open_sim("clock=manual,mem=3G,dom0_mem=1G");
	struct vmm_domain_config c = config(UUID1, "bal", 512 * MiB);
	struct vmm_domain_info i;
	uint32_t d;

	c.mem_static_max = 4 * GiB;
	c.mem_dynamic_max = 4 * GiB;
	d = 0;
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	i = info(v, d);
	assert_int_equal(i.mem_max, 4 * GiB);
	assert_int_equal(i.mem_actual, 512 * MiB);

	assert_int_equal(vmm_set_memory_target(v, d, 256 * MiB, err, sizeof(err)), 0);
	i = info(v, d);
	assert_int_equal(i.mem_target, 256 * MiB);
	assert_int_equal(i.mem_actual, 256 * MiB);
	assert_int_equal(free_mem(v), 3 * GiB - 1 * GiB - 256 * MiB);

	/* Ballooning up stops where host memory runs out. */
	assert_int_equal(vmm_set_memory_target(v, d, 4 * GiB, err, sizeof(err)), 0);
	i = info(v, d);
	assert_int_equal(i.mem_target, 4 * GiB);
	assert_int_equal(i.mem_actual, 2 * GiB);
	assert_int_equal(free_mem(v), 0);

	assert_int_equal(vmm_set_memory_target(v, d, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(vmm_set_memory_target(v, d, 4 * GiB + 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "static max"));
	assert_int_equal(vmm_set_memory_target(v, 9, MiB, err, sizeof(err)), -ENOENT);
	vmm_close(v);
}

static void test_vcpus(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct vmm_domain_config c = config(UUID1, "cpus", 128 * MiB);
	struct vmm_domain_stats st, st2;
	uint32_t d = 0;

	c.vcpus_max = 4;
	c.vcpus_online = 2;
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 1000), 0);
	assert_int_equal(vmm_stats(v, d, &st, err, sizeof(err)), 0);
	assert_int_equal(st.nr_vcpus, 4);
	assert_true(st.vcpu_online[0] && st.vcpu_online[1]);
	assert_false(st.vcpu_online[2] || st.vcpu_online[3]);
	assert_true(st.vcpu_time_ns[0] > 0 && st.vcpu_time_ns[1] > 0);
	assert_int_equal(st.vcpu_time_ns[2], 0);

	assert_int_equal(vmm_set_vcpus(v, d, 4, err, sizeof(err)), 0);
	assert_int_equal(info(v, d).vcpus_online, 4);
	assert_int_equal(sim_advance(v, 1000), 0);
	assert_int_equal(vmm_stats(v, d, &st2, err, sizeof(err)), 0);
	assert_true(st2.vcpu_online[3]);
	assert_true(st2.vcpu_time_ns[3] > 0);
	assert_true(st2.vcpu_time_ns[0] > st.vcpu_time_ns[0]);
	assert_int_equal(st2.cpu_time_ns, info(v, d).cpu_time_ns);

	assert_int_equal(vmm_set_vcpus(v, d, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(vmm_set_vcpus(v, d, 5, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1..4"));
	assert_int_equal(vmm_set_vcpus(v, 7, 1, err, sizeof(err)), -ENOENT);
	vmm_close(v);
}

/* ---- counters ---- */

static void run_script(struct vmm *v, struct vmm_domain_stats *st,
		       struct vmm_pcpu_time *pt)
{
	unsigned nr;
	uint32_t a = create(v, UUID1, "a", 256 * MiB);
	uint32_t b = create(v, UUID2, "b", 256 * MiB);

	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 1500), 0);
	assert_int_equal(vmm_unpause(v, b, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 700), 0);
	assert_int_equal(vmm_pause(v, a, err, sizeof(err)), 0);
	assert_int_equal(vmm_set_vcpus(v, b, 1, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 3000), 0);
	assert_int_equal(vmm_stats(v, a, &st[0], err, sizeof(err)), 0);
	assert_int_equal(vmm_stats(v, b, &st[1], err, sizeof(err)), 0);
	assert_int_equal(vmm_stats(v, 0, &st[2], err, sizeof(err)), 0);
	assert_int_equal(vmm_pcpu_times(v, pt, 4, &nr, err, sizeof(err)), 0);
}

static void test_determinism(void **state)
{
	static struct vmm_domain_stats s1[3], s2[3];
	struct vmm_pcpu_time p1[4], p2[4];
	struct vmm *v;

	v = open_sim("clock=manual");
	run_script(v, s1, p1);
	vmm_close(v);
	v = open_sim("clock=manual");
	run_script(v, s2, p2);
	vmm_close(v);
	assert_memory_equal(s1, s2, sizeof(s1));
	assert_memory_equal(p1, p2, sizeof(p1));

	/* And the counters mean something. */
	assert_true(s1[0].cpu_time_ns > 0);
	assert_true(s1[1].cpu_time_ns > 0);
	assert_true(s1[2].cpu_time_ns > 0);
	assert_true(s1[0].vifs[0].rx_bytes > 0 && s1[0].vifs[0].tx_bytes > 0);
	assert_true(s1[0].vifs[0].rx_packets > 0);
	assert_true(s1[0].vbds[0].rd_bytes > 0 && s1[0].vbds[0].wr_reqs > 0);
	/* a ran 2200 ms on 2 vcpus, each busy 5..49% of it. */
	assert_in_range(s1[0].vcpu_time_ns[0], 2200 * 1000000ULL * 5 / 100,
			2200 * 1000000ULL * 49 / 100);
	/* b ran 3700 ms, its second vcpu only the first 700. */
	assert_in_range(s1[1].vcpu_time_ns[1], 700 * 1000000ULL * 5 / 100,
			700 * 1000000ULL * 49 / 100);
	assert_true(s1[0].cpu_time_ns == s1[0].vcpu_time_ns[0] +
		    s1[0].vcpu_time_ns[1]);
}

static void test_counters_monotonic(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct vmm_domain_stats a, b;
	uint32_t d = create(v, UUID1, "m", 128 * MiB);

	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 100), 0);
	assert_int_equal(vmm_stats(v, d, &a, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 100), 0);
	assert_int_equal(vmm_stats(v, d, &b, err, sizeof(err)), 0);
	assert_true(b.cpu_time_ns > a.cpu_time_ns);
	assert_true(b.vifs[1].tx_bytes > a.vifs[1].tx_bytes);
	assert_true(b.vbds[1].rd_bytes > a.vbds[1].rd_bytes);
	/* Paused: nothing moves. */
	assert_int_equal(vmm_pause(v, d, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 5000), 0);
	assert_int_equal(vmm_stats(v, d, &a, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(sim_now_ms(v), 5200);
	vmm_close(v);
}

/* ---- fault injection ---- */

static void test_fail_create(void **state)
{
	struct vmm *v = open_sim("clock=manual,fail=create");
	struct vmm_domain_config c = config(UUID1, "f", 64 * MiB);
	uint32_t d = 0;

	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -EIO);
	assert_string_equal(err, "sim: injected failure of create");
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	assert_int_equal(d, 1);
	assert_int_equal(events(v).n, 1);

	/* The third create from now. */
	assert_int_equal(sim_inject(v, "fail=create:3"), 0);
	c.uuid = UUID2;
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	c.uuid = UUID3;
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	c.uuid = UUID4;
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -EIO);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	assert_int_equal(d, 4);         /* the failure used no domid */

	/* fail=OP:0 disarms. */
	assert_int_equal(sim_inject(v, "fail=create:2"), 0);
	assert_int_equal(sim_inject(v, "fail=create:0"), 0);
	vmm_close(v);
}

static void test_fail_every_op(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct vmm_domain_info i, *list = NULL;
	struct vmm_domain_stats st;
	struct vmm_host_info h;
	struct vmm_pcpu_time pt[4];
	unsigned nr;
	size_t n;
	char buf[16];
	uint32_t d = create(v, UUID1, "victim", 64 * MiB);

#define FAILS(spec, call)                                                 \
	do {                                                              \
		assert_int_equal(sim_inject(v, "fail=" spec), 0);         \
		err[0] = 0;                                               \
		assert_int_equal(call, -EIO);                             \
		assert_int_equal(call, 0);                                \
	} while (0)

	FAILS("pause", vmm_pause(v, d, err, sizeof(err)));
	assert_non_null(strstr(err, "pause"));
	FAILS("unpause", vmm_unpause(v, d, err, sizeof(err)));
	FAILS("memory", vmm_set_memory_target(v, d, 32 * MiB, err, sizeof(err)));
	FAILS("vcpus", vmm_set_vcpus(v, d, 1, err, sizeof(err)));
	FAILS("info", vmm_info(v, d, &i, err, sizeof(err)));
	FAILS("stats", vmm_stats(v, d, &st, err, sizeof(err)));
	FAILS("host", vmm_host_info(v, &h, err, sizeof(err)));
	FAILS("host", vmm_pcpu_times(v, pt, 4, &nr, err, sizeof(err)));
	assert_int_equal(sim_inject(v, "fail=console"), 0);
	assert_int_equal(vmm_console_read(v, d, buf, sizeof(buf)), -EIO);
	assert_true(vmm_console_read(v, d, buf, sizeof(buf)) > 0);
	assert_int_equal(sim_inject(v, "fail=list"), 0);
	assert_int_equal(vmm_list(v, &list, &n, err, sizeof(err)), -EIO);
	assert_null(list);
	assert_int_equal(n, 0);
	assert_int_equal(vmm_list(v, &list, &n, err, sizeof(err)), 0);
	free(list);
	FAILS("shutdown", vmm_shutdown(v, d, VMM_REQ_POWEROFF, err, sizeof(err)));
	FAILS("destroy", vmm_destroy(v, d, err, sizeof(err)));
	assert_int_equal(vmm_info(v, d, &i, err, sizeof(err)), -ENOENT);
#undef FAILS
	vmm_close(v);
}

static void test_fail_console(void **state)
{
	struct vmm *v = open_sim("clock=manual,fail=console");
	char buf[64];
	uint32_t d = create(v, UUID1, "c", 64 * MiB);

	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	assert_int_equal(vmm_console_read(v, d, buf, sizeof(buf)), -EIO);
	assert_int_equal(vmm_console_read(v, d, buf, sizeof(buf)),
			 strlen("sim: c booted\n"));
	vmm_close(v);
}

static void test_bad_specs(void **state)
{
	static const char *const bad[] = {
		"bogus", "fail=frobnicate", "fail=create:x", "mem=lots", "mem=0",
		"cpus=0", "cpus=1000", "shutdown_delay=-1", "check_paths=maybe",
		"nomem=2", "guest=" UUID1, "guest=" UUID1 ":sulky",
		"guest=" UUID1 ":cooperative:x", "guest=zzz:uncooperative",
		"crash=", "advance=soon", "console_max=1Q",
	};
	struct vmm *v = open_sim("clock=manual");
	struct vmm w;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (sim_inject_err(v, bad[i], err, sizeof(err)) != -EINVAL)
			fail_msg("spec '%s' accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(sim_inject_err(v, "state=/tmp", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "only be given at open"));
	assert_int_equal(sim_inject(v, "clock=real"), -EINVAL);
	assert_int_equal(sim_inject(v, "dom0_mem=2G"), -EINVAL);
	/* Several items at once, either separator. */
	assert_int_equal(sim_inject(v, "mem=16G, cpus=8 shutdown_delay=5"), 0);
	assert_int_equal(sim_inject(v, ""), 0);
	assert_int_equal(sim_inject(v, NULL), 0);

	/* Not a sim handle. */
	w.ops = NULL;
	assert_int_equal(sim_inject(&w, "nomem"), -EOPNOTSUPP);
	assert_int_equal(sim_advance(&w, 1), -EOPNOTSUPP);
	vmm_close(v);

	/* Bad opts fail the open with the reason. */
	v = (struct vmm *)1;
	assert_int_equal(vmm_open("sim", "clock=sometimes", &v, err, sizeof(err)),
			 -EINVAL);
	assert_null(v);
	assert_non_null(strstr(err, "clock=sometimes"));
	assert_int_equal(vmm_open("sim", "mem=1G,dom0_mem=2G", &v, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "dom0_mem"));
	assert_int_equal(vmm_open("sim", "advance=5", &v, err, sizeof(err)),
			 -EINVAL);      /* real clock */
	assert_int_equal(vmm_open("sim", "clock=manual,crash=3", &v, err,
				  sizeof(err)), -ENOENT);
}

static void test_check_paths(void **state)
{
	struct vmm *v = open_sim("clock=manual,check_paths=1");
	struct vmm_domain_config c = config(UUID1, "p", 64 * MiB);
	struct vmm_disk dd[1] = { { "/dev/null", "xvda", false } };
	uint32_t d;

	c.kernel = "/nonexistent/vmlinuz";
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "kernel /nonexistent/vmlinuz"));
	c.kernel = "/dev/null";
	c.ramdisk = "/dev/null";
	c.disks = dd;
	c.nr_disks = 1;
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	c.uuid = UUID2;
	dd[0].path = "/nonexistent/disk.img";
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "disk /nonexistent/disk.img"));
	assert_int_equal(sim_inject(v, "check_paths=0"), 0);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	vmm_close(v);
}

static void test_console_bounded(void **state)
{
	static const char full[] = "sim: chatty-guest booted\n"
				   "sim: chatty-guest rebooting\n";
	struct vmm *v = open_sim("clock=manual,console_max=32");
	struct events e;
	char *text;
	int k;
	uint32_t d = create(v, UUID1, "chatty-guest", 64 * MiB);

	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	/* Many lines, one CONSOLE event until handle_events runs. */
	for (k = 0; k < 5; k++) {
		assert_int_equal(vmm_pause(v, d, err, sizeof(err)), 0);
		assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	}
	assert_int_equal(vmm_shutdown(v, d, VMM_REQ_REBOOT, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 1000), 0);
	e = events(v);
	/* APPEARED, CHANGED * 12, and a single CONSOLE for both lines */
	assert_int_equal(e.n, 1 + 12 + 1);
	text = console(v, d);
	/* Only the newest console_max bytes are kept. */
	assert_string_equal(text, full + sizeof(full) - 1 - 32);
	vmm_close(v);
}

/* ---- the real clock: a timerfd wakes the poll loop ---- */

static void test_real_clock(void **state)
{
	struct vmm *v = open_sim("shutdown_delay=50");
	const struct vmm_event *ev;
	struct events e = { .n = 0 };
	uint64_t t0 = sim_now_ms(v);
	uint32_t d = create(v, UUID1, "r", 64 * MiB);
	int tries;

	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	vmm_handle_events(v, collect, &e);
	e.n = 0;
	assert_int_equal(vmm_shutdown(v, d, VMM_REQ_POWEROFF, err, sizeof(err)), 0);
	for (tries = 0; tries < 50 && !find_event(&e, VMM_EVENT_CHANGED, d);
	     tries++)
		if (readable(vmm_event_fd(v), 100))
			vmm_handle_events(v, collect, &e);
	ev = find_event(&e, VMM_EVENT_CHANGED, d);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VMM_REASON_POWEROFF);
	assert_true(sim_now_ms(v) >= t0 + 50);
	assert_int_equal(sim_advance(v, 10), -EINVAL);
	vmm_close(v);
}

/* ---- persistence ---- */

static void test_adoption(void **state)
{
	char dir[64], opts[256], *text;
	struct vmm_domain_stats st1, st2;
	struct vmm_domain_info i, *list;
	struct vmm *v;
	size_t nr;
	uint32_t a, b, c, d;

	make_dir(dir);
	snprintf(opts, sizeof(opts), "clock=manual,state=%s,shutdown_delay=300",
		 dir);
	v = open_sim(opts);
	a = create(v, UUID1, "run ning%", 512 * MiB);
	b = create(v, UUID2, "paused", 256 * MiB);
	c = create(v, UUID3, "gone", 128 * MiB);
	d = create(v, UUID4, "crashed", 64 * MiB);
	assert_int_equal(vmm_unpause(v, a, err, sizeof(err)), 0);
	assert_int_equal(vmm_unpause(v, d, err, sizeof(err)), 0);
	assert_int_equal(vmm_set_memory_target(v, a, 384 * MiB, err, sizeof(err)), 0);
	assert_int_equal(vmm_destroy(v, c, err, sizeof(err)), 0);
	assert_int_equal(sim_inject(v, "crash=4"), 0);
	assert_int_equal(sim_advance(v, 2000), 0);
	/* A request in flight survives too. */
	assert_int_equal(vmm_shutdown(v, a, VMM_REQ_REBOOT, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 100), 0);
	assert_int_equal(vmm_stats(v, a, &st1, err, sizeof(err)), 0);
	text = read_file(strcat(strcpy(opts, dir), "/domains"));
	assert_non_null(strstr(text, "name=run%20ning%25 "));
	vmm_close(v);

	/* A restarted toolstack finds its domains as they were. */
	snprintf(opts, sizeof(opts), "clock=manual,state=%s", dir);
	v = open_sim(opts);
	assert_int_equal(events(v).n, 0);
	assert_int_equal(sim_now_ms(v), 2100);
	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 4);
	assert_int_equal(list[0].domid, 0);
	assert_int_equal(list[1].domid, a);
	assert_int_equal(list[2].domid, b);
	assert_int_equal(list[3].domid, d);
	free(list);
	i = info(v, a);
	assert_string_equal(i.uuid, UUID1);
	assert_string_equal(i.name, "run ning%");
	assert_int_equal(i.type, VMM_TYPE_PVH);
	assert_int_equal(i.state, VMM_STATE_RUNNING);
	assert_int_equal(i.mem_actual, 384 * MiB);
	assert_int_equal(i.mem_target, 384 * MiB);
	assert_int_equal(i.mem_max, 512 * MiB);
	assert_int_equal(state_of(v, b), VMM_STATE_PAUSED);
	assert_int_equal(info(v, b).mem_actual, 256 * MiB);
	assert_int_equal(state_of(v, d), VMM_STATE_SHUTDOWN);
	assert_int_equal(info(v, d).reason, VMM_REASON_CRASH);
	assert_int_equal(vmm_info(v, c, &i, err, sizeof(err)), -ENOENT);
	assert_int_equal(free_mem(v), 8 * GiB - 1 * GiB - 384 * MiB -
			 256 * MiB - 64 * MiB);
	assert_int_equal(vmm_stats(v, a, &st2, err, sizeof(err)), 0);
	assert_memory_equal(&st1, &st2, sizeof(st1));

	/* The pending reboot falls due on the old schedule. */
	assert_int_equal(sim_advance(v, 199), 0);
	assert_int_equal(state_of(v, a), VMM_STATE_RUNNING);
	assert_int_equal(sim_advance(v, 1), 0);
	assert_int_equal(info(v, a).reason, VMM_REASON_REBOOT);
	/* Domids continue; the destroyed one is not reused. */
	assert_int_equal(create(v, UUID3, "new", 64 * MiB), 5);
	vmm_close(v);

	/* The behaviour of a guest is part of its state. */
	snprintf(opts, sizeof(opts), "clock=manual,state=%s,guest=%s:uncooperative",
		 dir, UUID3);
	v = open_sim(opts);
	assert_int_equal(vmm_unpause(v, 5, err, sizeof(err)), 0);
	vmm_close(v);
	snprintf(opts, sizeof(opts), "clock=manual,state=%s", dir);
	v = open_sim(opts);
	assert_int_equal(vmm_shutdown(v, 5, VMM_REQ_POWEROFF, err, sizeof(err)), 0);
	assert_int_equal(sim_advance(v, 100000), 0);
	assert_int_equal(state_of(v, 5), VMM_STATE_RUNNING);
	vmm_close(v);
	remove_dir(dir);
}

static void test_state_without_close(void **state)
{
	char dir[64], opts[128], path[128];
	struct vmm *v, *w;
	struct vmm_domain_info *list;
	size_t nr;

	/* Written on every change, not only at close: copy the file away
	 * while the handle is open, as a crashed toolstack would leave it. */
	make_dir(dir);
	snprintf(opts, sizeof(opts), "clock=manual,state=%s", dir);
	snprintf(path, sizeof(path), "%s/domains", dir);
	v = open_sim(opts);
	create(v, UUID1, "a", 64 * MiB);
	create(v, UUID2, "b", 64 * MiB);
	assert_int_equal(vmm_destroy(v, 1, err, sizeof(err)), 0);
	{
		char copy[4096];

		strcpy(copy, read_file(path));
		/* A second handle on the same directory is refused. */
		w = (struct vmm *)1;
		assert_int_equal(vmm_open("sim", opts, &w, err, sizeof(err)), -EBUSY);
		assert_non_null(strstr(err, "in use"));
		assert_null(w);
		vmm_close(v);
		write_file(path, copy);
	}
	v = open_sim(opts);
	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(list[1].domid, 2);
	free(list);
	vmm_close(v);
	remove_dir(dir);
}

static void test_state_memory_only(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct vmm_domain_info *list;
	size_t nr;

	create(v, UUID1, "a", 64 * MiB);
	vmm_close(v);
	v = open_sim("clock=manual");
	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 1);
	free(list);
	vmm_close(v);
}

static void test_fail_persist(void **state)
{
	char dir[64], opts[128];
	struct vmm_domain_config c = config(UUID1, "p", 64 * MiB);
	struct vmm_domain_info *list;
	struct vmm *v;
	size_t nr;
	uint32_t d = 0;

	make_dir(dir);
	snprintf(opts, sizeof(opts), "clock=manual,state=%s", dir);
	v = open_sim(opts);
	assert_int_equal(sim_inject(v, "fail=persist"), 0);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "writing"));
	assert_int_equal(d, 0);
	/* Nothing left behind, no event, and the domid is still free. */
	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 1);
	free(list);
	assert_int_equal(events(v).n, 0);
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	assert_int_equal(d, 1);
	vmm_close(v);
	remove_dir(dir);

	/* Memory-only: there is nothing to write, so nothing to fail. */
	v = open_sim("clock=manual,fail=persist");
	assert_int_equal(vmm_create(v, &c, &d, err, sizeof(err)), 0);
	vmm_close(v);
}

static void test_state_dir_errors(void **state)
{
	struct vmm *v = NULL;

	assert_int_equal(vmm_open("sim", "state=/nonexistent/a/b", &v, err,
				  sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/a/b"));
	assert_int_equal(vmm_open("sim", "state=", &v, err, sizeof(err)), -EINVAL);
}

static void test_corrupt_state(void **state)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "", ":1: empty state file" },
		{ "hello\n", ":1: not a sim state file" },
		{ "xenbox-sim 1\nclock x\n", ":2: bad clock" },
		{ "xenbox-sim 1\n# c\n\nfrobs 3\n", ":4: unknown line 'frobs'" },
		{ "xenbox-sim 1\nnext-domid 0\n", ":2: bad next-domid" },
		{ "xenbox-sim 1\ncpus 2\nbusy 1,2,3\n", ":3: busy has 3 entries" },
		{ "xenbox-sim 1\ndom\n", ":2: expected a domid" },
		{ "xenbox-sim 1\ndom 99999\n", ":2: expected a domid" },
		{ "xenbox-sim 1\ndom 1 uuid\n", ":2: expected key=value" },
		{ "xenbox-sim 1\ndom 1 color=red\n", ":2: unknown key 'color'" },
		{ "xenbox-sim 1\ndom 1 uuid=abc\n", ":2: bad uuid" },
		{ "xenbox-sim 1\ndom 1 state=zombie\n", ":2: bad value for state" },
		{ "xenbox-sim 1\ndom 1 name=%zz\n", ":2: bad name" },
		{ "xenbox-sim 1\ndom 1 mem-max=12abc\n", ":2: bad value for mem-max" },
		{ "xenbox-sim 1\ndom 1 vbds=xvda,XV\n", ":2: bad value for vbds" },
		{ "xenbox-sim 1\ndom 1 uuid=" UUID1 "\n", ":2: domain 1 has no name" },
		{ "xenbox-sim 1\n"
		  "dom 1 uuid=" UUID1 " name=a type=pv state=shutdown mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=1\n",
		  ":2: domain 1: state shutdown with reason none" },
		{ "xenbox-sim 1\n"
		  "dom 1 uuid=" UUID1 " name=a type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=10 vcpus-max=1 vcpus=1\n",
		  ":2: domain 1: memory above its static max" },
		{ "xenbox-sim 1\n"
		  "dom 1 uuid=" UUID1 " name=a type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=2\n",
		  ":2: domain 1: vcpus 2 of 1" },
		{ "xenbox-sim 1\n"
		  "dom 1 uuid=" UUID1 " name=a type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=2 vcpus=2 vcpu-ms=1\n",
		  ":2: domain 1: vcpu-ms has 1 entries, not 2" },
		{ "xenbox-sim 1\n"
		  "dom 1 uuid=" UUID1 " name=a type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=1\n"
		  "dom 1 uuid=" UUID2 " name=b type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=1\n",
		  ":3: domain 1 appears twice" },
		{ "xenbox-sim 1\n"
		  "dom 1 uuid=" UUID1 " name=a type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=1\n"
		  "dom 2 uuid=" UUID1 " name=b type=pv state=running mem-max=9"
		  " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=1\n",
		  ":3: domains 1 and 2 have the same uuid" },
	};
	char dir[64], opts[128], path[128], want[256];
	struct vmm *v;
	size_t k;
	int rc;

	make_dir(dir);
	snprintf(opts, sizeof(opts), "clock=manual,state=%s", dir);
	snprintf(path, sizeof(path), "%s/domains", dir);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		write_file(path, cases[k].text);
		v = (struct vmm *)1;
		err[0] = 0;
		rc = vmm_open("sim", opts, &v, err, sizeof(err));
		if (rc != -EINVAL || v)
			fail_msg("case %zu: rc %d (%s)", k, rc, err);
		snprintf(want, sizeof(want), "%s%s", path, cases[k].needle);
		if (strncmp(err, want, strlen(want)))
			fail_msg("case %zu: got '%s', want '%s'", k, err, want);
		/* A failed open leaves the file for a human to look at. */
		assert_string_equal(read_file(path), cases[k].text);
	}
	/* A minimal valid file: dom0 appears, the domain is adopted. */
	write_file(path, "xenbox-sim 1\n"
		   "dom 7 uuid=" UUID1 " name=seven type=pv state=paused mem-max=9"
		   " mem-target=9 mem-actual=9 vcpus-max=1 vcpus=1\n");
	v = open_sim(opts);
	assert_int_equal(state_of(v, 7), VMM_STATE_PAUSED);
	assert_int_equal(state_of(v, 0), VMM_STATE_RUNNING);
	assert_int_equal(create(v, UUID2, "next", 64 * MiB), 1);
	vmm_close(v);
	remove_dir(dir);
}

/* ---- threads ---- */

struct worker {
	struct vmm *v;
	int id;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char e[VMM_ERR_MAX], uuid[VMM_UUID_LEN + 1], name[16];
	struct vmm_domain_config c;
	uint32_t d;
	int k;

	for (k = 0; k < 50 && !w->rc; k++) {
		snprintf(uuid, sizeof(uuid), "%08x-0000-0000-0000-%012x", w->id, k);
		snprintf(name, sizeof(name), "w%d-%d", w->id, k);
		c = config(uuid, name, 16 * MiB);
		w->rc = vmm_create(w->v, &c, &d, e, sizeof(e));
		if (!w->rc)
			w->rc = vmm_unpause(w->v, d, e, sizeof(e));
		if (!w->rc)
			w->rc = vmm_destroy(w->v, d, e, sizeof(e));
	}
	return NULL;
}

static void count(void *opaque, const struct vmm_event *ev)
{
	(*(int *)opaque)++;
}

static void test_threads(void **state)
{
	struct vmm *v = open_sim("clock=manual");
	struct worker w[4];
	pthread_t t[4];
	struct vmm_domain_info *list;
	size_t nr;
	int i, seen = 0;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ v, i + 1, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 200; i++) {
		assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
		free(list);
		vmm_handle_events(v, count, &seen);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	vmm_handle_events(v, count, &seen);
	/* appeared, running, console, died: per domain */
	assert_int_equal(seen, 4 * 50 * 4);
	assert_int_equal(vmm_list(v, &list, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 1);
	free(list);
	vmm_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_host_and_dom0),
		cmocka_unit_test(test_pcpu_times),
		cmocka_unit_test(test_create_info),
		cmocka_unit_test(test_pause_unpause),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_shutdown_cooperative),
		cmocka_unit_test(test_shutdown_uncooperative),
		cmocka_unit_test(test_shutdown_while_paused),
		cmocka_unit_test(test_shutdown_bad_request),
		cmocka_unit_test(test_guest_stops),
		cmocka_unit_test(test_stop_after_boot),
		cmocka_unit_test(test_memory_exhaustion),
		cmocka_unit_test(test_memory_target),
		cmocka_unit_test(test_vcpus),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_counters_monotonic),
		cmocka_unit_test(test_fail_create),
		cmocka_unit_test(test_fail_every_op),
		cmocka_unit_test(test_fail_console),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_check_paths),
		cmocka_unit_test(test_console_bounded),
		cmocka_unit_test(test_real_clock),
		cmocka_unit_test(test_adoption),
		cmocka_unit_test(test_state_without_close),
		cmocka_unit_test(test_state_memory_only),
		cmocka_unit_test(test_fail_persist),
		cmocka_unit_test(test_state_dir_errors),
		cmocka_unit_test(test_corrupt_state),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
