/* xenbox.conf: one flat "key = value" file a person edits with any editor.
 * '#' starts a comment.  Unknown keys and bad values are reported as
 * "FILE:LINE: message" and skipped: the daemon comes up with defaults. */
#ifndef XB_CONFIG_H
#define XB_CONFIG_H

#include <stdio.h>

struct config {
	char *state_dir;
	char *http;             /* ADDR:PORT or "" (off) */
	char *https;
	char *unix_path;
	char *backend;          /* "xen", "sim" or NULL (probe) */
	char *sim_opts;
	char *hostname;
	char *root_password_hash;
	/* For the USB image's boot scripts (docs/USB_IMAGE.md): validated here,
	 * handed to them by `xenbox daemon --check-config`, unused by the
	 * daemon itself. */
	char *network;          /* "dhcp" or "static"; also PIF.ip_configuration_mode */
	char *address;          /* A.B.C.D/PREFIX (static) */
	char *gateway;          /* A.B.C.D (static) */
	char *dns;              /* A.B.C.D[,A.B.C.D...] (static) */
	char *ntp;              /* servers, comma separated; "" = none */
	char *console_password_hash;    /* crypt(3) hash for the console login */
	char *console;          /* "menu" (xenbox console) or "login" (a getty) */
	char *management_nic;   /* NAME or MAC, or two of them: a bond (USB_IMAGE.md) */
	char *vlan;             /* 1..4094: the management network's 802.1Q tag */
	/* Pools (docs/POOL.md 3.1): checked here, used by pool/member.c
	 * (joining, the channel) and pool/master.c (dead_after). */
	struct config_pool {
		char *master;           /* HOST[:PORT] or [IPv6]:PORT, as given */
		char *master_host;      /* without brackets */
		int master_port;        /* 443 unless given */
		char *fingerprint;      /* upper-case hex pairs joined by ':' */
		char *token;            /* a secret: never logged */
		char *username, *password;      /* password: a secret */
		char *address;          /* later stage (7.2) */
		char *relay_domain;
		char *client_address;
		int dead_after;         /* s, 3..3600 */
		int metrics_interval;   /* s, 0..3600; 0: as they happen */
		int master_line;        /* of pool_master, for messages */
		int join;               /* pool_master and pool_fingerprint */
	} pool;
	char *management_interface;     /* host.address's (server/netinfo.c) */
	/* docs/STORAGE.md 2.3: "state" (default), "none", "auto" or a
	 * /dev/... disk; "blank" or "force"; the test-only --storage-root */
	char *storage, *storage_format, *storage_root;
	int https_only;         /* plain HTTP on loopback only (default 1) */
	int clean_shutdown_timeout;
	int stats_save_interval;        /* s; 0: only at clean shutdown */
	int log_level;
	int errors;             /* lines reported */
};

void config_defaults(struct config *c);
/* Returns -1 if the file cannot be read (reported), else 0; bad lines are
 * counted in c->errors. */
int config_load(struct config *c, const char *path);
void config_free(struct config *c);
/* The boot scripts' keys (and hostname) as shell assignments, xb_KEY='V',
 * one a line, values quoted for sh. */
void config_print_shell(const struct config *c, FILE *f);

/* pool_master's and pool_fingerprint's forms, for pool.join too (the
 * pool's member): HOST[:PORT] or [IPv6][:PORT] (the host, brackets off,
 * and the port, 443 unless given, out when wanted); 32 hex pairs, with
 * or without ':', to upper-case pairs joined by ':'.  0 or -1. */
int config_hostport(const char *v, char **host, int *port);
int config_fingerprint(const char *v, char out[96]);

#endif
