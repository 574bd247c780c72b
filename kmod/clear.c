// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - CLEAR: every key deleted at one version, whatever the map's size
 *
 * A CLEAR does not touch the keys.  It takes a version C from the map's
 * counter and records it in the map's list of clears: from C on, every
 * version stamped below C is deleted, for every reader.  Readers apply the
 * list as they read (snapmap_clear_seen()): a version below the newest
 * clear below their V is not there.  The keys are deleted for real later,
 * by the map's reclaim worker, or by the next write to each of them
 * (snapmap_clear_settle()): each gets a deletion stamped C, which says to
 * every reader what the record said, and once every key older than C has
 * one, the record goes.
 *
 * Writers must not run while C is taken: a write that checked a condition
 * against the map before the clear and were stamped after it would have
 * checked it against the wrong map, and the map's count of entries must
 * be known at C.  Writers hold the map's clear_sem for reading, a per-CPU
 * count that costs them no shared cache line; a CLEAR takes it for writing
 * for the few instructions of its commit, after an RCU grace period
 * (percpu_down_write()), so it costs the caller the same for any map size.
 *
 * The record is published before it is stamped, as a write's version is,
 * and stamped lazily by whoever finds it first: so a reader that misses it
 * took its V before C, and a reader that finds it stamped below its V
 * finds every key the clear deleted gone.
 */

#include <linux/percpu-rwsem.h>
#include <linux/rculist.h>
#include <linux/slab.h>

#include "clear.h"
#include "core.h"
#include "feed.h"
#include "reclaim.h"
#include "version.h"

/**
 * struct snapmap_clear_rec - a CLEAR not yet applied to every key
 * @link: in &snapmap.clears, newest first; changed under the map's
 *        snap_lock, read under RCU
 * @version: C, %SNAPMAP_VERSION_PENDING until stamped; set once, by cmpxchg
 * @rcu: frees the record after readers stop looking at it
 */
struct snapmap_clear_rec {
	struct list_head link;
	atomic64_t version;
	struct rcu_head rcu;
};

/* The stamp of @rec, stamping it if need be (see snapmap_val_stamp()). */
static u64 snapmap_clear_stamp(struct snapmap *map,
			       struct snapmap_clear_rec *rec)
{
	u64 version = atomic64_read(&rec->version), stamp;

	if (version != SNAPMAP_VERSION_PENDING)
		return version;
	stamp = atomic64_inc_return(&map->seq);
	version = atomic64_cmpxchg(&rec->version, SNAPMAP_VERSION_PENDING,
				   stamp);
	return version == SNAPMAP_VERSION_PENDING ? stamp : version;
}

/**
 * snapmap_clear_below() - the newest clear a reader at @v sees
 * @map: the map, whose list of clears is not empty
 * @v: the reader's V, or %U64_MAX for a reader of the present map
 *
 * Context: RCU read-side critical section.
 *
 * Return: the version of the newest clear below @v, or 0 if none.
 */
u64 snapmap_clear_below(struct snapmap *map, u64 v)
{
	struct snapmap_clear_rec *rec;
	u64 c;

	list_for_each_entry_rcu(rec, &map->clears, link) {
		c = snapmap_clear_stamp(map, rec);
		if (c < v)
			return c;
	}
	return 0;
}

/*
 * The oldest clear above @s: the one that deleted a version stamped @s.
 * Caller holds the node's lock (so no clear is being committed: writers
 * hold clear_sem) or runs in the reclaim worker, under RCU.
 */
static u64 snapmap_clear_above(struct snapmap *map, u64 s)
{
	struct snapmap_clear_rec *rec;
	u64 c, found = 0;

	list_for_each_entry_rcu(rec, &map->clears, link) {
		c = snapmap_clear_stamp(map, rec);
		if (c <= s)
			break;
		found = c;
	}
	return found;
}

/**
 * snapmap_clear_settle() - apply the clears a key's head is older than
 * @map: the map
 * @node: the key's node, whose lock the caller holds
 * @spare: a deletion the caller allocated, not yet published; consumed
 *         (set to NULL) if used
 *
 * If the head of the chain is a value a clear deleted, push a deletion
 * stamped with that clear's version on it, as a DEL of the key would have
 * been at that version: the map's counts then say what readers already
 * see, and the key no longer needs the clear's record.  A deletion or a
 * version written after every clear is left alone.
 *
 * Context: the node's lock held, in an RCU read-side critical section.
 *
 * Return: whether @spare was used.
 */
bool snapmap_clear_settle(struct snapmap *map, struct snapmap_node *node,
			  struct snapmap_val **spare)
{
	struct snapmap_val *head, *tomb = *spare;
	u64 c;

	lockdep_assert_held(&node->lock);
	head = rcu_dereference_protected(node->head,
					 lockdep_is_held(&node->lock));
	if (!head || head->len == SNAPMAP_TOMBSTONE || !tomb ||
	    list_empty(&map->clears))
		return false;
	c = snapmap_clear_above(map, atomic64_read(&head->version));
	if (!c)
		return false;

	atomic64_set(&tomb->version, c);
	RCU_INIT_POINTER(tomb->older, head);
	rcu_assign_pointer(node->head, tomb);
	*spare = NULL;
	/* As a DEL's, but the key already left the count of entries. */
	atomic64_add((s64)snapmap_val_charge(SNAPMAP_TOMBSTONE) -
		     (s64)snapmap_val_charge(head->len), &map->live);
	atomic64_dec(&map->cleared);
	atomic64_add(snapmap_val_charge(SNAPMAP_TOMBSTONE), &map->bytes);
	return true;
}

/**
 * snapmap_clear_prune() - drop the records every key has been settled for
 * @map: the map
 * @before: the map's version when a pass that settled every key began
 *
 * Context: process context; takes the map's snap_lock.
 */
void snapmap_clear_prune(struct snapmap *map, u64 before)
{
	struct snapmap_clear_rec *rec, *tmp;

	spin_lock(&map->snap_lock);
	list_for_each_entry_safe(rec, tmp, &map->clears, link) {
		if (atomic64_read(&rec->version) == SNAPMAP_VERSION_PENDING ||
		    atomic64_read(&rec->version) > before)
			continue;
		list_del_rcu(&rec->link);
		kfree_rcu(rec, rcu);
	}
	spin_unlock(&map->snap_lock);
}

/**
 * snapmap_clear_destroy() - free the records of a map nobody can reach
 * @map: the map
 */
void snapmap_clear_destroy(struct snapmap *map)
{
	struct snapmap_clear_rec *rec, *tmp;

	list_for_each_entry_safe(rec, tmp, &map->clears, link)
		kfree(rec);
	percpu_free_rwsem(&map->clear_sem);
}

/**
 * snapmap_clear_init() - set up a new map's clears
 * @map: the map
 *
 * Return: 0 or -ENOMEM.
 */
int snapmap_clear_init(struct snapmap *map)
{
	INIT_LIST_HEAD(&map->clears);
	atomic64_set(&map->cleared, 0);
	return percpu_init_rwsem(&map->clear_sem);
}

/**
 * snapmap_clear() - delete every key at one version
 * @map: the map
 * @version: set to the clear's version: the map holds no write below it;
 *           an empty map takes none, and reports its own
 *
 * Every reader sees the map before the clear or after it, never part of
 * it: GETs, snapshots and clones.  Writes wait while the clear commits,
 * an RCU grace period at most; the keys' memory is freed in the background
 * (see snapmap_clear_settle()), so the call costs the same for any map
 * size.  Until it is freed it counts against the map's byte limit; a write
 * that finds the map full meanwhile waits for it rather than fail.
 *
 * Context: process context; may sleep.
 *
 * Return: 0 or -ENOMEM.
 */
int snapmap_clear(struct snapmap *map, u64 *version)
{
	struct snapmap_feed_write fw;
	struct snapmap_clear_rec *rec;

	/*
	 * Not charged: a map must be emptied even when its cgroup is full.
	 * A few bytes, freed once the clear is applied to every key.
	 */
	rec = kmalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	atomic64_set(&rec->version, SNAPMAP_VERSION_PENDING);

	percpu_down_write(&map->clear_sem);
	/* An empty map: nothing to delete, no version to take. */
	if (!atomic64_read(&map->entries)) {
		*version = atomic64_read(&map->seq);
		percpu_up_write(&map->clear_sem);
		kfree(rec);
		return 0;
	}
	/* Its record for the map's watches, if it has any. */
	snapmap_feed_start(map, &fw);
	snapmap_feed_add(&fw, SNAPMAP_CHANGE_CLEAR, NULL, 0, NULL, 0);
	/*
	 * No write is under way: every present key is one the clear
	 * deletes, and leaves the count of entries for that of the keys
	 * still to be freed.
	 */
	atomic64_add(atomic64_xchg(&map->entries, 0), &map->cleared);
	snapmap_feed_begin(&fw);
	spin_lock(&map->snap_lock);
	list_add_rcu(&rec->link, &map->clears);
	spin_unlock(&map->snap_lock);
	*version = snapmap_clear_stamp(map, rec);
	snapmap_feed_commit(&fw, *version);
	percpu_up_write(&map->clear_sem);
	snapmap_feed_end(&fw);

	snapmap_reclaim_kick(map);
	return 0;
}
EXPORT_SYMBOL_GPL(snapmap_clear);

/**
 * snapmap_clear_make_room() - free the keys of past clears a write needs
 * @map: the map
 * @entries: the keys the write may add
 * @bytes: the bytes it may add
 *
 * The keys a clear deleted count against the map's limits until they are
 * freed.  A write that would find the map full for them waits until the
 * reclaim worker has freed them, rather than fail: the room is the
 * write's to take.  Any other write does not wait.
 *
 * Context: process context, without the map's clear_sem; may sleep.
 */
void snapmap_clear_make_room(struct snapmap *map, u64 entries, u64 bytes)
{
	if (likely(list_empty(&map->clears)))
		return;
	if (snapmap_entries_held(map) + entries <= map->max_entries &&
	    atomic64_read(&map->live) + bytes <= map->max_bytes)
		return;
	flush_work(&map->gc_work);
}
