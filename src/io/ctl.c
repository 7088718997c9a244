/* The daemon <-> xenbox-io control channel (ctl.h). */
#include "io/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Argument kinds of each verb: N a number, T a text, C an error code,
 * P any number of texts (the error's parameters). */
static const struct {
	const char *verb;
	const char *args;
} verbs[] = {
	[CTL_PROGRESS] = { "progress", "NN" },
	[CTL_OVAXML] = { "ovaxml", "T" },
	[CTL_WANT_DISK] = { "want-disk", "N" },
	[CTL_DONE] = { "done", "T" },
	[CTL_ERROR] = { "error", "CP" },
	[CTL_DISK] = { "disk", "NN" },
	[CTL_NO_DISK] = { "no-disk", "N" },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

const char *ctl_verb(enum ctl_type t)
{
	return (unsigned)t < NVERBS ? verbs[t].verb : NULL;
}

static int parse_num(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	if (!len || len > 20 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int valid_code(const char *s, size_t len)
{
	if (!len || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The rules both directions share: progress within its total. */
static int valid(const struct ctl_msg *m)
{
	return m->type != CTL_PROGRESS || !m->n[1] || m->n[0] <= m->n[1];
}

int ctl_parse(const char *p, size_t n, struct ctl_msg *m)
{
	const char *end = p + n, *f, *nul;
	const char *args;
	unsigned t, ni = 0;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!n || n > CTL_MAX || p[n - 1])
		return -1;
	for (t = 0; t < NVERBS; t++)
		if (!strcmp(p, verbs[t].verb))
			break;
	if (t == NVERBS)
		return -1;
	m->type = (enum ctl_type)t;
	f = p + strlen(p) + 1;
	for (args = verbs[t].args; *args; args++) {
		size_t len;

		if (*args == 'P') {
			/* the rest: texts */
			for (; f < end; f = nul + 1) {
				nul = memchr(f, 0, (size_t)(end - f));
				if (m->nparam == CTL_MAX_PARAMS)
					return -1;
				m->param[m->nparam++] = f;
			}
			break;
		}
		if (f >= end)
			return -1;              /* a field missing */
		nul = memchr(f, 0, (size_t)(end - f));
		len = (size_t)(nul - f);
		if (*args == 'N') {
			if (parse_num(f, len, &m->n[ni++]))
				return -1;
		} else {
			if (*args == 'C' && !valid_code(f, len))
				return -1;
			m->s = f;
			m->len = len;
		}
		f = nul + 1;
	}
	if (f != end)
		return -1;                      /* a field too many */
	return valid(m) ? 0 : -1;
}

static int put(char *out, size_t cap, size_t *at, const char *s, size_t len)
{
	if (memchr(s, 0, len) || len + 1 > cap - *at)
		return -1;
	memcpy(out + *at, s, len);
	out[*at + len] = 0;
	*at += len + 1;
	return 0;
}

long ctl_format(const struct ctl_msg *m, char *out, size_t cap)
{
	const char *verb = ctl_verb(m->type), *args;
	size_t at = 0;
	unsigned ni = 0;

	if (cap > CTL_MAX)
		cap = CTL_MAX;
	if (!verb || !valid(m) || put(out, cap, &at, verb, strlen(verb)))
		return -1;
	for (args = verbs[m->type].args; *args; args++) {
		if (*args == 'N') {
			char num[24];
			int len = snprintf(num, sizeof(num), "%llu", (unsigned long long)m->n[ni++]);

			if (put(out, cap, &at, num, (size_t)len))
				return -1;
		} else if (*args == 'P') {
			if (m->nparam > CTL_MAX_PARAMS)
				return -1;
			for (unsigned i = 0; i < m->nparam; i++)
				if (!m->param[i] || put(out, cap, &at, m->param[i], strlen(m->param[i])))
					return -1;
		} else {
			const char *s = m->s ? m->s : "";

			if (*args == 'C' && !valid_code(s, m->len))
				return -1;
			if (put(out, cap, &at, s, m->s ? m->len : 0))
				return -1;
		}
	}
	return (long)at;
}

int ctl_send(int sock, const struct ctl_msg *m)
{
	static char buf[CTL_MAX];       /* one sender per process: the helper, or the loop */
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	long n = ctl_format(m, buf, sizeof(buf));
	ssize_t r;

	if (n < 0 || (m->type == CTL_DISK) != (m->fd >= 0)) {
		errno = EINVAL;
		return -1;
	}
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	if (m->fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof(cm.space);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &m->fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r == n ? 0 : -1;
}

int ctl_recv(int sock, char *buf, size_t cap, struct ctl_msg *m)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cm.space, .msg_controllen = sizeof(cm.space) };
	int fds[4], nfd = 0, err = EPROTO;
	struct cmsghdr *c;
	ssize_t r;

	m->fd = -1;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && nfd < 4; k++)
			memcpy(&fds[nfd++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
	}
	if (!r && !nfd)
		return 0;                       /* the peer has closed */
	if (mh.msg_flags & MSG_TRUNC)
		err = EMSGSIZE;
	else if (!(mh.msg_flags & MSG_CTRUNC) && !ctl_parse(buf, (size_t)r, m) &&
		 nfd == (m->type == CTL_DISK)) {
		if (nfd)
			m->fd = fds[0];
		return 1;
	}
	m->fd = -1;
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	errno = err;
	return -1;
}
