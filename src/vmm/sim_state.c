/* sim backend: the state file, DIR/domains.
 *
 *   xenbox-sim 1
 *   clock 12000                      ms; integrated up to here
 *   next-domid 3
 *   cpus 4
 *   busy 10,20,30,40                 ns per pCPU (cpus entries)
 *   idle 10,20,30,40
 *   dom 1 uuid=... name=web%20one type=pv state=running reason=none
 *         booted=1 guest=cooperative delay=1000 mem-max=... mem-target=...
 *         mem-actual=... vcpus-max=2 vcpus=2 run-ms=... vcpu-ms=5,5
 *         pending=none due=0 self-stop=none self-due=0 vifs=0,1 vbds=xvda
 *
 * One "dom" line per domain (shown wrapped); self-stop and self-due may be
 * missing (files written before stop= existed).  Names are %XX-escaped.
 * Blank lines and lines starting with '#' are ignored.  Anything else that
 * does not parse fails the open with "PATH:LINE: what".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/sim_priv.h"

#define STATE_MAGIC "xenbox-sim 1"

/* ---- writing ---- */

static void add_name(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._:@+/", *p)) {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

static void add_u64s(struct buf *b, const uint64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_addf(b, "%s%llu", i ? "," : "", (unsigned long long)v[i]);
}

static void add_dom(struct buf *b, const struct sim_dom *d)
{
	unsigned i;

	buf_addf(b, "dom %u uuid=%s name=", d->domid, d->uuid);
	add_name(b, d->name);
	buf_addf(b, " type=%s state=%s reason=%s booted=%d guest=%s delay=%llu",
		 vmm_type_name(d->type), vmm_state_name(d->state),
		 vmm_reason_name(d->reason), d->booted,
		 d->cooperative ? "cooperative" : "uncooperative",
		 (unsigned long long)d->delay_ms);
	buf_addf(b, " mem-max=%llu mem-target=%llu mem-actual=%llu",
		 (unsigned long long)d->mem_max,
		 (unsigned long long)d->mem_target,
		 (unsigned long long)d->mem_actual);
	buf_addf(b, " vcpus-max=%u vcpus=%u run-ms=%llu vcpu-ms=", d->vcpus_max,
		 d->vcpus_online, (unsigned long long)d->run_ms);
	add_u64s(b, d->vcpu_ms, d->vcpus_max);
	buf_addf(b, " pending=%s due=%llu self-stop=%s self-due=%llu vifs=",
		 d->pending == SIM_NO_REQ ? "none" : vmm_request_name(d->pending),
		 (unsigned long long)d->due_ms, vmm_reason_name(d->self_stop),
		 (unsigned long long)d->self_due);
	for (i = 0; i < d->nr_vifs; i++)
		buf_addf(b, "%s%u", i ? "," : "", d->vif_devid[i]);
	buf_adds(b, " vbds=");
	for (i = 0; i < d->nr_vbds; i++)
		buf_addf(b, "%s%s", i ? "," : "", d->vbd_vdev[i]);
	buf_addc(b, '\n');
}

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int sim_state_save(struct sim *s, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	size_t i;
	int fd = -1, rc;

	buf_addf(&b, STATE_MAGIC "\n# written by xenbox's sim backend;"
		 " rewritten on every change\nclock %llu\nnext-domid %u\n"
		 "cpus %u\nbusy ", (unsigned long long)s->settled_ms,
		 s->next_domid, s->nr_cpus);
	add_u64s(&b, s->pcpu_busy_ns, s->nr_cpus);
	buf_adds(&b, "\nidle ");
	add_u64s(&b, s->pcpu_idle_ns, s->nr_cpus);
	buf_addc(&b, '\n');
	for (i = 0; i < s->nr_doms; i++)
		add_dom(&b, s->doms[i]);

	fd = open(s->state_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = write_all(fd, b.data, b.len);
	if (rc)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(s->state_tmp, s->state_path) < 0) {
		rc = -errno;
		goto fail;
	}
	buf_free(&b);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(s->state_tmp);
	buf_free(&b);
	return vmm_seterr(err, errlen, rc, "sim: writing %s: %s", s->state_path,
			  strerror(-rc));
}

/* ---- reading ---- */

struct loader {
	struct sim *s;
	unsigned line;
	char *err;
	size_t errlen;
	/* host lines, applied once the whole file parsed */
	bool have_clock;
	uint64_t clock, cpus;
	uint64_t busy[VMM_MAX_PCPUS], idle[VMM_MAX_PCPUS];
	size_t nr_busy, nr_idle;
};

static int bad(struct loader *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct loader *l, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return vmm_seterr(l->err, l->errlen, -EINVAL, "%s:%u: %s",
			  l->s->state_path, l->line, what);
}

static int parse_name(const char *v, char *out, size_t size)
{
	size_t n = 0;
	int hi, lo;

	for (; *v; v++) {
		char c = *v;

		if (c == '%') {
			if (!isxdigit((unsigned char)v[1]) ||
			    !isxdigit((unsigned char)v[2]))
				return -EINVAL;
			hi = isdigit((unsigned char)v[1]) ? v[1] - '0' :
			     toupper((unsigned char)v[1]) - 'A' + 10;
			lo = isdigit((unsigned char)v[2]) ? v[2] - '0' :
			     toupper((unsigned char)v[2]) - 'A' + 10;
			c = (char)(hi * 16 + lo);
			v += 2;
			if (!c)
				return -EINVAL;
		}
		if (n + 1 >= size)
			return -EINVAL;
		out[n++] = c;
	}
	out[n] = 0;
	return n ? 0 : -EINVAL;
}

/* "1,2,3" (or "") into at most max numbers. */
static int parse_u64s(char *v, uint64_t *out, size_t max, size_t *nr)
{
	char *tok, *save = NULL;

	*nr = 0;
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*nr == max || sim_parse_u64(tok, &out[*nr]))
			return -EINVAL;
		(*nr)++;
	}
	return 0;
}

static int parse_u32(const char *v, uint64_t max, uint32_t *out)
{
	uint64_t n;

	if (sim_parse_u64(v, &n) || n > max)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

enum {
	K_UUID = 1 << 0, K_NAME = 1 << 1, K_TYPE = 1 << 2, K_STATE = 1 << 3,
	K_MEMMAX = 1 << 4, K_MEMTARGET = 1 << 5, K_MEMACTUAL = 1 << 6,
	K_VCPUSMAX = 1 << 7, K_VCPUS = 1 << 8,
	K_REQUIRED = (1 << 9) - 1,
};

static int dom_key(struct loader *l, struct sim_dom *d, const char *key,
		   char *val, unsigned *seen, size_t *nr_vcpu_ms)
{
	uint64_t u64s[VMM_MAX_DEVS];
	size_t n, i;
	int rc = 0;

	if (!strcmp(key, "uuid")) {
		*seen |= K_UUID;
		if (!vmm_uuid_valid(val))
			return bad(l, "bad uuid '%s'", val);
		memcpy(d->uuid, val, sizeof(d->uuid));
	} else if (!strcmp(key, "name")) {
		*seen |= K_NAME;
		if (parse_name(val, d->name, sizeof(d->name)))
			return bad(l, "bad name '%s'", val);
	} else if (!strcmp(key, "type")) {
		*seen |= K_TYPE;
		rc = vmm_type_parse(val, &d->type);
	} else if (!strcmp(key, "state")) {
		*seen |= K_STATE;
		rc = vmm_state_parse(val, &d->state);
	} else if (!strcmp(key, "reason")) {
		rc = vmm_reason_parse(val, &d->reason);
	} else if (!strcmp(key, "booted")) {
		if (strcmp(val, "0") && strcmp(val, "1"))
			rc = -EINVAL;
		d->booted = !strcmp(val, "1");
	} else if (!strcmp(key, "guest")) {
		if (strcmp(val, "cooperative") && strcmp(val, "uncooperative"))
			rc = -EINVAL;
		d->cooperative = !strcmp(val, "cooperative");
	} else if (!strcmp(key, "delay")) {
		rc = sim_parse_u64(val, &d->delay_ms);
	} else if (!strcmp(key, "mem-max")) {
		*seen |= K_MEMMAX;
		rc = sim_parse_u64(val, &d->mem_max);
	} else if (!strcmp(key, "mem-target")) {
		*seen |= K_MEMTARGET;
		rc = sim_parse_u64(val, &d->mem_target);
	} else if (!strcmp(key, "mem-actual")) {
		*seen |= K_MEMACTUAL;
		rc = sim_parse_u64(val, &d->mem_actual);
	} else if (!strcmp(key, "vcpus-max")) {
		*seen |= K_VCPUSMAX;
		rc = parse_u32(val, VMM_MAX_VCPUS, &d->vcpus_max);
	} else if (!strcmp(key, "vcpus")) {
		*seen |= K_VCPUS;
		rc = parse_u32(val, VMM_MAX_VCPUS, &d->vcpus_online);
	} else if (!strcmp(key, "run-ms")) {
		rc = sim_parse_u64(val, &d->run_ms);
	} else if (!strcmp(key, "vcpu-ms")) {
		rc = parse_u64s(val, d->vcpu_ms, VMM_MAX_VCPUS, nr_vcpu_ms);
	} else if (!strcmp(key, "pending")) {
		enum vmm_shutdown_request req;

		if (!strcmp(val, "none"))
			d->pending = SIM_NO_REQ;
		else if (!(rc = vmm_request_parse(val, &req)))
			d->pending = req;
	} else if (!strcmp(key, "due")) {
		rc = sim_parse_u64(val, &d->due_ms);
	} else if (!strcmp(key, "self-stop")) {
		rc = vmm_reason_parse(val, &d->self_stop);
	} else if (!strcmp(key, "self-due")) {
		rc = sim_parse_u64(val, &d->self_due);
	} else if (!strcmp(key, "vifs")) {
		rc = parse_u64s(val, u64s, VMM_MAX_DEVS, &n);
		for (i = 0; !rc && i < n; i++)
			if (u64s[i] > UINT32_MAX)
				rc = -EINVAL;
			else
				d->vif_devid[i] = (uint32_t)u64s[i];
		d->nr_vifs = rc ? 0 : (unsigned)n;
	} else if (!strcmp(key, "vbds")) {
		char *tok, *save = NULL;

		for (tok = strtok_r(val, ",", &save); tok && !rc;
		     tok = strtok_r(NULL, ",", &save)) {
			if (d->nr_vbds == VMM_MAX_DEVS || !vmm_vdev_valid(tok))
				rc = -EINVAL;
			else
				strcpy(d->vbd_vdev[d->nr_vbds++], tok);
		}
	} else {
		return bad(l, "unknown key '%s'", key);
	}
	if (rc)
		return bad(l, "bad value for %s", key);
	return 0;
}

static int dom_check(struct loader *l, const struct sim_dom *d, unsigned seen,
		     size_t nr_vcpu_ms)
{
	static const char *const names[] = {
		"uuid", "name", "type", "state", "mem-max", "mem-target",
		"mem-actual", "vcpus-max", "vcpus",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!(seen & (1u << i)))
			return bad(l, "domain %u has no %s", d->domid, names[i]);
	if ((d->state == VMM_STATE_SHUTDOWN) != (d->reason != VMM_REASON_NONE))
		return bad(l, "domain %u: state %s with reason %s", d->domid,
			   vmm_state_name(d->state), vmm_reason_name(d->reason));
	if (!d->mem_max || d->mem_target > d->mem_max ||
	    d->mem_actual > d->mem_max)
		return bad(l, "domain %u: memory above its static max", d->domid);
	if (!d->vcpus_max || !d->vcpus_online || d->vcpus_online > d->vcpus_max)
		return bad(l, "domain %u: vcpus %u of %u", d->domid,
			   d->vcpus_online, d->vcpus_max);
	if (nr_vcpu_ms && nr_vcpu_ms != d->vcpus_max)
		return bad(l, "domain %u: vcpu-ms has %zu entries, not %u",
			   d->domid, nr_vcpu_ms, d->vcpus_max);
	return 0;
}

static int parse_dom(struct loader *l, char *rest)
{
	struct sim_dom *d = sim_dom_new(), *other;
	char *tok, *save = NULL, *eq;
	unsigned seen = 0;
	size_t nr_vcpu_ms = 0, i;
	int rc;

	tok = strtok_r(rest, " \t", &save);
	if (!tok || parse_u32(tok, SIM_DOMID_MAX, &d->domid)) {
		rc = bad(l, "expected a domid after 'dom'");
		goto out;
	}
	while ((tok = strtok_r(NULL, " \t", &save))) {
		eq = strchr(tok, '=');
		if (!eq) {
			rc = bad(l, "expected key=value, not '%s'", tok);
			goto out;
		}
		*eq = 0;
		rc = dom_key(l, d, tok, eq + 1, &seen, &nr_vcpu_ms);
		if (rc)
			goto out;
	}
	rc = dom_check(l, d, seen, nr_vcpu_ms);
	if (rc)
		goto out;
	for (i = 0; i < l->s->nr_doms; i++) {
		other = l->s->doms[i];
		if (!strcasecmp(other->uuid, d->uuid)) {
			rc = bad(l, "domains %u and %u have the same uuid",
				 other->domid, d->domid);
			goto out;
		}
	}
	if (sim_insert_locked(l->s, d)) {
		rc = bad(l, "domain %u appears twice", d->domid);
		goto out;
	}
	d = NULL;
out:
	sim_dom_free(d);
	return rc;
}

static int parse_line(struct loader *l, char *line)
{
	char *key = line, *rest;
	size_t n;
	uint32_t next;

	rest = line + strcspn(line, " \t");
	if (*rest)
		*rest++ = 0;
	rest += strspn(rest, " \t");
	if (!strcmp(key, "dom"))
		return parse_dom(l, rest);
	if (!strcmp(key, "clock")) {
		if (sim_parse_u64(rest, &l->clock))
			return bad(l, "bad clock '%s'", rest);
		l->have_clock = true;
	} else if (!strcmp(key, "next-domid")) {
		if (parse_u32(rest, SIM_DOMID_MAX, &next) || !next)
			return bad(l, "bad next-domid '%s'", rest);
		l->s->next_domid = next;
	} else if (!strcmp(key, "cpus")) {
		if (sim_parse_u64(rest, &l->cpus) || !l->cpus ||
		    l->cpus > VMM_MAX_PCPUS)
			return bad(l, "bad cpus '%s'", rest);
	} else if (!strcmp(key, "busy") || !strcmp(key, "idle")) {
		bool busy = key[0] == 'b';

		if (parse_u64s(rest, busy ? l->busy : l->idle, VMM_MAX_PCPUS,
			       busy ? &l->nr_busy : &l->nr_idle))
			return bad(l, "bad %s list", key);
		n = busy ? l->nr_busy : l->nr_idle;
		if (n != l->cpus)
			return bad(l, "%s has %zu entries for %llu cpus", key, n,
				   (unsigned long long)l->cpus);
	} else {
		return bad(l, "unknown line '%s'", key);
	}
	return 0;
}

/* -ENOENT when there is no file yet (start afresh). */
int sim_state_load(struct sim *s, char *err, size_t errlen)
{
	struct loader l = { .s = s, .err = err, .errlen = errlen };
	bool magic = false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	f = fopen(s->state_path, "re");
	if (!f) {
		if (errno == ENOENT)
			return -ENOENT;
		return vmm_seterr(err, errlen, -errno, "sim: %s: %s",
				  s->state_path, strerror(errno));
	}
	while (!rc && (len = getline(&line, &cap, f)) >= 0) {
		l.line++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if ((size_t)len != strlen(line)) {
			rc = bad(&l, "NUL byte in line");
		} else if (!magic) {
			if (strcmp(line, STATE_MAGIC))
				rc = bad(&l, "not a sim state file (expected '"
					 STATE_MAGIC "')");
			magic = true;
		} else if (line[0] && line[0] != '#') {
			rc = parse_line(&l, line);
		}
	}
	if (!rc && ferror(f))
		rc = vmm_seterr(err, errlen, -EIO, "sim: reading %s failed",
				s->state_path);
	else if (!rc && !magic)
		rc = vmm_seterr(err, errlen, -EINVAL, "%s:1: empty state file",
				s->state_path);
	free(line);
	fclose(f);
	if (rc)
		return rc;

	if (l.have_clock) {
		s->settled_ms = l.clock;
		if (!s->real_clock)
			s->now_ms = l.clock;
		else if (s->settled_ms > s->now_ms)
			s->settled_ms = s->now_ms;      /* the host rebooted */
	}
	/* pCPU counters survive only if the host kept its CPUs. */
	if (l.cpus == s->nr_cpus && l.nr_busy == l.cpus && l.nr_idle == l.cpus) {
		memcpy(s->pcpu_busy_ns, l.busy, l.cpus * sizeof(l.busy[0]));
		memcpy(s->pcpu_idle_ns, l.idle, l.cpus * sizeof(l.idle[0]));
	}
	return 0;
}
