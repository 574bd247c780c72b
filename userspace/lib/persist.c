// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: maps that outlive their fds (SNAPMAP_CREATE_PERSISTENT),
 * deleting a map's name (SNAPMAP_IOC_DELETE), and listing every map the
 * caller may see (SNAPMAP_LIST_ALL).
 */

#include <errno.h>
#include <string.h>

#include "internal.h"

int snapmap_create_persistent(int ctl_fd,
			      const struct snapmap_create_opts *opts)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      libsnapmap_create(ctl_fd, opts,
						SNAPMAP_CREATE_PERSISTENT));
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

int snapmap_list_all_sz(int ctl_fd, struct snapmap_map_desc **descs,
			size_t desc_size)
{
	int saved_errno = errno;
	int fd, ret;

	if (!descs)
		return libsnapmap_ret(saved_errno, -EINVAL);
	*descs = NULL;
	/* An unnamed map is told apart by its id: the stride must hold it. */
	if (desc_size < offsetofend(struct snapmap_map_desc, id) ||
	    desc_size > SNAPMAP_MAP_DESC_SIZE_MAX)
		return libsnapmap_ret(saved_errno, -EINVAL);
	ret = libsnapmap_ctl_get(ctl_fd, &fd);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_list(fd, SNAPMAP_LIST_ALL, descs, desc_size);
	libsnapmap_ctl_put(ctl_fd, fd);
	/* An older module refuses the flag as any unknown one. */
	if (ret == -EINVAL &&
	    libsnapmap_lacks_feature(SNAPMAP_FEATURE_PERSISTENT))
		ret = -EOPNOTSUPP;
	return libsnapmap_ret(saved_errno, ret);
}
