/* The management interface as the OS has it, told to the API (host.address
 * and the management PIF: api_host_netinfo).
 *
 * The interface: xenbox.conf's management_interface (default xenbr0, the
 * USB image's bridge) if it exists, else the one the default IPv4 route
 * leaves by, else loopback.  Its link (MAC, MTU), first IPv4 address
 * (netmask), default gateway and, without IPv4, a global IPv6 address come
 * from rtnetlink dumps; DNS from /etc/resolv.conf's nameserver lines.
 *
 * Changes: a netlink socket subscribed to links, IPv4 and IPv6 addresses
 * and IPv4 routes, and inotify on resolv.conf (its file, and the directory
 * of the file it resolves to, for a file replaced by rename), all in the
 * loop.  An event arms a 200 ms timerfd; when it fires everything is read
 * again (three dumps: O(links + addresses + routes)), so the steps of a
 * DHCP renewal (flush, add, route, resolv.conf) make one update.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "api/api.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/loop.h"
#include "server/server.h"

#define RESOLV "/etc/resolv.conf"
#define MAX_DEFAULTS 8          /* default routes looked at */

static int nl_fd = -1, ino_fd = -1, timer_fd = -1, file_wd = -1, armed;
static char want[IF_NAMESIZE];
static const char *mode;        /* the configured interface's ip_configuration_mode */

struct probe {
	int want_idx, lo_idx, idx;      /* ifindex, 0 none */
	int ndef;
	struct { int oif; unsigned metric; char gw[16]; } def[MAX_DEFAULTS];
	struct api_netinfo ni;
};

/* ---- rtnetlink dumps ---- */

typedef void dump_fn(struct nlmsghdr *h, struct rtattr **tb, struct probe *p);

#define TB_MAX 64               /* attribute types beyond are not needed */

/* One dump request (a zeroed ifinfomsg-sized body: its family byte is the
 * first of ifaddrmsg and rtmsg too); each reply message to fn with its
 * attributes by type (hl: the size of its fixed header). */
static int dump(int type, int family, size_t hl, dump_fn *fn, struct probe *p)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg body;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = (unsigned short)type,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 } };
	char buf[16384] __attribute__((aligned(4)));   /* the kernel fits its parts to it */
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc = -1;

	req.body.ifi_family = (unsigned char)family;
	if (fd < 0 || send(fd, &req, sizeof(req), 0) < 0)
		goto out;
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		size_t n = r > 0 ? (size_t)r : 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			struct rtattr *tb[TB_MAX] = { 0 }, *a;
			unsigned left;

			if (h->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				goto out;
			if (h->nlmsg_len < NLMSG_LENGTH(hl))
				continue;
			a = (struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(hl));
			for (left = (unsigned)NLMSG_PAYLOAD(h, hl); RTA_OK(a, left); a = RTA_NEXT(a, left))
				if (a->rta_type < TB_MAX)
					tb[a->rta_type] = a;
			fn(h, tb, p);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static unsigned u32(const struct rtattr *a)
{
	return a && RTA_PAYLOAD(a) >= 4 ? *(const unsigned *)RTA_DATA(a) : 0;
}

/* the configured interface, loopback; then (p->idx set) its MAC and MTU */
static void on_link(struct nlmsghdr *h, struct rtattr **tb, struct probe *p)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *mac = tb[IFLA_ADDRESS];

	if (!p->idx) {
		if (ifi->ifi_flags & IFF_LOOPBACK)
			p->lo_idx = ifi->ifi_index;
		if (tb[IFLA_IFNAME] && !strncmp(RTA_DATA(tb[IFLA_IFNAME]), want, sizeof(want)))
			p->want_idx = ifi->ifi_index;
		return;
	}
	if (ifi->ifi_index != p->idx)
		return;
	p->ni.mtu = (int)u32(tb[IFLA_MTU]);
	if (mac && RTA_PAYLOAD(mac) == 6) {
		const unsigned char *m = RTA_DATA(mac);

		snprintf(p->ni.mac, sizeof(p->ni.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
	}
}

/* default IPv4 routes of the main table */
static void on_route(struct nlmsghdr *h, struct rtattr **tb, struct probe *p)
{
	struct rtmsg *rt = NLMSG_DATA(h);
	unsigned table = tb[RTA_TABLE] ? u32(tb[RTA_TABLE]) : rt->rtm_table;

	if (rt->rtm_family != AF_INET || rt->rtm_dst_len || table != RT_TABLE_MAIN ||
	    !tb[RTA_OIF] || p->ndef == MAX_DEFAULTS)
		return;
	p->def[p->ndef].oif = (int)u32(tb[RTA_OIF]);
	p->def[p->ndef].metric = u32(tb[RTA_PRIORITY]);
	if (tb[RTA_GATEWAY])
		inet_ntop(AF_INET, RTA_DATA(tb[RTA_GATEWAY]), p->def[p->ndef].gw,
			  sizeof(p->def[0].gw));
	p->ndef++;
}

static void on_addr(struct nlmsghdr *h, struct rtattr **tb, struct probe *p)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	/* IFA_LOCAL is this end of a point-to-point link */
	const struct rtattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];

	if ((int)ifa->ifa_index != p->idx || !a)
		return;
	if (ifa->ifa_family == AF_INET && !p->ni.ip[0] && !(ifa->ifa_flags & IFA_F_SECONDARY)) {
		uint32_t mask = ifa->ifa_prefixlen ? htonl(~0u << (32 - ifa->ifa_prefixlen)) : 0;

		inet_ntop(AF_INET, RTA_DATA(a), p->ni.ip, sizeof(p->ni.ip));
		inet_ntop(AF_INET, &mask, p->ni.netmask, sizeof(p->ni.netmask));
	} else if (ifa->ifa_family == AF_INET6 && !p->ni.address[0] &&
		   ifa->ifa_scope == RT_SCOPE_UNIVERSE &&
		   !(ifa->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED))) {
		inet_ntop(AF_INET6, RTA_DATA(a), p->ni.address, sizeof(p->ni.address));
	}
}

/* ---- resolv.conf ---- */

static void read_dns(char *out, size_t n)
{
	FILE *f = fopen(RESOLV, "re");
	char line[256], ip[64];
	size_t used = 0;

	*out = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %63s", ip) == 1 && used + strlen(ip) + 2 < n)
			used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "," : "", ip);
	fclose(f);
}

/* Where RESOLV leads: realpath(); or, while the file at the end of its
 * symlinks is not there yet (the USB image's ../run/resolv.conf before
 * anything wrote it), those links followed by hand (8 at most), so that
 * the file's creation is watched for in its own directory. */
static char *resolv_target(void)
{
	char *real = realpath(RESOLV, NULL), path[PATH_MAX] = RESOLV, to[PATH_MAX], next[PATH_MAX];
	ssize_t r;

	if (real)
		return real;
	for (int i = 0; i < 8 && (r = readlink(path, to, sizeof(to) - 1)) > 0; i++) {
		/* a relative link is relative to the link's directory */
		int keep = to[0] == '/' ? 0 : (int)(strrchr(path, '/') + 1 - path), n;

		to[r] = 0;
		n = snprintf(next, sizeof(next), "%.*s%s", keep, path, to);
		if (n < 0 || (size_t)n >= sizeof(next))
			break;
		memcpy(path, next, (size_t)n + 1);
	}
	return xstrdup(path);
}

/* The file (its inode: written in place, as udhcpc's script does) and the
 * directory of the file it resolves to (replaced by rename, or created). */
static char *resolv_real;        /* where RESOLV leads */

static void watch_resolv(void)
{
	char *dir;

	if (ino_fd < 0)
		return;
	file_wd = inotify_add_watch(ino_fd, RESOLV, IN_CLOSE_WRITE | IN_MODIFY |
				    IN_DELETE_SELF | IN_MOVE_SELF);
	free(resolv_real);
	resolv_real = resolv_target();
	dir = xstrdup(resolv_real);
	*(strrchr(dir, '/') + (strrchr(dir, '/') == dir)) = 0;
	inotify_add_watch(ino_fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE);
	free(dir);
}

/* ---- refresh ---- */

/* The lowest-metric default route, of oif if oif > 0; NULL if none. */
static const char *best(struct probe *p, int oif, int *out_oif)
{
	int b = -1;

	for (int i = 0; i < p->ndef; i++)
		if ((oif <= 0 || p->def[i].oif == oif) && (b < 0 || p->def[i].metric < p->def[b].metric))
			b = i;
	if (b < 0)
		return NULL;
	*out_oif = p->def[b].oif;
	return p->def[b].gw;
}

static void refresh(void)
{
	struct probe p = { 0 };
	const char *gw;
	int oif = 0;

	if (dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), on_link, &p) ||
	    dump(RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), on_route, &p))
		goto fail;
	p.idx = p.want_idx;
	if (!p.idx)
		p.idx = best(&p, 0, &oif) ? oif : p.lo_idx;
	if ((gw = best(&p, p.idx, &oif)))
		snprintf(p.ni.gateway, sizeof(p.ni.gateway), "%s", gw);
	if (p.idx && (dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), on_link, &p) ||
		      dump(RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), on_addr, &p)))
		goto fail;
	if (p.ni.ip[0])
		snprintf(p.ni.address, sizeof(p.ni.address), "%s", p.ni.ip);
	read_dns(p.ni.dns, sizeof(p.ni.dns));
	p.ni.mode = p.want_idx ? mode : "None";
	api_host_netinfo(&p.ni);
	return;
fail:
	log_warn("netinfo: rtnetlink: %s", strerror(errno));
}

static void on_timer(int fd, int events, void *opaque)
{
	uint64_t n;

	(void)events;
	(void)opaque;
	if (read(fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	armed = 0;
	watch_resolv();         /* again: the file may be a new one */
	refresh();
}

/* A change (netlink: any; inotify: resolv.conf's): drain, and refresh in
 * 200 ms, once per burst. */
static void on_change(int fd, int events, void *opaque)
{
	char buf[4096] __attribute__((aligned(8)));
	struct itimerspec in = { .it_value = { 0, 200 * 1000 * 1000 } };
	const char *base = opaque ? strrchr(resolv_real, '/') + 1 : NULL;
	int hit = !opaque;
	ssize_t r;

	(void)events;
	while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == ENOBUFS))
		for (char *q = buf; opaque && q < buf + r;) {
			struct inotify_event *ev = (struct inotify_event *)q;

			hit |= ev->wd == file_wd || (ev->len && !strcmp(ev->name, base));
			q += sizeof(*ev) + ev->len;
		}
	if (hit && !armed && !timerfd_settime(timer_fd, 0, &in, NULL))
		armed = 1;
}

void netinfo_start(const char *ifname, const char *network)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
			     RTMGRP_IPV6_IFADDR,
	};

	snprintf(want, sizeof(want), "%s", ifname ? ifname : "");
	mode = network && !strcmp(network, "static") ? "Static" : "DHCP";
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (timer_fd < 0 || nl_fd < 0 || ino_fd < 0 ||
	    bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_warn("netinfo: %s; host.address will not follow changes", strerror(errno));
	} else {
		loop_watch(timer_fd, LOOP_READ, on_timer, NULL);
		loop_watch(nl_fd, LOOP_READ, on_change, NULL);
		loop_watch(ino_fd, LOOP_READ, on_change, &ino_fd);
		watch_resolv();
	}
	refresh();
}

void netinfo_stop(void)
{
	int *fds[] = { &nl_fd, &ino_fd, &timer_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			loop_unwatch(*fds[i]);
			close(*fds[i]);
			*fds[i] = -1;
		}
	armed = 0;
	free(resolv_real);
	resolv_real = NULL;
}
