/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - watch fds
 */

#ifndef _SNAPMAP_WATCH_FD_H
#define _SNAPMAP_WATCH_FD_H

struct file;
struct snapmap_watch;

struct file *snapmap_watch_file(struct snapmap_watch *watch);
struct snapmap_watch *snapmap_watch_from_file(struct file *file);

#endif /* _SNAPMAP_WATCH_FD_H */
