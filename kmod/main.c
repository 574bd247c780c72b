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
#include <linux/sizes.h>

#include "core.h"
#include "debugfs.h"
#include "ioctl.h"

/*
 * Module-wide caps.  A map's own limits may be lower; a limit of 0 at
 * creation means the cap.  Changing a cap affects maps created later (the
 * snapshot caps: snapshots opened later).
 *
 * Each cap has a ceiling no write can pass (EINVAL): lengths stay far from
 * U32_MAX, so that no length equals SNAPMAP_TOMBSTONE and no ALIGN() or
 * SNAPMAP_RECORD_SIZE() of one overflows, and counts and bytes stay far
 * from what the map's signed 64-bit counters hold.
 */
#define SNAPMAP_CEIL_KEY_LEN	SZ_64K
#define SNAPMAP_CEIL_VALUE_LEN	SZ_1G
#define SNAPMAP_CEIL_ENTRIES	BIT(30)
#define SNAPMAP_CEIL_BYTES	BIT_ULL(46)
/* A reader's timer, not a stall: at most a tick of the slowest HZ. */
#define SNAPMAP_CEIL_COALESCE_US	10000

static_assert(SNAPMAP_RECORD_SIZE(SNAPMAP_CEIL_KEY_LEN,
				  SNAPMAP_CEIL_VALUE_LEN) < SNAPMAP_TOMBSTONE);

static int snapmap_param_set_ulong(const char *val,
				   const struct kernel_param *kp,
				   unsigned long max)
{
	unsigned long n;
	int err = kstrtoul(val, 0, &n);

	if (err)
		return err;
	if (n > max)
		return -EINVAL;
	*(unsigned long *)kp->arg = n;
	return 0;
}

static int snapmap_param_set_key_len(const char *val,
				     const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, SNAPMAP_CEIL_KEY_LEN);
}

static int snapmap_param_set_value_len(const char *val,
				       const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, SNAPMAP_CEIL_VALUE_LEN);
}

static int snapmap_param_set_entries(const char *val,
				     const struct kernel_param *kp)
{
	return snapmap_param_set_ulong(val, kp, SNAPMAP_CEIL_ENTRIES);
}

static int snapmap_param_set_bytes(const char *val,
				   const struct kernel_param *kp)
{
	return snapmap_param_set_ulong(val, kp, SNAPMAP_CEIL_BYTES);
}

static int snapmap_param_set_coalesce_us(const char *val,
					 const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, SNAPMAP_CEIL_COALESCE_US);
}

static const struct kernel_param_ops snapmap_param_key_len_ops = {
	.set = snapmap_param_set_key_len,
	.get = param_get_uint,
};

static const struct kernel_param_ops snapmap_param_value_len_ops = {
	.set = snapmap_param_set_value_len,
	.get = param_get_uint,
};

static const struct kernel_param_ops snapmap_param_entries_ops = {
	.set = snapmap_param_set_entries,
	.get = param_get_ulong,
};

static const struct kernel_param_ops snapmap_param_bytes_ops = {
	.set = snapmap_param_set_bytes,
	.get = param_get_ulong,
};

static const struct kernel_param_ops snapmap_param_coalesce_us_ops = {
	.set = snapmap_param_set_coalesce_us,
	.get = param_get_uint,
};

unsigned int snapmap_cap_key_len = 4096;
module_param_cb(max_key_len, &snapmap_param_key_len_ops,
		&snapmap_cap_key_len, 0644);
MODULE_PARM_DESC(max_key_len,
		 "Longest key any map may accept (default 4096, at most 65536)");

unsigned int snapmap_cap_value_len = 1 << 20;
module_param_cb(max_value_len, &snapmap_param_value_len_ops,
		&snapmap_cap_value_len, 0644);
MODULE_PARM_DESC(max_value_len,
		 "Longest value any map may accept (default 1 MiB, at most 1 GiB)");

unsigned long snapmap_cap_entries = 1 << 24;
module_param_cb(max_entries, &snapmap_param_entries_ops,
		&snapmap_cap_entries, 0644);
MODULE_PARM_DESC(max_entries,
		 "Most keys any map may hold (default 16M, at most 1G)");

unsigned long snapmap_cap_bytes = 1UL << 30;
module_param_cb(max_bytes, &snapmap_param_bytes_ops, &snapmap_cap_bytes,
		0644);
MODULE_PARM_DESC(max_bytes,
		 "Most memory any map's entries may use (default 1 GiB, at most 64 TiB)");

unsigned int snapmap_cap_maps_per_user = 1024;
module_param_named(max_maps_per_user, snapmap_cap_maps_per_user, uint, 0644);
MODULE_PARM_DESC(max_maps_per_user,
		 "Most live maps one user may own (default 1024)");

/*
 * A sweep, after a snapshot closes, looks at each key's chain against the
 * map's open snapshots with the key's spinlock held: the per-map cap
 * bounds that work, the per-user cap what one user can pin in all.
 */
unsigned int snapmap_cap_snapshots_per_map = 1024;
module_param_named(max_snapshots_per_map, snapmap_cap_snapshots_per_map,
		   uint, 0644);
MODULE_PARM_DESC(max_snapshots_per_map,
		 "Most open snapshots of one map (default 1024)");

unsigned int snapmap_cap_snapshots_per_user = 4096;
module_param_named(max_snapshots_per_user, snapmap_cap_snapshots_per_user,
		   uint, 0644);
MODULE_PARM_DESC(max_snapshots_per_user,
		 "Most open snapshots one user may hold, of all maps (default 4096)");

/*
 * A map keeps the records of its changes up to the largest buffer of its
 * open watches, in the memory cgroup of its first watcher; the cap bounds
 * that per map, the watches per map the work a change's wake-up does.
 */
unsigned long snapmap_watch_buffer = 1UL << 20;
module_param_named(watch_buffer_bytes, snapmap_watch_buffer, ulong, 0644);
MODULE_PARM_DESC(watch_buffer_bytes,
		 "Buffer of a watch that asks for none (default 1 MiB)");

unsigned long snapmap_cap_watch_buffer = 64UL << 20;
module_param_named(max_watch_buffer_bytes, snapmap_cap_watch_buffer, ulong,
		   0644);
MODULE_PARM_DESC(max_watch_buffer_bytes,
		 "Largest buffer a watch may ask for (default 64 MiB)");

unsigned int snapmap_cap_watches_per_map = 256;
module_param_named(max_watches_per_map, snapmap_cap_watches_per_map, uint,
		   0644);
MODULE_PARM_DESC(max_watches_per_map,
		 "Most open watches of one map (default 256)");

/*
 * A watch woken for each change whose reader keeps finding several at
 * once is woken by a timer this long after it catches up, not by the
 * next writer (watch.c): the writers stop paying a wake-up per catch-up
 * for changes that come faster than the reader could be woken for each.
 */
unsigned int snapmap_watch_coalesce_us = 100;
module_param_cb(watch_coalesce_us, &snapmap_param_coalesce_us_ops,
		&snapmap_watch_coalesce_us, 0644);
MODULE_PARM_DESC(watch_coalesce_us,
		 "Delay of a busy watch's wake-up, in microseconds; 0: none (default 100, at most 10000)");

/*
 * No .llseek: nonseekable_open() clears FMODE_LSEEK, so lseek() fails with
 * ESPIPE before any .llseek would be called.  (Linux 6.12 removed
 * no_llseek, which said the same here on older kernels.)
 */
static const struct file_operations snapmap_ctl_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = snapmap_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
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
/* From the file VERSION, through Kbuild. */
MODULE_VERSION(SNAPMAP_VERSION);
