// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: maps as wholes: create, open by name, list the named ones,
 * describe one, clone one.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int libsnapmap_create(int ctl_fd, const struct snapmap_create_opts *opts,
		      __u32 flags)
{
	struct snapmap_create arg;
	const char *name;
	int ret;

	ret = OPTS_VALID(opts, snapmap_create_opts);
	if (ret)
		return ret;
	name = OPTS_GET(opts, name, NULL);
	/* A persistent map no name finds could never be deleted. */
	if (flags & SNAPMAP_CREATE_PERSISTENT && (!name || !*name))
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.max_key_len = OPTS_GET(opts, max_key_len, 0);
	arg.max_value_len = OPTS_GET(opts, max_value_len, 0);
	arg.max_entries = OPTS_GET(opts, max_entries, 0);
	arg.max_bytes = OPTS_GET(opts, max_bytes, 0);
	arg.mode = OPTS_GET(opts, mode, 0);
	ret = libsnapmap_copy_name(arg.name, name);
	if (ret)
		return ret;
	ret = libsnapmap_ctl_ioctl(ctl_fd, SNAPMAP_IOC_CREATE, &arg);
	/* An older module refuses the flag as any unknown one. */
	if (ret == -EINVAL && flags & SNAPMAP_CREATE_PERSISTENT &&
	    libsnapmap_lacks_feature(SNAPMAP_FEATURE_PERSISTENT))
		ret = -EOPNOTSUPP;
	return ret;
}

int snapmap_create(int ctl_fd, const struct snapmap_create_opts *opts)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno, libsnapmap_create(ctl_fd, opts, 0));
}

int snapmap_open(int ctl_fd, const char *name, __u32 flags)
{
	struct snapmap_open arg;
	int saved_errno = errno;
	int ret;

	/* The module says EINVAL for the empty name; so for none. */
	if (!name)
		return libsnapmap_ret(saved_errno, -EINVAL);
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	ret = libsnapmap_copy_name(arg.name, name);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_ctl_ioctl(ctl_fd, SNAPMAP_IOC_OPEN, &arg);
	return libsnapmap_ret(saved_errno, ret);
}

/*
 * LIST with room for @room descriptions of @desc_size bytes at @descs: 0
 * or -errno.
 */
static int list_ioctl(int fd, __u32 flags, unsigned char *descs, __u32 room,
		      size_t desc_size, __u32 *count)
{
	struct snapmap_list arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.count = room;
	arg.desc_size = desc_size;
	arg.descs = SNAPMAP_PTR(descs);
	ret = libsnapmap_ioctl(fd, SNAPMAP_IOC_LIST, &arg);
	if (ret < 0)
		return ret;
	*count = arg.out_count;
	return 0;
}

/*
 * Whether the first @n descriptions at @descs, zeroed before the call,
 * were all written: a named map never has an empty name, and no map has
 * id 0 (%SNAPMAP_LIST_ALL lists unnamed maps, and needs the id).  A module
 * may write fewer than both the room and its answer when maps are created
 * while it answers (it sizes its buffer before it walks the maps).
 */
static bool list_written(__u32 flags, const unsigned char *descs,
			 size_t desc_size, __u32 n)
{
	__u64 id;
	__u32 i;

	for (i = 0; i < n; i++) {
		const unsigned char *d = descs + i * desc_size;

		if (!(flags & SNAPMAP_LIST_ALL)) {
			if (!d[offsetof(struct snapmap_map_desc, name)])
				return false;
			continue;
		}
		memcpy(&id, d + offsetof(struct snapmap_map_desc, id),
		       sizeof(id));
		if (!id)
			return false;
	}
	return true;
}

int libsnapmap_list(int fd, __u32 flags, struct snapmap_map_desc **descsp,
		    size_t desc_size)
{
	/*
	 * Past this many named maps the count would not fit the return
	 * value; the array could not be allocated anyway.
	 */
	const __u32 list_max = 0x7fffffff / desc_size;
	unsigned char *descs = NULL;
	__u32 room = 0, n = 0;
	int ret;

	/*
	 * Ask how many there are, make room, and ask again: maps created
	 * meanwhile make the second answer larger than the room, then try
	 * again with some slack so that a steady trickle of new maps cannot
	 * keep this going for long.
	 */
	for (;;) {
		if (room)
			memset(descs, 0, room * desc_size);
		ret = list_ioctl(fd, flags, descs, room, desc_size, &n);
		if (ret)
			break;
		if (n <= room) {
			if (list_written(flags, descs, desc_size, n))
				break;
			continue;
		}
		if (n > list_max) {
			ret = -ENOMEM;
			break;
		}
		free(descs);
		room = n < list_max - n / 4 - 4 ? n + n / 4 + 4 : list_max;
		descs = malloc(room * desc_size);
		if (!descs) {
			ret = -ENOMEM;
			break;
		}
	}
	if (ret || !n) {
		free(descs);
		descs = NULL;
	}
	*descsp = (struct snapmap_map_desc *)descs;
	/* n <= room <= list_max: it fits. */
	return ret ?: (int)n;
}

int snapmap_list_sz(int ctl_fd, struct snapmap_map_desc **descs,
		    size_t desc_size)
{
	int saved_errno = errno;
	int fd, ret;

	if (!descs)
		return libsnapmap_ret(saved_errno, -EINVAL);
	*descs = NULL;
	/* The module's bounds, checked here too: the stride is used here. */
	if (desc_size < SNAPMAP_MAP_DESC_SIZE_VER0 ||
	    desc_size > SNAPMAP_MAP_DESC_SIZE_MAX)
		return libsnapmap_ret(saved_errno, -EINVAL);
	ret = libsnapmap_ctl_get(ctl_fd, &fd);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_list(fd, 0, descs, desc_size);
	libsnapmap_ctl_put(ctl_fd, fd);
	return libsnapmap_ret(saved_errno, ret);
}

int snapmap_info_sz(int map_fd, struct snapmap_info *info, size_t info_size)
{
	int saved_errno = errno;
	int ret;

	if (!info || info_size < LIBSNAPMAP_INFO_SIZE0 ||
	    info_size > UINT32_MAX)
		return libsnapmap_ret(saved_errno, -EINVAL);
	/*
	 * The caller's size goes to the module, which fills what it knows
	 * of it (counters a newer module has, for a newer program, though
	 * this library may not know them), and what neither knows stays
	 * zero.
	 */
	memset(info, 0, info_size);
	info->size = info_size;
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_INFO, info);
	return libsnapmap_ret(saved_errno, ret);
}

int snapmap_clone(int map_fd, const struct snapmap_clone_opts *opts,
		  __u64 *version)
{
	struct snapmap_clone arg;
	int saved_errno = errno;
	int ret;

	ret = OPTS_VALID(opts, snapmap_clone_opts);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.mode = OPTS_GET(opts, mode, 0);
	ret = libsnapmap_copy_name(arg.name, OPTS_GET(opts, name, NULL));
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_CLONE, &arg);
	if (ret >= 0 && version)
		*version = arg.out_version;
	return libsnapmap_ret(saved_errno, ret);
}
