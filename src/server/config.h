/* xenbox.conf: one flat "key = value" file a person edits with any editor.
 * '#' starts a comment.  Unknown keys and bad values are reported as
 * "FILE:LINE: message" and skipped: the daemon comes up with defaults. */
#ifndef XB_CONFIG_H
#define XB_CONFIG_H

struct config {
	char *state_dir;
	char *http;             /* ADDR:PORT or "" (off) */
	char *https;
	char *unix_path;
	char *backend;          /* "xen", "sim" or NULL (probe) */
	char *sim_opts;
	char *hostname;
	char *root_password_hash;
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

#endif
