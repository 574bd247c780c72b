/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - map fds: the anon-inode files user space reaches a map through
 */

#ifndef _SNAPMAP_MAP_FD_H
#define _SNAPMAP_MAP_FD_H

#include <linux/types.h>

struct file;
struct snapmap;

struct file *snapmap_map_file(struct snapmap *map, bool writable);
int snapmap_map_fd_install(struct snapmap *map, bool writable);
struct snapmap *snapmap_map_from_file(struct file *file);

#endif /* _SNAPMAP_MAP_FD_H */
