// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap_splat - breaks the kernel on demand, to prove that the test rig
 * notices.  Test-only: never built into snapmap.ko, never installed.
 *
 * Writing to a file in /sys/kernel/debug/snapmap_splat/ does:
 *
 * - warn: WARN_ON_ONCE(1), a splat in the kernel log;
 * - leak: allocate 64 bytes and forget them, for kmemleak to find;
 * - pin:  take a reference on this module, so that rmmod fails;
 * - hang: block the power-off for good, from a reboot notifier; the file
 *         hanging reads 1 once the power-off has reached it.
 *
 * Its parameter "knob" does nothing: a test that changes it and does not
 * put it back must fail, as a test leaving one of snapmap's limits
 * changed for the tests after it must.
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <linux/slab.h>

static struct dentry *splat_dir;
static int knob;
module_param(knob, int, 0644);
MODULE_PARM_DESC(knob, "nothing: for the rig's test of a parameter left changed");
static atomic_t hang_armed = ATOMIC_INIT(0);
static atomic_t hanging = ATOMIC_INIT(0);

static ssize_t warn_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	WARN_ON_ONCE(1);
	return count;
}

static ssize_t leak_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	void *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	/* Use the pointer, but keep it nowhere. */
	pr_info("snapmap_splat: leaking %zu bytes\n", ksize(p));
	return count;
}

static ssize_t pin_write(struct file *file, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	__module_get(THIS_MODULE);
	return count;
}

/*
 * Sleep interruptibly: the guest must hang, not report a hung task, which
 * the console scan would catch before the power-off check could.
 */
static int hang_notify(struct notifier_block *nb, unsigned long action,
		       void *data)
{
	atomic_set(&hanging, 1);
	pr_info("snapmap_splat: holding up the power-off for good\n");
	for (;;)
		msleep_interruptible(1000);
	return NOTIFY_DONE;
}

static struct notifier_block hang_nb = {
	.notifier_call = hang_notify,
};

static ssize_t hang_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	int ret;

	if (atomic_xchg(&hang_armed, 1))
		return count;
	ret = register_reboot_notifier(&hang_nb);
	if (ret) {
		atomic_set(&hang_armed, 0);
		return ret;
	}
	return count;
}

static const struct file_operations warn_fops = {
	.owner = THIS_MODULE,
	.write = warn_write,
};

static const struct file_operations leak_fops = {
	.owner = THIS_MODULE,
	.write = leak_write,
};

static const struct file_operations pin_fops = {
	.owner = THIS_MODULE,
	.write = pin_write,
};

static const struct file_operations hang_fops = {
	.owner = THIS_MODULE,
	.write = hang_write,
};

static int __init splat_init(void)
{
	splat_dir = debugfs_create_dir("snapmap_splat", NULL);
	debugfs_create_file("warn", 0200, splat_dir, NULL, &warn_fops);
	debugfs_create_file("leak", 0200, splat_dir, NULL, &leak_fops);
	debugfs_create_file("pin", 0200, splat_dir, NULL, &pin_fops);
	debugfs_create_file("hang", 0200, splat_dir, NULL, &hang_fops);
	debugfs_create_atomic_t("hanging", 0400, splat_dir, &hanging);
	return 0;
}

static void __exit splat_exit(void)
{
	debugfs_remove_recursive(splat_dir);
	if (atomic_read(&hang_armed))
		unregister_reboot_notifier(&hang_nb);
}

module_init(splat_init);
module_exit(splat_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The snapmap developers");
MODULE_DESCRIPTION("Test-only module that triggers kernel splats on demand");
