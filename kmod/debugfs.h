/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - debugfs listing of the live maps
 */

#ifndef _SNAPMAP_DEBUGFS_H
#define _SNAPMAP_DEBUGFS_H

void snapmap_debugfs_init(void);
void snapmap_debugfs_exit(void);

#endif /* _SNAPMAP_DEBUGFS_H */
