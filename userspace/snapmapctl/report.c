// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: what a failure says, on standard error, in the JSON error
 * document of --json, and in the exit status.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "progress.h"
#include "report.h"
#include "snapmapctl.h"

/*
 * struct report - the first failure of a command
 * @set: whether there was one
 * @usage: it is a usage error
 * @err: its errno, 0 if it has none (a bad file, a map not empty)
 * @ctx: what was being done, which says what @err meant
 * @cmd: the command, empty if none was known yet
 * @msg: the message, as on stderr after "snapmapctl: CMD: "
 */
static struct report {
	bool set;
	bool usage;
	int err;
	enum err_ctx ctx;
	char cmd[32];
	char msg[1024];
} rep;

const char *sm_strerror(int err, enum err_ctx ctx)
{
	switch (err) {
	case ENOENT:
		if (ctx == ERR_CTL)
			return "no such device (is the snapmap module loaded?)";
		if (ctx == ERR_MAP)
			return "no such map";
		if (ctx == ERR_KEY)
			return "no such key";
		break;
	case EACCES:
		if (ctx == ERR_MAP)
			return "permission denied (the map's owner and mode do not allow it)";
		break;
	case EEXIST:
		if (ctx == ERR_CREATE)
			return "a map of that name exists";
		if (ctx == ERR_KEY)
			return "key exists";
		break;
	case EINVAL:
		if (ctx == ERR_CREATE)
			return "invalid name, mode or limit (a limit above the module's cap?)";
		if (ctx == ERR_MAP)
			return "invalid map name";
		break;
	case ENOSPC:
		if (ctx == ERR_CREATE)
			return "the source's entries do not fit a new map's limits";
		return "no space left (entry or byte limit reached)";
	case ECANCELED:
		return "version mismatch (the key changed or is absent)";
	case EDQUOT:
		return "too many maps for this user (module parameter max_maps_per_user)";
	case EMSGSIZE:
		return "key or value longer than the map's limit";
	case EBADF:
		return "the map is open read-only";
	case ESTALE:
		return "the snapshot went stale (writers pushed the map past its byte limit); try again";
	case ENOMEM:
		return ctx == ERR_OTHER ? "out of memory" :
		       "out of memory in the kernel";
	case EOPNOTSUPP:
	case ENOTTY:
		return "not supported by the loaded snapmap module";
	case EFAULT:
		return "bad address";
	}
	return strerror(err);
}

/* Print the message, and keep it if it is the command's first. */
static void report(const char *cmd, bool usage, int err, enum err_ctx ctx,
		   const char *fmt, va_list ap)
{
	char msg[sizeof(rep.msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	progress_clear_any();
	fflush(stdout);
	fputs("snapmapctl: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	fprintf(stderr, "%s\n", msg);
	if (rep.set)
		return;
	rep.set = true;
	rep.usage = usage;
	rep.err = err;
	rep.ctx = ctx;
	snprintf(rep.cmd, sizeof(rep.cmd), "%s", cmd ?: "");
	memcpy(rep.msg, msg, sizeof(msg));
}

void errorf(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cmd, false, 0, ERR_OTHER, fmt, ap);
	va_end(ap);
}

void error_errno(const char *cmd, int err, enum err_ctx ctx,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cmd, false, err, ctx, fmt, ap);
	va_end(ap);
}

void error_map(const char *cmd, const char *map, int err, enum err_ctx ctx)
{
	error_errno(cmd, err, ctx, "map '%s': %s", map, sm_strerror(err, ctx));
}

void error_key(const char *cmd, const char *map, const void *key,
	       size_t key_len, int err)
{
	char k[200];

	escape_short(k, sizeof(k), key, key_len);
	error_errno(cmd, err, ERR_KEY, "map '%s': key '%s': %s", map, k,
		    sm_strerror(err, ERR_KEY));
}

void error_usage(const char *cmd, const char *fmt, va_list ap)
{
	/* What a usage error is, in errno's words. */
	report(cmd, true, EINVAL, ERR_OTHER, fmt, ap);
}

void report_reset(void)
{
	rep.set = false;
}

bool report_failed(void)
{
	return rep.set;
}

int report_status(void)
{
	if (!rep.set)
		return EXIT_ERROR;
	if (rep.usage)
		return EXIT_USAGE;
	if (rep.err == ENOENT && (rep.ctx == ERR_MAP || rep.ctx == ERR_KEY))
		return EXIT_NOT_FOUND;
	/* A version that moved on, or put --no-replace on a key present. */
	if (rep.err == ECANCELED || (rep.err == EEXIST && rep.ctx == ERR_KEY))
		return EXIT_CANCELED;
	return EXIT_ERROR;
}

void report_json_members(struct json *j, int status, unsigned int line)
{
	const char *name = rep.err ? strerrorname_np(rep.err) : NULL;

	if (rep.cmd[0])
		json_str(j, "command", rep.cmd);
	else
		json_null(j, "command");
	if (line)
		json_u64(j, "line", line);
	json_u64(j, "status", status);
	json_u64(j, "errno", rep.err);
	if (name)
		json_str(j, "name", name);
	else
		json_null(j, "name");
	json_str(j, "message", rep.set ? rep.msg : "failed");
}

void report_json(int status, unsigned int line)
{
	struct json j;

	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_open(&j, "error", '{');
	report_json_members(&j, status, line);
	json_close(&j, '}');
	json_close(&j, '}');
	json_end(&j);
}
