// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - the map core: lookups, writes and their versions
 *
 * Lookups run under RCU and take no lock.  A write takes the lock of its
 * key's node only, so writers of different keys share no lock (they share
 * the cache lines of the map's sequence counter and usage counters).
 *
 * Linearization: a write becomes visible when its version is stamped, not
 * when it is pushed on the chain.  Whoever first finds a pushed version
 * unstamped (the writer itself, a lookup, a snapshot) stamps it with a fresh
 * sequence number by cmpxchg, so the stamp is taken after the push and
 * before anyone uses the version: every reader sees the writes stamped
 * before it and none stamped after.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/jhash.h>
#include <linux/memcontrol.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "core.h"
#include "testhook.h"

/* What rhashtable lookups are given: a key that is not yet a node. */
struct snapmap_key {
	const void *data;
	u32 len;
};

static u32 snapmap_key_hash(const void *data, u32 len, u32 seed)
{
	const struct snapmap_key *key = data;

	return jhash(key->data, key->len, seed);
}

static u32 snapmap_node_hash(const void *data, u32 len, u32 seed)
{
	const struct snapmap_node *node = data;

	return jhash(node->key, node->key_len, seed);
}

/* Whether @len bytes at @a and @b are equal, compared a word at a time. */
static __always_inline bool snapmap_key_equal(const u8 *a, const u8 *b,
					      u32 len)
{
	for (; len >= sizeof(u64); len -= sizeof(u64)) {
		if (get_unaligned((const u64 *)a) !=
		    get_unaligned((const u64 *)b))
			return false;
		a += sizeof(u64);
		b += sizeof(u64);
	}
	for (; len; len--)
		if (*a++ != *b++)
			return false;
	return true;
}

/*
 * Inlined into every lookup: the call cost as much as the compare of a
 * short key.
 */
static __always_inline int
snapmap_node_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct snapmap_key *key = arg->key;
	const struct snapmap_node *node = obj;

	return node->key_len != key->len ||
	       !snapmap_key_equal(node->key, key->data, key->len);
}

static const struct rhashtable_params snapmap_ht_params = {
	.head_offset = offsetof(struct snapmap_node, rhash),
	.hashfn = snapmap_key_hash,
	.obj_hashfn = snapmap_node_hash,
	.obj_cmpfn = snapmap_node_cmp,
	.automatic_shrinking = true,
};

static size_t snapmap_val_charge(u32 len)
{
	return sizeof(struct snapmap_val) +
	       (len == SNAPMAP_TOMBSTONE ? 0 : len);
}

static size_t snapmap_node_charge(u32 key_len)
{
	return sizeof(struct snapmap_node) + key_len;
}

/*
 * What a map allocates with, charged to the memory cgroup of the map's
 * creator.  When that cgroup is full a write fails with ENOMEM:
 * __GFP_NORETRY keeps the memory cgroup's OOM killer out of it.
 *
 * The one exception is a deletion's tombstone: it must not fail, or a map
 * whose cgroup is full could never be emptied.  It is charged all the same:
 * snapshots can pin any number of tombstones, up to the map's byte limit,
 * and uncharged they would be kernel memory beyond the cgroup's reach.
 * With __GFP_NORETRY and __GFP_NOFAIL together, a full cgroup neither
 * fails the charge nor wakes its OOM killer: it forces the charge past
 * the limit (try_charge_memcg()), by one small object, which stops the
 * cgroup's next allocation.
 */
#define SNAPMAP_GFP (GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN)
#define SNAPMAP_GFP_TOMBSTONE \
	(GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOFAIL)

static void *snapmap_alloc(struct snapmap *map, size_t size, gfp_t gfp)
{
	struct mem_cgroup *old = set_active_memcg(map->memcg);
	void *p = kmalloc(size, gfp);

	set_active_memcg(old);
	return p;
}

/* Set up a version of @len bytes of @value, not yet published. */
static void snapmap_val_init(struct snapmap_val *val, const void *value,
			     u32 len)
{
	RCU_INIT_POINTER(val->older, NULL);
	atomic64_set(&val->version, SNAPMAP_VERSION_PENDING);
	val->len = len;
	if (len != SNAPMAP_TOMBSTONE)
		memcpy(val->data, value, len);
}

/* A version allocated on its own (in a &struct snapmap_val_box). */
static struct snapmap_val *snapmap_val_alloc(struct snapmap *map,
					     const void *value, u32 len)
{
	struct snapmap_val_box *box;

	box = snapmap_alloc(map, offsetof(struct snapmap_val_box, val.data) +
				 (len == SNAPMAP_TOMBSTONE ? 0 : len),
			    len == SNAPMAP_TOMBSTONE ? SNAPMAP_GFP_TOMBSTONE :
						       SNAPMAP_GFP);
	if (!box)
		return NULL;
	snapmap_val_init(&box->val, value, len);
	return &box->val;
}

/* Free a version nobody can reach, unless it lives inside @node. */
static void snapmap_val_free(struct snapmap_node *node,
			     struct snapmap_val *val)
{
	if (val != snapmap_node_first(node))
		kfree(container_of(val, struct snapmap_val_box, val));
}

/*
 * Free a version of @node after a grace period, unless it lives inside the
 * node: its bytes then go with the node.
 */
static void snapmap_val_free_rcu(struct snapmap_node *node,
				 struct snapmap_val *val)
{
	if (val != snapmap_node_first(node))
		kfree_rcu(container_of(val, struct snapmap_val_box, val), rcu);
}

/*
 * Free a node and every version still on its chain.  Called once nobody
 * can reach the node: after a grace period, or when the map dies.
 */
static void snapmap_node_free(struct snapmap_node *node)
{
	struct snapmap_val *val, *older;

	val = rcu_dereference_protected(node->head, true);
	while (val) {
		older = rcu_dereference_protected(val->older, true);
		snapmap_val_free(node, val);
		val = older;
	}
	kfree(node);
}

/*
 * Free a dead node and its versions after a grace period.  Its chain no
 * longer changes: writers leave dead nodes alone.
 */
static void snapmap_node_free_rcu(struct snapmap_node *node)
{
	struct snapmap_val *val, *older;

	val = rcu_dereference_protected(node->head, true);
	while (val) {
		older = rcu_dereference_protected(val->older, true);
		snapmap_val_free_rcu(node, val);
		val = older;
	}
	kfree_rcu(node, rcu);
}

/* rhashtable_free_and_destroy() callback, when the map dies. */
static void snapmap_node_free_ht(void *ptr, void *arg)
{
	snapmap_node_free(ptr);
}

/* Stamp @val with a fresh sequence number unless someone already did. */
static u64 snapmap_val_stamp(struct snapmap *map, struct snapmap_val *val)
{
	u64 stamp = atomic64_inc_return(&map->seq);
	u64 old = atomic64_cmpxchg(&val->version, SNAPMAP_VERSION_PENDING,
				   stamp);

	return old == SNAPMAP_VERSION_PENDING ? stamp : old;
}

/**
 * snapmap_val_version() - the version of @val, stamping it if need be
 * @map: the map @val belongs to
 * @val: a version found on a chain
 *
 * Every reader calls this before it acts on a version, which is what makes
 * a write visible only once its stamp is fixed.
 *
 * Return: the stamp.
 */
u64 snapmap_val_version(struct snapmap *map, struct snapmap_val *val)
{
	u64 version = atomic64_read(&val->version);

	if (likely(version != SNAPMAP_VERSION_PENDING))
		return version;
	return snapmap_val_stamp(map, val);
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
static u64 snapmap_val_version_acquire(struct snapmap *map,
				       struct snapmap_val *val)
{
	if (atomic64_read(&val->version) == SNAPMAP_VERSION_PENDING)
		snapmap_val_stamp(map, val);
	return atomic64_read_acquire(&val->version);
}

static int snapmap_check_key(struct snapmap *map, u32 key_len)
{
	if (!key_len)
		return -EINVAL;
	if (key_len > map->max_key_len)
		return -EMSGSIZE;
	return 0;
}

/*
 * Take a dead node off its shard list and free it after a grace period,
 * unless a cursor is parked on it: then the cursor does it when it moves
 * on.  Caller holds the shard's lock.
 */
static void snapmap_node_unlink(struct snapmap_shard *shard,
				struct snapmap_node *node)
{
	lockdep_assert_held(&shard->lock);
	if (node->pins || node->unlinked)
		return;
	list_del_rcu(&node->link);
	node->unlinked = true;
	snapmap_node_free_rcu(node);
}

/* Take @map's node for @key out of the map; caller holds the node lock. */
static void snapmap_node_remove(struct snapmap *map, struct snapmap_node *node)
{
	struct snapmap_shard *shard = &map->shards[node->shard];
	struct snapmap_val *val;
	size_t charge;

	lockdep_assert_held(&node->lock);
	WRITE_ONCE(node->dead, true);
	WARN_ON_ONCE(rhashtable_remove_fast(&map->ht, &node->rhash,
					    snapmap_ht_params));

	/* The node and its head are live; what is below, pinned. */
	charge = snapmap_node_charge(node->key_len);
	val = rcu_dereference_protected(node->head, true);
	if (val) {
		charge += snapmap_val_charge(val->len);
		val = rcu_dereference_protected(val->older, true);
	}
	atomic64_sub(charge, &map->live);
	for (; val; val = rcu_dereference_protected(val->older, true))
		charge += snapmap_val_charge(val->len);
	atomic64_sub(charge, &map->bytes);

	spin_lock(&shard->lock);
	snapmap_node_unlink(shard, node);
	spin_unlock(&shard->lock);
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

/*
 * Drop the versions below the head that no snapshot needs, and the node
 * itself once it holds a deletion and nothing else.  Caller holds the node
 * lock and is in an RCU read-side critical section; the head is stamped,
 * and the caller's read of its stamp is ordered before this function's
 * reads of the snapshot list (see snapmap_val_version_acquire()).
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
static void snapmap_node_trim(struct snapmap *map, struct snapmap_node *node,
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
				return;
			link = &val->older;
		} else {
			rcu_assign_pointer(*link, older);
			atomic64_sub(snapmap_val_charge(val->len), &map->bytes);
			snapmap_val_free_rcu(node, val);
		}
		until = from;
	}

	if (head->len == SNAPMAP_TOMBSTONE && !rcu_access_pointer(head->older))
		snapmap_node_remove(map, node);
}

/*
 * A new, empty node for @key, holding @value of @len bytes as its first
 * version, not yet published, if it is short enough.
 */
static struct snapmap_node *snapmap_node_alloc(struct snapmap *map,
					       const struct snapmap_key *key,
					       const void *value, u32 len)
{
	bool first_inline = len <= SNAPMAP_INLINE_MAX;
	struct snapmap_node *node;
	size_t size;

	size = offsetof(struct snapmap_node, key) +
	       ALIGN(key->len, SNAPMAP_VAL_ALIGN);
	if (first_inline)
		size += offsetof(struct snapmap_val, data) + len;
	node = snapmap_alloc(map, size, SNAPMAP_GFP);
	if (!node)
		return NULL;
	RCU_INIT_POINTER(node->head, NULL);
	spin_lock_init(&node->lock);
	node->dead = false;
	node->unlinked = false;
	node->first_inline = first_inline;
	node->pins = 0;
	node->key_len = key->len;
	memcpy(node->key, key->data, key->len);
	/* Any spread will do: a node never changes shards. */
	node->shard = hash_ptr(node, ilog2(SNAPMAP_NR_SHARDS));
	if (first_inline)
		snapmap_val_init(snapmap_node_first(node), value, len);
	return node;
}

/*
 * Insert the new, empty @node of @key.  Caller is in an RCU read-side
 * critical section, which keeps the returned node alive.  Consumes @node.
 *
 * Return: @node; the node another writer inserted first; ERR_PTR(-EBUSY)
 * if the table is being rehashed (retry outside RCU); ERR_PTR(-ENOMEM) or
 * ERR_PTR(-ENOSPC).
 */
static struct snapmap_node *snapmap_node_insert(struct snapmap *map,
						const struct snapmap_key *key,
						struct snapmap_node *node)
{
	struct snapmap_shard *shard = &map->shards[node->shard];
	size_t charge = snapmap_node_charge(node->key_len);
	struct snapmap_node *old;

	/*
	 * On the shard list before it can be found, so that a version
	 * stamped on it is never missed by an iteration that starts later.
	 */
	atomic64_add(charge, &map->live);
	atomic64_add(charge, &map->bytes);
	spin_lock(&shard->lock);
	node->pos = ++shard->next_pos;
	list_add_tail_rcu(&node->link, &shard->nodes);
	spin_unlock(&shard->lock);

	old = rhashtable_lookup_get_insert_key(&map->ht, key, &node->rhash,
					       snapmap_ht_params);
	if (!old)
		return node;

	/* Another writer's node won, or the insertion failed. */
	node->dead = true;
	atomic64_sub(charge, &map->live);
	atomic64_sub(charge, &map->bytes);
	spin_lock(&shard->lock);
	snapmap_node_unlink(shard, node);
	spin_unlock(&shard->lock);
	/* E2BIG means a full table: to callers, a full map. */
	return old == ERR_PTR(-E2BIG) ? ERR_PTR(-ENOSPC) : old;
}

/*
 * Admit a write that grows the map's live bytes by @delta, if they stay
 * within the byte limit.  Versions kept only for snapshots are not live: a
 * write never fails because a snapshot is open; it makes the oldest
 * snapshot go stale instead (snapmap_snapshots_over_limit()).
 */
static bool snapmap_charge_live(struct snapmap *map, s64 delta)
{
	if (atomic64_add_return(delta, &map->live) <= (s64)map->max_bytes)
		return true;
	atomic64_sub(delta, &map->live);
	return false;
}

static bool snapmap_charge_entry(struct snapmap *map)
{
	if (atomic64_inc_return(&map->entries) <= map->max_entries)
		return true;
	atomic64_dec(&map->entries);
	return false;
}

/*
 * Check a write's condition against the key's current version @cur (NULL
 * or a deletion when the key is absent).
 */
static int snapmap_write_allowed(struct snapmap_val *cur, bool del,
				 u32 flags, u64 expected)
{
	bool present = cur && cur->len != SNAPMAP_TOMBSTONE;
	bool if_version = del ? flags & SNAPMAP_DEL_IF_VERSION :
				flags & SNAPMAP_PUT_IF_VERSION;

	if (if_version)
		return present && atomic64_read(&cur->version) == expected ?
		       0 : -ECANCELED;
	if (del || (flags & SNAPMAP_PUT_EXIST))
		return present ? 0 : -ENOENT;
	if (flags & SNAPMAP_PUT_NOEXIST)
		return present ? -EEXIST : 0;
	return 0;
}

/*
 * The one write path: push a new version of @key, @value of @len bytes or
 * a deletion (@len %SNAPMAP_TOMBSTONE), if the flags allow it.  The
 * version gets the stamp @stamp, or a fresh one if it is
 * %SNAPMAP_VERSION_PENDING.
 *
 * A new key's first version is the one inside its new node; any other is
 * allocated on its own.  Both allocations happen outside RCU, before the
 * node is inserted, so that a node this call inserts is never left empty
 * for want of memory.
 */
static int snapmap_write(struct snapmap *map, const struct snapmap_key *key,
			 const void *value, u32 len, u32 flags, u64 expected,
			 u64 stamp, u64 *version)
{
	bool del = len == SNAPMAP_TOMBSTONE;
	struct snapmap_node *node, *new = NULL;
	struct snapmap_val *cur, *val = NULL, *push;
	bool was_present;
	s64 delta;
	int err;

	/* A deletion is a version too, so that snapshots can see it. */
	if (del)
		val = snapmap_val_alloc(map, NULL, SNAPMAP_TOMBSTONE);
again:
	push = NULL;
	rcu_read_lock();
	node = rhashtable_lookup(&map->ht, key, snapmap_ht_params);
	if (!node && !del) {
		/* A condition on the present entry fails on an absent key. */
		if (flags & (SNAPMAP_PUT_EXIST | SNAPMAP_PUT_IF_VERSION)) {
			rcu_read_unlock();
			err = flags & SNAPMAP_PUT_EXIST ? -ENOENT : -ECANCELED;
			goto out_free;
		}
		if (!new) {
			/* Allocate outside RCU. */
			rcu_read_unlock();
			new = snapmap_node_alloc(map, key, value, len);
			if (new && !snapmap_node_first(new) && !val)
				val = snapmap_val_alloc(map, value, len);
			if (!new || (!snapmap_node_first(new) && !val)) {
				err = -ENOMEM;
				goto out_free;
			}
			rcu_read_lock();
		}
		/* Finds the node of a writer that inserted one meanwhile. */
		node = snapmap_node_insert(map, key, new);
		if (node == new)
			push = snapmap_node_first(node);
		new = NULL;
		if (IS_ERR(node)) {
			rcu_read_unlock();
			err = PTR_ERR(node);
			if (err != -EBUSY)
				goto out_free;
			/* A rehash is under way: let it run, then retry. */
			cond_resched();
			goto again;
		}
	}
	if (!node) {
		/* Deleting never needs a new node. */
		rcu_read_unlock();
		err = flags & SNAPMAP_DEL_IF_VERSION ? -ECANCELED : -ENOENT;
		goto out_free;
	}
	if (!push && !val) {
		/* The key has a node: the version goes on its own. */
		rcu_read_unlock();
		val = snapmap_val_alloc(map, value, len);
		if (!val) {
			err = -ENOMEM;
			goto out_free;
		}
		goto again;
	}
	if (!push)
		push = val;

	spin_lock(&node->lock);
	if (node->dead) {
		spin_unlock(&node->lock);
		rcu_read_unlock();
		goto again;
	}
	cur = rcu_dereference_protected(node->head,
					lockdep_is_held(&node->lock));
	err = snapmap_write_allowed(cur, del, flags, expected);
	if (err)
		goto out_unlock;

	was_present = cur && cur->len != SNAPMAP_TOMBSTONE;
	/* The replaced head stays, if at all, as a pinned version. */
	delta = (s64)snapmap_val_charge(push->len) -
		(s64)(cur ? snapmap_val_charge(cur->len) : 0);
	/*
	 * What a write takes is reserved before it is stamped, what it
	 * gives back only after: so the limits hold at every instant of
	 * the sequence of stamps, and a snapshot, or a clone made from
	 * one, never holds more than the map may.
	 */
	if (!del && !was_present && !snapmap_charge_entry(map)) {
		err = -ENOSPC;
		goto out_unlock;
	}
	if (delta > 0 && !snapmap_charge_live(map, delta)) {
		if (!was_present)
			atomic64_dec(&map->entries);
		err = -ENOSPC;
		goto out_unlock;
	}

	if (stamp != SNAPMAP_VERSION_PENDING)
		atomic64_set(&push->version, stamp);
	RCU_INIT_POINTER(push->older, cur);
	rcu_assign_pointer(node->head, push);
	if (push == val)
		val = NULL;
	snapmap_test_pause(SNAPMAP_TEST_BEFORE_STAMP);
	*version = snapmap_val_version_acquire(map, push);

	if (delta < 0)
		atomic64_add(delta, &map->live);
	if (del)
		atomic64_dec(&map->entries);
	/*
	 * All the map holds, pinned versions included: no limit admits
	 * writes against it, so it is counted once the write is done, with
	 * what the write gives back.  While a write waits before its stamp
	 * (the test rig's pause point), bytes and live stay equal, and
	 * closing a snapshot then queues no sweep that would spin on this
	 * node's lock.
	 */
	atomic64_add(snapmap_val_charge(push->len), &map->bytes);
	snapmap_node_trim(map, node, false);
	spin_unlock(&node->lock);
	rcu_read_unlock();

	if (atomic64_read(&map->bytes) > map->max_bytes)
		snapmap_snapshots_over_limit(map);
	kfree(new);
	kfree(val ? container_of(val, struct snapmap_val_box, val) : NULL);
	if (del)
		this_cpu_inc(map->stats->dels);
	else
		this_cpu_inc(map->stats->puts);
	return 0;

out_unlock:
	/* An empty node this call inserted must not stay behind. */
	if (!cur)
		snapmap_node_remove(map, node);
	spin_unlock(&node->lock);
	rcu_read_unlock();
out_free:
	kfree(new);
	kfree(val ? container_of(val, struct snapmap_val_box, val) : NULL);
	return err;
}

/*
 * The current value of @key, or NULL if the key is absent; @version is set
 * to its version, stamped if need be.  Caller is in an RCU read-side
 * critical section.
 */
static __always_inline struct snapmap_val *
snapmap_current(struct snapmap *map, const struct snapmap_key *key,
		u64 *version)
{
	struct snapmap_node *node;
	struct snapmap_val *val;
	u64 v;

	node = rhashtable_lookup(&map->ht, key, snapmap_ht_params);
	val = node ? rcu_dereference(node->head) : NULL;
	if (!val)
		return NULL;
	v = snapmap_val_version(map, val);
	if (val->len == SNAPMAP_TOMBSTONE)
		return NULL;
	*version = v;
	return val;
}

/* snapmap_lookup() without counting a GET. */
static __always_inline int snapmap_lookup_copy(struct snapmap *map,
					       const void *key, u32 key_len,
					       void *value, u32 value_size,
					       u32 *value_len, u64 *version)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	struct snapmap_val *val;
	int err = 0;

	rcu_read_lock();
	val = snapmap_current(map, &k, version);
	if (!val) {
		err = -ENOENT;
	} else {
		*value_len = val->len;
		if (val->len > value_size)
			err = -ERANGE;
		else
			memcpy(value, val->data, val->len);
	}
	rcu_read_unlock();
	return err;
}

/**
 * snapmap_lookup() - copy a key's value out
 * @map: the map
 * @key: the key
 * @key_len: its length, 1 to the map's key length limit
 * @value: buffer for the value
 * @value_size: size of @value
 * @value_len: set to the value's length (also on -ERANGE)
 * @version: set to the entry's version (also on -ERANGE)
 *
 * Context: any context but hard interrupts; does not sleep; lock-free.
 *
 * Return: 0; -ENOENT if the key is absent; -ERANGE if @value_size is too
 * small; -EINVAL or -EMSGSIZE for a bad key length.
 */
int snapmap_lookup(struct snapmap *map, const void *key, u32 key_len,
		   void *value, u32 value_size, u32 *value_len, u64 *version)
{
	int err;

	err = snapmap_check_key(map, key_len);
	if (err)
		return err;

	this_cpu_inc(map->stats->gets);
	return snapmap_lookup_copy(map, key, key_len, value, value_size,
				   value_len, version);
}
EXPORT_SYMBOL_GPL(snapmap_lookup);

/**
 * snapmap_lookup_again() - snapmap_lookup() again for the same GET
 * @map: the map
 * @key: the key, checked by the first snapmap_lookup()
 * @key_len: its length
 * @value: buffer for the value
 * @value_size: size of @value
 * @value_len: set to the value's length (also on -ERANGE)
 * @version: set to the entry's version (also on -ERANGE)
 *
 * For a caller that learnt the value's length from -ERANGE and looks again
 * with a buffer that long: the GET is not counted a second time.
 *
 * Context: any context but hard interrupts; does not sleep; lock-free.
 *
 * Return: as snapmap_lookup().
 */
int snapmap_lookup_again(struct snapmap *map, const void *key, u32 key_len,
			 void *value, u32 value_size, u32 *value_len,
			 u64 *version)
{
	return snapmap_lookup_copy(map, key, key_len, value, value_size,
				   value_len, version);
}

/**
 * snapmap_lookup_rcu() - look at a key's value in place
 * @map: the map
 * @key: the key
 * @key_len: its length, 1 to the map's key length limit
 * @fn: called with the value, under rcu_read_lock(), if the key is present
 * @arg: passed to @fn
 *
 * Zero-copy: @fn sees the map's own copy of the value, which stays valid
 * (and unchanged) until @fn returns, however the map changes meanwhile.
 *
 * Context: any context but hard interrupts; does not sleep, nor may @fn.
 *
 * Return: what @fn returned; -ENOENT if the key is absent; -EINVAL or
 * -EMSGSIZE for a bad key length.
 */
int snapmap_lookup_rcu(struct snapmap *map, const void *key, u32 key_len,
		       snapmap_lookup_fn fn, void *arg)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	struct snapmap_val *val;
	u64 version;
	int err;

	err = snapmap_check_key(map, key_len);
	if (err)
		return err;

	this_cpu_inc(map->stats->gets);
	rcu_read_lock();
	val = snapmap_current(map, &k, &version);
	err = val ? fn(val->data, val->len, version, arg) : -ENOENT;
	rcu_read_unlock();
	return err;
}
EXPORT_SYMBOL_GPL(snapmap_lookup_rcu);

/* Check a key's length and a value's against @map's limits. */
static int snapmap_check_value(struct snapmap *map, u32 key_len,
			       u32 value_len)
{
	int err = snapmap_check_key(map, key_len);

	if (err)
		return err;
	return value_len > map->max_value_len ? -EMSGSIZE : 0;
}

/**
 * snapmap_update() - insert or replace a key
 * @map: the map
 * @key: the key
 * @key_len: its length, 1 to the map's key length limit
 * @value: the value
 * @value_len: its length, 0 to the map's value length limit
 * @flags: ``SNAPMAP_PUT_*``, at most one
 * @expected_version: with %SNAPMAP_PUT_IF_VERSION, the version the entry
 *                    must have; ignored otherwise
 * @version: set to the new entry's version
 *
 * Readers see the old value or the new one, never a mix.  On failure the
 * map is exactly as it was.
 *
 * Context: process context; may sleep.  Takes the key's node lock and, for
 * a new key, a shard lock and the rhashtable's bucket lock.
 *
 * Return: 0; -EINVAL for bad flags or key length; -EMSGSIZE for a key or
 * value over the limit; -EEXIST, -ENOENT or -ECANCELED when @flags' condition
 * fails; -ENOSPC at the entry or byte limit; -ENOMEM.
 */
int snapmap_update(struct snapmap *map, const void *key, u32 key_len,
		   const void *value, u32 value_len, u32 flags,
		   u64 expected_version, u64 *version)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	int err;

	if (flags & ~(SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST |
		      SNAPMAP_PUT_IF_VERSION) || hweight32(flags) > 1)
		return -EINVAL;
	err = snapmap_check_value(map, key_len, value_len);
	if (err)
		return err;
	return snapmap_write(map, &k, value, value_len, flags,
			     expected_version, SNAPMAP_VERSION_PENDING,
			     version);
}
EXPORT_SYMBOL_GPL(snapmap_update);

/**
 * snapmap_cas() - replace a key's value if its version is the one given
 * @map: the map
 * @key: the key
 * @key_len: its length
 * @value: the new value
 * @value_len: its length
 * @expected_version: the version the entry must have
 * @version: set to the new entry's version
 *
 * snapmap_update() with %SNAPMAP_PUT_IF_VERSION.
 *
 * Context: process context; may sleep.
 *
 * Return: 0; -ECANCELED if the key is absent or has another version; the
 * errors of snapmap_update().
 */
int snapmap_cas(struct snapmap *map, const void *key, u32 key_len,
		const void *value, u32 value_len, u64 expected_version,
		u64 *version)
{
	return snapmap_update(map, key, key_len, value, value_len,
			      SNAPMAP_PUT_IF_VERSION, expected_version, version);
}
EXPORT_SYMBOL_GPL(snapmap_cas);

/**
 * snapmap_restore() - insert a key with a given version
 * @map: a map nobody else writes to yet (a clone being made)
 * @key: the key
 * @key_len: its length
 * @value: the value
 * @value_len: its length
 * @version: the version the entry gets; below the map's sequence counter
 *           once the map is in use
 *
 * Context: process context; may sleep.
 *
 * Return: 0; -EEXIST if the key is present; the errors of snapmap_update().
 */
int snapmap_restore(struct snapmap *map, const void *key, u32 key_len,
		    const void *value, u32 value_len, u64 version)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	u64 ignored;
	int err;

	err = snapmap_check_value(map, key_len, value_len);
	if (err)
		return err;
	return snapmap_write(map, &k, value, value_len, SNAPMAP_PUT_NOEXIST, 0,
			     version, &ignored);
}

/**
 * snapmap_delete() - delete a key
 * @map: the map
 * @key: the key
 * @key_len: its length
 * @flags: 0 or %SNAPMAP_DEL_IF_VERSION
 * @expected_version: with %SNAPMAP_DEL_IF_VERSION, the version the entry
 *                    must have; ignored otherwise
 * @version: set to the deletion's own version
 *
 * Context: process context; may sleep.
 *
 * Never fails for lack of memory, so that a full map can always be
 * emptied.
 *
 * Return: 0; -ENOENT if the key is absent; -ECANCELED with
 * %SNAPMAP_DEL_IF_VERSION if it is absent or has another version; -EINVAL
 * or -EMSGSIZE for bad flags or key length.
 */
int snapmap_delete(struct snapmap *map, const void *key, u32 key_len,
		   u32 flags, u64 expected_version, u64 *version)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	int err;

	if (flags & ~SNAPMAP_DEL_IF_VERSION)
		return -EINVAL;
	err = snapmap_check_key(map, key_len);
	if (err)
		return err;
	return snapmap_write(map, &k, NULL, SNAPMAP_TOMBSTONE, flags,
			     expected_version, SNAPMAP_VERSION_PENDING, version);
}
EXPORT_SYMBOL_GPL(snapmap_delete);

/* Keys copied out per RCU read-side critical section of snapmap_clear(). */
#define SNAPMAP_CLEAR_BATCH 16

/**
 * snapmap_clear() - delete every key
 * @map: the map
 * @version: set to the map's version once done
 *
 * Deletes the keys one by one: a reader running at the same time may see
 * some deleted and others not yet.  Keys written after the call started may
 * survive it; every other key is deleted.
 *
 * Context: process context; may sleep.
 *
 * Return: 0 or -ENOMEM; on -ENOMEM some keys may have been deleted.
 */
int snapmap_clear(struct snapmap *map, u64 *version)
{
	u64 start = atomic64_read(&map->seq);
	u32 lens[SNAPMAP_CLEAR_BATCH];
	struct snapmap_cursor cursor = {};
	struct snapmap_node *node;
	struct snapmap_val *val;
	unsigned int i, n;
	u64 ignored;
	int err = 0;
	u8 *keys;

	/*
	 * Not charged: a map must be emptied even when its cgroup, or the
	 * caller's, is full.  It is small, and freed on return.
	 */
	keys = kvmalloc_array(SNAPMAP_CLEAR_BATCH, map->max_key_len,
			      GFP_KERNEL | __GFP_NOWARN);
	if (!keys)
		return -ENOMEM;

	/*
	 * Deleting sleeps: copy a batch of keys out under RCU, park the
	 * cursor, delete them, and go on from the cursor, which the
	 * deletions cannot disturb.
	 */
	do {
		node = NULL;
		n = 0;
		rcu_read_lock();
		while (n < SNAPMAP_CLEAR_BATCH &&
		       (node = snapmap_cursor_next(map, &cursor, node))) {
			val = rcu_dereference(node->head);
			if (val && val->len != SNAPMAP_TOMBSTONE &&
			    snapmap_val_version(map, val) <= start) {
				memcpy(keys + n * map->max_key_len, node->key,
				       node->key_len);
				lens[n++] = node->key_len;
			}
			cursor.pos = node->pos;
		}
		rcu_read_unlock();
		snapmap_cursor_park(map, &cursor);

		for (i = 0; i < n && !err; i++) {
			err = snapmap_delete(map, keys + i * map->max_key_len,
					     lens[i], 0, 0, &ignored);
			if (err == -ENOENT)
				err = 0;
		}
		cond_resched();
	} while (node && !err);
	snapmap_cursor_reset(map, &cursor);

	kvfree(keys);
	*version = atomic64_read(&map->seq);
	return err;
}
EXPORT_SYMBOL_GPL(snapmap_clear);

/**
 * snapmap_get_info() - limits, usage and counters of a map
 * @map: the map
 * @info: filled in: every ``out_*`` member; the others are left alone
 *
 * The numbers are read without stopping writers: each is exact at some
 * instant during the call, not necessarily the same instant.
 *
 * Context: any context but hard interrupts; does not sleep.
 */
void snapmap_get_info(struct snapmap *map, struct snapmap_info *info)
{
	struct snapmap_stats sum = {};
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct snapmap_stats *s = per_cpu_ptr(map->stats, cpu);

		sum.gets += READ_ONCE(s->gets);
		sum.puts += READ_ONCE(s->puts);
		sum.dels += READ_ONCE(s->dels);
	}

	info->out_max_key_len = map->max_key_len;
	info->out_max_value_len = map->max_value_len;
	info->out_max_entries = map->max_entries;
	info->out_max_bytes = map->max_bytes;
	info->out_entries = atomic64_read(&map->entries);
	info->out_bytes = atomic64_read(&map->bytes);
	info->out_version = atomic64_read(&map->seq);
	info->out_gets = sum.gets;
	info->out_puts = sum.puts;
	info->out_dels = sum.dels;
	info->out_uid = from_kuid_munged(current_user_ns(), map->uid);
	info->out_gid = from_kgid_munged(current_user_ns(), map->gid);
	info->out_mode = map->mode;
	info->__reserved = 0;
	memcpy(info->out_name, map->name, sizeof(info->out_name));
}
EXPORT_SYMBOL_GPL(snapmap_get_info);

/**
 * snapmap_max_key_len() - the map's key length limit
 * @map: the map
 *
 * Return: the longest key the map accepts.
 */
u32 snapmap_max_key_len(const struct snapmap *map)
{
	return map->max_key_len;
}

/**
 * snapmap_max_value_len() - the map's value length limit
 * @map: the map
 *
 * Return: the longest value the map accepts.
 */
u32 snapmap_max_value_len(const struct snapmap *map)
{
	return map->max_value_len;
}

/**
 * snapmap_table_init() - set up the data of a new map
 * @map: the map, its limits and memory cgroup set
 *
 * Return: 0 or -ENOMEM.
 */
int snapmap_table_init(struct snapmap *map)
{
	struct mem_cgroup *old;
	unsigned int i;
	int err;

	for (i = 0; i < SNAPMAP_NR_SHARDS; i++) {
		spin_lock_init(&map->shards[i].lock);
		INIT_LIST_HEAD(&map->shards[i].nodes);
	}
	atomic64_set(&map->seq, 0);
	atomic64_set(&map->entries, 0);
	atomic64_set(&map->bytes, 0);
	atomic64_set(&map->live, 0);

	old = set_active_memcg(map->memcg);
	map->stats = alloc_percpu_gfp(struct snapmap_stats, GFP_KERNEL_ACCOUNT);
	set_active_memcg(old);
	if (!map->stats)
		return -ENOMEM;
	err = rhashtable_init(&map->ht, &snapmap_ht_params);
	if (err) {
		free_percpu(map->stats);
		return err;
	}
	return 0;
}

/**
 * snapmap_table_destroy() - free the data of a map nobody can reach
 * @map: the map
 *
 * Context: process context; may sleep.
 */
void snapmap_table_destroy(struct snapmap *map)
{
	rhashtable_free_and_destroy(&map->ht, snapmap_node_free_ht, NULL);
	free_percpu(map->stats);
}

/* Drop a cursor's pin; caller holds the lock of the node's shard. */
static void snapmap_node_unpin(struct snapmap_shard *shard,
			       struct snapmap_node *node)
{
	lockdep_assert_held(&shard->lock);
	if (--node->pins == 0 && READ_ONCE(node->dead))
		snapmap_node_unlink(shard, node);
}

/**
 * snapmap_cursor_next() - the next node of a walk of the whole map
 * @map: the map
 * @cursor: where the walk stands
 * @node: the node this function returned last in the current RCU
 *        read-side critical section, or NULL to start from @cursor
 *
 * Walks the shard lists in order.  The caller marks a node done by setting
 * @cursor->pos to the node's position; a node not marked done is returned
 * again after snapmap_cursor_park().
 *
 * Context: RCU read-side critical section.
 *
 * Return: the next node not yet done, or NULL at the end of the map.
 */
struct snapmap_node *snapmap_cursor_next(struct snapmap *map,
					 struct snapmap_cursor *cursor,
					 struct snapmap_node *node)
{
	struct snapmap_shard *shard;

	while (cursor->shard < SNAPMAP_NR_SHARDS) {
		shard = &map->shards[cursor->shard];
		if (!node)
			node = cursor->pin ?: list_entry(&shard->nodes,
							 struct snapmap_node,
							 link);
		list_for_each_entry_continue_rcu(node, &shard->nodes, link)
			if (node->pos > cursor->pos) {
				snapmap_test_count(SNAPMAP_TEST_NODES_WALKED,
						   1);
				return node;
			}

		/* This shard is done: go on with the next one. */
		spin_lock(&shard->lock);
		if (cursor->pin)
			snapmap_node_unpin(shard, cursor->pin);
		spin_unlock(&shard->lock);
		cursor->pin = NULL;
		cursor->pos = 0;
		cursor->shard++;
		node = NULL;
	}
	return NULL;
}

/**
 * snapmap_cursor_park() - make a cursor safe to keep outside RCU
 * @map: the map
 * @cursor: the cursor; @cursor->pos says which nodes are done
 *
 * Pins the node of highest position at most @cursor->pos still on the
 * shard list, so that the walk can go on from it after sleeping.
 *
 * Context: any context but hard interrupts; takes a shard lock.
 */
void snapmap_cursor_park(struct snapmap *map, struct snapmap_cursor *cursor)
{
	struct snapmap_node *pin = cursor->pin, *next;
	struct snapmap_shard *shard;
	struct list_head *pos;

	if (cursor->shard >= SNAPMAP_NR_SHARDS)
		return;
	shard = &map->shards[cursor->shard];

	/* Under the lock, every node on the list is linked. */
	spin_lock(&shard->lock);
	pos = pin ? &pin->link : &shard->nodes;
	while (pos->next != &shard->nodes) {
		next = list_entry(pos->next, struct snapmap_node, link);
		if (next->pos > cursor->pos)
			break;
		pos = pos->next;
	}
	if (pos != (pin ? &pin->link : &shard->nodes)) {
		next = list_entry(pos, struct snapmap_node, link);
		next->pins++;
		if (pin)
			snapmap_node_unpin(shard, pin);
		cursor->pin = next;
	}
	spin_unlock(&shard->lock);
}

/**
 * snapmap_cursor_reset() - move a cursor back to the start of the map
 * @map: the map
 * @cursor: the cursor, parked or new
 *
 * Also the way to drop a cursor: it then pins nothing.
 *
 * Context: any context but hard interrupts; takes a shard lock.
 */
void snapmap_cursor_reset(struct snapmap *map, struct snapmap_cursor *cursor)
{
	struct snapmap_shard *shard;

	if (cursor->pin) {
		shard = &map->shards[cursor->shard];
		spin_lock(&shard->lock);
		snapmap_node_unpin(shard, cursor->pin);
		spin_unlock(&shard->lock);
	}
	cursor->shard = 0;
	cursor->pos = 0;
	cursor->pin = NULL;
}

/* Nodes looked at per RCU read-side critical section of a sweep. */
#define SNAPMAP_SWEEP_BATCH 256

/**
 * snapmap_sweep() - trim every node of versions no snapshot needs
 * @map: the map
 *
 * Frees what the snapshots that closed or went stale were keeping.
 *
 * Context: process context; may sleep.
 */
void snapmap_sweep(struct snapmap *map)
{
	struct snapmap_cursor cursor = {};
	struct snapmap_node *node;
	unsigned int n;

	do {
		node = NULL;
		n = 0;
		rcu_read_lock();
		while (n++ < SNAPMAP_SWEEP_BATCH &&
		       (node = snapmap_cursor_next(map, &cursor, node))) {
			spin_lock(&node->lock);
			if (!node->dead && rcu_access_pointer(node->head))
				snapmap_node_trim(map, node, true);
			spin_unlock(&node->lock);
			cursor.pos = node->pos;
		}
		rcu_read_unlock();
		snapmap_cursor_park(map, &cursor);
		if (node)
			snapmap_test_pause(SNAPMAP_TEST_SWEEP);
		cond_resched();
	} while (node);
	snapmap_cursor_reset(map, &cursor);
}
