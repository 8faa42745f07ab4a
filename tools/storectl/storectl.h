/*
 * storectl.h -- what the files of storectl share: the connection, error
 * reporting, the progress display, and the command entry points.
 */
#ifndef STORECTL_H
#define STORECTL_H

#include "client.h"

#include <stdint.h>
#include <stdio.h>

/* The connection, opened on first use by commands that need one. */
struct store_client *ctl_client(void);

/* Print "storectl: <sentence>" to stderr; returns 1 (the exit status). */
int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the library's last error sentence (or a fallback built from rc). */
int ctl_lib_error(int rc, const char *what);

/* Progress display for put/get: shown only when stderr is a terminal. */
struct progress {
	int on;
	uint64_t total; /* 0: unknown */
	uint64_t done;
	uint64_t files;
	uint64_t t0_ns, last_ns;
	const char *verb;
};
void progress_start(struct progress *p, const char *verb, uint64_t total);
void progress_add(struct progress *p, uint64_t bytes);
void progress_end(struct progress *p);

/* Commands: argc/argv after the command word(s); return the exit status. */
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_mkdir(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_mv(int argc, char **argv);
int cmd_df(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_osd(int argc, char **argv);
int cmd_auth(int argc, char **argv); /* cmd_auth.c */
int cmd_scrub(int argc, char **argv); /* cmd_scrub.c */

/* Human-readable byte counts ("1.5 GiB"). */
const char *fmt_bytes(uint64_t n, char *buf, size_t cap);

/* Join a cluster directory path and a name (buf of STORE_PATH_MAX + 1). */
int path_join(char *buf, const char *dir, const char *name);

/* The last component of a path (no trailing slashes considered). */
const char *path_base(const char *path, char *buf, size_t cap);

#endif
