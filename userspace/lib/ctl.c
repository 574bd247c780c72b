// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: the control device and the handshake
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "libsnapmap.h"

int snapmap_ctl_open(void)
{
	int fd = open("/dev/snapmap", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int snapmap_api(int ctl_fd, struct snapmap_api *api)
{
	memset(api, 0, sizeof(*api));
	api->size = sizeof(*api);
	return ioctl(ctl_fd, SNAPMAP_IOC_API, api) ? -errno : 0;
}
