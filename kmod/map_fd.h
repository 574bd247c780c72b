/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - map fds: the anon-inode files user space reaches a map through
 */

#ifndef _SNAPMAP_MAP_FD_H
#define _SNAPMAP_MAP_FD_H

#include <linux/types.h>

struct file;
struct seq_file;
struct snapmap;

int snapmap_map_fd_reserve(bool writable, struct file **filep);
void snapmap_map_fd_bind(struct file *file, struct snapmap *map);
void snapmap_map_fd_cancel(int fd, struct file *file);
struct snapmap *snapmap_map_from_file(struct file *file);
void snapmap_map_show_fdinfo(struct seq_file *m, struct snapmap *map);

#endif /* _SNAPMAP_MAP_FD_H */
