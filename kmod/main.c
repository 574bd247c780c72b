// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - module entry points and the /dev/snapmap control device
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>

#include "core.h"
#include "debugfs.h"
#include "ioctl.h"

/*
 * Module-wide caps.  A map's own limits may be lower; a limit of 0 at
 * creation means the cap.  Changing a cap affects maps created later.
 */
unsigned int snapmap_cap_key_len = 4096;
module_param_named(max_key_len, snapmap_cap_key_len, uint, 0644);
MODULE_PARM_DESC(max_key_len, "Longest key any map may accept (default 4096)");

unsigned int snapmap_cap_value_len = 1 << 20;
module_param_named(max_value_len, snapmap_cap_value_len, uint, 0644);
MODULE_PARM_DESC(max_value_len,
		 "Longest value any map may accept (default 1 MiB)");

unsigned long snapmap_cap_entries = 1 << 24;
module_param_named(max_entries, snapmap_cap_entries, ulong, 0644);
MODULE_PARM_DESC(max_entries, "Most keys any map may hold (default 16M)");

unsigned long snapmap_cap_bytes = 1UL << 30;
module_param_named(max_bytes, snapmap_cap_bytes, ulong, 0644);
MODULE_PARM_DESC(max_bytes,
		 "Most memory any map's entries may use (default 1 GiB)");

unsigned int snapmap_cap_maps_per_user = 1024;
module_param_named(max_maps_per_user, snapmap_cap_maps_per_user, uint, 0644);
MODULE_PARM_DESC(max_maps_per_user,
		 "Most live maps one user may own (default 1024)");

static const struct file_operations snapmap_ctl_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = snapmap_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice snapmap_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "snapmap",
	.fops = &snapmap_ctl_fops,
	/*
	 * Any user may create maps: what one user can consume is bounded by
	 * the per-user and per-map limits and by the memory cgroup.
	 */
	.mode = 0666,
};

static int __init snapmap_init(void)
{
	int err;

	snapmap_build_check_abi();

	snapmap_debugfs_init();
	err = misc_register(&snapmap_miscdev);
	if (err) {
		pr_err("cannot register /dev/snapmap: %d\n", err);
		snapmap_debugfs_exit();
		return err;
	}
	return 0;
}

static void __exit snapmap_exit(void)
{
	misc_deregister(&snapmap_miscdev);
	snapmap_debugfs_exit();
	/* Versions and nodes still waiting for a grace period. */
	rcu_barrier();
}

module_init(snapmap_init);
module_exit(snapmap_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The snapmap developers");
MODULE_DESCRIPTION("Concurrent key/value map with point-in-time snapshots");
MODULE_VERSION("0.1.0");
