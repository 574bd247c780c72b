// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - module entry points and the /dev/snapmap control device
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "ioctl.h"

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

	err = misc_register(&snapmap_miscdev);
	if (err) {
		pr_err("cannot register /dev/snapmap: %d\n", err);
		return err;
	}
	return 0;
}

static void __exit snapmap_exit(void)
{
	misc_deregister(&snapmap_miscdev);
}

module_init(snapmap_init);
module_exit(snapmap_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The snapmap developers");
MODULE_DESCRIPTION("Concurrent key/value map with point-in-time snapshots");
MODULE_VERSION("0.1.0");
