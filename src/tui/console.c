/* `xenbox console`: the field technician's console (docs/SERIAL_CONSOLE.md), an
 * xsconsole-like menu for an 80x24 VT100 on the serial line and the
 * screen.  A client of the XenAPI over the daemon's Unix socket, as
 * xsconsole is of XAPI's (pool/client.c, logged in as the local root);
 * what it shows is polled every two seconds, what it offers is what
 * allowed_operations allows, and when the daemon stops answering it says
 * so and reconnects.  The screen is tui/screen.c's cell buffer: only what
 * changed goes down the line.
 *
 *   xenbox console [--unix PATH] [--config FILE] [--net-apply PROG]
 *                  [--login PROG] [--bootlog FILE] [--state-dir DIR] [--kiosk]
 *
 * Key map: Up/Down or the item's number chooses, Enter or Right enters,
 * Esc or Left goes back; in a guest's console Ctrl-] detaches. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "applet.h"
#include "http/http.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/certfp.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "pool/client.h"
#include "tui/screen.h"

#define DETACH_KEY 0x1d                 /* Ctrl-] */
#define POLL_MS 2000                    /* data refresh */
#define MAX_VMS 64

static struct opts {
	const char *unix_path, *config, *net_apply, *login, *bootlog, *state_dir;
	int kiosk;
} o = {
	"/var/lib/xcp/xapi", "/boot/xenbox.conf", "/usr/lib/xenbox/net-apply",
	"/bin/login", "/state/log/boot.log", "/var/lib/xenbox", 0,
};

/* ---- what the API says, copied out of the client's arena ---- */
struct vm {
	char ref[64], uuid[40], name[48], power[16];
	char ops[256];                  /* allowed_operations, " op op " */
	char consoles[4][64];           /* console refs */
	int nconsoles;
};

static struct state {
	struct xb_client cl;
	int up;                         /* connected and logged in */
	time_t down_since;              /* when it stopped answering; 0: never */
	time_t last_try, last_poll;
	char why[160];                  /* the last transport error */
	/* this host */
	char host[64], name[64], hostname[64], address[64], xen[32], version[32];
	char host_ops[256], tls_fp[CERTFP_LEN], pool_fp[CERTFP_LEN];
	int64_t mem_total, mem_free;
	char role[80], master[160];
	int is_master, npool_hosts;
	struct vm vms[MAX_VMS];
	int nvms, nrunning;
	/* an Async call in progress */
	char task[64], task_what[80];
	char msg[160];                  /* the message line */
} st;

static struct scr scr;
static void console_attach(const struct vm *m);
static struct termios saved_tio;
static int have_tio;
static volatile sig_atomic_t resized;

/* ---- small helpers ---- */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st.msg, sizeof(st.msg), fmt, ap);
	va_end(ap);
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static const char *sget(const struct xv *m, const char *k)
{
	const struct xv *v = xv_get(m, k);

	return v && v->type == XV_STRING ? v->u.s : "";
}

static int64_t iget(const struct xv *m, const char *k)
{
	const struct xv *v = xv_get(m, k);

	if (v && v->type == XV_INT)
		return v->u.i;
	return v && v->type == XV_STRING ? strtoll(v->u.s, NULL, 10) : 0;
}

static int bget(const struct xv *m, const char *k)
{
	const struct xv *v = xv_get(m, k);

	return v && v->type == XV_BOOL && v->u.b;
}

/* a set of strings as " a b c " (for has_op) */
static void set_words(char *dst, size_t n, const struct xv *set)
{
	size_t len = 0;

	dst[0] = 0;
	if (n < 2)
		return;
	len = (size_t)snprintf(dst, n, " ");
	for (size_t i = 0; set && set->type == XV_ARRAY && i < set->len && len < n; i++)
		if (set->u.a[i]->type == XV_STRING)
			len += (size_t)snprintf(dst + len, n - len, "%s ", set->u.a[i]->u.s);
}

static int has_op(const char *ops, const char *op)
{
	char k[48];

	snprintf(k, sizeof(k), " %s ", op);
	return strstr(ops, k) != NULL;
}

static struct xv str_arg(const char *s)
{
	return (struct xv){ .type = XV_STRING, .len = strlen(s), .u.s = s };
}

/* ---- the connection ---- */
static void lost(void)
{
	if (st.up) {
		xbc_close(&st.cl);
		st.up = 0;
		st.down_since = time(NULL);
		st.host[0] = 0;
		st.task[0] = 0;
	}
}

static int connect_api(void)
{
	struct timeval tv = { 10, 0 };

	if (st.up)
		return 0;
	st.last_try = time(NULL);
	if (xbc_open(&st.cl, o.unix_path)) {
		copy(st.why, sizeof(st.why), st.cl.err);
		xbc_close(&st.cl);
		if (!st.down_since)
			st.down_since = time(NULL);
		return -1;
	}
	/* a daemon that hangs is a daemon that does not answer */
	setsockopt(st.cl.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	st.up = 1;
	if (st.down_since)
		say("The daemon answers again.");
	st.down_since = 0;
	st.why[0] = 0;
	return 0;
}

/* A call: the result, or NULL with the reason on the message line (an API
 * refusal) or the connection marked lost (no answer). */
static const struct xv *call(const char *method, int n, ...)
{
	const struct xv *args[6], *r;
	struct xv v[6];
	va_list ap;

	if (!st.up && connect_api())
		return NULL;
	va_start(ap, n);
	for (int i = 0; i < n && i < 6; i++) {
		v[i] = str_arg(va_arg(ap, const char *));
		args[i] = &v[i];
	}
	va_end(ap);
	r = xbc_call(&st.cl, method, args, (size_t)n);
	if (!r && xbc_down(&st.cl)) {
		copy(st.why, sizeof(st.why), st.cl.err);
		lost();
	}
	return r;
}

/* A call whose refusal is shown: the result or NULL. */
static const struct xv *act(const char *what, const char *method, int n, const char *a1,
			    const char *a2, const char *a3, const char *a4)
{
	const struct xv *r = call(method, n, a1, a2, a3, a4);

	if (!r)
		say("%s: %s", what, st.up ? st.cl.err : "the daemon is not answering");
	return r;
}

/* ---- reading the API ---- */
static void cert_fingerprint(const char *pem, char *fp, size_t n)
{
	const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----"), *e;
	unsigned char h[32];
	char *der;
	long len;

	copy(fp, n, "?");
	if (!b || !(e = strstr(b, "-----END CERTIFICATE-----")))
		return;
	b += strlen("-----BEGIN CERTIFICATE-----");
	der = xmalloc((size_t)(e - b) + 1);
	len = b64_decode(b, (size_t)(e - b), der);
	if (len > 0) {
		sha256(der, (size_t)len, h);
		certfp_format(h, fp, n);
	}
	free(der);
}

static void read_host(void)
{
	const struct xv *r, *sw;
	char metrics[64], pool_master[64];
	char path[512], err[160];

	if (!st.host[0]) {
		if (!(r = call("session.get_this_host", 1, st.cl.session)) || r->type != XV_STRING)
			return;
		copy(st.host, sizeof(st.host), r->u.s);
		if ((r = call("host.get_server_certificate", 1, st.host)) && r->type == XV_STRING)
			cert_fingerprint(r->u.s, st.tls_fp, sizeof(st.tls_fp));
		snprintf(path, sizeof(path), "%s/pool-master.pem", o.state_dir);
		if (certfp_file(path, st.pool_fp, sizeof(st.pool_fp), err, sizeof(err)))
			st.pool_fp[0] = 0;
	}
	if (!(r = call("host.get_record", 1, st.host)))
		return;
	copy(st.name, sizeof(st.name), sget(r, "name_label"));
	copy(st.hostname, sizeof(st.hostname), sget(r, "hostname"));
	copy(st.address, sizeof(st.address), sget(r, "address"));
	sw = xv_get(r, "software_version");
	copy(st.xen, sizeof(st.xen), sget(sw, "xen"));
	copy(st.version, sizeof(st.version), sget(sw, "product_version"));
	set_words(st.host_ops, sizeof(st.host_ops), xv_get(r, "allowed_operations"));
	copy(metrics, sizeof(metrics), sget(r, "metrics"));
	if ((r = call("host_metrics.get_record", 1, metrics))) {
		st.mem_total = iget(r, "memory_total");
		st.mem_free = iget(r, "memory_free");
	}
	/* the pool: its master, and whether it answers */
	st.is_master = 1;
	st.npool_hosts = 1;
	copy(st.role, sizeof(st.role), "standalone");
	st.master[0] = 0;
	if (!(r = call("pool.get_all_records", 0)) || r->type != XV_STRUCT || !r->len)
		return;
	copy(pool_master, sizeof(pool_master), sget(r->u.m[0].v, "master"));
	if ((r = call("host.get_all", 0)) && r->type == XV_ARRAY)
		st.npool_hosts = (int)r->len;
	if (!strcmp(pool_master, st.host)) {
		if (st.npool_hosts > 1)
			snprintf(st.role, sizeof(st.role), "pool master (%d hosts)", st.npool_hosts);
		return;
	}
	st.is_master = 0;
	copy(st.role, sizeof(st.role), "pool member");
	if ((r = call("pool.get_channel_status", 0)) && r->type == XV_STRUCT)
		snprintf(st.master, sizeof(st.master), "%s: %s%s%s", sget(r, "master"),
			 !strcmp(sget(r, "state"), "online") ? "reachable" : sget(r, "state"),
			 *sget(r, "last_error") ? ", " : "", sget(r, "last_error"));
	else if ((r = call("host.get_address", 1, pool_master)) && r->type == XV_STRING)
		snprintf(st.master, sizeof(st.master), "%s", r->u.s);
}

static int vm_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vm *)a)->name, ((const struct vm *)b)->name);
}

static void read_vms(void)
{
	const struct xv *r;

	if (!(r = call("VM.get_all_records", 0)) || r->type != XV_STRUCT)
		return;
	st.nvms = st.nrunning = 0;
	for (size_t i = 0; i < r->len && st.nvms < MAX_VMS; i++) {
		const struct xv *v = r->u.m[i].v, *cons;
		struct vm *m = &st.vms[st.nvms];

		if (bget(v, "is_a_template") || bget(v, "is_control_domain") ||
		    bget(v, "is_a_snapshot"))
			continue;
		copy(m->ref, sizeof(m->ref), r->u.m[i].name);
		copy(m->uuid, sizeof(m->uuid), sget(v, "uuid"));
		copy(m->name, sizeof(m->name), sget(v, "name_label"));
		copy(m->power, sizeof(m->power), sget(v, "power_state"));
		set_words(m->ops, sizeof(m->ops), xv_get(v, "allowed_operations"));
		cons = xv_get(v, "consoles");
		m->nconsoles = 0;
		for (size_t k = 0; cons && cons->type == XV_ARRAY && k < cons->len && k < 4; k++)
			if (cons->u.a[k]->type == XV_STRING)
				copy(m->consoles[m->nconsoles++], sizeof(m->consoles[0]), cons->u.a[k]->u.s);
		st.nrunning += !strcmp(m->power, "Running");
		st.nvms++;
	}
	qsort(st.vms, (size_t)st.nvms, sizeof(st.vms[0]), vm_cmp);
}

/* The Async call in progress: its end on the message line. */
static void watch_task(void)
{
	const struct xv *r;
	char status[16];

	if (!st.task[0] || !(r = call("task.get_status", 1, st.task)) || r->type != XV_STRING)
		return;
	copy(status, sizeof(status), r->u.s);
	if (!strcmp(status, "pending"))
		return;
	if (!strcmp(status, "success")) {
		say("%s: done.", st.task_what);
	} else if ((r = call("task.get_error_info", 1, st.task)) && r->type == XV_ARRAY) {
		char e[140];
		size_t n = 0;

		e[0] = 0;
		for (size_t i = 0; i < r->len && n < sizeof(e); i++)
			n += (size_t)snprintf(e + n, sizeof(e) - n, "%s%s", i ? " " : "",
					      r->u.a[i]->type == XV_STRING ? r->u.a[i]->u.s : "?");
		say("%s: %s", st.task_what, e);
	}
	call("task.destroy", 1, st.task);
	st.task[0] = 0;
	st.last_poll = 0;       /* show the new state at once */
}

static void poll_api(int force)
{
	time_t now = time(NULL);

	if (!st.up) {
		if (force || now - st.last_try >= 2)
			connect_api();
		if (!st.up)
			return;
	}
	if (!force && now - st.last_poll < POLL_MS / 1000)
		return;
	st.last_poll = now;
	watch_task();
	read_host();
	read_vms();
}

/* ---- the terminal ---- */
static void tty_raw(void)
{
	struct termios t;

	if (tcgetattr(0, &saved_tio))
		return;
	have_tio = 1;
	t = saved_tio;
	t.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag &= ~(unsigned)OPOST;
	t.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(unsigned)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(0, TCSADRAIN, &t);
}

static void tty_restore(void)
{
	if (have_tio)
		tcsetattr(0, TCSAFLUSH, &saved_tio);
}

static void out(const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(1, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

static void outs(const char *s)
{
	out(s, strlen(s));
}

static void flush_screen(void)
{
	struct buf b = BUF_INIT;

	if (scr_flush(&scr, &b))
		out(b.data, b.len);
	buf_free(&b);
}

/* the plain terminal, for a child that uses it (login, a guest's console) */
static void leave_screen(void)
{
	outs("\033[m\033[H\033[2J");
	tty_restore();
}

static void back_to_screen(void)
{
	tty_raw();
	scr_invalidate(&scr);
}

/* ---- screens ---- */
enum item {
	I_STATUS, I_NETWORK, I_PASSWORD, I_VMS, I_POOL, I_LOG, I_POWER, I_SHELL, I_QUIT, N_ITEMS
};
static const char *const item_name[N_ITEMS] = {
	"Status", "Network", "Root password", "Virtual machines", "Pool",
	"Boot log", "Reboot / power off", "Local shell", "Quit",
};

#define PANE 25                         /* the right pane's first column */
#define TOP 2
#define BOTTOM 20                       /* last row of the panes */

struct field {
	const char *label, *key;        /* key: xenbox.conf's */
	char val[192];                  /* a password hash fits (118 bytes) */
	int secret;
};

static struct ui {
	int item;                       /* selected in the menu */
	int focus;                      /* 0 menu, 1 the pane */
	int sel;                        /* the pane's selection (VM, action, field) */
	int sub;                        /* the pane's sub-state */
	int top;                        /* first line shown (log) */
	struct field f[6];
	int nf;
	char confirm[200];              /* a question awaiting y */
	int quit;
} ui;

static int pane_row;
static char pending_fp[CERTFP_LEN];     /* the pool join's, as understood */

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	char s[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (pane_row <= BOTTOM)
		scr_put(&scr, pane_row, PANE, SCR_NORMAL, s);
	pane_row++;
}

static void hint(const char *s)
{
	scr_put(&scr, 23, 0, SCR_NORMAL, s);
}

static void mem_text(char *b, size_t n, int64_t bytes)
{
	if (bytes >= (int64_t)10 << 30)
		snprintf(b, n, "%lld GiB", (long long)(bytes >> 30));
	else
		snprintf(b, n, "%lld MiB", (long long)(bytes >> 20));
}

static void uptime_text(char *b, size_t n)
{
	char t[64] = "";
	int fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
	unsigned long up = 0;

	if (fd >= 0) {
		if (read(fd, t, sizeof(t) - 1) > 0)
			up = strtoul(t, NULL, 10) % (100000UL * 86400);
		close(fd);
	}
	snprintf(b, n, "%lud %02lu:%02lu", up / 86400, up / 3600 % 24, up / 60 % 60);
}

/* a fingerprint on two lines of 16 pairs, to read out over the phone */
static void fingerprint_lines(const char *label, const char *fp)
{
	if (!fp[0]) {
		line("%-6s unknown", label);
		return;
	}
	line("%-6s %.47s", label, fp);
	if (strlen(fp) > 48)
		line("%-6s %s", "", fp + 48);
}

static void draw_status(void)
{
	char mem[24], memf[24], up[32];

	if (!st.up || !st.host[0]) {
		line("The XenAPI is not answering:");
		line("%.52s", st.why);
		line("Retrying every 2 seconds.");
		return;
	}
	mem_text(mem, sizeof(mem), st.mem_total);
	mem_text(memf, sizeof(memf), st.mem_free);
	uptime_text(up, sizeof(up));
	line("%-12s %s", "Host name", st.hostname[0] ? st.hostname : st.name);
	line("%-12s %s", "Address", st.address[0] ? st.address : "none yet");
	line("%-12s %s", "xenbox", st.version);
	line("%-12s %s", "Xen", st.xen[0] ? st.xen : "none (no hypervisor)");
	line("%-12s %s", "Uptime", up);
	line("%-12s %s, %s free", "Memory", mem, memf);
	line("%-12s %d, %d running", "VMs", st.nvms, st.nrunning);
	line("%-12s %s", "Pool", st.role);
	if (!st.is_master)
		line("%-12s %.40s", "Master", st.master[0] ? st.master : "unknown");
	pane_row++;
	line("Certificate fingerprints (SHA-256), to read out:");
	fingerprint_lines("HTTPS", st.tls_fp);
	fingerprint_lines("Pool", st.pool_fp);
}

/* The actions of a VM, in the order shown: only those allowed_operations
 * has, and the console while one exists. */
static const struct { const char *op, *label, *method; } vm_acts[] = {
	{ "start", "Start", "Async.VM.start" },
	{ "clean_shutdown", "Shut down", "Async.VM.clean_shutdown" },
	{ "hard_shutdown", "Force shutdown", "Async.VM.hard_shutdown" },
	{ "clean_reboot", "Reboot", "Async.VM.clean_reboot" },
	{ "hard_reboot", "Force reboot", "Async.VM.hard_reboot" },
	{ NULL, "Attach to its console", NULL },
};
#define N_VM_ACTS (int)(sizeof(vm_acts) / sizeof(vm_acts[0]))

static int vm_actions(const struct vm *m, int *acts)
{
	int n = 0;

	for (int i = 0; i < N_VM_ACTS; i++)
		if (vm_acts[i].op ? has_op(m->ops, vm_acts[i].op) :
		    !strcmp(m->power, "Running") && m->nconsoles > 0)
			acts[n++] = i;
	return n;
}

static void draw_vms(void)
{
	int first = 0, rows = 10;

	if (!st.up) {
		line("The XenAPI is not answering.");
		return;
	}
	if (!st.nvms) {
		line("No VMs on this host.");
		return;
	}
	if (ui.sel >= st.nvms)
		ui.sel = st.nvms - 1;
	if (ui.sel >= rows)
		first = ui.sel - rows + 1;
	line("   %-30s %s", "Name", "Power state");
	for (int i = first; i < st.nvms && i < first + rows; i++) {
		int sel = ui.focus && i == ui.sel;

		scr_printf(&scr, pane_row, PANE, sel ? SCR_REVERSE : SCR_NORMAL, "%2d %-30.30s %-12s",
			   i + 1, st.vms[i].name, st.vms[i].power);
		pane_row++;
	}
	if (ui.focus && ui.sub) {
		const struct vm *m = &st.vms[ui.sel];
		int acts[N_VM_ACTS], n = vm_actions(m, acts);

		pane_row = TOP + 12;
		line("%.40s:", m->name);
		if (!n)
			line("  nothing allowed now");
		for (int i = 0; i < n; i++)
			line("  %c. %s", 'a' + i, vm_acts[acts[i]].label);
	}
}

static void draw_fields(void)
{
	for (int i = 0; i < ui.nf; i++) {
		char shown[193];
		size_t n = strlen(ui.f[i].val);

		if (ui.f[i].secret) {
			memset(shown, '*', n);
			shown[n] = 0;
		} else {
			copy(shown, sizeof(shown), ui.f[i].val);
		}
		scr_printf(&scr, pane_row, PANE, SCR_NORMAL, "%-18s", ui.f[i].label);
		scr_printf(&scr, pane_row, PANE + 19, ui.sel == i ? SCR_REVERSE : SCR_NORMAL,
			   "%-33.33s", shown + (n > 32 ? n - 32 : 0));
		if (ui.sel == i)
			scr_cursor(&scr, pane_row, PANE + 19 + (int)(n > 32 ? 32 : n));
		pane_row++;
	}
}

static void draw_power(void)
{
	line("1. Reboot this host%s", has_op(st.host_ops, "reboot") ? "" : "  (not allowed now)");
	line("2. Power off this host%s", has_op(st.host_ops, "shutdown") ? "" : "  (not allowed now)");
	pane_row++;
	line("Running VMs are shut down first.");
	if (!has_op(st.host_ops, "reboot") || !has_op(st.host_ops, "shutdown"))
		line("The API allows: %.36s", st.host_ops[1] ? st.host_ops + 1 : "nothing");
}

/* the boot log: its lines from the file, the last screenful first */
static char **log_lines;
static int log_n;

static void load_log(void)
{
	FILE *f = fopen(o.bootlog, "r");
	char l[512];

	for (int i = 0; i < log_n; i++)
		free(log_lines[i]);
	free(log_lines);
	log_lines = NULL;
	log_n = 0;
	if (!f)
		return;
	while (fgets(l, sizeof(l), f)) {
		l[strcspn(l, "\r\n")] = 0;
		if (log_n % 256 == 0)
			log_lines = xrealloc(log_lines, (size_t)(log_n + 256) * sizeof(*log_lines));
		log_lines[log_n++] = xstrdup(l);
		if (log_n >= 20000)
			break;
	}
	fclose(f);
}

static void draw_log(void)
{
	/* the log is wide: it takes the whole width under the title */
	int rows = BOTTOM - TOP + 1;

	if (!log_n) {
		scr_printf(&scr, TOP, 0, SCR_NORMAL, "%s: %s", o.bootlog, "no lines (or no file)");
		return;
	}
	if (ui.top > log_n - rows)
		ui.top = log_n - rows;
	if (ui.top < 0)
		ui.top = 0;
	for (int i = 0; i < rows && ui.top + i < log_n; i++)
		scr_put(&scr, TOP + i, 0, SCR_NORMAL, log_lines[ui.top + i]);
}

static void draw(void)
{
	char now[16];
	time_t t = time(NULL);
	struct tm tm;

	scr_clear(&scr);
	strftime(now, sizeof(now), "%H:%M", localtime_r(&t, &tm));
	scr_fill(&scr, 0, 0, SCR_COLS, SCR_REVERSE, ' ');
	scr_printf(&scr, 0, 1, SCR_REVERSE, "xenbox console %s", st.version);
	scr_printf(&scr, 0, 50, SCR_REVERSE, "%23.23s %s",
		   st.hostname[0] ? st.hostname : st.name, now);
	scr_cursor(&scr, 23, 79);
	pane_row = TOP;
	if (ui.focus && ui.item == I_LOG) {
		draw_log();
		hint("Up/Down PgUp/PgDn scroll, Esc back");
		goto foot;
	}
	for (int i = 0, row = TOP; i < N_ITEMS; i++) {
		if (i == I_QUIT && o.kiosk)
			continue;
		scr_printf(&scr, row++, 0, i == ui.item ? SCR_REVERSE : SCR_NORMAL, " %c %-19s ",
			   i == I_QUIT ? 'Q' : '1' + i, item_name[i]);
	}
	for (int r = TOP; r <= BOTTOM; r++)
		scr_put(&scr, r, PANE - 2, SCR_NORMAL, "|");
	scr_printf(&scr, pane_row++, PANE, SCR_NORMAL, "%s", item_name[ui.item]);
	pane_row++;
	switch (ui.item) {
	case I_STATUS:
		draw_status();
		hint("Up/Down or 1-8: choose   Enter: open");
		break;
	case I_NETWORK:
	case I_PASSWORD:
		if (ui.focus) {
			draw_fields();
			pane_row++;
			line(ui.item == I_NETWORK ? "Mode: dhcp or static. DNS, NTP: comma lists." :
			     "The XenAPI's root password (session.change_password).");
			hint("Up/Down: field   Enter: next, save on the last   Esc: cancel");
		} else if (ui.item == I_NETWORK) {
			line("Address: %s", st.address[0] ? st.address : "none");
			line("Written to %.40s", o.config);
			line("and applied at once.");
			hint("Enter: edit the management network");
		} else {
			line("Enter: change root's XenAPI password.");
			hint("Enter: change it");
		}
		break;
	case I_VMS:
		draw_vms();
		hint(ui.sub ? "a-f or Up/Down+Enter: act   Esc: back" :
		     ui.focus ? "Up/Down or number: choose a VM   Enter: its actions   Esc: back" :
		     "Enter: choose a VM");
		break;
	case I_POOL:
		if (ui.focus && (ui.sub == 1 || ui.sub == 2)) {
			draw_fields();
			if (ui.sub == 2) {
				pane_row++;
				line("The master's pool certificate must be:");
				fingerprint_lines("", pending_fp);
			}
			hint("Up/Down: field   Enter: next, join on the last   Esc: cancel");
		} else {
			line("This host: %s", st.role);
			if (!st.is_master)
				line("Master: %.40s", st.master);
			pane_row++;
			if (st.is_master && st.npool_hosts <= 1)
				line("Enter: join a pool (its master's address,");
			if (st.is_master && st.npool_hosts <= 1)
				line("pool fingerprint and a token or password)");
			if (!st.is_master)
				line("Enter: leave the pool (pool.eject)");
			hint("Enter: act");
		}
		break;
	case I_LOG:
		line("%.50s", o.bootlog);
		line("Enter: read it (the newest lines at the end)");
		hint("Enter: read the boot log");
		break;
	case I_POWER:
		draw_power();
		hint(ui.focus ? "1 or 2: choose   Esc: back" : "Enter: choose");
		break;
	case I_SHELL:
		line("A root shell after the console password");
		line("(the login's). Leave it with exit.");
		hint("Enter: log in");
		break;
	case I_QUIT:
		line("Leave the console.");
		hint("Enter: quit");
		break;
	}
foot:
	if (ui.confirm[0]) {
		scr_fill(&scr, 21, 0, SCR_COLS, SCR_NORMAL, ' ');
		scr_printf(&scr, 21, 0, SCR_REVERSE, "%.70s (y/n)", ui.confirm);
	} else if (st.msg[0]) {
		scr_printf(&scr, 21, 0, SCR_NORMAL, "%.79s", st.msg);
	}
	if (!st.up) {
		char since[16];
		struct tm d;

		strftime(since, sizeof(since), "%H:%M:%S", localtime_r(&st.down_since, &d));
		scr_printf(&scr, 22, 0, SCR_REVERSE, "DAEMON NOT ANSWERING since %s; reconnecting", since);
	} else if (st.task[0]) {
		scr_printf(&scr, 22, 0, SCR_NORMAL, "In progress: %.60s", st.task_what);
	}
}

/* ---- actions ---- */
static void form(int n, ...)
{
	va_list ap;

	memset(ui.f, 0, sizeof(ui.f));
	ui.nf = n;
	ui.sel = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		ui.f[i].label = va_arg(ap, const char *);
		ui.f[i].key = va_arg(ap, const char *);
		ui.f[i].secret = va_arg(ap, int);
	}
	va_end(ap);
}

/* xenbox.conf: the value of key, "" when absent */
static void conf_get(const char *text, const char *key, char *val, size_t n)
{
	size_t kl = strlen(key);

	val[0] = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l + strspn(l, " \t");

		if (strncmp(p, key, kl) || (p[kl] != ' ' && p[kl] != '\t' && p[kl] != '='))
			continue;
		p += kl + strspn(p + kl, " \t");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		snprintf(val, n, "%.*s", (int)strcspn(p, "\r\n#"), p);
		for (size_t e = strlen(val); e && (val[e - 1] == ' ' || val[e - 1] == '\t'); e--)
			val[e - 1] = 0;
	}
}

static char *read_file(const char *path)
{
	struct buf b = BUF_INIT;
	char tmp[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	buf_adds(&b, "");
	if (fd < 0)
		return buf_steal(&b);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0 && b.len < (1 << 20))
		buf_add(&b, tmp, (size_t)r);
	close(fd);
	return buf_steal(&b);
}

/* text with the form's keys set (their lines replaced, or added at the
 * end; an empty value removes the line) */
static char *conf_edit(const char *text)
{
	struct buf b = BUF_INIT;
	int done[6] = { 0 };

	buf_adds(&b, "");
	for (const char *l = text; *l;) {
		size_t len = strcspn(l, "\n");
		const char *p = l + strspn(l, " \t");
		int hit = -1;

		for (int i = 0; i < ui.nf; i++) {
			size_t kl = strlen(ui.f[i].key);

			if (!strncmp(p, ui.f[i].key, kl) && strchr(" \t=", p[kl]) && p[kl])
				hit = i;
		}
		if (hit < 0)
			buf_add(&b, l, len);
		else if (!done[hit] && ui.f[hit].val[0])
			buf_addf(&b, "%s = %s", ui.f[hit].key, ui.f[hit].val);
		if (hit < 0 || (!done[hit] && ui.f[hit].val[0]))
			buf_addc(&b, '\n');
		if (hit >= 0)
			done[hit] = 1;
		l += len + (l[len] == '\n');
	}
	for (int i = 0; i < ui.nf; i++)
		if (!done[i] && ui.f[i].val[0])
			buf_addf(&b, "%s = %s\n", ui.f[i].key, ui.f[i].val);
	return buf_steal(&b);
}

static int write_file(const char *path, const char *text)
{
	char tmp[600];
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text) && !fsync(fd))
		rc = 0;
	if (close(fd))
		rc = -1;
	if (!rc && rename(tmp, path))
		rc = -1;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Run argv with the output's first line into first; its exit status. */
static int run(char *const argv[], char *first, size_t n)
{
	int p[2], status = -1;
	pid_t pid;
	FILE *f;

	first[0] = 0;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if ((f = fdopen(p[0], "r"))) {
		char l[256];

		while (fgets(l, sizeof(l), f))
			if (!first[0] || !strncmp(l, "error", 5))
				snprintf(first, n, "%.*s", (int)strcspn(l, "\r\n"), l);
		fclose(f);
	} else {
		close(p[0]);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	return pid < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* xenbox.conf written whole; the stick's FAT partition is mounted
 * read-only: read-write for this write only.  0, or -1 with errno. */
static int conf_write(const char *text)
{
	char dir[512], ignored[8];
	char *slash;
	int rc, e;

	if (!write_file(o.config, text))
		return 0;
	if (errno != EROFS)
		return -1;
	copy(dir, sizeof(dir), o.config);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -1;
	*slash = 0;
	run((char *const[]){ "mount", "-o", "remount,rw", dir, NULL }, ignored, sizeof(ignored));
	rc = write_file(o.config, text);
	e = errno;
	run((char *const[]){ "mount", "-o", "remount,ro", dir, NULL }, ignored, sizeof(ignored));
	errno = e;
	return rc;
}

/* the daemon's binary, next to ours, for --check-config */
static void xenbox_path(char *p, size_t n)
{
	char self[400];
	ssize_t r = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	copy(p, n, "xenbox");
	if (r <= 0)
		return;
	self[r] = 0;
	if ((slash = strrchr(self, '/'))) {
		*slash = 0;
		snprintf(p, n, "%s/xenbox", self);
		if (access(p, X_OK))
			copy(p, n, "xenbox");
	}
}

static char conf_hostname[96];          /* the file's, when the form opened */

static void network_open(void)
{
	char *text = read_file(o.config);

	form(6, "Mode", "network", 0, "Address (CIDR)", "address", 0, "Gateway", "gateway", 0,
	     "DNS servers", "dns", 0, "NTP servers", "ntp", 0, "Host name", "hostname", 0);
	for (int i = 0; i < ui.nf; i++)
		conf_get(text, ui.f[i].key, ui.f[i].val, sizeof(ui.f[i].val));
	if (!ui.f[0].val[0])
		copy(ui.f[0].val, sizeof(ui.f[0].val), "dhcp");
	copy(conf_hostname, sizeof(conf_hostname), ui.f[5].val);
	free(text);
}

static void network_save(void)
{
	char *text = read_file(o.config), *edited, tmp[600], xb[512], first[200];
	int rc;

	if (strcmp(ui.f[0].val, "dhcp") && strcmp(ui.f[0].val, "static")) {
		say("Mode: dhcp or static, not \"%.40s\".", ui.f[0].val);
		free(text);
		return;
	}
	if (!strcmp(ui.f[0].val, "dhcp"))
		ui.f[1].val[0] = ui.f[2].val[0] = 0;    /* a static address's keys go */
	edited = conf_edit(text);
	free(text);
	/* the daemon's parser checks it first (one parser for the file) */
	snprintf(tmp, sizeof(tmp), "/tmp/xenbox-console.%d.conf", (int)getpid());
	xenbox_path(xb, sizeof(xb));
	if (write_file(tmp, edited)) {
		say("%s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = run((char *const[]){ xb, "daemon", "--config", tmp, "--check-config", NULL },
		 first, sizeof(first));
	unlink(tmp);
	if (rc) {
		/* "error: /tmp/...conf:LINE: what": what */
		const char *why = strstr(first, ".conf:");

		why = why ? strchr(why + 6, ':') : NULL;
		say("Not saved: %.60s", why ? why + 2 : first[0] ? first : "the check failed");
		goto out;
	}
	if (conf_write(edited)) {
		say("%s: %s", o.config, strerror(errno));
		goto out;
	}
	rc = run((char *const[]){ (char *)o.net_apply, (char *)o.config, NULL }, first, sizeof(first));
	if (rc)
		say("Saved; applying it failed (%d): %.50s", rc, first);
	else if (ui.f[5].val[0] && strcmp(ui.f[5].val, conf_hostname) && st.up &&
		 !call("host.set_hostname_live", 2, st.host, ui.f[5].val))
		/* XAPI's call for the API's host name; without it, the daemon's next start */
		say("Saved and applied; the API keeps its host name: %.40s", st.cl.err);
	else
		say("Saved to %.40s and applied.", o.config);
	ui.focus = 0;
out:
	free(edited);
}

static void password_save(void)
{
	if (strcmp(ui.f[1].val, ui.f[2].val)) {
		say("The two new passwords differ; nothing changed.");
		return;
	}
	if (!ui.f[1].val[0]) {
		say("An empty password is refused.");
		return;
	}
	if (act("session.change_password", "session.change_password", 2, ui.f[0].val, ui.f[1].val,
		NULL, NULL)) {
		char *text = read_file(o.config), hash[256], have[256];

		say("Root's password changed.");
		ui.focus = 0;
		/* xenbox.conf's root_password_hash (the stick's) is read before the
		 * state directory's at the daemon's start: the new one there too */
		conf_get(text, "root_password_hash", have, sizeof(have));
		if (have[0] && !auth_hash_make(ui.f[1].val, AUTH_DEFAULT_ITER, hash, sizeof(hash)) &&
		    strlen(hash) < sizeof(ui.f[0].val)) {
			char *edited;

			form(1, "", "root_password_hash", 0);
			copy(ui.f[0].val, sizeof(ui.f[0].val), hash);
			edited = conf_edit(text);
			if (conf_write(edited))
				say("Changed; %.30s keeps the old one: %s", o.config, strerror(errno));
			else
				say("Root's password changed (and in %.40s).", o.config);
			free(edited);
		}
		free(text);
	}
	secure_zero(ui.f, sizeof(ui.f));
	form(3, "Current password", "", 1, "New password", "", 1, "New password again", "", 1);
}

/* a fingerprint as typed: 64 hex digits, with colons or not -> AB:CD:... */
static int norm_fp(const char *in, char *outp, size_t n)
{
	unsigned char h[32];
	int k = 0;

	for (const char *p = in; *p; p++) {
		int v;

		if (*p == ':' || *p == ' ')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			v = (*p | 0x20) - 'a' + 10;
		else
			return -1;
		if (k >= 64)
			return -1;
		h[k / 2] = (unsigned char)(k % 2 ? h[k / 2] | v : v << 4);
		k++;
	}
	if (k != 64)
		return -1;
	certfp_format(h, outp, n);
	return 0;
}

static void pool_join_confirm(void)
{
	if (!ui.f[0].val[0] || norm_fp(ui.f[1].val, pending_fp, sizeof(pending_fp))) {
		say("The master's address and its pool fingerprint (64 hex digits) are needed.");
		return;
	}
	snprintf(ui.confirm, sizeof(ui.confirm), "Join %.30s, pool certificate %.20s...%.8s?",
		 ui.f[0].val, pending_fp, pending_fp + strlen(pending_fp) - 8);
	ui.sub = 2;
}

/* how long a call may take before the daemon counts as not answering */
static void call_timeout(int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (st.up)
		setsockopt(st.cl.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void pool_join(void)
{
	const char *user = ui.f[2].val[0] ? ui.f[2].val : "root";

	/* one attempt: a name to resolve, a connection, TLS, the master's answer */
	if (!st.up)
		connect_api();
	call_timeout(90);
	if (act("pool.join", "pool.join_pinned", 4, ui.f[0].val, pending_fp, user, ui.f[3].val))
		say("Joined the pool of %.40s.", ui.f[0].val);
	call_timeout(10);
	secure_zero(ui.f[3].val, sizeof(ui.f[3].val));
	ui.focus = ui.sub = 0;
	st.last_poll = 0;
}

static void vm_act(const struct vm *m, int a)
{
	const struct xv *r;

	if (!vm_acts[a].method) {
		console_attach(m);
		return;
	}
	if (st.task[0]) {
		say("Wait: %s is still in progress.", st.task_what);
		return;
	}
	if (!strcmp(vm_acts[a].op, "start")) {
		/* VM.start(vm, start_paused, force): two booleans */
		struct xv ref = str_arg(m->ref), no = { .type = XV_BOOL };
		const struct xv *args[3] = { &ref, &no, &no };

		r = st.up || !connect_api() ? xbc_call(&st.cl, vm_acts[a].method, args, 3) : NULL;
		if (!r && st.up && xbc_down(&st.cl))
			lost();
	} else {
		r = call(vm_acts[a].method, 1, m->ref);
	}
	if (!r || r->type != XV_STRING) {
		say("%s %s: %s", vm_acts[a].label, m->name,
		    st.up ? st.cl.err : "the daemon is not answering");
		return;
	}
	copy(st.task, sizeof(st.task), r->u.s);
	snprintf(st.task_what, sizeof(st.task_what), "%s %s", vm_acts[a].label, m->name);
	say("%s...", st.task_what);
}

/* ---- a guest's console: HTTP CONNECT to its vt100 console's location ---- */
static int attach_read_head(int fd, struct buf *in, char *why, size_t n)
{
	struct arena a;
	struct http_resp resp;
	size_t head = 0;
	int rc = -1;

	arena_init(&a, 0);
	for (;;) {
		char tmp[1024];
		ssize_t r;
		int p = http_parse_response(&a, in->data ? in->data : "", in->len, &resp, &head);

		if (p == HTTP_PARSE_ERROR) {
			snprintf(why, n, "a malformed reply");
			break;
		}
		if (p == HTTP_PARSE_DONE) {
			if (resp.status == 200) {
				buf_consume(in, head);
				rc = 0;
			} else {
				snprintf(why, n, "HTTP %d", resp.status);
			}
			break;
		}
		r = recv(fd, tmp, sizeof(tmp), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(why, n, "%s", r ? strerror(errno) : "closed");
			break;
		}
		buf_add(in, tmp, (size_t)r);
	}
	arena_free(&a);
	return rc;
}

static void console_attach(const struct vm *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char loc[256] = "", why[128];
	const char *path;
	struct buf req = BUF_INIT, in = BUF_INIT;
	struct timeval tv = { 10, 0 };
	int fd = -1;

	for (int i = 0; i < m->nconsoles && !loc[0]; i++) {
		const struct xv *r = call("console.get_record", 1, m->consoles[i]);

		if (r && !strcmp(sget(r, "protocol"), "vt100"))
			copy(loc, sizeof(loc), sget(r, "location"));
	}
	if (!loc[0]) {
		say("%s has no text (vt100) console.", m->name);
		return;
	}
	/* an absolute location (https://host/console?...) is this host's: its path */
	path = strstr(loc, "://") ? strchr(strstr(loc, "://") + 3, '/') : loc;
	if (!path || *path != '/') {
		say("%s: a console location without a path: %.40s", m->name, loc);
		return;
	}
	copy(sa.sun_path, sizeof(sa.sun_path), o.unix_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		say("console: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf_addf(&req, "CONNECT %s HTTP/1.0\r\nHost: localhost\r\nCookie: session_id=%s\r\n\r\n",
		 path, st.cl.session);
	if (send(fd, req.data, req.len, MSG_NOSIGNAL) != (ssize_t)req.len ||
	    attach_read_head(fd, &in, why, sizeof(why))) {
		say("%s's console refused: %s", m->name, req.len ? why : strerror(errno));
		goto out;
	}
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	outs("\033[m\033[H\033[2J");
	{
		char l[120];

		snprintf(l, sizeof(l), "Console of %s: Ctrl-] to come back.\r\n", m->name);
		outs(l);
	}
	if (in.len)
		out(in.data, in.len);
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		char b[1024];
		ssize_t r;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			r = recv(fd, b, sizeof(b), 0);
			if (r <= 0) {
				say("%s's console closed.", m->name);
				break;
			}
			out(b, (size_t)r);
		}
		if (p[0].revents) {
			char *k;

			r = read(0, b, sizeof(b));
			if (r <= 0)
				break;
			k = memchr(b, DETACH_KEY, (size_t)r);
			if (k)
				r = k - b;
			if (r > 0 && send(fd, b, (size_t)r, MSG_NOSIGNAL) != r)
				break;
			if (k) {
				say("Detached from %s's console.", m->name);
				break;
			}
		}
	}
	scr_invalidate(&scr);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&req);
	buf_free(&in);
}

static void shell(void)
{
	pid_t pid;
	int status;

	leave_screen();
	outs("Local shell: log in as root with the console password; `exit` comes back.\r\n");
	pid = fork();
	if (pid == 0) {
		/* its own process group in the terminal's foreground */
		setpgid(0, 0);
		tcsetpgrp(0, getpid());
		signal(SIGTTOU, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execl(o.login, o.login, (char *)NULL);
		fprintf(stderr, "%s: %s\n", o.login, strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	tcsetpgrp(0, getpgrp());        /* the terminal back (SIGTTOU ignored) */
	back_to_screen();
	say(pid < 0 ? "The shell could not start." : "Back from the shell.");
}

static void power(int reboot)
{
	const char *op = reboot ? "reboot" : "shutdown";
	char m[40];

	if (!has_op(st.host_ops, op)) {
		say("host.%s is not in the host's allowed_operations.", op);
		return;
	}
	snprintf(m, sizeof(m), "host.%s", op);
	if (!act("host.disable", "host.disable", 1, st.host, NULL, NULL, NULL))
		return;
	if (act(m, m, 1, st.host, NULL, NULL, NULL))
		say("%s: the host is going down.", m);
}

/* ---- keys ---- */
static void enter_item(void)
{
	ui.sel = ui.sub = 0;
	switch (ui.item) {
	case I_NETWORK:
		network_open();
		break;
	case I_PASSWORD:
		form(3, "Current password", "", 1, "New password", "", 1, "New password again", "", 1);
		break;
	case I_POOL:
		if (st.is_master && st.npool_hosts <= 1) {
			form(4, "Master address", "", 0, "Pool fingerprint", "", 0, "User (root)", "", 0,
			     "Token or password", "", 1);
			ui.sub = 1;
		} else if (!st.is_master) {
			copy(ui.confirm, sizeof(ui.confirm), "Leave the pool (pool.eject of this host)?");
			ui.sub = 3;
		} else {
			say("A master with members: they leave first (pool.eject on each).");
			return;
		}
		break;
	case I_LOG:
		load_log();
		ui.top = log_n;
		break;
	case I_SHELL:
		shell();
		return;
	case I_QUIT:
		ui.quit = 1;
		return;
	case I_STATUS:
		return;
	}
	ui.focus = 1;
}

static void field_key(int k, void (*submit)(void))
{
	struct field *f = &ui.f[ui.sel];
	size_t n = strlen(f->val);

	if (k == KEY_UP && ui.sel > 0)
		ui.sel--;
	else if ((k == KEY_DOWN || k == '\t') && ui.sel < ui.nf - 1)
		ui.sel++;
	else if (k == KEY_ENTER)
		ui.sel < ui.nf - 1 ? (void)ui.sel++ : submit();
	else if (k == KEY_BACKSPACE && n)
		f->val[n - 1] = 0;
	else if (k == 0x15)                             /* Ctrl-U */
		f->val[0] = 0;
	else if (k >= 0x20 && k < 0x7f && n + 1 < sizeof(f->val)) {
		f->val[n] = (char)k;
		f->val[n + 1] = 0;
	}
}

static void confirm_key(int k)
{
	int yes = k == 'y' || k == 'Y';

	ui.confirm[0] = 0;
	if (ui.item == I_POOL && ui.sub == 2) {
		if (yes)
			pool_join();
		else
			ui.sub = 1;
	} else if (ui.item == I_POOL && ui.sub == 3) {
		if (yes && act("pool.eject", "pool.eject", 1, st.host, NULL, NULL, NULL))
			say("This host left the pool.");
		ui.focus = ui.sub = 0;
		st.last_poll = 0;
	} else if (ui.item == I_POWER) {
		if (yes)
			power(ui.sub == 1);
		ui.sub = 0;
	}
}

static void pane_key(int k)
{
	if (k == KEY_ESC || (k == KEY_LEFT && ui.item != I_NETWORK && ui.item != I_PASSWORD &&
			     !(ui.item == I_POOL && ui.sub == 1))) {
		if (ui.item == I_VMS && ui.sub)
			ui.sub = 0;
		else
			ui.focus = ui.sub = 0;
		if (ui.item == I_PASSWORD || ui.item == I_POOL)
			secure_zero(ui.f, sizeof(ui.f));
		return;
	}
	switch (ui.item) {
	case I_NETWORK:
		field_key(k, network_save);
		break;
	case I_PASSWORD:
		field_key(k, password_save);
		break;
	case I_POOL:
		if (ui.sub == 1)
			field_key(k, pool_join_confirm);
		break;
	case I_LOG:
		if (k == KEY_UP)
			ui.top--;
		else if (k == KEY_DOWN)
			ui.top++;
		else if (k == KEY_PGUP)
			ui.top -= BOTTOM - TOP;
		else if (k == KEY_PGDN || k == ' ')
			ui.top += BOTTOM - TOP;
		else if (k == KEY_HOME)
			ui.top = 0;
		else if (k == KEY_END)
			ui.top = log_n;
		break;
	case I_POWER:
		if ((k == '1' || k == '2') && !has_op(st.host_ops, k == '1' ? "reboot" : "shutdown")) {
			say("host.%s is not in the host's allowed_operations.",
			    k == '1' ? "reboot" : "shutdown");
		} else if (k == '1' || k == '2') {
			ui.sub = k == '1' ? 1 : 2;
			snprintf(ui.confirm, sizeof(ui.confirm), "%s this host now?",
				 k == '1' ? "Reboot" : "Power off");
		}
		break;
	case I_VMS: {
		int acts[N_VM_ACTS], n;

		if (!st.nvms)
			break;
		if (ui.sel >= st.nvms)
			ui.sel = st.nvms - 1;
		n = vm_actions(&st.vms[ui.sel], acts);
		if (!ui.sub) {
			if (k == KEY_UP && ui.sel > 0)
				ui.sel--;
			else if (k == KEY_DOWN && ui.sel < st.nvms - 1)
				ui.sel++;
			else if (k >= '1' && k <= '9' && k - '1' < st.nvms)
				ui.sel = k - '1';
			else if (k == KEY_ENTER || k == KEY_RIGHT)
				ui.sub = 1;
		} else if (k >= 'a' && k < 'a' + n) {
			vm_act(&st.vms[ui.sel], acts[k - 'a']);
			ui.sub = 0;
		}
		break;
	}
	}
}

static void key(int k)
{
	if (k == 0x0c) {                                /* Ctrl-L: repaint */
		scr_invalidate(&scr);
		return;
	}
	if (ui.confirm[0]) {
		confirm_key(k);
		return;
	}
	if (k != KEY_UNKNOWN)
		st.msg[0] = 0;
	if (ui.focus) {
		pane_key(k);
		return;
	}
	if (k == KEY_UP)
		ui.item = ui.item > 0 ? ui.item - 1 : (o.kiosk ? I_SHELL : I_QUIT);
	else if (k == KEY_DOWN)
		ui.item = ui.item < (o.kiosk ? I_SHELL : I_QUIT) ? ui.item + 1 : 0;
	else if (k >= '1' && k < '1' + I_QUIT)
		ui.item = k - '1';
	else if ((k == 'q' || k == 'Q') && !o.kiosk)
		ui.item = I_QUIT;
	else if (k == KEY_ENTER || k == KEY_RIGHT)
		enter_item();
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static int usage(void)
{
	fputs("usage: xenbox console [--unix PATH] [--config FILE] [--net-apply PROG] [--login PROG]\n"
	      "                      [--bootlog FILE] [--state-dir DIR] [--kiosk]\n", stderr);
	return 2;
}

static int console_main(int argc, char **argv)
{
	unsigned char in[64];
	size_t inlen = 0;

	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (!strcmp(argv[i], "--kiosk")) {
			o.kiosk = 1;
			continue;
		}
		if (!strcmp(argv[i], "--unix"))
			dst = &o.unix_path;
		else if (!strcmp(argv[i], "--config"))
			dst = &o.config;
		else if (!strcmp(argv[i], "--net-apply"))
			dst = &o.net_apply;
		else if (!strcmp(argv[i], "--login"))
			dst = &o.login;
		else if (!strcmp(argv[i], "--bootlog"))
			dst = &o.bootlog;
		else if (!strcmp(argv[i], "--state-dir"))
			dst = &o.state_dir;
		if (!dst || i + 1 >= argc)
			return usage();
		*dst = argv[++i];
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGWINCH, on_winch);
	scr_init(&scr);
	tty_raw();
	poll_api(1);
	while (!ui.quit) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		int r, wait = inlen ? 100 : 500;

		poll_api(0);
		if (resized) {
			resized = 0;
			scr_invalidate(&scr);
		}
		draw();
		flush_screen();
		r = poll(&p, 1, wait);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			ssize_t n = read(0, in + inlen, sizeof(in) - inlen);

			if (n <= 0)
				break;          /* the line hung up */
			inlen += (size_t)n;
		}
		while (inlen) {
			size_t used = 0;
			int k = scr_key(in, inlen, r == 0, &used);

			if (!k)
				break;
			memmove(in, in + used, inlen - used);
			inlen -= used;
			key(k);
			if (ui.quit)
				break;
		}
		if (ui.focus && ui.item == I_VMS)
			poll_api(0);
	}
	leave_screen();
	if (st.up)
		xbc_close(&st.cl);
	return 0;
}

XB_APPLET(console, console_main,
	  "the technician's console: status, network, VMs, pool (80x24 VT100)");
