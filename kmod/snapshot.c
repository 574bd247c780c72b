// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - snapshots and clones
 *
 * An ATOMIC snapshot is a version V: it holds, for every key, the newest
 * version of the key's chain stamped below V, unless that is a deletion.
 * Taking one costs an insertion in the map's snapshot list and one
 * increment of the map's sequence counter, whatever the map's size.
 *
 * Why that is an instant of the map: every version is stamped from the same
 * counter as V, after it was pushed on its chain and before anyone acted on
 * it (version.c).  A write stamped below V was complete, as far as any reader
 * can tell, when V was taken; a write stamped above V was not visible to
 * anyone then.  So the versions below V are exactly the map at the moment
 * the counter handed out V.
 *
 * What keeps the versions V needs: writers trim a chain only of versions no
 * snapshot in the map's list of pins needs (snapmap_chain_trim()).  A
 * snapshot enters the list before it takes V, with V unknown, and while V
 * is unknown writers wait for it before they trim.  A writer reads its
 * version's stamp (with acquire, pairing with the fully ordered atomic
 * that stamped it) before it reads the list, and the snapshot inserts itself before it
 * takes V (fully ordered too): so either the writer sees the snapshot in
 * the list, or V was taken after the writer's stamp, and then V needs the
 * new version, not the one trimmed.  docs/design.md spells this out in the
 * kernel memory model's terms.
 *
 * Reading walks the map's shard lists with a cursor (cursor.c), an order
 * that rhashtable resizes cannot disturb.  Nodes created after V hold only
 * versions above V and yield nothing.
 *
 * A WEAK snapshot takes nothing from the map: its walk hands out each
 * key's newest version when it gets there.  It walks the same shard lists,
 * so it too meets every node at most once, and it skips the nodes made
 * after the walk began: a key they hold was absent when the walk began, or
 * held by a node the walk may already have handed out.  So a WEAK walk
 * hands out each key at most once, and every key present throughout it
 * exactly once, whatever resizes and deletions happen meanwhile.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "core.h"
#include "cursor.h"
#include "reclaim.h"
#include "table.h"
#include "testhook.h"
#include "version.h"

/* Nodes looked at per RCU read-side critical section of a walk. */
#define SNAPMAP_WALK_BATCH 256

/**
 * struct snapmap_snapshot - an open snapshot
 * @map: the map, held by a reference
 * @pin: its V, and its place in the map's list of pins (ATOMIC only, once
 *       started, until it goes stale); the link is empty before it starts
 * @uid: the user whose count of open snapshots it is in
 * @weak: a WEAK snapshot
 * @lock: serialises the walks of this snapshot
 * @cursor: where the walk stands; protected by @lock
 * @weak_end: WEAK only: the last position of each shard list when the walk
 *            began, beyond which it skips nodes; protected by @lock
 * @weak_begun: WEAK only: the walk has begun, and @weak_end is set;
 *              protected by @lock
 * @counted: @entries and @bytes are known; protected by @lock
 * @entries: records in the snapshot
 * @bytes: bytes read(2) yields for all records
 * @taken: records handed out since the last rewind; protected by @lock
 * @rcu: frees the snapshot after writers stop looking at @version
 */
struct snapmap_snapshot {
	struct snapmap *map;
	struct snapmap_pin pin;
	kuid_t uid;
	bool weak;
	struct mutex lock;		/* see the kernel-doc above */
	struct snapmap_cursor cursor;
	u64 *weak_end;
	bool weak_begun;
	bool counted;
	u64 entries;
	u64 bytes;
	u64 taken;
	struct rcu_head rcu;
};

/**
 * struct snapmap_user - how many snapshots one user has open
 * @node: in snapmap_users
 * @uid: the user
 * @snapshots: open snapshots, ATOMIC, WEAK or stale, of any map
 *
 * Only users with open snapshots have one.
 */
struct snapmap_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int snapshots;
};

/* Looked at only when a snapshot opens or closes. */
static DEFINE_HASHTABLE(snapmap_users, 6);
static DEFINE_SPINLOCK(snapmap_users_lock);

static struct snapmap_user *snapmap_user_find(kuid_t uid)
{
	struct snapmap_user *user;

	lockdep_assert_held(&snapmap_users_lock);
	hash_for_each_possible(snapmap_users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/*
 * Count one more open snapshot of @uid's, within
 * snapmap_cap_snapshots_per_user.  Return: 0, -EDQUOT or -ENOMEM.
 */
static int snapmap_user_charge(kuid_t uid)
{
	struct snapmap_user *user, *spare;
	int err = 0;

	/* For a user with none open yet: nothing is allocated under the lock. */
	spare = kmalloc(sizeof(*spare), SNAPMAP_GFP_BUF);
	if (!spare)
		return -ENOMEM;
	spin_lock(&snapmap_users_lock);
	user = snapmap_user_find(uid);
	if (!user) {
		user = spare;
		spare = NULL;
		user->uid = uid;
		user->snapshots = 0;
		hash_add(snapmap_users, &user->node, __kuid_val(uid));
	}
	if (user->snapshots < READ_ONCE(snapmap_cap_snapshots_per_user)) {
		user->snapshots++;
	} else {
		err = -EDQUOT;
		if (!user->snapshots) {
			hash_del(&user->node);
			spare = user;
		}
	}
	spin_unlock(&snapmap_users_lock);
	kfree(spare);
	return err;
}

/* Count one open snapshot of @uid's less. */
static void snapmap_user_uncharge(kuid_t uid)
{
	struct snapmap_user *user;

	spin_lock(&snapmap_users_lock);
	user = snapmap_user_find(uid);
	if (!WARN_ON_ONCE(!user) && !--user->snapshots)
		hash_del(&user->node);
	else
		user = NULL;
	spin_unlock(&snapmap_users_lock);
	kfree(user);
}

/*
 * Count one more open snapshot of @map's, within
 * snapmap_cap_snapshots_per_map: what bounds the snapshots a write of the
 * map may have to look at.  Return: 0 or -ENOSPC.
 */
static int snapmap_map_charge_snapshot(struct snapmap *map)
{
	int err = 0;

	spin_lock(&map->snap_lock);
	if (map->nr_snapshots < READ_ONCE(snapmap_cap_snapshots_per_map))
		map->nr_snapshots++;
	else
		err = -ENOSPC;
	spin_unlock(&map->snap_lock);
	return err;
}

/**
 * snapmap_snapshot_alloc() - a snapshot of a map, not taken yet
 * @map: the map
 * @flags: 0 for an ATOMIC snapshot, %SNAPMAP_SNAPSHOT_WEAK for a WEAK one
 *
 * For callers that have more to do that can fail (make a file for the
 * snapshot) before the snapshot takes its place among the map's writes:
 * snapmap_snapshot_start() takes it, and cannot fail.  A snapshot never
 * started holds nothing, takes no version from the map, and is closed with
 * snapmap_snapshot_close() like any other.  The snapshot holds a reference
 * on @map.
 *
 * Context: process context; may sleep.
 *
 * Every snapshot counts, until it is closed, against the caps of open
 * snapshots per map and per user (the caller's fsuid): module parameters
 * max_snapshots_per_map and max_snapshots_per_user.
 *
 * Return: the snapshot; ERR_PTR(-EINVAL) for unknown flags;
 * ERR_PTR(-ENOSPC) if @map has as many open snapshots as allowed;
 * ERR_PTR(-EDQUOT) if the caller's user has; ERR_PTR(-ENOMEM).
 */
struct snapmap_snapshot *snapmap_snapshot_alloc(struct snapmap *map,
						u32 flags)
{
	struct snapmap_snapshot *snap;
	kuid_t uid = current_fsuid();
	int err;

	if (flags & ~SNAPMAP_SNAPSHOT_WEAK)
		return ERR_PTR(-EINVAL);
	err = snapmap_map_charge_snapshot(map);
	if (err)
		return ERR_PTR(err);
	err = snapmap_user_charge(uid);
	if (err)
		goto err_map;
	/* A full memory cgroup gives ENOMEM, not its OOM killer. */
	err = -ENOMEM;
	snap = kzalloc(sizeof(*snap), SNAPMAP_GFP_BUF);
	if (!snap)
		goto err_user;
	if (flags & SNAPMAP_SNAPSHOT_WEAK) {
		snap->weak = true;
		snap->weak_end = kcalloc(SNAPMAP_NR_SHARDS,
					 sizeof(*snap->weak_end),
					 SNAPMAP_GFP_BUF);
		if (!snap->weak_end)
			goto err_snap;
	}
	mutex_init(&snap->lock);
	INIT_LIST_HEAD(&snap->pin.link);
	atomic64_set(&snap->pin.version, SNAPMAP_VERSION_PENDING);
	snap->map = map;
	snap->uid = uid;
	snapmap_get(map);
	return snap;

err_snap:
	kfree(snap);
err_user:
	snapmap_user_uncharge(uid);
err_map:
	spin_lock(&map->snap_lock);
	map->nr_snapshots--;
	spin_unlock(&map->snap_lock);
	return ERR_PTR(err);
}

/**
 * snapmap_snapshot_start() - take a snapshot made by snapmap_snapshot_alloc()
 * @snap: the snapshot
 *
 * An ATOMIC snapshot takes its version V here, in O(1), without waiting for
 * readers or writers.  Nothing to do for a WEAK snapshot.
 *
 * Context: any context but hard interrupts; takes the map's snap_lock.
 */
void snapmap_snapshot_start(struct snapmap_snapshot *snap)
{
	struct snapmap *map = snap->map;
	u64 version;

	if (snap->weak)
		return;
	/*
	 * In the list before taking V: see the comment at the top.  Newest
	 * first, and V taken under the lock, so the list stays ordered by V
	 * and only its first pin can be pending.
	 */
	spin_lock(&map->snap_lock);
	list_add_rcu(&snap->pin.link, &map->snapshots);
	snapmap_test_pause(SNAPMAP_TEST_SNAPSHOT_PENDING);
	version = atomic64_inc_return(&map->seq);
	atomic64_set(&snap->pin.version, version);
	spin_unlock(&map->snap_lock);
}

/**
 * snapmap_snapshot_open() - take a snapshot of a map
 * @map: the map
 * @flags: 0 for an ATOMIC snapshot, %SNAPMAP_SNAPSHOT_WEAK for a WEAK one
 *
 * An ATOMIC snapshot costs the same for any map size and never waits for
 * readers or writers.  The snapshot holds a reference on @map, and counts
 * against the caps of open snapshots (see snapmap_snapshot_alloc()).
 *
 * Context: process context; may sleep.
 *
 * Return: the snapshot; ERR_PTR(-EINVAL) for unknown flags;
 * ERR_PTR(-ENOSPC) or ERR_PTR(-EDQUOT) at the cap of open snapshots per
 * map or per user; ERR_PTR(-ENOMEM).
 */
struct snapmap_snapshot *snapmap_snapshot_open(struct snapmap *map, u32 flags)
{
	struct snapmap_snapshot *snap = snapmap_snapshot_alloc(map, flags);

	if (!IS_ERR(snap))
		snapmap_snapshot_start(snap);
	return snap;
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_open);

/*
 * The version of @node's key that the walk of @snap hands out, or NULL:
 * for an ATOMIC snapshot the one its V sees, for a WEAK one the newest,
 * unless the node was made after the walk began.
 */
static struct snapmap_val *snapmap_walk_val(struct snapmap_snapshot *snap,
					    struct snapmap_node *node,
					    u64 *version)
{
	struct snapmap_val *val;

	if (!snap->weak)
		return snapmap_val_at(snap->map, node,
				      atomic64_read(&snap->pin.version),
				      version);
	if (node->pos > snap->weak_end[snap->cursor.shard])
		return NULL;
	val = snapmap_val_newest(snap->map, node, version);
	return val && val->len != SNAPMAP_TOMBSTONE ? val : NULL;
}

/* Hand the records from where the walk of @snap stands to @fn. */
static int snapmap_walk(struct snapmap_snapshot *snap, snapmap_record_fn fn,
			void *arg)
{
	struct snapmap *map = snap->map;
	struct snapmap_node *node;
	struct snapmap_val *val;
	unsigned int n;
	u64 version;
	int ret = 0;

	/* A WEAK walk begins at its first read: it sees the map from there. */
	if (snap->weak && !snap->weak_begun) {
		snapmap_cursor_ends(map, snap->weak_end);
		snap->weak_begun = true;
	}
	do {
		node = NULL;
		n = 0;
		rcu_read_lock();
		while (n++ < SNAPMAP_WALK_BATCH &&
		       (node = snapmap_cursor_next(map, &snap->cursor, node))) {
			val = snapmap_walk_val(snap, node, &version);
			if (val) {
				/* Pairs with snapmap_invalidate_oldest(). */
				smp_rmb();
				if (READ_ONCE(snap->pin.stale)) {
					ret = -ESTALE;
					break;
				}
				ret = fn(node->key, node->key_len, val->data,
					 val->len, version, arg);
				if (ret)
					break;
			}
			snap->cursor.pos = node->pos;
		}
		rcu_read_unlock();
		snapmap_cursor_park(map, &snap->cursor);
		if (ret)
			return ret;
		cond_resched();
	} while (node);

	/*
	 * Versions trimmed after the snapshot went stale make nodes yield
	 * nothing: the end of the walk is the end of the snapshot only if
	 * it is still valid.
	 */
	smp_rmb();
	return READ_ONCE(snap->pin.stale) ? -ESTALE : 0;
}

/* A record callback, and how many records it took. */
struct snapmap_take {
	snapmap_record_fn fn;
	void *arg;
	u64 taken;
};

static int snapmap_take_record(const void *key, u32 key_len,
			       const void *value, u32 value_len, u64 version,
			       void *arg)
{
	struct snapmap_take *take = arg;
	int ret;

	ret = take->fn(key, key_len, value, value_len, version, take->arg);
	if (!ret)
		take->taken++;
	return ret;
}

/* snapmap_snapshot_next(), with @snap->lock held. */
static int __snapmap_snapshot_next(struct snapmap_snapshot *snap,
				   snapmap_record_fn fn, void *arg)
{
	struct snapmap_take take = { .fn = fn, .arg = arg };
	int ret;

	lockdep_assert_held(&snap->lock);
	if (READ_ONCE(snap->pin.stale))
		return -ESTALE;
	ret = snapmap_walk(snap, snapmap_take_record, &take);
	snap->taken += take.taken;
	return ret;
}

/**
 * snapmap_snapshot_next() - hand the next records of a snapshot to @fn
 * @snap: the snapshot
 * @fn: called for each record, in the snapshot's order, until it returns
 *      non-zero
 * @arg: passed to @fn
 *
 * Context: process context; may sleep between records.  @fn runs under
 * rcu_read_lock().
 *
 * Return: 0 once every record has been taken; what @fn returned if it
 * stopped the walk; -ESTALE if the snapshot was invalidated (the records
 * taken before stay right).
 */
int snapmap_snapshot_next(struct snapmap_snapshot *snap, snapmap_record_fn fn,
			  void *arg)
{
	int ret;

	mutex_lock(&snap->lock);
	ret = __snapmap_snapshot_next(snap, fn, arg);
	mutex_unlock(&snap->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_next);

/* Where snapmap_snapshot_read() puts records. */
struct snapmap_read_buf {
	u8 *data;
	size_t size;
	size_t used;
	u64 records;
};

static int snapmap_read_record(const void *key, u32 key_len,
			       const void *value, u32 value_len, u64 version,
			       void *arg)
{
	struct snapmap_read_buf *buf = arg;
	size_t size = SNAPMAP_RECORD_SIZE(key_len, value_len);
	struct snapmap_record rec = {
		.key_len = key_len,
		.value_len = value_len,
		.version = version,
	};
	u8 *p;

	if (size > buf->size - buf->used)
		return 1;
	p = buf->data + buf->used;
	memcpy(p, &rec, sizeof(rec));
	p += sizeof(rec);
	memcpy(p, key, key_len);
	memcpy(p + key_len, value, value_len);
	memset(p + key_len + value_len, 0,
	       size - sizeof(rec) - key_len - value_len);
	buf->used += size;
	buf->records++;
	return 0;
}

/* snapmap_snapshot_read(), with @snap->lock held. */
static ssize_t __snapmap_snapshot_read(struct snapmap_snapshot *snap,
				       void *buf, size_t size)
{
	struct snapmap_read_buf rb = { .data = buf, .size = size };
	int ret;

	ret = __snapmap_snapshot_next(snap, snapmap_read_record, &rb);
	if (ret < 0)
		return ret;
	if (ret > 0 && !rb.used)
		return -EMSGSIZE;
	if (snap->weak) {
		snap->entries += rb.records;
		snap->bytes += rb.used;
	}
	return rb.used;
}

/**
 * snapmap_snapshot_read() - copy the next whole records of a snapshot
 * @snap: the snapshot
 * @buf: where to put them, in the layout of read(2) on a snapshot fd
 * @size: size of @buf
 *
 * Context: process context; may sleep.
 *
 * Return: bytes put in @buf; 0 at the end of the snapshot; -EMSGSIZE if
 * the next record does not fit in @size; -ESTALE if the snapshot was
 * invalidated.
 */
ssize_t snapmap_snapshot_read(struct snapmap_snapshot *snap, void *buf,
			      size_t size)
{
	ssize_t ret;

	mutex_lock(&snap->lock);
	ret = __snapmap_snapshot_read(snap, buf, size);
	mutex_unlock(&snap->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_read);

/*
 * Move the walk of @snap back to its first record, with @snap->lock held.
 * A WEAK walk keeps the ends it began with: snapmap_snapshot_rewind()
 * begins a new one.
 */
static void __snapmap_snapshot_rewind(struct snapmap_snapshot *snap)
{
	lockdep_assert_held(&snap->lock);
	snapmap_cursor_reset(snap->map, &snap->cursor);
	if (snap->weak) {
		snap->entries = 0;
		snap->bytes = 0;
	}
	snap->taken = 0;
}

/**
 * snapmap_snapshot_rewind() - start the next walk from the first record
 * @snap: the snapshot
 *
 * Context: process context; may sleep.
 */
void snapmap_snapshot_rewind(struct snapmap_snapshot *snap)
{
	mutex_lock(&snap->lock);
	__snapmap_snapshot_rewind(snap);
	snap->weak_begun = false;
	mutex_unlock(&snap->lock);
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_rewind);

static int snapmap_skip_record(const void *key, u32 key_len,
			       const void *value, u32 value_len, u64 version,
			       void *arg)
{
	u64 *left = arg;

	if (!*left)
		return 1;
	(*left)--;
	return 0;
}

/**
 * snapmap_snapshot_read_out() - hand the next whole records of a snapshot
 * to a reader that may fail to take them
 * @snap: the snapshot
 * @buf: a buffer for the records, in the layout of read(2) on a snapshot fd
 * @size: size of @buf
 * @out: hands the records in @buf to the reader (copies them to user
 *       memory); returns 0 or a negative errno
 * @arg: passed to @out
 *
 * As snapmap_snapshot_read(), but no other reader of @snap runs until @out
 * returns, and if @out fails the records go back to the snapshot: the next
 * read starts with them again.  Giving them back walks the snapshot up to
 * them, which takes time proportional to the records before them; it only
 * happens when @out fails.
 *
 * Context: process context; may sleep.  @out is called with the
 * snapshot's mutex held, outside RCU, and may sleep.
 *
 * Return: bytes handed to @out; 0 at the end of the snapshot; -EMSGSIZE
 * if the next record does not fit in @size; -ESTALE if the snapshot was
 * invalidated; what @out returned.
 */
ssize_t snapmap_snapshot_read_out(struct snapmap_snapshot *snap, void *buf,
				  size_t size, snapmap_read_out_fn out,
				  void *arg)
{
	u64 taken, entries, bytes;
	ssize_t len;
	int err;

	mutex_lock(&snap->lock);
	taken = snap->taken;
	entries = snap->entries;
	bytes = snap->bytes;
	len = __snapmap_snapshot_read(snap, buf, size);
	if (len > 0) {
		err = out(arg, buf, len);
		if (err) {
			/* A stale snapshot gives back nothing: ESTALE next. */
			__snapmap_snapshot_rewind(snap);
			__snapmap_snapshot_next(snap, snapmap_skip_record,
						&taken);
			if (snap->weak) {
				snap->entries = entries;
				snap->bytes = bytes;
			}
			len = err;
		}
	}
	mutex_unlock(&snap->lock);
	return len;
}

static int snapmap_count_record(const void *key, u32 key_len,
				const void *value, u32 value_len, u64 version,
				void *arg)
{
	struct snapmap_snapshot *snap = arg;

	snap->entries++;
	snap->bytes += SNAPMAP_RECORD_SIZE(key_len, value_len);
	return 0;
}

/* Count an ATOMIC snapshot's records with a walk of its own. */
static int snapmap_snapshot_count(struct snapmap_snapshot *snap)
{
	struct snapmap_cursor saved = snap->cursor;
	int ret;

	snap->cursor = (struct snapmap_cursor){};
	snap->entries = 0;
	snap->bytes = 0;
	ret = snapmap_walk(snap, snapmap_count_record, snap);
	snapmap_cursor_reset(snap->map, &snap->cursor);
	snap->cursor = saved;
	snap->counted = !ret;
	return ret;
}

/**
 * snapmap_snapshot_get_info() - what a snapshot holds
 * @snap: the snapshot
 * @info: its ``out_*`` members are filled in
 *
 * The first call on an ATOMIC snapshot counts its records, in time
 * proportional to the map's size.
 *
 * Context: process context; may sleep.
 *
 * Return: 0, or -ESTALE if the snapshot was invalidated.
 */
int snapmap_snapshot_get_info(struct snapmap_snapshot *snap,
			      struct snapmap_snapshot_info *info)
{
	int ret = 0;

	mutex_lock(&snap->lock);
	if (READ_ONCE(snap->pin.stale))
		ret = -ESTALE;
	else if (!snap->weak && !snap->counted)
		ret = snapmap_snapshot_count(snap);
	info->out_version = atomic64_read(&snap->pin.version);
	info->out_entries = snap->entries;
	info->out_bytes = snap->bytes;
	info->out_snapshot_flags = snap->weak ? SNAPMAP_SNAPSHOT_WEAK : 0;
	info->__reserved = 0;
	mutex_unlock(&snap->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_get_info);

/**
 * snapmap_snapshot_version() - the version of an ATOMIC snapshot
 * @snap: the snapshot
 * @version: set to its V, or 0 for a WEAK snapshot
 *
 * Context: any context.
 */
void snapmap_snapshot_version(struct snapmap_snapshot *snap, u64 *version)
{
	*version = atomic64_read(&snap->pin.version);
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_version);

/**
 * snapmap_snapshot_lookup_rcu() - look at a key's value as a snapshot
 * holds it
 * @snap: the snapshot
 * @key: the key
 * @key_len: its length, 1 to the map's key length limit
 * @fn: called with the value, under rcu_read_lock(), if the snapshot holds
 *      the key
 * @arg: passed to @fn
 *
 * For an ATOMIC snapshot, the value the key had at the snapshot's
 * instant; for a WEAK one, its current value, as snapmap_lookup_rcu().
 * Zero-copy, as snapmap_lookup_rcu().  Does not move the snapshot's
 * walk.
 *
 * Context: any context but hard interrupts; does not sleep, nor may @fn.
 *
 * Return: what @fn returned; -ENOENT if the snapshot does not hold the
 * key; -ESTALE if the snapshot was invalidated; -EINVAL or -EMSGSIZE for a
 * bad key length.
 */
int snapmap_snapshot_lookup_rcu(struct snapmap_snapshot *snap,
				const void *key, u32 key_len,
				snapmap_lookup_fn fn, void *arg)
{
	struct snapmap_key k = { .data = key, .len = key_len };
	struct snapmap *map = snap->map;
	struct snapmap_node *node;
	struct snapmap_val *val = NULL;
	u64 version;
	int err;

	err = snapmap_check_key(map, key_len);
	if (err)
		return err;

	rcu_read_lock();
	node = snapmap_node_lookup(map, &k);
	if (node && snap->weak)
		val = snapmap_val_newest(map, node, &version);
	else if (node)
		val = snapmap_val_at(map, node,
				     atomic64_read(&snap->pin.version),
				     &version);
	/*
	 * Pairs with snapmap_invalidate_oldest(): what a stale snapshot
	 * found may have been trimmed, its absence included.
	 */
	smp_rmb();
	if (READ_ONCE(snap->pin.stale))
		err = -ESTALE;
	else if (!val || val->len == SNAPMAP_TOMBSTONE)
		err = -ENOENT;
	else
		err = fn(val->data, val->len, version, arg);
	rcu_read_unlock();
	return err;
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_lookup_rcu);

/* What snapmap_snapshot_lookup() copies a value into. */
struct snapmap_copy {
	void *value;
	u32 size;
	u32 *len;
	u64 *version;
};

static int snapmap_copy_value(const void *value, u32 len, u64 version,
			      void *arg)
{
	struct snapmap_copy *c = arg;

	*c->len = len;
	*c->version = version;
	if (len > c->size)
		return -ERANGE;
	memcpy(c->value, value, len);
	return 0;
}

/**
 * snapmap_snapshot_lookup() - copy a key's value out of a snapshot
 * @snap: the snapshot
 * @key: the key
 * @key_len: its length, 1 to the map's key length limit
 * @value: buffer for the value
 * @value_size: size of @value
 * @value_len: set to the value's length (also on -ERANGE)
 * @version: set to the entry's version (also on -ERANGE)
 *
 * snapmap_snapshot_lookup_rcu(), copying the value.
 *
 * Context: any context but hard interrupts; does not sleep.
 *
 * Return: 0; -ERANGE if @value_size is too small; the errors of
 * snapmap_snapshot_lookup_rcu().
 */
int snapmap_snapshot_lookup(struct snapmap_snapshot *snap, const void *key,
			    u32 key_len, void *value, u32 value_size,
			    u32 *value_len, u64 *version)
{
	struct snapmap_copy c = {
		.value = value,
		.size = value_size,
		.len = value_len,
		.version = version,
	};

	return snapmap_snapshot_lookup_rcu(snap, key, key_len,
					   snapmap_copy_value, &c);
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_lookup);

/**
 * snapmap_snapshot_map() - the map of a snapshot
 * @snap: the snapshot
 *
 * Return: the map, which the snapshot holds a reference on.
 */
struct snapmap *snapmap_snapshot_map(const struct snapmap_snapshot *snap)
{
	return snap->map;
}

/**
 * snapmap_snapshot_weak() - whether a snapshot is WEAK
 * @snap: the snapshot
 *
 * Return: true for a WEAK snapshot, false for an ATOMIC one.
 */
bool snapmap_snapshot_weak(const struct snapmap_snapshot *snap)
{
	return snap->weak;
}

/**
 * snapmap_snapshot_stale() - whether a snapshot went stale
 * @snap: the snapshot
 *
 * Context: any context; the answer may change from false to true as soon
 * as it is given.
 *
 * Return: true once the snapshot was invalidated: its reads fail with
 * ESTALE.
 */
bool snapmap_snapshot_stale(const struct snapmap_snapshot *snap)
{
	return READ_ONCE(snap->pin.stale);
}

/**
 * snapmap_snapshot_max_record() - the largest record a snapshot can hold
 * @snap: the snapshot
 *
 * Return: SNAPMAP_RECORD_SIZE() of the map's longest key and value.
 */
size_t snapmap_snapshot_max_record(const struct snapmap_snapshot *snap)
{
	return SNAPMAP_RECORD_SIZE(snap->map->max_key_len,
				   snap->map->max_value_len);
}

/**
 * snapmap_snapshot_close() - close a snapshot
 * @snap: the snapshot
 *
 * Frees, in the background, the versions only this snapshot needed, and
 * drops its reference on the map.
 *
 * Context: process context; may sleep.
 */
void snapmap_snapshot_close(struct snapmap_snapshot *snap)
{
	struct snapmap *map = snap->map;

	spin_lock(&map->snap_lock);
	/* Not in the list if WEAK, stale, or never started. */
	if (!snap->pin.stale && !list_empty(&snap->pin.link))
		list_del_rcu(&snap->pin.link);
	map->nr_snapshots--;
	if (snap->pin.stale)
		map->nr_stale--;
	spin_unlock(&map->snap_lock);
	snapmap_user_uncharge(snap->uid);
	snapmap_cursor_reset(map, &snap->cursor);
	kfree(snap->weak_end);
	/* Free what only this snapshot pinned. */
	if (!snap->weak &&
	    atomic64_read(&map->bytes) != atomic64_read(&map->live))
		snapmap_reclaim_kick(map);
	mutex_destroy(&snap->lock);
	/* Writers may still be reading its version in the list. */
	kfree_rcu(snap, rcu);
	snapmap_put(map);
}
EXPORT_SYMBOL_GPL(snapmap_snapshot_close);

/* Bytes of records copied per pass of snapmap_clone(). */
#define SNAPMAP_CLONE_BUF (64 * 1024)

/* Insert the records of @buf, as snapmap_snapshot_read() wrote them. */
static int snapmap_clone_records(struct snapmap *dst, const u8 *buf,
				 size_t len)
{
	const struct snapmap_record *rec;
	const u8 *key;
	int err;

	while (len) {
		rec = (const struct snapmap_record *)buf;
		key = buf + sizeof(*rec);
		err = snapmap_restore(dst, key, rec->key_len,
				      key + rec->key_len, rec->value_len,
				      rec->version);
		if (err)
			return err;
		buf += SNAPMAP_RECORD_SIZE(rec->key_len, rec->value_len);
		len -= SNAPMAP_RECORD_SIZE(rec->key_len, rec->value_len);
		cond_resched();
	}
	return 0;
}

/**
 * snapmap_clone() - copy a map into a new one
 * @map: the source
 * @attr: mode and name of the new map; its limits are the source's
 * @version: set to the version of the ATOMIC snapshot copied
 *
 * The copy is an ATOMIC snapshot of @map, versions included; writers of
 * @map keep running while it is made.  The new map's name becomes visible
 * only once it is complete.
 *
 * Context: process context; may sleep.
 *
 * Return: the new map, with one reference; ERR_PTR(-ESTALE) if the
 * snapshot went stale; the errors of snapmap_snapshot_open() and of
 * snapmap_create().
 */
struct snapmap *snapmap_clone(struct snapmap *map,
			      const struct snapmap_attr *attr, u64 *version)
{
	struct snapmap_attr limits = {
		.max_key_len = map->max_key_len,
		.max_value_len = map->max_value_len,
		.max_entries = map->max_entries,
		.max_bytes = map->max_bytes,
		.mode = attr->mode,
		.name = attr->name,
	};
	size_t bufsize = max_t(size_t, SNAPMAP_CLONE_BUF,
			       SNAPMAP_RECORD_SIZE(map->max_key_len,
						   map->max_value_len));
	struct snapmap_snapshot *snap;
	struct snapmap *dst;
	ssize_t len;
	void *buf;
	int err;

	dst = snapmap_alloc_map(&limits);
	if (IS_ERR(dst))
		return dst;
	err = -ENOMEM;
	buf = kvmalloc(bufsize, SNAPMAP_GFP_BUF);
	if (!buf)
		goto err_put;
	snap = snapmap_snapshot_open(map, 0);
	if (IS_ERR(snap)) {
		err = PTR_ERR(snap);
		goto err_free;
	}
	*version = atomic64_read(&snap->pin.version);

	while ((len = snapmap_snapshot_read(snap, buf, bufsize)) > 0) {
		err = snapmap_clone_records(dst, buf, len);
		if (err)
			break;
	}
	if (len < 0)
		err = len;
	else if (!len)
		err = 0;
	snapmap_snapshot_close(snap);
	kvfree(buf);
	if (err)
		goto err_put;

	/* The clone's own writes come after everything it copied. */
	atomic64_set(&dst->seq, *version);
	err = snapmap_register(dst);
	if (err)
		goto err_put;
	return dst;

err_free:
	kvfree(buf);
err_put:
	snapmap_put(dst);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(snapmap_clone);
