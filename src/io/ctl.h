/* The control channel between the daemon and a xenbox-io helper
 * (docs/STORAGE.md 5.1): a SOCK_SEQPACKET socketpair, the helper's fd 3,
 * one message per packet, a descriptor passed with SCM_RIGHTS.
 *
 * A packet is a list of fields, each ended by a NUL byte; the first is
 * the verb.  Numbers are decimal, unsigned 64-bit, without sign or
 * leading zeros.  Texts may hold any byte but NUL.
 *
 *   helper -> daemon
 *     progress DONE TOTAL      bytes done of TOTAL (0: unknown); DONE <= TOTAL
 *     ovaxml XML               the ova.xml of an XVA import
 *     want-disk ID             the next disk's descriptor, please
 *     done RESULT              success (the task's result, may be empty)
 *     error CODE PARAM...      a XenAPI error code ([A-Z0-9_], at most 64)
 *                              and up to CTL_MAX_PARAMS parameters
 *   daemon -> helper
 *     disk ID VIRTUAL_SIZE     with the disk's descriptor (exactly one)
 *     no-disk ID
 *
 * Only `disk` carries a descriptor; any other packet with one is
 * malformed.  A packet is at most CTL_MAX bytes, which a socketpair's
 * default send buffer (net.core.wmem_default, 208 KiB) holds.  The parser
 * is pure and fuzzed (tests/fuzz/fuzz_ctl.c). */
#ifndef XB_IO_CTL_H
#define XB_IO_CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_MAX (128 * 1024)
#define CTL_MAX_PARAMS 16
#define CTL_FD 3                        /* the helper's end */

enum ctl_type {
	CTL_PROGRESS,
	CTL_OVAXML,
	CTL_WANT_DISK,
	CTL_DONE,
	CTL_ERROR,
	CTL_DISK,
	CTL_NO_DISK,
};

struct ctl_msg {
	enum ctl_type type;
	uint64_t n[2];          /* progress: done, total; disk: id, size; want-disk, no-disk: id */
	const char *s;          /* ovaxml: the XML; done: the result; error: the code */
	size_t len;             /* of s */
	const char *param[CTL_MAX_PARAMS];      /* error's parameters */
	unsigned nparam;
	int fd;                 /* disk: its descriptor, else -1 */
};

/* The verb's name ("progress"...), or NULL for a type out of range. */
const char *ctl_verb(enum ctl_type t);

/* p[0..n) as a packet into m, whose strings then point into p (every
 * field ends with its NUL there).  m->fd is set to -1.  0, or -1 when p
 * is not a well-formed packet. */
int ctl_parse(const char *p, size_t n, struct ctl_msg *m);

/* m as a packet into out[0..cap).  Its length, or -1 when m is not
 * well-formed (ctl_parse would refuse it) or does not fit. */
long ctl_format(const struct ctl_msg *m, char *out, size_t cap);

/* Send m on sock (with m->fd when it is a `disk`).  0, or -1 with errno
 * (EINVAL: not well-formed). */
int ctl_send(int sock, const struct ctl_msg *m);

/* Receive one packet into buf[0..cap) and parse it into m.  1 with a
 * message (a `disk`'s descriptor is then the caller's, close-on-exec),
 * 0 when the peer has closed, -1 with errno: EMSGSIZE (longer than cap),
 * EPROTO (malformed, or a descriptor where none belongs: it is closed),
 * or the system call's. */
int ctl_recv(int sock, char *buf, size_t cap, struct ctl_msg *m);

#endif
