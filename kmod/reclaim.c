// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - freeing what snapshots kept, and the map's byte limit
 *
 * A write trims its own key's chain, but only down to the first version a
 * snapshot needs (snapmap_chain_trim()).  When a snapshot closes or goes
 * stale, versions deeper in any chain may have become free: a worker then
 * sweeps the whole map.  The same worker keeps the map within its byte
 * limit: while the versions snapshots pin take the map over it, the oldest
 * snapshot goes stale and its versions are swept.
 */

#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/workqueue.h>

#include "clear.h"
#include "core.h"
#include "cursor.h"
#include "reclaim.h"
#include "table.h"
#include "testhook.h"
#include "version.h"

/* Make the oldest ATOMIC snapshot stale; false if there is none. */
static bool snapmap_invalidate_oldest(struct snapmap *map)
{
	struct snapmap_pin *pin;

	spin_lock(&map->snap_lock);
	pin = list_empty(&map->snapshots) ? NULL :
	      list_last_entry(&map->snapshots, struct snapmap_pin, link);
	if (pin) {
		WRITE_ONCE(pin->stale, true);
		/*
		 * Readers check @stale after reading a chain: once versions
		 * only this snapshot needed can be trimmed, they must see it.
		 */
		smp_mb();
		list_del_rcu(&pin->link);
		map->nr_stale++;
		map->invalidated++;
	}
	spin_unlock(&map->snap_lock);
	return pin;
}

/**
 * snapmap_reclaim_kick() - have the versions no snapshot needs freed
 * @map: the map, some of whose snapshots closed or went stale
 *
 * The worker sweeps the map, and checks the byte limit when done.  A
 * sweep already under way may have passed nodes whose versions only now
 * became free: queue_work() runs the worker once more after it, which a
 * test of @gc_flags alone would not.
 *
 * Context: any context but hard interrupts.
 */
void snapmap_reclaim_kick(struct snapmap *map)
{
	set_bit(SNAPMAP_GC_PENDING, &map->gc_flags);
	queue_work(system_unbound_wq, &map->gc_work);
}

/**
 * snapmap_reclaim_over_limit() - a write took the map over its byte limit
 * @map: the map
 *
 * Makes the oldest snapshot stale and has the versions it pinned freed in
 * the background; the writer does not wait for that.  While a sweep is
 * under way nothing more is made stale: the sweep may free enough, and it
 * looks at the limit again when it is done.
 *
 * Context: process context.
 */
void snapmap_reclaim_over_limit(struct snapmap *map)
{
	if (list_empty(&map->snapshots) ||
	    test_and_set_bit(SNAPMAP_GC_PENDING, &map->gc_flags))
		return;
	snapmap_invalidate_oldest(map);
	queue_work(system_unbound_wq, &map->gc_work);
}

/* Nodes looked at per RCU read-side critical section of a sweep. */
#define SNAPMAP_SWEEP_BATCH 256

/*
 * Trim every node of the versions no snapshot needs: free what the
 * snapshots that closed or went stale were keeping.  Apply the clears
 * not yet applied to every key, and drop their records once the whole map
 * has been seen (snapmap_clear_settle()): a key gets the deletion a clear
 * brings it here, or from its next write, whichever comes first.
 */
static void snapmap_sweep(struct snapmap *map)
{
	bool clearing = snapmap_clear_pending(map);
	struct snapmap_cursor cursor = {};
	struct snapmap_val *spare = NULL;
	struct snapmap_node *node;
	unsigned int n;
	u64 before;

	/* The clears this pass applies: those stamped before it began. */
	before = atomic64_read_acquire(&map->seq);
	do {
		node = NULL;
		n = 0;
		/* A deletion per key; a batch stops when it has used one. */
		if (clearing && !spare)
			spare = snapmap_val_alloc(map, NULL, SNAPMAP_TOMBSTONE);
		percpu_down_read(&map->clear_sem);
		rcu_read_lock();
		while (n++ < SNAPMAP_SWEEP_BATCH && (spare || !clearing) &&
		       (node = snapmap_cursor_next(map, &cursor, node))) {
			spin_lock(&node->lock);
			if (!node->dead && rcu_access_pointer(node->head)) {
				snapmap_clear_settle(map, node, &spare);
				if (snapmap_chain_trim(map, node, true))
					snapmap_node_remove(map, node);
			}
			spin_unlock(&node->lock);
			cursor.pos = node->pos;
		}
		rcu_read_unlock();
		percpu_up_read(&map->clear_sem);
		snapmap_cursor_park(map, &cursor);
		if (node)
			snapmap_test_pause(SNAPMAP_TEST_SWEEP);
		cond_resched();
	} while (node);
	snapmap_cursor_reset(map, &cursor);
	snapmap_val_discard(map, spare);
	if (clearing)
		snapmap_clear_prune(map, before);
}

static void snapmap_gc_work(struct work_struct *work)
{
	struct snapmap *map = container_of(work, struct snapmap, gc_work);

	for (;;) {
		snapmap_sweep(map);
		if (atomic64_read(&map->bytes) <= map->max_bytes ||
		    !snapmap_invalidate_oldest(map))
			break;
	}
	clear_bit(SNAPMAP_GC_PENDING, &map->gc_flags);
	/* A write may have gone over the limit while the bit was set. */
	smp_mb__after_atomic();
	if (atomic64_read(&map->bytes) > map->max_bytes)
		snapmap_reclaim_over_limit(map);
}

/**
 * snapmap_reclaim_init() - set up a new map's snapshot list and reclaim
 * @map: the map
 */
void snapmap_reclaim_init(struct snapmap *map)
{
	INIT_LIST_HEAD(&map->snapshots);
	spin_lock_init(&map->snap_lock);
	INIT_WORK(&map->gc_work, snapmap_gc_work);
}

/**
 * snapmap_reclaim_exit() - wait for a dying map's background work
 * @map: the map; no snapshot of it is open
 *
 * Context: process context; may sleep.
 */
void snapmap_reclaim_exit(struct snapmap *map)
{
	cancel_work_sync(&map->gc_work);
}
