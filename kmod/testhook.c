// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - test-only hooks, built only with SNAPMAP_TEST_HOOKS=y
 *
 * /sys/kernel/debug/snapmap/test/pause: writing "POINT TID" arms POINT
 * (before_stamp, sweep, snapshot_pending, txn_prepared) for the task TID, or for any
 * task if TID is 0; the first task to reach it then spins there, with
 * whatever locks it holds, until "release" is written or
 * SNAPMAP_TEST_PAUSE_MAX passes.
 * Reading gives "POINT STATE" (idle, armed, paused).  Writing "release"
 * fails with ESRCH unless a task is paused.
 *
 * /sys/kernel/debug/snapmap/test/counters: one "NAME VALUE" line per
 * counter; writing anything sets them all to 0.
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "testhook.h"

/*
 * Long enough for a test to act on a loaded host under TCG, short of the
 * soft-lockup (20 s) and RCU stall (21 s) detectors: a paused task may
 * hold a spinlock.
 */
#define SNAPMAP_TEST_PAUSE_MAX (12 * HZ)

enum {
	SNAPMAP_TEST_IDLE,
	SNAPMAP_TEST_ARMED,
	SNAPMAP_TEST_PAUSED,
};

static const char *const snapmap_test_points[SNAPMAP_TEST_NR_POINTS] = {
	[SNAPMAP_TEST_BEFORE_STAMP] = "before_stamp",
	[SNAPMAP_TEST_SWEEP] = "sweep",
	[SNAPMAP_TEST_SNAPSHOT_PENDING] = "snapshot_pending",
	[SNAPMAP_TEST_TXN_PREPARED] = "txn_prepared",
};

static const char *const snapmap_test_counters[SNAPMAP_TEST_NR_COUNTERS] = {
	[SNAPMAP_TEST_TRIM_STEPS] = "trim_steps",
	[SNAPMAP_TEST_NODES_WALKED] = "nodes_walked",
};

/* The armed point, its task, and where the pause stands. */
static int snapmap_test_point = -1;
static pid_t snapmap_test_tid;
static atomic_t snapmap_test_state = ATOMIC_INIT(SNAPMAP_TEST_IDLE);
static atomic64_t snapmap_test_counts[SNAPMAP_TEST_NR_COUNTERS];

/**
 * snapmap_test_pause() - wait at @point if a test armed it for this task
 * @point: where the caller stands
 *
 * Context: any context but interrupts; spins, so it may hold spinlocks.
 */
void snapmap_test_pause(enum snapmap_test_point point)
{
	unsigned long deadline;
	pid_t tid;

	if (READ_ONCE(snapmap_test_point) != point)
		return;
	tid = READ_ONCE(snapmap_test_tid);
	if (tid && tid != task_pid_vnr(current))
		return;
	/* One task, once: the first to get here. */
	if (atomic_cmpxchg(&snapmap_test_state, SNAPMAP_TEST_ARMED,
			   SNAPMAP_TEST_PAUSED) != SNAPMAP_TEST_ARMED)
		return;
	deadline = jiffies + SNAPMAP_TEST_PAUSE_MAX;
	while (atomic_read(&snapmap_test_state) == SNAPMAP_TEST_PAUSED &&
	       time_before(jiffies, deadline))
		cpu_relax();
	WRITE_ONCE(snapmap_test_point, -1);
	atomic_set(&snapmap_test_state, SNAPMAP_TEST_IDLE);
}

/**
 * snapmap_test_count() - add @n to a work counter
 * @counter: the counter
 * @n: how much work
 *
 * Context: any context.
 */
void snapmap_test_count(enum snapmap_test_counter counter, u64 n)
{
	atomic64_add(n, &snapmap_test_counts[counter]);
}

static int snapmap_test_pause_show(struct seq_file *m, void *unused)
{
	static const char *const states[] = {
		[SNAPMAP_TEST_IDLE] = "idle",
		[SNAPMAP_TEST_ARMED] = "armed",
		[SNAPMAP_TEST_PAUSED] = "paused",
	};
	int point = READ_ONCE(snapmap_test_point);

	seq_printf(m, "%s %s\n", point < 0 ? "none" : snapmap_test_points[point],
		   states[atomic_read(&snapmap_test_state)]);
	return 0;
}

static int snapmap_test_pause_open(struct inode *inode, struct file *file)
{
	return single_open(file, snapmap_test_pause_show, NULL);
}

static ssize_t snapmap_test_pause_write(struct file *file,
					const char __user *ubuf, size_t len,
					loff_t *ppos)
{
	char buf[48], name[24];
	int point, tid;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	if (sysfs_streq(buf, "release")) {
		if (atomic_cmpxchg(&snapmap_test_state, SNAPMAP_TEST_PAUSED,
				   SNAPMAP_TEST_IDLE) != SNAPMAP_TEST_PAUSED)
			return -ESRCH;
		return len;
	}
	if (sscanf(buf, "%23s %d", name, &tid) != 2 || tid < 0)
		return -EINVAL;
	point = match_string(snapmap_test_points, SNAPMAP_TEST_NR_POINTS,
			     name);
	if (point < 0)
		return point;
	if (atomic_read(&snapmap_test_state) != SNAPMAP_TEST_IDLE)
		return -EBUSY;
	WRITE_ONCE(snapmap_test_tid, tid);
	WRITE_ONCE(snapmap_test_point, point);
	atomic_set(&snapmap_test_state, SNAPMAP_TEST_ARMED);
	return len;
}

static const struct file_operations snapmap_test_pause_fops = {
	.owner = THIS_MODULE,
	.open = snapmap_test_pause_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = snapmap_test_pause_write,
};

static int snapmap_test_counters_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < SNAPMAP_TEST_NR_COUNTERS; i++)
		seq_printf(m, "%s %lld\n", snapmap_test_counters[i],
			   atomic64_read(&snapmap_test_counts[i]));
	return 0;
}

static int snapmap_test_counters_open(struct inode *inode, struct file *file)
{
	return single_open(file, snapmap_test_counters_show, NULL);
}

static ssize_t snapmap_test_counters_write(struct file *file,
					   const char __user *ubuf, size_t len,
					   loff_t *ppos)
{
	int i;

	for (i = 0; i < SNAPMAP_TEST_NR_COUNTERS; i++)
		atomic64_set(&snapmap_test_counts[i], 0);
	return len;
}

static const struct file_operations snapmap_test_counters_fops = {
	.owner = THIS_MODULE,
	.open = snapmap_test_counters_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = snapmap_test_counters_write,
};

/**
 * snapmap_test_debugfs_init() - create the hooks' files
 * @dir: /sys/kernel/debug/snapmap/
 */
void snapmap_test_debugfs_init(struct dentry *dir)
{
	struct dentry *test = debugfs_create_dir("test", dir);

	debugfs_create_file("pause", 0600, test, NULL,
			    &snapmap_test_pause_fops);
	debugfs_create_file("counters", 0600, test, NULL,
			    &snapmap_test_counters_fops);
}
