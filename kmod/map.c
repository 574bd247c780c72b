// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - the map: lookups and writes
 *
 * Lookups run under RCU and take no lock.  A write takes the lock of its
 * key's node only, and the read side of the map's clear_sem, a per-CPU
 * count (clear.c), so writers of different keys share no lock (they share
 * the cache lines of the map's sequence counter and usage counters).
 *
 * A write pushes a new version on its key's chain and is linearized at
 * the version's stamp (version.c): every reader sees the writes stamped
 * before it and none stamped after.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "clear.h"
#include "core.h"
#include "feed.h"
#include "reclaim.h"
#include "table.h"
#include "testhook.h"
#include "version.h"

/*
 * Admit a write that grows the map's live bytes by @delta, if they stay
 * within the byte limit.  Versions kept only for snapshots are not live: a
 * write never fails because a snapshot is open; it makes the oldest
 * snapshot go stale instead (snapmap_reclaim_over_limit()).
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
	/* The keys a clear deleted hold their room until they are freed. */
	if (atomic64_inc_return(&map->entries) +
	    atomic64_read(&map->cleared) <= map->max_entries)
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
 * allocated on its own, or is @val if the caller built it (then @value is
 * its data; consumed either way).  The allocations happen outside RCU,
 * before the node is inserted, so that a node this call inserts is never
 * left empty for want of memory.
 */
static int snapmap_write_held(struct snapmap *map,
			      const struct snapmap_key *key, const void *value,
			      u32 len, u32 flags, u64 expected, u64 stamp,
			      u64 *version, struct snapmap_val *val,
			      struct snapmap_feed_write *fw)
{
	bool del = len == SNAPMAP_TOMBSTONE;
	struct snapmap_node *node, *new = NULL;
	struct snapmap_val *cur, *push, *spare = NULL;
	bool was_present;
	s64 delta;
	int err;

	/* A deletion is a version too, so that snapshots can see it. */
	if (del)
		val = snapmap_val_alloc(map, NULL, SNAPMAP_TOMBSTONE);
	/* The deletion a past clear brings to the key, if it must. */
	if (unlikely(snapmap_clear_pending(map)))
		spare = snapmap_val_alloc(map, NULL, SNAPMAP_TOMBSTONE);
again:
	push = NULL;
	rcu_read_lock();
	node = snapmap_node_lookup(map, key);
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
		/*
		 * The key has a node: the version goes on its own.  One the
		 * map can reuse is taken here; else one is allocated outside
		 * RCU, and the key looked up again.
		 */
		val = snapmap_val_reuse(map, value, len);
		if (!val) {
			rcu_read_unlock();
			val = snapmap_val_alloc(map, value, len);
			if (!val) {
				err = -ENOMEM;
				goto out_free;
			}
			goto again;
		}
	}
	if (!push)
		push = val;

	spin_lock(&node->lock);
	if (node->dead) {
		spin_unlock(&node->lock);
		rcu_read_unlock();
		goto again;
	}
	snapmap_clear_settle(map, node, &spare);
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

	snapmap_feed_begin(fw);
	if (stamp != SNAPMAP_VERSION_PENDING)
		atomic64_set(&push->version, stamp);
	RCU_INIT_POINTER(push->older, cur);
	rcu_assign_pointer(node->head, push);
	if (push == val)
		val = NULL;
	snapmap_test_pause(SNAPMAP_TEST_BEFORE_STAMP);
	*version = snapmap_val_version_acquire(map, push);
	snapmap_feed_commit(fw, *version);

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
	if (snapmap_chain_trim(map, node, false))
		snapmap_node_remove(map, node);
	spin_unlock(&node->lock);
	rcu_read_unlock();

	if (atomic64_read(&map->bytes) > map->max_bytes)
		snapmap_reclaim_over_limit(map);
	kfree(new);
	snapmap_val_discard(map, val);
	snapmap_val_discard(map, spare);
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
	snapmap_val_discard(map, val);
	snapmap_val_discard(map, spare);
	return err;
}

/*
 * snapmap_write_held() with the map's clear_sem held, so that no CLEAR
 * commits during the write, and with its record for the map's watches if
 * it has any; first, room made if a past clear's keys would make the map
 * look full.
 */
static int snapmap_write(struct snapmap *map, const struct snapmap_key *key,
			 const void *value, u32 len, u32 flags, u64 expected,
			 u64 stamp, u64 *version, struct snapmap_val *val)
{
	bool del = len == SNAPMAP_TOMBSTONE;
	struct snapmap_feed_write fw;
	int err;

	snapmap_clear_make_room(map, 1, sizeof(struct snapmap_node) + key->len +
				snapmap_val_charge(len));
	percpu_down_read(&map->clear_sem);
	snapmap_feed_start(map, &fw);
	snapmap_feed_add(&fw, del ? SNAPMAP_CHANGE_DEL : SNAPMAP_CHANGE_PUT,
			 key->data, key->len, value, del ? 0 : len);
	err = snapmap_write_held(map, key, value, len, flags, expected, stamp,
				 version, val, &fw);
	percpu_up_read(&map->clear_sem);
	snapmap_feed_end(&fw);
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

	node = snapmap_node_lookup(map, key);
	val = node ? snapmap_val_newest(map, node, &v) : NULL;
	if (!val || val->len == SNAPMAP_TOMBSTONE)
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

/* Check a PUT's flags, and its key's and value's lengths. */
static int snapmap_check_put(struct snapmap *map, u32 key_len, u32 value_len,
			     u32 flags)
{
	if (flags & ~(SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST |
		      SNAPMAP_PUT_IF_VERSION) || hweight32(flags) > 1)
		return -EINVAL;
	return snapmap_check_value(map, key_len, value_len);
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

	err = snapmap_check_put(map, key_len, value_len, flags);
	if (err)
		return err;
	return snapmap_write(map, &k, value, value_len, flags,
			     expected_version, SNAPMAP_VERSION_PENDING,
			     version, NULL);
}
EXPORT_SYMBOL_GPL(snapmap_update);

/**
 * snapmap_update_fill() - snapmap_update() of a value written in place
 * @map: the map
 * @key: the key
 * @key_len: its length, 1 to the map's key length limit
 * @value_len: the value's length, 0 to the map's value length limit
 * @fill: writes the value's @value_len bytes at @data, or fails
 * @arg: passed to @fill
 * @flags: ``SNAPMAP_PUT_*``, at most one
 * @expected_version: as snapmap_update()'s
 * @version: set to the new entry's version
 *
 * For a caller whose value is not in kernel memory yet (a user's buffer):
 * the version is allocated first and @fill copies the value straight into
 * it, rather than into a buffer the write then copies again.  @fill runs
 * before the map is looked at, outside RCU and any lock, and may sleep;
 * if it fails, nothing changed.
 *
 * Context: process context; may sleep.
 *
 * Return: as snapmap_update(), or what @fill returned.
 */
int snapmap_update_fill(struct snapmap *map, const void *key, u32 key_len,
			u32 value_len, snapmap_fill_fn fill, void *arg,
			u32 flags, u64 expected_version, u64 *version)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	struct snapmap_val *val;
	int err;

	err = snapmap_check_put(map, key_len, value_len, flags);
	if (err)
		return err;
	val = snapmap_val_alloc(map, NULL, value_len);
	if (!val)
		return -ENOMEM;
	err = fill(arg, val->data, value_len);
	if (err) {
		snapmap_val_discard(map, val);
		return err;
	}
	return snapmap_write(map, &k, val->data, value_len, flags,
			     expected_version, SNAPMAP_VERSION_PENDING,
			     version, val);
}

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
			     version, &ignored, NULL);
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
			     expected_version, SNAPMAP_VERSION_PENDING, version,
			     NULL);
}
EXPORT_SYMBOL_GPL(snapmap_delete);

/**
 * snapmap_get_info() - limits, usage and counters of a map
 * @map: the map
 * @info: filled in: every ``out_*`` member; the others are left alone
 *
 * The numbers are read without stopping writers: each is exact at some
 * instant during the call, not necessarily the same instant; the counts
 * of snapshots are read together.
 *
 * Context: any context but hard interrupts; does not sleep.  Takes the
 * map's snapshot lock.
 */
void snapmap_get_info(struct snapmap *map, struct snapmap_info *info)
{
	struct snapmap_stats sum = {};
	s64 bytes, live;
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
	/*
	 * Read apart from each other, the live part may pass the whole for
	 * a moment (a write admits its bytes to @live first): then nothing
	 * is said to be pinned.
	 */
	live = atomic64_read(&map->live);
	bytes = atomic64_read(&map->bytes);
	info->out_bytes = bytes;
	info->out_pinned_bytes = bytes > live ? bytes - live : 0;
	info->out_version = atomic64_read(&map->seq);
	info->out_gets = sum.gets;
	info->out_puts = sum.puts;
	info->out_dels = sum.dels;
	info->out_uid = from_kuid_munged(current_user_ns(), map->uid);
	info->out_gid = from_kgid_munged(current_user_ns(), map->gid);
	info->out_mode = map->mode;
	info->__reserved = 0;
	/* A deleted name stays in the map, for nobody to see. */
	if (READ_ONCE(map->unlinked))
		memset(info->out_name, 0, sizeof(info->out_name));
	else
		memcpy(info->out_name, map->name, sizeof(info->out_name));
	info->out_id = map->id;
	spin_lock(&map->snap_lock);
	info->out_snapshots = map->nr_snapshots;
	info->out_stale_snapshots = map->nr_stale;
	info->out_invalidated = map->invalidated;
	spin_unlock(&map->snap_lock);
	info->out_map_flags = snapmap_map_flags(map);
	info->__reserved2 = 0;
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
