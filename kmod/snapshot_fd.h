/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - snapshot fds
 */

#ifndef _SNAPMAP_SNAPSHOT_FD_H
#define _SNAPMAP_SNAPSHOT_FD_H

struct file;
struct snapmap_snapshot;

struct file *snapmap_snapshot_file(struct snapmap_snapshot *snap);
struct snapmap_snapshot *snapmap_snapshot_from_file(struct file *file);

#endif /* _SNAPMAP_SNAPSHOT_FD_H */
