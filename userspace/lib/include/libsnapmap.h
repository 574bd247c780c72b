/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libsnapmap - user space library for the snapmap kernel module
 *
 * Every function returns 0 (or a file descriptor) on success and a negative
 * errno on failure; none of them relies on errno.  All are thread-safe.
 */

#ifndef _LIBSNAPMAP_H
#define _LIBSNAPMAP_H

#include <linux/snapmap.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * snapmap_ctl_open() - open the control device /dev/snapmap
 *
 * Return: a file descriptor (close-on-exec) or a negative errno.
 */
int snapmap_ctl_open(void);

/**
 * snapmap_api() - the API handshake
 * @ctl_fd: a file descriptor from snapmap_ctl_open()
 * @api: filled with the module's ABI version, features and ioctls
 *
 * Return: 0 or a negative errno.
 */
int snapmap_api(int ctl_fd, struct snapmap_api *api);

#ifdef __cplusplus
}
#endif

#endif /* _LIBSNAPMAP_H */
