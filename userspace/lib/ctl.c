// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: the control device and the handshake, and what every other
 * file shares: issuing a command, telling a command (or a feature) the
 * module lacks from an fd of the wrong kind, control fds opened for one
 * call, options structures and names.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

/* The Makefile passes "MAJOR.MINOR"; the header's numbers otherwise. */
#ifndef LIBSNAPMAP_VERSION
#define LIBSNAPMAP_STR(x) #x
#define LIBSNAPMAP_XSTR(x) LIBSNAPMAP_STR(x)
#define LIBSNAPMAP_VERSION						\
	LIBSNAPMAP_XSTR(LIBSNAPMAP_MAJOR_VERSION) "."			\
	LIBSNAPMAP_XSTR(LIBSNAPMAP_MINOR_VERSION)
#endif

#define SNAPMAP_DEV_PATH "/dev/snapmap"

const char *snapmap_lib_version(void)
{
	return LIBSNAPMAP_VERSION;
}

static int ctl_open(void)
{
	int fd = open(SNAPMAP_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int snapmap_ctl_open(void)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno, ctl_open());
}

/*
 * A control fd for one call, in *@fd: @ctl_fd itself, or a new one when it
 * is -1.  Any other @ctl_fd is the caller's to get right: a negative one
 * gets EBADF from the command like any bad fd.  Returns 0 or a negative
 * errno; a control fd got is handed back to libsnapmap_ctl_put().
 */
int libsnapmap_ctl_get(int ctl_fd, int *fd)
{
	if (ctl_fd != -1) {
		*fd = ctl_fd;
		return 0;
	}
	*fd = ctl_open();
	return *fd < 0 ? *fd : 0;
}

void libsnapmap_ctl_put(int ctl_fd, int fd)
{
	if (ctl_fd == -1)
		close(fd);
}

/*
 * The handshake into @api, of the caller's @size: zeroed first, so that
 * what the module does not know reads as zero, and the module writes what
 * it knows of the @size bytes.
 */
static int api_ioctl(int fd, struct snapmap_api *api, size_t size)
{
	memset(api, 0, size);
	api->size = size;
	return ioctl(fd, SNAPMAP_IOC_API, api) ? -errno : 0;
}

bool snapmap_has_cmd(const struct snapmap_api *api, unsigned int cmd)
{
	if (!api) {
		errno = EINVAL;
		return false;
	}
	return cmd < 64 && (api->out_ioctls & (1ULL << cmd));
}

/*
 * ENOTTY from the module means that @fd does not take the command: either
 * the loaded module is older than the library and lacks it (EOPNOTSUPP),
 * or @fd is not the kind of snapmap fd that takes it, or no snapmap fd at
 * all (ENOTTY stays).  The handshake tells the two apart.  It is only
 * answered on a control fd: a control command asks @fd itself, which is
 * then a control fd or the wrong kind; a map or snapshot command asks a
 * control fd of its own and, when the command is missing, checks that @fd
 * is a map fd at all with INFO, which every module has.
 *
 * Command numbers come in blocks per kind of fd (see enum snapmap_cmd):
 * control commands below SNAPMAP_CMD_GET, map commands below
 * SNAPMAP_CMD_SNAPSHOT_INFO, snapshot commands from there on.
 */
static int cmd_missing_or_enotty(int fd, unsigned int cmd)
{
	struct snapmap_info info;
	struct snapmap_api api;
	int ctl, err;

	if (cmd == SNAPMAP_CMD_API)
		return -ENOTTY;
	if (cmd < SNAPMAP_CMD_GET) {
		if (api_ioctl(fd, &api, sizeof(api)))
			return -ENOTTY;
		return snapmap_has_cmd(&api, cmd) ? -ENOTTY : -EOPNOTSUPP;
	}

	ctl = ctl_open();
	if (ctl < 0)
		return -ENOTTY;
	err = api_ioctl(ctl, &api, sizeof(api));
	close(ctl);
	if (err || snapmap_has_cmd(&api, cmd))
		return -ENOTTY;
	if (cmd < SNAPMAP_CMD_SNAPSHOT_INFO) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (ioctl(fd, SNAPMAP_IOC_INFO, &info))
			return -ENOTTY;
	}
	/*
	 * Snapshot commands are only issued on the fd of a snapshot the
	 * library took, so that fd is of the right kind.
	 */
	return -EOPNOTSUPP;
}

/*
 * Issue @request on @fd: its non-negative result, or a negative errno with
 * ENOTTY turned into EOPNOTSUPP for a command the module lacks.  An
 * argument structure of the library's own is passed with the size the
 * library was built with, one of the caller's (INFO, API) with the
 * caller's: the module zero-extends a smaller one and accepts a larger one
 * whose tail is zero, so the library and the module need not match.
 */
int libsnapmap_ioctl(int fd, unsigned long request, void *arg)
{
	int ret = ioctl(fd, request, arg);

	if (ret >= 0)
		return ret;
	ret = -errno;
	if (ret == -ENOTTY)
		ret = cmd_missing_or_enotty(fd, _IOC_NR(request));
	return ret;
}

/*
 * Whether the loaded module lacks @feature.  A flag added to an old
 * command is refused by an older module as any unknown flag is, with
 * EINVAL, not ENOTTY: the handshake's features tell the two apart.  False
 * when the handshake cannot be asked, so that the caller keeps its error.
 */
bool libsnapmap_lacks_feature(__u64 feature)
{
	struct snapmap_api api;
	int ctl, err;

	ctl = ctl_open();
	if (ctl < 0)
		return false;
	err = api_ioctl(ctl, &api, sizeof(api));
	close(ctl);
	return !err && !(api.out_features & feature);
}

/* libsnapmap_ioctl() on a control fd, or on one of its own for -1. */
int libsnapmap_ctl_ioctl(int ctl_fd, unsigned long request, void *arg)
{
	int fd, ret;

	ret = libsnapmap_ctl_get(ctl_fd, &fd);
	if (ret)
		return ret;
	ret = libsnapmap_ioctl(fd, request, arg);
	libsnapmap_ctl_put(ctl_fd, fd);
	return ret;
}

int snapmap_api_sz(int ctl_fd, struct snapmap_api *api, size_t api_size)
{
	int saved_errno = errno;
	int fd, ret;

	if (!api || api_size < LIBSNAPMAP_API_SIZE0 || api_size > UINT32_MAX)
		return libsnapmap_ret(saved_errno, -EINVAL);
	ret = libsnapmap_ctl_get(ctl_fd, &fd);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = api_ioctl(fd, api, api_size);
	libsnapmap_ctl_put(ctl_fd, fd);
	return libsnapmap_ret(saved_errno, ret);
}

/*
 * Whether the @known_sz bytes of an options structure the library knows
 * may be read from @opts, as libbpf's OPTS_VALID(): NULL is fine, a size
 * that does not even cover the size member is EINVAL, and a size beyond
 * what the library knows is E2BIG unless the bytes it does not know are
 * zero.
 */
int libsnapmap_opts_check(const void *opts, size_t known_sz)
{
	const unsigned char *p = opts;
	size_t sz, i;

	if (!opts)
		return 0;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (i = known_sz; i < sz; i++)
		if (p[i])
			return -E2BIG;
	return 0;
}

/*
 * Copy @name into a zeroed name member of SNAPMAP_NAME_LEN bytes.  NULL is
 * the empty name.  EINVAL if it does not fit with its NUL: cutting it
 * would name another map.  The module checks the characters.
 */
int libsnapmap_copy_name(char *dst, const char *name)
{
	size_t len;

	if (!name)
		return 0;
	len = strnlen(name, SNAPMAP_NAME_LEN);
	if (len == SNAPMAP_NAME_LEN)
		return -EINVAL;
	memcpy(dst, name, len);
	return 0;
}
