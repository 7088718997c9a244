/* Backend none: a host without a hypervisor.  Every domain operation is
 * refused with -EPERM and a message; no domain exists; host info is the
 * server's own, with no guest capabilities. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/backend.h"

static char err[VMM_ERR_MAX];

static struct vmm *open_none(void)
{
	struct vmm *v = NULL;

	assert_int_equal(vmm_open("none", "", &v, err, sizeof(err)), 0);
	assert_non_null(v);
	assert_string_equal(vmm_name(v), "none");
	return v;
}

static void test_open(void **state)
{
	struct vmm *v = (struct vmm *)1;

	(void)state;
	assert_true(vmm_backend_available("none"));
	assert_int_equal(vmm_open("none", "clock=manual", &v, err, sizeof(err)), -EINVAL);
	assert_null(v);
	assert_non_null(strstr(err, "no options"));
	v = open_none();
	vmm_close(v);
	assert_int_equal(vmm_open("none", NULL, &v, err, sizeof(err)), 0);
	vmm_close(v);
}

static void test_host_info(void **state)
{
	struct vmm *v = open_none();
	struct vmm_host_info hi;
	struct vmm_pcpu_time pt[4];
	unsigned nr = 99;

	(void)state;
	memset(&hi, 0xff, sizeof(hi));
	assert_int_equal(vmm_host_info(v, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi.nr_cpus, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(hi.total_memory >= (uint64_t)sysconf(_SC_PHYS_PAGES) / 2 *
		    (uint64_t)sysconf(_SC_PAGESIZE));
	assert_true(hi.free_memory > 0 && hi.free_memory <= hi.total_memory);
	assert_string_equal(hi.capabilities, "");   /* no guest type: none run */
	assert_string_equal(hi.version, "");
	assert_int_equal(vmm_pcpu_times(v, pt, 4, &nr, err, sizeof(err)), -EPERM);
	assert_int_equal(nr, 0);
	vmm_close(v);
}

static void test_no_domains(void **state)
{
	struct vmm *v = open_none();
	struct vmm_domain_info *doms = (void *)1, di;
	struct vmm_domain_stats *ds = test_malloc(sizeof(*ds));
	size_t n = 99;
	char buf[16];
	struct pollfd pfd;

	(void)state;
	assert_int_equal(vmm_list(v, &doms, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(doms);
	assert_int_equal(vmm_info(v, 0, &di, err, sizeof(err)), -ENOENT);
	assert_int_equal(vmm_stats(v, 0, ds, err, sizeof(err)), -ENOENT);
	assert_int_equal(vmm_console_read(v, 1, buf, sizeof(buf)), -ENOENT);
	/* the event fd is valid, pollable and never ready */
	pfd.fd = vmm_event_fd(v);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(vmm_handle_events(v, NULL, NULL), 0);
	test_free(ds);
	vmm_close(v);
}

static void test_every_op_refused(void **state)
{
	struct vmm *v = open_none();
	struct vmm_domain_config cfg = {
		.uuid = "11111111-1111-1111-1111-111111111111", .name = "g",
		.type = VMM_TYPE_PV, .mem_static_max = 1 << 28,
		.mem_dynamic_min = 1 << 28, .mem_dynamic_max = 1 << 28,
		.mem_target = 1 << 28, .vcpus_max = 1, .vcpus_online = 1,
		.kernel = "/k",
	};
	uint32_t domid = 7;
	int rcs[8], i = 0;

	(void)state;
	rcs[i++] = vmm_create(v, &cfg, &domid, err, sizeof(err));
	assert_string_equal(err, "this host has no hypervisor");
	assert_int_equal(domid, 7);
	rcs[i++] = vmm_pause(v, 1, err, sizeof(err));
	rcs[i++] = vmm_unpause(v, 1, err, sizeof(err));
	rcs[i++] = vmm_destroy(v, 1, err, sizeof(err));
	rcs[i++] = vmm_shutdown(v, 1, VMM_REQ_POWEROFF, err, sizeof(err));
	rcs[i++] = vmm_set_memory_target(v, 1, 1 << 20, err, sizeof(err));
	rcs[i++] = vmm_set_vcpus(v, 1, 1, NULL, 0);        /* err may be NULL */
	rcs[i++] = vmm_pause(v, 0, err, sizeof(err));
	for (int k = 0; k < i; k++)
		assert_int_equal(rcs[k], -EPERM);
	assert_string_equal(err, "this host has no hypervisor");
	vmm_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_host_info),
		cmocka_unit_test(test_no_domains),
		cmocka_unit_test(test_every_op_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
