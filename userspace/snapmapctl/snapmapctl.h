/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: what the commands share, the options above all.
 */

#ifndef _SNAPMAPCTL_H
#define _SNAPMAPCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct json;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses, as documented in snapmapctl(8). */
#define EXIT_OK		0
#define EXIT_NOT_FOUND	1	/* no such map, or no such key */
#define EXIT_USAGE	2
#define EXIT_CANCELED	3	/* a condition does not hold */
#define EXIT_ERROR	4	/* any other failure */
/*
 * What a command returns when it failed and said why: main turns it into
 * one of the above from what report.c kept of the message.
 */
#define EXIT_FAIL	EXIT_ERROR

/* How KEY and VALUE arguments are spelt on the command line. */
enum arg_encoding {
	ARG_RAW,	/* the argument's bytes */
	ARG_HEX,	/* pairs of hexadecimal digits */
	ARG_ESCAPED,	/* the escapes human output uses */
};

/* How a command that makes a new map keeps it alive. */
enum hold_mode {
	HOLD_NONE,
	HOLD_FOREGROUND,	/* --hold */
	HOLD_BACKGROUND,	/* --background */
	HOLD_COMMAND,		/* -- COMMAND [ARG...] */
};

/*
 * struct limits - map limits given on the command line; a member set to 0
 * was not given.
 */
struct limits {
	__u32 max_key_len;
	__u32 max_value_len;
	__u64 max_entries;
	__u64 max_bytes;
};

/* Everything the options of any command can set. */
struct opts {
	const char *cmd;		/* the command's name, for messages */
	bool json;
	bool pretty;
	bool quiet;
	bool raw;
	bool weak;
	bool versions;
	bool no_header;
	bool check;
	enum arg_encoding enc;
	enum hold_mode hold;
	const char *pid_file;
	const char *value_file;
	const char *into;
	struct limits limits;
	__u32 mode;			/* 0: not given */
	__u32 put_flags;		/* SNAPMAP_PUT_NOEXIST or _EXIST */
	bool if_version;
	__u64 version;
	char **hold_argv;		/* HOLD_COMMAND: the command */
	bool has_since;			/* --since given */
	__u64 since;
	const char *prefix;		/* --prefix, as given */
	__u64 changes;			/* --changes: 0 for no end */
	__u64 wakeup_bytes;		/* --wakeup-bytes: 0 if not given */
	int wakeup_ms;			/* --wakeup-ms: 0 if not given */
	bool persistent;		/* create --persistent */
	bool all;			/* ls --all */
};

/* Commands: each returns an exit status. */
int cmd_version(struct opts *o, int argc, char **argv);
int cmd_create(struct opts *o, int argc, char **argv);
int cmd_ls(struct opts *o, int argc, char **argv);
int cmd_info(struct opts *o, int argc, char **argv);
int cmd_get(struct opts *o, int argc, char **argv);
int cmd_put(struct opts *o, int argc, char **argv);
int cmd_del(struct opts *o, int argc, char **argv);
int cmd_clear(struct opts *o, int argc, char **argv);
int cmd_dump(struct opts *o, int argc, char **argv);
int cmd_clone(struct opts *o, int argc, char **argv);
int cmd_save(struct opts *o, int argc, char **argv);
int cmd_load(struct opts *o, int argc, char **argv);
int cmd_txn(struct opts *o, int argc, char **argv);
int cmd_mget(struct opts *o, int argc, char **argv);
int cmd_watch(struct opts *o, int argc, char **argv);
int cmd_mirror(struct opts *o, int argc, char **argv);
int cmd_batch(struct opts *o, int argc, char **argv);
int cmd_rm(struct opts *o, int argc, char **argv);

/* main.c: one command line, as main and each line of a batch run it */
int run_command(const struct opts *base, int argc, char **argv,
		unsigned int line);
/* --version: needs no module */
int print_version(const struct opts *o);

/* cmd_persist.c: persistent maps, and every map */
int create_persistent(struct opts *o, const char *name);
int ls_all(struct opts *o);

/* util.c: argument parsing and small helpers */
int usage_error(const struct opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool valid_map_name(const char *name);
int check_map_name(const struct opts *o, const char *name);
int decode_bytes(enum arg_encoding enc, const char *s, unsigned char *out,
		 __u32 *len);
const char *decode_error(enum arg_encoding enc);
int decode_arg(const struct opts *o, const char *what, const char *arg,
	       void **buf, __u32 *len);
int decode_key(const struct opts *o, const char *arg, void **key, __u32 *len);
int read_all(int fd, void **buf, size_t *len, size_t max);
int parse_u64(const char *s, __u64 *v, bool suffixes);
int parse_mode(const char *s, __u32 *mode);
const char *user_name(__u32 uid);
const char *group_name(__u32 gid);
int get_ctl(const struct opts *o);
int open_map(const struct opts *o, const char *name, bool write);
int finish_stdout(const struct opts *o);

/* hold.c: keep a new map alive */
int hold_check(const struct opts *o);
int hold_map(const struct opts *o, int map_fd, const char *name,
	     void (*ready_json)(struct json *j, void *arg), void *arg);

#endif /* _SNAPMAPCTL_H */
