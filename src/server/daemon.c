/* `xenbox daemon`: the XenAPI server.
 *
 *   xenbox daemon [--config FILE] [--state-dir DIR] [--http ADDR:PORT]
 *                 [--https ADDR:PORT] [--unix PATH] [--backend xen|sim|none]
 *                 [--sim-opts OPTS] [--hostname NAME] [-v]
 *
 * Command-line options override the config file.  See docs/DAEMON.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/host.h"
#include "applet.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/worker.h"
#include "server/config.h"
#include "server/loop.h"
#include "server/server.h"
#ifdef CONFIG_XB_POOL
#include "pool/pool.h"
#endif
#ifdef CONFIG_XB_CONSOLE
#include "console/console.h"
#endif
#ifdef CONFIG_XB_STATS
#include "stats/collector.h"
#endif
#ifdef CONFIG_XB_TLS
#include "server/tls.h"
#endif
#include "store/store.h"
#include "vmm/backend.h"

static volatile int stop;
static struct vmm *vmm;
static int restart;

/* host.shutdown/reboot on the sim, host.restart_agent (api/host_ops.c) */
static void on_exit_request(int again)
{
	restart = again;
	stop = 1;
}

/* host.restart_agent: the same program with the same arguments, as the
 * same process (a supervisor sees nothing), everything closed first. */
static void exec_again(void)
{
	execv("/proc/self/exe", applet_argv);
	log_err("restart: %s", strerror(errno));
}

static void on_change(void)
{
	api_events_changed();
	store_mark_dirty();
}

static void on_vmm(int fd, int events, void *opaque)
{
	(void)fd;
	(void)events;
	(void)opaque;
	api_vm_handle_domain_events();
}

static void on_worker(int fd, int events, void *opaque)
{
	(void)fd;
	(void)events;
	(void)opaque;
	worker_handle();
}

static int64_t min_pos(int64_t a, int64_t b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Once per loop iteration: timers, then one store commit, then the
 * replies whose changes are saved.  While the store fails, a reply that
 * acknowledges an unsaved change waits (and those behind it on its
 * connection); the store retries with a back-off, which bounds the sleep. */
static int64_t before_sleep(void)
{
	int64_t now = now_ms(), t;

	api_dev_ops_refresh();          /* before events: they see it now */
	t = api_events_tick(now);
	t = min_pos(t, api_vm_tick(now));
	t = min_pos(t, api_host_tick(now));
	t = min_pos(t, api_tasks_tick(now));
	t = min_pos(t, server_tick(now));
#ifdef CONFIG_XB_POOL
	t = min_pos(t, pool_master_tick(now));
	t = min_pos(t, pool_member_tick(now));
#endif
#ifdef CONFIG_XB_STATS
	t = min_pos(t, stats_tick(now));
#endif
#ifdef CONFIG_XB_POOL
	t = min_pos(t, pool_mirror_tick(now));  /* last before the commit */
#endif
	store_flush(now);       /* logs its failures itself */
#ifdef CONFIG_XB_POOL
	pool_forward_release(store_saved_since);
#endif
	server_flush_output(store_saved_since);
#ifdef CONFIG_XB_POOL
	pool_mirror_flush(store_saved_since);
#endif
	return stop ? 0 : min_pos(t, store_retry_in(now));
}

/* The soft open-file limit up to the hard one: a pool master holds a
 * connection per member, often past the soft default of 1024
 * (docs/POOL.md 10).  prlimit, not setrlimit: musl's setrlimit stops
 * every thread to set it (~1.5 KB); before any thread starts, one call
 * does for the whole process. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (prlimit(0, RLIMIT_NOFILE, NULL, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (prlimit(0, RLIMIT_NOFILE, &rl, NULL))
		log_warn("open file limit: %s", strerror(errno));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xenbox daemon [--config FILE] [--state-dir DIR] [--http ADDR:PORT]\n"
		"                     [--https ADDR:PORT] [--unix PATH] [--backend xen|sim|none]\n"
		"                     [--sim-opts OPTS] [--hostname NAME] [--boot-log FILE] [-v]\n"
		"       xenbox daemon --config FILE --check-config\n");
}

static int daemon_main(int argc, char **argv)
{
	struct config cfg;
	const char *config_path = NULL;
	char err[512], path[600], host[256];
	int rc = 1, r, check = 0;

	config_defaults(&cfg);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config_path = argv[++i];
	if (config_path)
		config_load(&cfg, config_path);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char **dst = NULL;

		if (!strcmp(a, "-v")) {
			cfg.log_level = LOG_DEBUG;
			continue;
		}
		/* For the USB image's boot scripts: report the file's mistakes
		 * (stderr, FILE:LINE), print their keys as shell assignments,
		 * exit 1 if anything was reported. */
		if (!strcmp(a, "--check-config")) {
			check = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			config_free(&cfg);
			return 0;
		}
		if (!strcmp(a, "--config"))
			dst = NULL;
		else if (!strcmp(a, "--state-dir"))
			dst = &cfg.state_dir;
		else if (!strcmp(a, "--http"))
			dst = &cfg.http;
		else if (!strcmp(a, "--https"))
			dst = &cfg.https;
		else if (!strcmp(a, "--unix"))
			dst = &cfg.unix_path;
		else if (!strcmp(a, "--backend"))
			dst = &cfg.backend;
		else if (!strcmp(a, "--sim-opts"))
			dst = &cfg.sim_opts;
		else if (!strcmp(a, "--hostname"))
			dst = &cfg.hostname;
		else if (!strcmp(a, "--boot-log"))
			dst = (char **)&api_boot_log;
		else if (!strcmp(a, "--storage-root"))  /* tests: a fake /sys, /dev, /run */
			dst = &cfg.storage_root;
		else {
			fprintf(stderr, "xenbox daemon: unknown option '%s'\n", a);
			usage();
			config_free(&cfg);
			return 2;
		}
		if (!v) {
			fprintf(stderr, "xenbox daemon: %s needs a value\n", a);
			config_free(&cfg);
			return 2;
		}
		if (dst) {
			free(*dst);
			*dst = xstrdup(v);
		}
		i++;
	}
	if (check) {
		config_print_shell(&cfg, stdout);
		rc = cfg.errors ? 1 : 0;
		config_free(&cfg);
		return rc;
	}
	log_level = cfg.log_level;
	api_clean_timeout_s = cfg.clean_shutdown_timeout;
#ifndef CONFIG_XB_POOL
	if (cfg.pool.master)
		log_warn("pool_master: this build has no pools (CONFIG_XB_POOL); ignored");
#endif
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);       /* a file size limit: EFBIG, the store retries */
	raise_nofile();
	if (loop_stop_on_signals(&stop)) {      /* before any thread starts */
		log_err("signals: %s", strerror(errno));
		goto out;
	}

	if (mkdir_parents(cfg.state_dir, 0755, err, sizeof(err))) {
		log_err("state directory: %s", err);
		goto out;
	}
	if (mkdir(cfg.state_dir, 0700) < 0 && errno != EEXIST) {
		log_err("state directory %s: %s", cfg.state_dir, strerror(errno));
		goto out;
	}
	api_state_dir = xstrdup(cfg.state_dir);
	if (!cfg.hostname) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "xenbox");
		cfg.hostname = xstrdup(host);
	}
	if (!cfg.backend)
		cfg.backend = xstrdup(vmm_probe_default());
	if (!vmm_backend_available(cfg.backend)) {
		log_err("backend '%s' is not in this build%s", cfg.backend,
			access("/dev/xen/privcmd", F_OK) ? "" : " (this is a Xen host)");
		goto out;
	}
	if (!strcmp(cfg.backend, "sim") && !strstr(cfg.sim_opts, "state=")) {
		char *o;

		if (xsnprintf(path, sizeof(path), "state=%s/sim%s%s", cfg.state_dir,
			      *cfg.sim_opts ? "," : "", cfg.sim_opts) < 0) {
			log_err("sim_opts or the state directory: too long");
			goto out;
		}
		o = xstrdup(path);
		free(cfg.sim_opts);
		cfg.sim_opts = o;
	}
	if (vmm_open(cfg.backend, !strcmp(cfg.backend, "sim") ? cfg.sim_opts : NULL,
		     &vmm, err, sizeof(err))) {
		log_err("backend %s: %s", cfg.backend, err);
		goto out;
	}
	if (dm_init(err, sizeof(err))) {
		log_err("datamodel: %s", err);
		goto out;
	}
	dm_set_change_hook(on_change);
	if (xsnprintf(path, sizeof(path), "%s/xenbox.db", cfg.state_dir) < 0) {
		log_err("state directory %s: path too long", cfg.state_dir);
		goto out;
	}
#ifdef CONFIG_XB_POOL
	store_set_owners(pool_owner_name, pool_owner_number);
#endif
	if (store_open(path, err, sizeof(err)) || store_load(err, sizeof(err))) {
		log_err("store: %s", err);
		goto out;
	}
	api_storage = cfg.storage;
	api_storage_force = !strcmp(cfg.storage_format, "force");
	if (cfg.storage_root)
		api_storage_root = cfg.storage_root;
	if (api_auth_init(cfg.state_dir, cfg.root_password_hash) ||
	    api_host_init(vmm, cfg.hostname, err, sizeof(err))) {
		log_err("start-up: %s", err);
		goto out;
	}
	if ((r = worker_start())) {
		log_err("worker thread: %s", strerror(-r));
		goto out;
	}
#ifdef CONFIG_XB_CONSOLE
	api_console_tap = console_output;
	server_console_open = console_open;
	server_console_adopt = console_adopt;
#endif
	api_vm_adopt();
	api_storage_start();
	api_exit_hook = on_exit_request;
	api_host_start();
	api_session_gc(NULL);
#ifdef CONFIG_XB_STATS
	stats_init(vmm, cfg.stats_save_interval);
#endif
	if (loop_init()) {
		log_err("epoll: %s", strerror(errno));
		goto out;
	}
	if (*cfg.https) {
#ifdef CONFIG_XB_TLS
		char fp[128];

		if (tls_server_init(cfg.state_dir, cfg.hostname, fp, sizeof(fp), err, sizeof(err)) ||
		    server_listen_tcp(cfg.https, 1, err, sizeof(err))) {
			log_err("https: %s", err);
			goto out;
		}
		log_info("https on %s; certificate SHA-256 fingerprint %s", cfg.https, fp);
#else
		log_warn("https %s: this build has no TLS (CONFIG_XB_TLS)", cfg.https);
#endif
	}
	/* plain HTTP last: once it answers, every listener does (the Unix
	 * socket before it: a client that waits for the port, as the tests
	 * and supervisors do, then finds the socket there too) */
	if ((*cfg.unix_path && (mkdir_parents(cfg.unix_path, 0755, err, sizeof(err)) ||
				server_listen_unix(cfg.unix_path, err, sizeof(err)))) ||
	    https_only_init(cfg.http, cfg.https_only, err, sizeof(err))) {
		log_err("listen: %s", err);
		goto out;
	}
	netinfo_start(cfg.management_interface, cfg.network);
	if (loop_watch(vmm_event_fd(vmm), LOOP_READ, on_vmm, NULL) ||
	    loop_watch(worker_fd(), LOOP_READ, on_worker, NULL)) {
		log_err("epoll: %s", strerror(errno));
		goto out;
	}
#ifdef CONFIG_XB_POOL
	pool_master_init(cfg.pool.dead_after, cfg.pool.metrics_interval, cfg.pool.relay_domain);
	pool_member_start(&cfg.pool, cfg.state_dir);
#endif
	store_flush(0);         /* on failure the loop retries */
	log_info("xenbox %s: backend %s, state %s%s%s%s%s", XB_VERSION, cfg.backend,
		 cfg.state_dir, *cfg.http ? ", http " : "", cfg.http,
		 *cfg.unix_path ? ", unix " : "", cfg.unix_path);
	loop_run(before_sleep, &stop);
	log_info("stopping");
	worker_stop();          /* waits for a build in progress, records it */
	rc = 0;
	if (store_flush(0)) {
		log_err("store: exiting with changes not saved");
		rc = 1;
	}
#ifdef CONFIG_XB_STATS
	if (stats_save())
		rc = 1;         /* reported by stats_save */
#endif
out:
#ifdef CONFIG_XB_POOL
	pool_member_dispose();
	pool_master_dispose();
	pool_mirror_flush(NULL);
#endif
	worker_stop();
	api_vm_dispose();
	api_async_dispose();
#ifdef CONFIG_XB_CONSOLE
	console_dispose();
	api_console_tap = NULL;
#endif
	api_console_log_dispose();
	server_shutdown();
	https_only_dispose();
	netinfo_stop();
#ifdef CONFIG_XB_STATS
	stats_dispose();
#endif
#ifdef CONFIG_XB_TLS
	tls_server_free();
#endif
	loop_dispose();
	store_close();
	dm_dispose();
	vmm_close(vmm);
	vmm = NULL;
	free(api_state_dir);
	api_state_dir = NULL;
	config_free(&cfg);
	if (restart && !rc)
		exec_again();
	free((char *)api_boot_log);
	api_boot_log = NULL;
	return rc;
}

XB_APPLET(daemon, daemon_main, "the XenAPI server");
