/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - ioctl dispatch
 *
 * ioctl.c is the only file of the module that touches user memory.
 */

#ifndef _SNAPMAP_IOCTL_H
#define _SNAPMAP_IOCTL_H

#include <linux/compiler_types.h>
#include <linux/types.h>

struct file;

long snapmap_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long snapmap_map_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long snapmap_snapshot_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg);
ssize_t snapmap_snapshot_fd_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos);
ssize_t snapmap_watch_fd_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos);
void snapmap_build_check_abi(void);

#endif /* _SNAPMAP_IOCTL_H */
