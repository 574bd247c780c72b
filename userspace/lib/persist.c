// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: maps that outlive their fds (SNAPMAP_CREATE_PERSISTENT),
 * deleting a map's name (SNAPMAP_IOC_DELETE), and listing every map the
 * caller may see (SNAPMAP_LIST_ALL).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int snapmap_create_persistent(int ctl_fd,
			      const struct snapmap_create_opts *opts)
{
	struct snapmap_create arg;
	int saved_errno = errno;
	const char *name;
	int ret;

	ret = OPTS_VALID(opts, snapmap_create_opts);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	/* Nothing could find the map again, nor delete it. */
	name = OPTS_GET(opts, name, NULL);
	if (!name || !*name)
		return libsnapmap_ret(saved_errno, -EINVAL);
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = SNAPMAP_CREATE_PERSISTENT;
	arg.max_key_len = OPTS_GET(opts, max_key_len, 0);
	arg.max_value_len = OPTS_GET(opts, max_value_len, 0);
	arg.max_entries = OPTS_GET(opts, max_entries, 0);
	arg.max_bytes = OPTS_GET(opts, max_bytes, 0);
	arg.mode = OPTS_GET(opts, mode, 0);
	ret = libsnapmap_copy_name(arg.name, name);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_ctl_ioctl(ctl_fd, SNAPMAP_IOC_CREATE, &arg);
	/* An older module refuses the flag as any unknown one. */
	if (ret == -EINVAL &&
	    libsnapmap_lacks_feature(SNAPMAP_FEATURE_PERSISTENT))
		ret = -EOPNOTSUPP;
	return libsnapmap_ret(saved_errno, ret);
}

int snapmap_unlink(int ctl_fd, const char *name)
{
	struct snapmap_delete arg;
	int saved_errno = errno;
	int ret;

	if (!name)
		return libsnapmap_ret(saved_errno, -EINVAL);
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	ret = libsnapmap_copy_name(arg.name, name);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_ctl_ioctl(ctl_fd, SNAPMAP_IOC_DELETE, &arg);
	return libsnapmap_ret(saved_errno, ret);
}

/* LIST_ALL with room for @room descriptions at @descs: 0 or -errno. */
static int list_all_ioctl(int fd, struct snapmap_map_desc *descs, __u32 room,
			  __u32 *count)
{
	struct snapmap_list arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = SNAPMAP_LIST_ALL;
	arg.count = room;
	arg.desc_size = sizeof(*descs);
	arg.descs = SNAPMAP_PTR(descs);
	ret = libsnapmap_ioctl(fd, SNAPMAP_IOC_LIST, &arg);
	if (ret == -EINVAL &&
	    libsnapmap_lacks_feature(SNAPMAP_FEATURE_PERSISTENT))
		ret = -EOPNOTSUPP;
	if (ret < 0)
		return ret;
	*count = arg.out_count;
	return 0;
}

/* Past this many maps the count would not fit the return value. */
#define LIST_ALL_MAX ((__u32)(0x7fffffff / sizeof(struct snapmap_map_desc)))

/*
 * Whether the first @n descriptions at @descs, zeroed before the call,
 * were all written: every map has an id, from 1 (an unnamed map has no
 * name to tell).
 */
static bool all_written(const struct snapmap_map_desc *descs, __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (!descs[i].id)
			return false;
	return true;
}

/* As map.c's list(), of every map: ask, make room, ask again. */
static int list_all(int fd, struct snapmap_map_desc **descsp)
{
	struct snapmap_map_desc *descs = NULL;
	__u32 room = 0, n = 0;
	int ret;

	for (;;) {
		if (room)
			memset(descs, 0, room * sizeof(*descs));
		ret = list_all_ioctl(fd, descs, room, &n);
		if (ret)
			break;
		if (n <= room) {
			if (all_written(descs, n))
				break;
			continue;
		}
		if (n > LIST_ALL_MAX) {
			ret = -ENOMEM;
			break;
		}
		free(descs);
		room = n < LIST_ALL_MAX - n / 4 - 4 ? n + n / 4 + 4 :
						      LIST_ALL_MAX;
		descs = malloc(room * sizeof(*descs));
		if (!descs) {
			ret = -ENOMEM;
			break;
		}
	}
	if (ret || !n) {
		free(descs);
		descs = NULL;
	}
	*descsp = descs;
	return ret ?: (int)n;
}

int snapmap_list_all(int ctl_fd, struct snapmap_map_desc **descs)
{
	int saved_errno = errno;
	int fd, ret;

	if (!descs)
		return libsnapmap_ret(saved_errno, -EINVAL);
	*descs = NULL;
	ret = libsnapmap_ctl_get(ctl_fd, &fd);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = list_all(fd, descs);
	libsnapmap_ctl_put(ctl_fd, fd);
	return libsnapmap_ret(saved_errno, ret);
}
