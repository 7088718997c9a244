/* io/ctl.c, the control channel between the daemon and xenbox-io
 * (docs/STORAGE.md 5.1): every message both ways through a real
 * SOCK_SEQPACKET socketpair (a disk's descriptor with SCM_RIGHTS), and the
 * refusals: unknown verbs, missing or extra fields, bad numbers and codes,
 * a descriptor where none belongs (closed, not leaked), a packet longer
 * than the buffer, the peer's close. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "io/ctl.h"

static int sp[2];
static char buf[CTL_MAX];

static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int teardown(void **state)
{
	(void)state;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

/* p[0..n) parses, or not */
static int parses(const char *p, size_t n)
{
	struct ctl_msg m;

	return ctl_parse(p, n, &m) == 0;
}
#define PARSES(lit) parses(lit, sizeof(lit) - 1)

static void roundtrip(const struct ctl_msg *out, struct ctl_msg *in)
{
	assert_int_equal(ctl_send(sp[0], out), 0);
	assert_int_equal(ctl_recv(sp[1], buf, sizeof(buf), in), 1);
	assert_int_equal(in->type, out->type);
}

static void test_every_message_round_trips(void **state)
{
	struct ctl_msg m = { .fd = -1 }, r;
	static const char xml[] = "<?xml version=\"1.0\"?>\n<value><struct/></value>";

	(void)state;
	m.type = CTL_PROGRESS;
	m.n[0] = 1 << 20;
	m.n[1] = UINT64_MAX;
	roundtrip(&m, &r);
	assert_true(r.n[0] == 1 << 20 && r.n[1] == UINT64_MAX && r.fd == -1);

	m = (struct ctl_msg){ .type = CTL_OVAXML, .s = xml, .len = strlen(xml), .fd = -1 };
	roundtrip(&m, &r);
	assert_int_equal(r.len, strlen(xml));
	assert_string_equal(r.s, xml);

	m = (struct ctl_msg){ .type = CTL_WANT_DISK, .n = { 10 }, .fd = -1 };
	roundtrip(&m, &r);
	assert_true(r.n[0] == 10);

	m = (struct ctl_msg){ .type = CTL_DONE, .fd = -1 };        /* an empty result */
	roundtrip(&m, &r);
	assert_int_equal(r.len, 0);
	assert_string_equal(r.s, "");

	m = (struct ctl_msg){ .type = CTL_ERROR, .s = "VDI_IO_ERROR", .len = 12, .fd = -1,
			      .param = { "timeout", "", "with spaces and\nnewlines" }, .nparam = 3 };
	roundtrip(&m, &r);
	assert_string_equal(r.s, "VDI_IO_ERROR");
	assert_int_equal(r.nparam, 3);
	assert_string_equal(r.param[0], "timeout");
	assert_string_equal(r.param[1], "");
	assert_string_equal(r.param[2], "with spaces and\nnewlines");

	m = (struct ctl_msg){ .type = CTL_NO_DISK, .n = { 3 }, .fd = -1 };
	roundtrip(&m, &r);
	assert_true(r.n[0] == 3);
}

/* disk ID SIZE carries its descriptor: the receiver gets a new one on the
 * same file, close-on-exec */
static void test_disk_passes_its_descriptor(void **state)
{
	char path[] = "/tmp/xb-ctl-XXXXXX";
	int fd = mkstemp(path);
	struct ctl_msg m = { .type = CTL_DISK, .n = { 1, 10737418240ull } }, r;
	struct stat a, b;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	m.fd = fd;
	roundtrip(&m, &r);
	assert_true(r.n[0] == 1 && r.n[1] == 10737418240ull);
	assert_true(r.fd >= 0 && r.fd != fd);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(r.fd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_true(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
	close(r.fd);
	close(fd);
}

/* a sender cannot attach a descriptor to anything but `disk`, nor send a
 * `disk` without one, nor a message the parser would refuse */
static void test_send_refuses_what_parse_would(void **state)
{
	struct ctl_msg m = { .type = CTL_DONE, .fd = 0 };

	(void)state;
	errno = 0;
	assert_int_equal(ctl_send(sp[0], &m), -1);
	assert_int_equal(errno, EINVAL);
	m = (struct ctl_msg){ .type = CTL_DISK, .n = { 1, 2 }, .fd = -1 };
	assert_int_equal(ctl_send(sp[0], &m), -1);
	m = (struct ctl_msg){ .type = CTL_ERROR, .s = "lower_case", .len = 10, .fd = -1 };
	assert_int_equal(ctl_send(sp[0], &m), -1);
	m = (struct ctl_msg){ .type = CTL_PROGRESS, .n = { 2, 1 }, .fd = -1 };
	assert_int_equal(ctl_send(sp[0], &m), -1);
	m = (struct ctl_msg){ .type = CTL_OVAXML, .s = "a\0b", .len = 3, .fd = -1 };
	assert_int_equal(ctl_send(sp[0], &m), -1);      /* a NUL in a text */
	m = (struct ctl_msg){ .type = (enum ctl_type)99, .fd = -1 };
	assert_int_equal(ctl_send(sp[0], &m), -1);
}

static void test_parse_refusals(void **state)
{
	(void)state;
	assert_true(PARSES("progress\0" "0\0" "0\0"));
	assert_true(PARSES("progress\0" "5\0" "0\0"));          /* total unknown */
	assert_true(PARSES("error\0" "X\0"));
	assert_true(PARSES("done\0" "\0"));
	assert_false(parses("", 0));
	assert_false(PARSES("progress"));                       /* no NUL at the end */
	assert_false(PARSES("progress\0" "1\0"));               /* a field missing */
	assert_false(PARSES("progress\0" "1\0" "2\0" "3\0"));   /* one too many */
	assert_false(PARSES("progress\0" "3\0" "2\0"));         /* past its total */
	assert_false(PARSES("progress\0" "01\0" "2\0"));        /* a leading zero */
	assert_false(PARSES("progress\0" "-1\0" "2\0"));
	assert_false(PARSES("progress\0" "+1\0" "2\0"));
	assert_false(PARSES("progress\0" "\0" "2\0"));
	assert_false(PARSES("progress\0" "18446744073709551616\0" "0\0"));     /* 2^64 */
	assert_true(PARSES("progress\0" "18446744073709551615\0" "0\0"));
	assert_false(PARSES("Progress\0" "1\0" "2\0"));         /* verbs are exact */
	assert_false(PARSES("progress \0" "1\0" "2\0"));
	assert_false(PARSES("shutdown\0"));
	assert_false(PARSES("error\0"));                        /* the code is required */
	assert_false(PARSES("error\0" "\0"));
	assert_false(PARSES("error\0" "lower\0"));
	assert_false(PARSES("error\0" "A B\0"));
	assert_false(PARSES("done\0"));
	assert_false(PARSES("done\0" "a\0" "b\0"));
	assert_false(PARSES("disk\0" "1\0"));
	assert_false(PARSES("no-disk\0" "x\0"));
	assert_false(PARSES("want-disk\0" "1 \0"));
}

static void test_error_parameters_are_bounded(void **state)
{
	char p[256];
	size_t n = 0;

	(void)state;
	n += (size_t)sprintf(p, "error") + 1;
	n += (size_t)sprintf(p + n, "E") + 1;
	for (int i = 0; i < CTL_MAX_PARAMS; i++)
		n += (size_t)sprintf(p + n, "p%d", i) + 1;
	assert_true(parses(p, n));
	n += (size_t)sprintf(p + n, "one more") + 1;
	assert_false(parses(p, n));
}

/* a descriptor on a packet that should have none is closed, and the packet
 * refused (EPROTO); a disk packet without one too */
static void raw_send(const char *p, size_t n, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof(cm.space);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sp[0], &mh, 0), (ssize_t)n);
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void test_recv_refusals(void **state)
{
	static const char done[] = "done\0ok";
	static const char disk[] = "disk\0" "1\0" "2";
	struct ctl_msg m;
	int before = open_fds(), fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)state;
	raw_send(done, sizeof(done), fd);
	errno = 0;
	assert_int_equal(ctl_recv(sp[1], buf, sizeof(buf), &m), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(m.fd, -1);
	raw_send(disk, sizeof(disk), -1);
	assert_int_equal(ctl_recv(sp[1], buf, sizeof(buf), &m), -1);
	assert_int_equal(errno, EPROTO);
	raw_send("junk", 4, fd);
	assert_int_equal(ctl_recv(sp[1], buf, sizeof(buf), &m), -1);
	close(fd);
	assert_int_equal(open_fds(), before);   /* nothing received was kept */

	/* longer than the buffer: EMSGSIZE, and the next packet is whole */
	raw_send(done, sizeof(done), -1);
	assert_int_equal(ctl_recv(sp[1], buf, 4, &m), -1);
	assert_int_equal(errno, EMSGSIZE);
	raw_send(done, sizeof(done), -1);
	assert_int_equal(ctl_recv(sp[1], buf, sizeof(buf), &m), 1);
	assert_string_equal(m.s, "ok");

	/* the peer's close: 0 */
	close(sp[0]);
	sp[0] = -1;
	assert_int_equal(ctl_recv(sp[1], buf, sizeof(buf), &m), 0);
}

/* the largest packet fits a socketpair's default buffer */
static void test_largest_packet(void **state)
{
	static char xml[CTL_MAX];
	const size_t most = CTL_MAX - sizeof("ovaxml") - 1;    /* the verb's NUL, the XML's */
	struct ctl_msg m = { .type = CTL_OVAXML, .s = xml, .len = most, .fd = -1 }, r;

	(void)state;
	memset(xml, 'x', sizeof(xml));
	roundtrip(&m, &r);
	assert_int_equal(r.len, most);
	m.len++;                                /* one byte more: refused */
	assert_true(ctl_format(&m, buf, sizeof(buf)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_message_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_passes_its_descriptor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_refuses_what_parse_would, setup, teardown),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_error_parameters_are_bounded),
		cmocka_unit_test_setup_teardown(test_recv_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_largest_packet, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
