/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - watch fds
 */

#ifndef _SNAPMAP_WATCH_FD_H
#define _SNAPMAP_WATCH_FD_H

#include <linux/types.h>

struct file;
struct snapmap;
struct snapmap_watch;

struct file *snapmap_watch_file(struct snapmap_watch *watch,
				struct snapmap *map, u64 start, u64 buffer);
struct snapmap_watch *snapmap_watch_from_file(struct file *file);
void snapmap_watch_file_read(struct file *file, u64 version);

#endif /* _SNAPMAP_WATCH_FD_H */
