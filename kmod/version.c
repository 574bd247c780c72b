// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - a key's chain of versions: making them, stamping them, which one
 * a snapshot sees, and trimming those no snapshot needs
 *
 * Linearization: a write becomes visible when its version is stamped, not
 * when it is pushed on the chain.  Whoever first finds a pushed version
 * unstamped (the writer itself, a lookup, a snapshot) stamps it with a fresh
 * sequence number by cmpxchg, so the stamp is taken after the push and
 * before anyone uses the version: every reader sees the writes stamped
 * before it and none stamped after.
 *
 * Nothing here calls up into the map or the snapshots: the callers decide
 * what to do with a node whose chain is down to a deletion.
 */

#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "core.h"
#include "objcache.h"
#include "testhook.h"
#include "version.h"

/**
 * snapmap_val_init() - set up a version, not yet published
 * @val: the version's memory
 * @value: the value, or NULL for the caller to fill @val's data in
 * @len: its length, or %SNAPMAP_TOMBSTONE for a deletion
 */
void snapmap_val_init(struct snapmap_val *val, const void *value, u32 len)
{
	RCU_INIT_POINTER(val->older, NULL);
	atomic64_set(&val->version, SNAPMAP_VERSION_PENDING);
	val->len = len;
	if (value && len != SNAPMAP_TOMBSTONE)
		memcpy(val->data, value, len);
}

/* What the &struct snapmap_val_box of a @len-byte value is allocated with. */
static size_t snapmap_val_box_size(u32 len)
{
	return offsetof(struct snapmap_val_box, val.data) +
	       (len == SNAPMAP_TOMBSTONE ? 0 : len);
}

/**
 * snapmap_val_alloc() - a version allocated on its own
 * @map: the map it is for, whose memory cgroup is charged
 * @value: the value, or NULL for the caller to fill the version's data in
 * @len: its length, or %SNAPMAP_TOMBSTONE for a deletion
 *
 * The version lives in a &struct snapmap_val_box and is not yet published;
 * it may be one the map freed and now reuses.  A deletion's allocation
 * never fails (see %SNAPMAP_GFP_TOMBSTONE).
 *
 * Return: the version, or NULL.
 */
struct snapmap_val *snapmap_val_alloc(struct snapmap *map, const void *value,
				      u32 len)
{
	struct snapmap_val_box *box;

	box = snapmap_obj_alloc(map, SNAPMAP_OBJ_VAL, snapmap_val_box_size(len),
				len == SNAPMAP_TOMBSTONE ?
				SNAPMAP_GFP_TOMBSTONE : SNAPMAP_GFP);
	if (!box)
		return NULL;
	snapmap_val_init(&box->val, value, len);
	return &box->val;
}

/**
 * snapmap_val_reuse() - snapmap_val_alloc() of a version the map freed
 * @map: the map
 * @value: the value, or NULL for the caller to fill the version's data in
 * @len: its length, or %SNAPMAP_TOMBSTONE for a deletion
 *
 * Never allocates, and never sleeps: for a writer inside RCU, which falls
 * back on snapmap_val_alloc() outside it.
 *
 * Return: the version, or NULL if the map has none to reuse.
 */
struct snapmap_val *snapmap_val_reuse(struct snapmap *map, const void *value,
				      u32 len)
{
	struct snapmap_val_box *box;

	box = snapmap_obj_reuse(map, SNAPMAP_OBJ_VAL, snapmap_val_box_size(len));
	if (!box)
		return NULL;
	snapmap_val_init(&box->val, value, len);
	return &box->val;
}

/**
 * snapmap_val_discard() - free a version snapmap_val_alloc() made
 * @map: the map it was made for
 * @val: the version, never published, or NULL
 */
void snapmap_val_discard(struct snapmap *map, struct snapmap_val *val)
{
	if (val)
		snapmap_obj_discard(map, SNAPMAP_OBJ_VAL,
				    container_of(val, struct snapmap_val_box,
						 val),
				    snapmap_val_box_size(val->len));
}

/**
 * snapmap_val_free() - free a version when the map dies
 * @node: its node
 * @val: the version; nothing is freed if it lives inside @node
 */
void snapmap_val_free(struct snapmap_node *node, struct snapmap_val *val)
{
	if (val != snapmap_node_first(node))
		kfree(container_of(val, struct snapmap_val_box, val));
}

/**
 * snapmap_val_free_rcu() - free a version after a grace period
 * @map: the map
 * @node: its node
 * @val: the version; nothing is freed if it lives inside @node: its bytes
 *       then go with the node
 *
 * The map reuses the version once the grace period is over, if it can.
 */
void snapmap_val_free_rcu(struct snapmap *map, struct snapmap_node *node,
			  struct snapmap_val *val)
{
	struct snapmap_val_box *box;

	if (val == snapmap_node_first(node))
		return;
	box = container_of(val, struct snapmap_val_box, val);
	if (!snapmap_obj_free_rcu(map, SNAPMAP_OBJ_VAL, box,
				  snapmap_val_box_size(val->len)))
		kfree_rcu(box, rcu);
}

/*
 * The leader of a transaction's version @version points at (see
 * snapmap_val_share()).
 */
static struct snapmap_val *snapmap_val_leader(u64 version)
{
	return (struct snapmap_val *)(unsigned long)(version << 1);
}

/**
 * snapmap_val_share() - what a transaction's version holds while its
 * transaction commits
 * @leader: the transaction's first version, whose stamp it shares
 *
 * Versions are aligned, so a pointer to one loses nothing when shifted
 * right by one, which leaves room for %SNAPMAP_VERSION_SHARED.  No stamp
 * has that bit set.
 *
 * Return: the value for &snapmap_val.version.
 */
u64 snapmap_val_share(struct snapmap_val *leader)
{
	static_assert(SNAPMAP_VAL_ALIGN >= 2);
	return SNAPMAP_VERSION_SHARED | ((unsigned long)leader >> 1);
}

/**
 * snapmap_val_stamp() - stamp a version unless someone already did
 * @map: the map @val belongs to
 * @val: a version found on a chain
 *
 * A version of a transaction shares the stamp of its leader: the leader
 * is stamped, if its transaction has committed.
 *
 * Return: the stamp, the caller's or the one that won, or
 * %SNAPMAP_VERSION_PREPARING if @val belongs to a transaction that has not
 * committed yet.
 */
u64 snapmap_val_stamp(struct snapmap *map, struct snapmap_val *val)
{
	u64 version = atomic64_read(&val->version);
	u64 stamp, old;

	if (version & SNAPMAP_VERSION_SHARED) {
		/*
		 * The leader lives as long as @val may be seen: it leaves
		 * its chain only once the transaction has given @val its
		 * stamp, and it is freed after a grace period.
		 */
		val = snapmap_val_leader(version);
		version = atomic64_read(&val->version);
	}
	if (version != SNAPMAP_VERSION_PENDING)
		return version;
	stamp = atomic64_inc_return(&map->seq);
	old = atomic64_cmpxchg(&val->version, SNAPMAP_VERSION_PENDING, stamp);
	return old == SNAPMAP_VERSION_PENDING ? stamp : old;
}

/**
 * snapmap_val_replaced() - the version a transaction's uncommitted version
 * replaced
 * @map: the map
 * @val: the head of a chain, found %SNAPMAP_VERSION_PREPARING
 * @version: set to the stamp of the version returned
 *
 * That is the version readers use, unless @val committed meanwhile: then
 * @val.  @val's link to older versions changes only once it has committed
 * (a write on top of it trims the chain), so a link read while @val was
 * still uncommitted, as a second look at its stamp tells, is the version
 * it replaced.
 *
 * Context: RCU read-side critical section.
 *
 * Return: the version, which may be a deletion, or NULL if @val replaced
 * none.
 */
struct snapmap_val *snapmap_val_replaced(struct snapmap *map,
					 struct snapmap_val *val, u64 *version)
{
	struct snapmap_val *older = rcu_dereference(val->older);

	/*
	 * A write that changed the link did so under the node's lock,
	 * taken after the commit's fully ordered exchange of the leader's
	 * stamp: seeing its link, the second look sees the commit.
	 */
	smp_rmb();
	*version = snapmap_val_version(map, val);
	if (*version != SNAPMAP_VERSION_PREPARING)
		return val;
	if (older)
		*version = snapmap_val_version(map, older);
	return older;
}

/**
 * snapmap_val_version_acquire() - a writer's read of its own version's stamp
 * @map: the map @val belongs to
 * @val: the version the caller just published, under its node's lock
 *
 * The writer goes on to read the snapshot list to trim the chain, and that
 * read must not be satisfied before the stamp is read.  A snapshot whose V
 * is below the stamp entered the list before it took V, and V was taken
 * before the stamp (both fully ordered atomics): the writer must find that
 * snapshot in the list.  Whoever stamped @val did so with a fully ordered
 * atomic64_cmpxchg(); the final acquire read of the stamp pairs with it
 * and orders every later read after it.  The cmpxchg of
 * snapmap_val_stamp() alone would not do: when a reader's stamp won, the
 * writer's cmpxchg failed, and a failed cmpxchg orders nothing.  On x86 a
 * plain read would do; on arm64 or POWER it would not.  docs/design.md has
 * the whole argument.
 *
 * Return: the stamp.
 */
u64 snapmap_val_version_acquire(struct snapmap *map, struct snapmap_val *val)
{
	if (atomic64_read(&val->version) == SNAPMAP_VERSION_PENDING)
		snapmap_val_stamp(map, val);
	return atomic64_read_acquire(&val->version);
}

/**
 * snapmap_val_at() - the version of a key that a snapshot holds
 * @map: the map
 * @node: the key's node
 * @v: the snapshot's V
 * @version: set to the version's stamp
 *
 * Context: RCU read-side critical section.
 *
 * Return: the newest version stamped below @v, or NULL if there is none, it
 * is a deletion, or a clear below @v deleted it.
 */
struct snapmap_val *snapmap_val_at(struct snapmap *map,
				   struct snapmap_node *node, u64 v,
				   u64 *version)
{
	u64 cleared = snapmap_clear_seen(map, v);
	struct snapmap_val *val;

	for (val = rcu_dereference(node->head); val;
	     val = rcu_dereference(val->older)) {
		*version = snapmap_val_version(map, val);
		if (*version < v)
			return val->len == SNAPMAP_TOMBSTONE ||
			       *version < cleared ? NULL : val;
	}
	return NULL;
}

/*
 * The version of the next older pin, newest first, from @pos (the pin
 * before, or the list head to start); 0 at the end of the list.  Caller is
 * in an RCU read-side critical section.
 */
static u64 snapmap_pin_next(struct snapmap *map, struct list_head **pos)
{
	struct list_head *next = rcu_dereference(list_next_rcu(*pos));

	snapmap_test_count(SNAPMAP_TEST_TRIM_STEPS, 1);
	if (next == &map->snapshots)
		return 0;
	*pos = next;
	return atomic64_read(&list_entry(next, struct snapmap_pin,
					 link)->version);
}

/**
 * snapmap_chain_trim() - drop the versions of a chain no snapshot needs
 * @map: the map
 * @node: the node whose chain to trim; its head is stamped
 * @whole: look at every version, not only down to the first one kept
 *
 * Context: the node's lock held, in an RCU read-side critical section; the
 * caller's read of the head's stamp is ordered before this function's
 * reads of the snapshot list (see snapmap_val_version_acquire()).
 *
 * Return: true if all the chain holds now is a deletion: the node can go.
 *
 * The versions below the head are dropped unless a snapshot needs them.
 *
 * A version is needed if some snapshot's V lies between its stamp @from
 * and the stamp @until of the version that replaced it.  The chain and the
 * snapshot list are both newest first, so one merge of the two decides
 * every version: the cost is the chain's length plus the number of
 * snapshots newer than its oldest version, never their product.
 *
 * A write (@whole false) stops at the first version it keeps.  Below that
 * version every other one was needed when it was last looked at, and only
 * a snapshot that leaves the list can change that; closing one, or making
 * it stale, queues a sweep (@whole true) that looks at them again.  So a
 * write costs the versions it frees and the snapshots newer than its own,
 * whatever number of snapshots pins the key's older versions.
 *
 * A snapshot still taking its V may need any of the versions: the trim
 * waits for it on the map's snap_lock, under which it takes its V (a few
 * instructions), rather than keep them all and leave a needless version
 * below a needed one for no sweep to find.
 */
bool snapmap_chain_trim(struct snapmap *map, struct snapmap_node *node,
			bool whole)
{
	struct list_head *pos = &map->snapshots;
	struct snapmap_val *head, *val, *older;
	struct snapmap_val __rcu **link;
	u64 until, from, v;

	lockdep_assert_held(&node->lock);
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "trim outside RCU");
	head = rcu_dereference_protected(node->head,
					 lockdep_is_held(&node->lock));
	until = atomic64_read(&head->version);
	link = &head->older;
	val = rcu_dereference_protected(*link, lockdep_is_held(&node->lock));
	v = val ? snapmap_pin_next(map, &pos) : 0;
	while (v == SNAPMAP_VERSION_PENDING && pos != &map->snapshots) {
		spin_lock(&map->snap_lock);
		spin_unlock(&map->snap_lock);
		pos = &map->snapshots;
		v = snapmap_pin_next(map, &pos);
	}
	for (; val; val = older) {
		older = rcu_dereference_protected(val->older,
						  lockdep_is_held(&node->lock));
		from = atomic64_read(&val->version);
		/* Snapshots at or above @until see a newer version. */
		while (v >= until)
			v = snapmap_pin_next(map, &pos);
		snapmap_test_count(SNAPMAP_TEST_TRIM_STEPS, 1);
		if (v > from) {
			if (!whole)
				return false;
			link = &val->older;
		} else {
			rcu_assign_pointer(*link, older);
			atomic64_sub(snapmap_val_charge(val->len), &map->bytes);
			snapmap_val_free_rcu(map, node, val);
		}
		until = from;
	}

	return head->len == SNAPMAP_TOMBSTONE && !rcu_access_pointer(head->older);
}
