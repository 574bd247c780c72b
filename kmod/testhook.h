/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - test-only hooks: pause points and work counters
 *
 * The selftests need to stop a writer between two of its steps, or a sweep
 * in the middle of the map, to reach an interleaving that timing alone
 * would reach once in millions of runs; and to count the work an operation
 * does, to show how it grows without timing it.  The hooks exist only in
 * a module built with SNAPMAP_TEST_HOOKS=y (scripts/build-modules, for the
 * test rig); in any other build each is an empty inline function.  They
 * are driven through /sys/kernel/debug/snapmap/test/ (testhook.c).
 */

#ifndef _SNAPMAP_TESTHOOK_H
#define _SNAPMAP_TESTHOOK_H

#include <linux/types.h>

struct dentry;

/**
 * enum snapmap_test_point - where a task can be made to wait
 * @SNAPMAP_TEST_BEFORE_STAMP: a write has published its version under the
 *                             node's lock and not yet read its stamp
 * @SNAPMAP_TEST_SWEEP: a sweep has trimmed its first batch of nodes and
 *                      goes on with the rest
 * @SNAPMAP_TEST_SNAPSHOT_PENDING: an ATOMIC snapshot is in the map's list
 *                                 of pins and has not taken its V
 * @SNAPMAP_TEST_TXN_PREPARED: a transaction has published every version,
 *                             holding its nodes' locks, and not committed
 * @SNAPMAP_TEST_NR_POINTS: the number of points
 */
enum snapmap_test_point {
	SNAPMAP_TEST_BEFORE_STAMP,
	SNAPMAP_TEST_SWEEP,
	SNAPMAP_TEST_SNAPSHOT_PENDING,
	SNAPMAP_TEST_TXN_PREPARED,
	SNAPMAP_TEST_NR_POINTS,
};

/**
 * enum snapmap_test_counter - work counted for the selftests
 * @SNAPMAP_TEST_TRIM_STEPS: versions and snapshots looked at by trims
 * @SNAPMAP_TEST_NODES_WALKED: nodes handed out by map cursors
 * @SNAPMAP_TEST_NR_COUNTERS: the number of counters
 */
enum snapmap_test_counter {
	SNAPMAP_TEST_TRIM_STEPS,
	SNAPMAP_TEST_NODES_WALKED,
	SNAPMAP_TEST_NR_COUNTERS,
};

#ifdef SNAPMAP_TEST_HOOKS
void snapmap_test_pause(enum snapmap_test_point point);
void snapmap_test_count(enum snapmap_test_counter counter, u64 n);
void snapmap_test_debugfs_init(struct dentry *dir);
#else
static inline void snapmap_test_pause(enum snapmap_test_point point)
{
}

static inline void snapmap_test_count(enum snapmap_test_counter counter,
				      u64 n)
{
}

static inline void snapmap_test_debugfs_init(struct dentry *dir)
{
}
#endif

#endif /* _SNAPMAP_TESTHOOK_H */
