// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - read-only listing of the live maps in debugfs:
 * /sys/kernel/debug/snapmap/maps
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "debugfs.h"
#include "map.h"
#include "testhook.h"

static struct dentry *snapmap_debugfs_dir;

static int snapmap_maps_show(struct seq_file *m, void *unused)
{
	snapmap_show_all(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(snapmap_maps);

/**
 * snapmap_debugfs_init() - create /sys/kernel/debug/snapmap/
 *
 * Failing to create it is not an error: debugfs is for people.
 */
void snapmap_debugfs_init(void)
{
	snapmap_debugfs_dir = debugfs_create_dir("snapmap", NULL);
	debugfs_create_file("maps", 0444, snapmap_debugfs_dir, NULL,
			    &snapmap_maps_fops);
	snapmap_test_debugfs_init(snapmap_debugfs_dir);
}

/**
 * snapmap_debugfs_exit() - remove /sys/kernel/debug/snapmap/
 */
void snapmap_debugfs_exit(void)
{
	debugfs_remove_recursive(snapmap_debugfs_dir);
}
