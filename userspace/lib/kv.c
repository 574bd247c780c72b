// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: keys one at a time: get, put, compare-and-swap, delete,
 * conditional delete, and clear.
 */

#include <errno.h>
#include <string.h>

#include "internal.h"

/*
 * GET, or SNAPSHOT_GET on a snapshot fd: both take a struct snapmap_get
 * and answer alike.
 */
int libsnapmap_get(int fd, unsigned long request, const void *key,
		   __u32 key_len, void *value, __u32 *value_len,
		   __u64 *version)
{
	struct snapmap_get arg;
	int ret;

	if (!value_len)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.key_len = key_len;
	arg.value_buf_len = *value_len;
	arg.key = SNAPMAP_PTR(key);
	arg.value = SNAPMAP_PTR(value);
	ret = libsnapmap_ioctl(fd, request, &arg);
	/* ERANGE says how long the value is, so that the caller can retry. */
	if (!ret || ret == -ERANGE) {
		*value_len = arg.out_value_len;
		if (version)
			*version = arg.out_version;
	}
	return ret;
}

int snapmap_get(int map_fd, const void *key, __u32 key_len, void *value,
		__u32 *value_len, __u64 *version)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      libsnapmap_get(map_fd, SNAPMAP_IOC_GET, key,
					     key_len, value, value_len,
					     version));
}

static int put(int map_fd, const void *key, __u32 key_len, const void *value,
	       __u32 value_len, __u32 flags, __u64 expected, __u64 *version)
{
	struct snapmap_put arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.key_len = key_len;
	arg.value_len = value_len;
	arg.key = SNAPMAP_PTR(key);
	arg.value = SNAPMAP_PTR(value);
	arg.version = expected;
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_PUT, &arg);
	if (!ret && version)
		*version = arg.out_version;
	return ret;
}

int snapmap_put(int map_fd, const void *key, __u32 key_len,
		const void *value, __u32 value_len, __u32 flags,
		__u64 *version)
{
	int saved_errno = errno;

	/*
	 * A compare-and-swap needs the version to compare with, which only
	 * snapmap_cas() takes.  Other unknown flags go to the module, which
	 * may know them.
	 */
	if (flags & SNAPMAP_PUT_IF_VERSION)
		return libsnapmap_ret(saved_errno, -EINVAL);
	return libsnapmap_ret(saved_errno,
			      put(map_fd, key, key_len, value, value_len,
				  flags, 0, version));
}

int snapmap_cas(int map_fd, const void *key, __u32 key_len,
		const void *value, __u32 value_len, __u64 expected,
		__u64 *version)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      put(map_fd, key, key_len, value, value_len,
				  SNAPMAP_PUT_IF_VERSION, expected, version));
}

static int del(int map_fd, const void *key, __u32 key_len, __u32 flags,
	       __u64 expected, __u64 *version)
{
	struct snapmap_del arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.key_len = key_len;
	arg.key = SNAPMAP_PTR(key);
	arg.version = expected;
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_DEL, &arg);
	if (!ret && version)
		*version = arg.out_version;
	return ret;
}

int snapmap_del(int map_fd, const void *key, __u32 key_len, __u64 *version)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      del(map_fd, key, key_len, 0, 0, version));
}

int snapmap_del_if(int map_fd, const void *key, __u32 key_len,
		   __u64 expected, __u64 *version)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      del(map_fd, key, key_len,
				  SNAPMAP_DEL_IF_VERSION, expected, version));
}

int snapmap_clear(int map_fd, __u64 *version)
{
	struct snapmap_clear arg;
	int saved_errno = errno;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_CLEAR, &arg);
	if (!ret && version)
		*version = arg.out_version;
	return libsnapmap_ret(saved_errno, ret);
}
