/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: what a failure says, on standard error, in the JSON error
 * document of --json, and in the exit status.
 *
 * Every message goes through here and the first of a command is kept:
 * the later ones tell what followed from it.  From the kept one come the
 * error document and, for a command that returned EXIT_FAIL, the exit
 * status: "no such map" and "no such key" are EXIT_NOT_FOUND, a condition
 * that does not hold EXIT_CANCELED, anything else EXIT_ERROR.
 */

#ifndef _SNAPMAPCTL_REPORT_H
#define _SNAPMAPCTL_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct json;

/*
 * What an errno meant depends on what was being done: ENOENT is "no such
 * map" from an open and "no such key" from a lookup.
 */
enum err_ctx {
	ERR_CTL,	/* opening /dev/snapmap or the handshake */
	ERR_MAP,	/* opening a map by name */
	ERR_CREATE,	/* creating or cloning a map */
	ERR_KEY,	/* an operation on a key */
	ERR_SNAPSHOT,	/* taking or reading a snapshot */
	ERR_OTHER,
};

const char *sm_strerror(int err, enum err_ctx ctx);

/* "snapmapctl: CMD: " and the message, on stderr. */
void errorf(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* As errorf(), for a failure whose cause is the errno @err. */
void error_errno(const char *cmd, int err, enum err_ctx ctx,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "snapmapctl: CMD: map 'NAME': " and the meaning of @err. */
void error_map(const char *cmd, const char *map, int err, enum err_ctx ctx);
/* As error_map(), naming the key too. */
void error_key(const char *cmd, const char *map, const void *key,
	       size_t key_len, int err);
/* A usage error's message; usage_error() adds the pointer to --help. */
void error_usage(const char *cmd, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Forget the kept failure: a batch runs many commands. */
void report_reset(void);
/* Whether a failure was reported since. */
bool report_failed(void);
/* The exit status of a command that returned EXIT_FAIL. */
int report_status(void);
/*
 * The kept failure as the members of an error object, after the exit
 * status @status; with the batch line @line unless 0.
 */
void report_json_members(struct json *j, int status, unsigned int line);
/* The error document, {"error": {...}}, on standard output. */
void report_json(int status, unsigned int line);

#endif /* _SNAPMAPCTL_REPORT_H */
