/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - ioctl dispatch
 *
 * ioctl.c is the only file of the module that touches user memory.
 */

#ifndef _SNAPMAP_IOCTL_H
#define _SNAPMAP_IOCTL_H

#include <linux/compiler_types.h>

struct file;

long snapmap_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
void snapmap_build_check_abi(void);

#endif /* _SNAPMAP_IOCTL_H */
