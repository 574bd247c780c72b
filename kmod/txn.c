// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - transactions: conditions checked, and writes made, at one version
 *
 * A transaction locks the node of every key it names, conditions' keys
 * included, and inserts an empty node for a key that has none, so that
 * an absent key is held as firmly as a present one.  It takes the locks in
 * the order of the nodes' addresses, which every transaction agrees on:
 * none waits for a lock held by one that waits for it, and queued
 * spinlocks are served in turn, so none waits forever.  Writers of other
 * keys take none of these locks.
 *
 * With every lock held, the conditions are checked against the heads of
 * the chains, which nobody else can change; then the new versions are
 * pushed, each on its own chain.  Readers take no lock, so the versions
 * are pushed uncommitted: the first, the leader, says
 * %SNAPMAP_VERSION_PREPARING, the others point at it.  A reader that finds
 * one passes it by, as if it were not there yet.  The transaction then
 * commits: it turns the leader's %SNAPMAP_VERSION_PREPARING into
 * %SNAPMAP_VERSION_PENDING with one fully ordered exchange, and from that
 * instant the leader is stamped like any single write's version (by the
 * writer or the first reader to find it, see snapmap_val_stamp()), and
 * every version pointing at it has its stamp.  Last, with the locks still
 * held, each version is given the stamp itself, so that nothing points at
 * the leader once the locks are released, and the chains are trimmed.
 *
 * Why every reader sees all of the transaction or none: a reader with a
 * version V (a snapshot, or BATCH with %SNAPMAP_BATCH_SNAPSHOT) took V
 * with a fully ordered increment of the map's counter before it looked at
 * any chain, and the stamp S is taken with the same counter after the
 * exchange.  If the reader found the leader still
 * %SNAPMAP_VERSION_PREPARING, its look came before the exchange, so its
 * increment came before the stamp's: S > V, and the transaction is not
 * one it may see.  If it found a stamp, every version was pushed before
 * the exchange, so it finds them all, with the same stamp.  A GET, which
 * takes no V, is linearized where it reads the leader's state: before the
 * commit if it found it uncommitted, after it otherwise.
 */

#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "clear.h"
#include "core.h"
#include "feed.h"
#include "map.h"
#include "reclaim.h"
#include "table.h"
#include "testhook.h"
#include "version.h"

/*
 * Every node lock a transaction holds counts in the preempt count, whose
 * field holds 255, beside the few locks taken under them.
 */
static_assert(SNAPMAP_TXN_MAX_CONDS + SNAPMAP_TXN_MAX_OPS + 16 < 255);

/**
 * struct snapmap_txn_key - the node of one entry of a transaction
 * @node: the node of the entry's key, once found or inserted
 * @new: an empty node allocated for the key, not yet inserted
 * @val: for a write, the version it pushes, allocated before any lock is
 *       taken; the map's once pushed (see snapmap_txn_pushed())
 * @spare: the deletion a past clear brings to the key, if it must (see
 *         snapmap_clear_settle())
 *
 * Entries name their keys by their bytes; two entries of one key are
 * known as such when they find the same node (snapmap_txn_order()).
 */
struct snapmap_txn_key {
	struct snapmap_node *node;
	struct snapmap_node *new;
	struct snapmap_val *val;
	struct snapmap_val *spare;
};

/**
 * struct snapmap_txn_ctx - what lockdep is told a transaction holds
 * @dep_map: a lock no one else takes, under which every node lock of the
 *           transaction is one lock to lockdep, however many there are
 *
 * As &struct ww_acquire_ctx does for the mutexes of a ww_class: the order
 * in which the node locks are taken is the transaction's to keep, by
 * address, which lockdep cannot check.
 */
struct snapmap_txn_ctx {
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

static struct lock_class_key snapmap_txn_lock_key __maybe_unused;

/**
 * struct snapmap_txn_state - a transaction being run
 * @map: the map
 * @writes: its writes
 * @checks: its conditions
 * @nr_writes: their number
 * @nr_checks: their number
 * @nr_keys: @nr_writes + @nr_checks
 * @keys: the node of every entry, the writes' first (see snapmap_txn_key())
 * @order: the indices in @keys of the distinct nodes, in the order their
 *         locks are taken
 * @nr_nodes: their number
 * @fw: the records of its writes, for the map's watches
 * @ctx: for lockdep
 */
struct snapmap_txn_state {
	struct snapmap *map;
	const struct snapmap_txn_write *writes;
	const struct snapmap_txn_check *checks;
	unsigned int nr_writes;
	unsigned int nr_checks;
	unsigned int nr_keys;
	struct snapmap_txn_key *keys;
	u8 order[SNAPMAP_TXN_MAX_OPS + SNAPMAP_TXN_MAX_CONDS];
	unsigned int nr_nodes;
	struct snapmap_feed_write fw;
	struct snapmap_txn_ctx ctx;
};

static_assert(SNAPMAP_TXN_MAX_CONDS + SNAPMAP_TXN_MAX_OPS <= U8_MAX + 1);

/**
 * snapmap_txn_check_entry() - check a condition's kind and lengths
 * @map: the map
 * @check: the condition
 *
 * Return: 0, -EINVAL for an unknown kind, an empty key or a value given to
 * a kind that takes none; -EMSGSIZE for a key or value over the map's
 * limits.
 */
int snapmap_txn_check_entry(struct snapmap *map,
			    const struct snapmap_txn_check *check)
{
	switch (check->kind) {
	case SNAPMAP_TXN_IF_VALUE:
		break;
	case SNAPMAP_TXN_IF_VERSION:
	case SNAPMAP_TXN_IF_PRESENT:
	case SNAPMAP_TXN_IF_ABSENT:
		if (check->value_len)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!check->key_len)
		return -EINVAL;
	if (check->key_len > map->max_key_len ||
	    check->value_len > map->max_value_len)
		return -EMSGSIZE;
	return 0;
}

/**
 * snapmap_txn_check_write() - check a write's opcode and lengths
 * @map: the map
 * @write: the write
 *
 * Return: as snapmap_txn_check_entry().
 */
int snapmap_txn_check_write(struct snapmap *map,
			    const struct snapmap_txn_write *write)
{
	switch (write->opcode) {
	case SNAPMAP_TXN_PUT:
		break;
	case SNAPMAP_TXN_DEL:
		if (write->value_len)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!write->key_len)
		return -EINVAL;
	if (write->key_len > map->max_key_len ||
	    write->value_len > map->max_value_len)
		return -EMSGSIZE;
	return 0;
}

/*
 * Check every entry, and the bytes of all of them; *@failed names the one
 * at fault, counting the conditions first.
 */
static int snapmap_txn_check_all(struct snapmap *map,
				 const struct snapmap_txn_check *checks,
				 unsigned int nr_checks,
				 const struct snapmap_txn_write *writes,
				 unsigned int nr_writes, unsigned int *failed)
{
	u64 bytes = 0;
	unsigned int i;
	int err;

	if (nr_checks > SNAPMAP_TXN_MAX_CONDS || nr_writes > SNAPMAP_TXN_MAX_OPS)
		return -EINVAL;
	for (i = 0; i < nr_checks + nr_writes; i++) {
		if (i < nr_checks) {
			err = snapmap_txn_check_entry(map, &checks[i]);
			bytes += checks[i].key_len + checks[i].value_len;
		} else {
			err = snapmap_txn_check_write(map,
						      &writes[i - nr_checks]);
			bytes += writes[i - nr_checks].key_len +
				 writes[i - nr_checks].value_len;
		}
		if (!err && bytes > SNAPMAP_TXN_MAX_BYTES)
			err = -EMSGSIZE;
		if (err) {
			*failed = i;
			return err;
		}
	}
	return 0;
}

/* The key of entry @i of @t->keys: a write's, or a condition's after them. */
static struct snapmap_key snapmap_txn_key(const struct snapmap_txn_state *t,
					  unsigned int i)
{
	if (i < t->nr_writes)
		return (struct snapmap_key) {
			.data = t->writes[i].key,
			.len = t->writes[i].key_len,
		};
	i -= t->nr_writes;
	return (struct snapmap_key) {
		.data = t->checks[i].key,
		.len = t->checks[i].key_len,
	};
}

/*
 * Allocate the version of every write, and fill the PUTs' values in.  A
 * deletion's version cannot fail (see %SNAPMAP_GFP_TOMBSTONE).
 */
static int snapmap_txn_alloc_vals(struct snapmap_txn_state *t,
				  snapmap_txn_fill_fn fill, void *arg,
				  unsigned int *failed)
{
	const struct snapmap_txn_write *w;
	struct snapmap_val *val;
	unsigned int i;
	u32 len;
	int err;

	for (i = 0; i < t->nr_writes; i++) {
		w = &t->writes[i];
		len = w->opcode == SNAPMAP_TXN_DEL ? SNAPMAP_TOMBSTONE :
						     w->value_len;
		val = snapmap_val_alloc(t->map, NULL, len);
		if (!val)
			return -ENOMEM;
		t->keys[i].val = val;
		if (len == SNAPMAP_TOMBSTONE)
			continue;
		err = fill ? fill(arg, i, val->data, len) :
			     (memcpy(val->data, w->value, len), 0);
		if (err) {
			*failed = t->nr_checks + i;
			return err;
		}
	}
	return 0;
}

/*
 * A record of every write, for the map's watches, in the order of the
 * writes.  Context: the map's clear_sem held; may sleep.
 */
static void snapmap_txn_feed_add(struct snapmap_txn_state *t)
{
	const struct snapmap_txn_write *w;
	unsigned int i;

	snapmap_feed_start(t->map, &t->fw);
	t->fw.txn = true;
	for (i = 0; i < t->nr_writes && t->fw.feed; i++) {
		w = &t->writes[i];
		if (w->opcode == SNAPMAP_TXN_DEL)
			snapmap_feed_add(&t->fw, SNAPMAP_CHANGE_DEL, w->key,
					 w->key_len, NULL, 0);
		else
			snapmap_feed_add(&t->fw, SNAPMAP_CHANGE_PUT, w->key,
					 w->key_len, t->keys[i].val->data,
					 w->value_len);
	}
}

/*
 * Find the node of every key, inserting an empty one for a key that has
 * none.  Returns with every @k->node set, in an RCU read-side critical
 * section, which the caller entered; leaves it to allocate, and then looks
 * every key up again, since the nodes found before may be gone.
 */
static int snapmap_txn_find_nodes(struct snapmap_txn_state *t)
	__must_hold(RCU)
{
	struct snapmap *map = t->map;
	struct snapmap_txn_key *k;
	struct snapmap_node *node;
	struct snapmap_key key;
	bool missing;
	unsigned int i;
	int err;

again:
	missing = false;
	for (i = 0; i < t->nr_keys; i++) {
		k = &t->keys[i];
		key = snapmap_txn_key(t, i);
		k->node = NULL;
		node = snapmap_node_lookup(map, &key);
		if (!node && k->new) {
			/*
			 * Finds the node of a writer, or of an entry before
			 * this one, that inserted one.
			 */
			node = snapmap_node_insert(map, &key, k->new);
			k->new = NULL;
			if (IS_ERR(node)) {
				err = PTR_ERR(node);
				if (err != -EBUSY)
					return err;
				/* A rehash is under way: let it run. */
				rcu_read_unlock();
				cond_resched();
				rcu_read_lock();
				goto again;
			}
		}
		k->node = node;
		missing |= !node;
	}
	if (!missing)
		return 0;

	rcu_read_unlock();
	for (i = 0; i < t->nr_keys; i++) {
		k = &t->keys[i];
		if (k->node || k->new)
			continue;
		key = snapmap_txn_key(t, i);
		k->new = snapmap_node_alloc(map, &key, NULL, SNAPMAP_TOMBSTONE);
		if (!k->new) {
			rcu_read_lock();
			return -ENOMEM;
		}
	}
	rcu_read_lock();
	goto again;
}

/*
 * Order the distinct nodes of @t by address, the order in which their
 * locks are taken, into @t->order; the entries of one key found one node,
 * and the first of them stands for it, a write if any is.  Refuses a
 * second write to a key: -EINVAL, *@failed naming the first such write.
 */
static int snapmap_txn_order(struct snapmap_txn_state *t, unsigned int *failed)
{
	const struct snapmap_txn_key *keys = t->keys;
	unsigned int i, j, n = 0, twice = UINT_MAX;
	u8 *order = t->order;

	/*
	 * An insertion sort: a few dozen entries, and no indirect call per
	 * comparison.  It is stable: the entries of one node stay in the
	 * order of their indices, the writes first.
	 */
	for (i = 0; i < t->nr_keys; i++) {
		for (j = i; j > 0 && keys[order[j - 1]].node > keys[i].node; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 0; i < t->nr_keys; i++) {
		if (n && keys[order[i]].node == keys[order[n - 1]].node) {
			/* Another write after the node's first entry. */
			if (order[i] < t->nr_writes)
				twice = min_t(unsigned int, twice, order[i]);
			continue;
		}
		order[n++] = order[i];
	}
	t->nr_nodes = n;
	if (twice == UINT_MAX)
		return 0;
	*failed = t->nr_checks + twice;
	return -EINVAL;
}

/*
 * Sparse counts one lock per call of spin_lock(), not per turn of a loop:
 * each turn gives its lock back to sparse, and the transaction's context
 * stands for them all.
 */

/* The node of the @i-th distinct key, in the order of @t->order. */
static struct snapmap_node *snapmap_txn_node(struct snapmap_txn_state *t,
					     unsigned int i)
{
	return t->keys[t->order[i]].node;
}

/* Unlock every node. */
static void snapmap_txn_unlock(struct snapmap_txn_state *t)
	__releases(t)
{
	unsigned int i;

	for (i = t->nr_nodes; i-- > 0;) {
		spin_unlock(&snapmap_txn_node(t, i)->lock);
		__acquire(&snapmap_txn_node(t, i)->lock);
	}
	lock_map_release(&t->ctx.dep_map);
	__release(t);
}

/*
 * Lock every node, in the order of snapmap_txn_order().
 * Context: RCU read-side critical section.
 */
static void snapmap_txn_lock(struct snapmap_txn_state *t)
	__acquires(t)
{
	unsigned int i;

	lockdep_init_map(&t->ctx.dep_map, "snapmap_txn", &snapmap_txn_lock_key,
			 0);
	lock_map_acquire(&t->ctx.dep_map);
	for (i = 0; i < t->nr_nodes; i++) {
		spin_lock_nest_lock(&snapmap_txn_node(t, i)->lock, &t->ctx);
		__release(&snapmap_txn_node(t, i)->lock);
	}
	__acquire(t);
}

/* Whether a node of @t left the map before its lock was taken. */
static bool snapmap_txn_stale(struct snapmap_txn_state *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_nodes; i++)
		if (snapmap_txn_node(t, i)->dead)
			return true;
	return false;
}

/* The head of @k's chain.  Caller holds the node's lock. */
static struct snapmap_val *snapmap_txn_head(struct snapmap_txn_key *k)
{
	return rcu_dereference_protected(k->node->head,
					 lockdep_is_held(&k->node->lock));
}

static bool snapmap_txn_present(struct snapmap_val *cur)
{
	return cur && cur->len != SNAPMAP_TOMBSTONE;
}

/* Whether @check holds for the key whose current version is @cur. */
static bool snapmap_txn_holds(const struct snapmap_txn_check *check,
			      struct snapmap_val *cur)
{
	bool present = snapmap_txn_present(cur);

	switch (check->kind) {
	case SNAPMAP_TXN_IF_VERSION:
		return present &&
		       atomic64_read(&cur->version) == check->version;
	case SNAPMAP_TXN_IF_PRESENT:
		return present;
	case SNAPMAP_TXN_IF_ABSENT:
		return !present;
	default:
		return present && cur->len == check->value_len &&
		       !memcmp(cur->data, check->value, cur->len);
	}
}

/*
 * Whether the write of @k changes the map: a deletion of an absent key
 * does not.
 */
static bool snapmap_txn_changes(struct snapmap_txn_key *k)
{
	return k->val && (k->val->len != SNAPMAP_TOMBSTONE ||
			  snapmap_txn_present(snapmap_txn_head(k)));
}

/*
 * Forget the records of the writes that change nothing: deletions of
 * absent keys.  Caller holds every lock.
 */
static void snapmap_txn_feed_drop(struct snapmap_txn_state *t)
{
	struct snapmap_change_rec *rec, *tmp;
	unsigned int i = 0;

	/* A record missing: the change is lost, and none goes in. */
	if (!t->fw.feed || t->fw.lost)
		return;
	list_for_each_entry_safe(rec, tmp, &t->fw.recs, link)
		if (!snapmap_txn_changes(&t->keys[i++]))
			snapmap_feed_drop(&t->fw, rec);
}

/*
 * Reserve the entries and live bytes the writes take, as a single write
 * does: what they give back is given back only once they are stamped.
 * Returns the live bytes they give back, as a negative number, or
 * -ENOSPC.
 */
static int snapmap_txn_charge(struct snapmap_txn_state *t, s64 *give_back)
{
	struct snapmap *map = t->map;
	s64 take = 0, delta;
	u64 entries = 0;
	struct snapmap_txn_key *k;
	struct snapmap_val *cur;

	*give_back = 0;
	for (k = t->keys; k < t->keys + t->nr_writes; k++) {
		if (!snapmap_txn_changes(k))
			continue;
		cur = snapmap_txn_head(k);
		if (k->val->len != SNAPMAP_TOMBSTONE &&
		    !snapmap_txn_present(cur))
			entries++;
		delta = (s64)snapmap_val_charge(k->val->len) -
			(s64)(cur ? snapmap_val_charge(cur->len) : 0);
		if (delta > 0)
			take += delta;
		else
			*give_back += delta;
	}
	if (entries &&
	    atomic64_add_return(entries, &map->entries) +
	    atomic64_read(&map->cleared) > map->max_entries) {
		atomic64_sub(entries, &map->entries);
		return -ENOSPC;
	}
	if (take &&
	    atomic64_add_return(take, &map->live) > (s64)map->max_bytes) {
		atomic64_sub(take, &map->live);
		atomic64_sub(entries, &map->entries);
		return -ENOSPC;
	}
	return 0;
}

/*
 * Whether the version of @k's write was pushed: it is the head of its
 * chain, and no longer the transaction's to free.  Caller holds the
 * node's lock.
 */
static bool snapmap_txn_pushed(struct snapmap_txn_key *k)
{
	return k->val && snapmap_txn_head(k) == k->val;
}

/*
 * Push every write's version, uncommitted, then commit them all at one
 * stamp, which is returned; 0 if no write changes the map.
 */
static u64 snapmap_txn_commit(struct snapmap_txn_state *t)
{
	struct snapmap_val *leader = NULL, *cur;
	struct snapmap_txn_key *k;
	u64 stamp;

	for (k = t->keys; k < t->keys + t->nr_writes; k++) {
		if (!snapmap_txn_changes(k))
			continue;
		cur = snapmap_txn_head(k);
		if (leader) {
			atomic64_set(&k->val->version,
				     snapmap_val_share(leader));
		} else {
			leader = k->val;
			atomic64_set(&leader->version,
				     SNAPMAP_VERSION_PREPARING);
		}
		RCU_INIT_POINTER(k->val->older, cur);
		rcu_assign_pointer(k->node->head, k->val);
	}
	if (!leader)
		return 0;

	snapmap_test_pause(SNAPMAP_TEST_TXN_PREPARED);
	/* The commit: see the top of this file. */
	atomic64_xchg(&leader->version, SNAPMAP_VERSION_PENDING);
	stamp = snapmap_val_version_acquire(t->map, leader);
	for (k = t->keys; k < t->keys + t->nr_writes; k++)
		if (k->val != leader && snapmap_txn_pushed(k))
			atomic64_set(&k->val->version, stamp);
	return stamp;
}

/*
 * Take out the empty nodes inserted for keys still absent, as a failed
 * write does.
 */
static void snapmap_txn_drop_empty(struct snapmap_txn_state *t)
{
	struct snapmap_node *node;
	unsigned int i;

	for (i = 0; i < t->nr_nodes; i++) {
		node = snapmap_txn_node(t, i);
		if (!rcu_dereference_protected(node->head,
					       lockdep_is_held(&node->lock)))
			snapmap_node_remove(t->map, node);
	}
}

/*
 * Count what the pushed versions hold, trim their chains, and take out
 * of the map the nodes left empty or down to a deletion.
 */
static void snapmap_txn_settle(struct snapmap_txn_state *t, s64 give_back)
{
	struct snapmap *map = t->map;
	unsigned int puts = 0, dels = 0;
	struct snapmap_txn_key *k;
	struct snapmap_val *val;

	atomic64_add(give_back, &map->live);
	for (k = t->keys; k < t->keys + t->nr_writes; k++) {
		if (!snapmap_txn_pushed(k))
			continue;
		val = k->val;
		k->val = NULL;
		if (val->len == SNAPMAP_TOMBSTONE) {
			atomic64_dec(&map->entries);
			dels++;
		} else {
			puts++;
		}
		atomic64_add(snapmap_val_charge(val->len), &map->bytes);
		/* A node trimmed down to a deletion goes; its head stays. */
		if (snapmap_chain_trim(map, k->node, false))
			snapmap_node_remove(map, k->node);
	}
	snapmap_txn_drop_empty(t);
	this_cpu_add(map->stats->puts, puts);
	this_cpu_add(map->stats->dels, dels);
}

/*
 * Take out the empty nodes this transaction may have inserted before it
 * failed without their locks.  Context: RCU read-side critical section.
 */
static void snapmap_txn_drop_inserted(struct snapmap_txn_state *t)
{
	struct snapmap_node *node;
	struct snapmap_key key;
	unsigned int i;

	for (i = 0; i < t->nr_keys; i++) {
		key = snapmap_txn_key(t, i);
		node = snapmap_node_lookup(t->map, &key);
		if (!node)
			continue;
		spin_lock(&node->lock);
		if (!node->dead && !rcu_access_pointer(node->head))
			snapmap_node_remove(t->map, node);
		spin_unlock(&node->lock);
	}
}

/*
 * What the writes may add, at most, for snapmap_clear_make_room(): a new
 * node and a version for every key written.
 */
static void snapmap_txn_make_room(struct snapmap_txn_state *t)
{
	u64 bytes = 0;
	unsigned int i;

	for (i = 0; i < t->nr_writes; i++)
		bytes += sizeof(struct snapmap_node) + t->writes[i].key_len +
			 snapmap_val_charge(t->keys[i].val->len);
	snapmap_clear_make_room(t->map, t->nr_writes, bytes);
}

/*
 * Lock every key, check every condition, and commit.  Returns 0 with the
 * transaction's version in *@version, or an error with nothing changed.
 */
static int snapmap_txn_run(struct snapmap_txn_state *t, u64 *version,
			   unsigned int *failed)
{
	s64 give_back;
	unsigned int i;
	int err;

	rcu_read_lock();
	for (;;) {
		err = snapmap_txn_find_nodes(t) ?:
		      snapmap_txn_order(t, failed);
		if (err) {
			snapmap_txn_drop_inserted(t);
			rcu_read_unlock();
			return err;
		}
		snapmap_txn_lock(t);
		/* A node left the map meanwhile: look its key up again. */
		if (!snapmap_txn_stale(t))
			break;
		snapmap_txn_unlock(t);
	}

	for (i = 0; i < t->nr_nodes; i++)
		snapmap_clear_settle(t->map, snapmap_txn_node(t, i),
				     &t->keys[t->order[i]].spare);
	for (i = 0; i < t->nr_checks; i++) {
		if (!snapmap_txn_holds(&t->checks[i],
				       snapmap_txn_head(&t->keys[t->nr_writes + i]))) {
			*failed = i;
			err = -ECANCELED;
			goto out_fail;
		}
	}
	err = snapmap_txn_charge(t, &give_back);
	if (err)
		goto out_fail;
	snapmap_txn_feed_drop(t);
	snapmap_feed_begin(&t->fw);
	*version = snapmap_txn_commit(t);
	if (*version)
		snapmap_feed_commit(&t->fw, *version);
	else
		snapmap_feed_abort(&t->fw);
	snapmap_txn_settle(t, give_back);
	snapmap_txn_unlock(t);
	rcu_read_unlock();

	if (atomic64_read(&t->map->bytes) > t->map->max_bytes)
		snapmap_reclaim_over_limit(t->map);
	return 0;

out_fail:
	snapmap_txn_drop_empty(t);
	snapmap_txn_unlock(t);
	rcu_read_unlock();
	return err;
}

/**
 * snapmap_txn_fill() - snapmap_txn() of values filled in by a callback
 * @map: the map
 * @checks: the conditions
 * @nr_checks: their number
 * @writes: the writes; their @value is not read if @fill is given
 * @nr_writes: their number
 * @fill: copies the value of each PUT into its version, before any lock
 *        is taken; NULL to copy it from &snapmap_txn_write.value
 * @arg: passed to @fill
 * @version: set to the transaction's version, 0 if it wrote nothing
 * @failed: set to the entry at fault, counting the conditions first, or
 *          %SNAPMAP_TXN_NONE
 *
 * For a caller whose values are not in kernel memory yet (a user's
 * buffers): each is copied once, straight into its version.  An error of
 * @fill is returned with *@failed naming the write.
 *
 * Context: process context; may sleep.
 *
 * Return: as snapmap_txn(), or what @fill returned.
 */
int snapmap_txn_fill(struct snapmap *map,
		     const struct snapmap_txn_check *checks,
		     unsigned int nr_checks,
		     const struct snapmap_txn_write *writes,
		     unsigned int nr_writes, snapmap_txn_fill_fn fill,
		     void *arg, u64 *version, unsigned int *failed)
{
	struct snapmap_txn_state t = {
		.map = map,
		.writes = writes,
		.checks = checks,
		.nr_writes = nr_writes,
		.nr_checks = nr_checks,
		.nr_keys = nr_writes + nr_checks,
	};
	struct snapmap_txn_key *k;
	int err;

	*version = 0;
	*failed = SNAPMAP_TXN_NONE;
	err = snapmap_txn_check_all(map, checks, nr_checks, writes, nr_writes,
				    failed);
	if (err || !t.nr_keys)
		return err;

	/* The caller's, like its other buffers: it is freed on return. */
	t.keys = kvcalloc(t.nr_keys, sizeof(*t.keys), SNAPMAP_GFP_BUF);
	if (!t.keys)
		return -ENOMEM;

	err = snapmap_txn_alloc_vals(&t, fill, arg, failed);
	if (!err) {
		snapmap_txn_make_room(&t);
		/* No CLEAR commits during the transaction. */
		percpu_down_read(&map->clear_sem);
		snapmap_txn_feed_add(&t);
		/* The deletions past clears bring to the keys, if they must. */
		if (unlikely(snapmap_clear_pending(map)))
			for (k = t.keys; k < t.keys + t.nr_keys; k++)
				k->spare = snapmap_val_alloc(map, NULL,
							     SNAPMAP_TOMBSTONE);
		err = snapmap_txn_run(&t, version, failed);
		percpu_up_read(&map->clear_sem);
		snapmap_feed_end(&t.fw);
	}

	for (k = t.keys; k < t.keys + t.nr_keys; k++) {
		snapmap_val_discard(map, k->val);
		snapmap_val_discard(map, k->spare);
		kfree(k->new);
	}
	kvfree(t.keys);
	return err;
}

/**
 * snapmap_txn() - check conditions and make writes at one version
 * @map: the map
 * @checks: the conditions, at most %SNAPMAP_TXN_MAX_CONDS; several may be
 *          on one key
 * @nr_checks: their number
 * @writes: the writes, at most %SNAPMAP_TXN_MAX_OPS, each to another key
 * @nr_writes: their number
 * @version: set to the version every write took effect at, or 0 if the
 *           transaction wrote nothing (no writes, or only deletions of
 *           absent keys)
 * @failed: set to the entry at fault, counting the conditions from 0 and
 *          the writes from @nr_checks, when one is; else to
 *          %SNAPMAP_TXN_NONE
 *
 * If every condition holds, every write takes effect at one version:
 * every reader sees all of them or none (see the uapi header's
 * "transactions").  Otherwise nothing changes.  Writers of other keys are
 * not held up; transactions and writes on the same keys wait for one
 * another, none forever.
 *
 * Context: process context; may sleep.  Takes the nodes' locks of all
 * the keys named, with their shard locks and the rhashtable's bucket
 * locks.
 *
 * Return: 0; -ECANCELED if a condition does not hold; -EINVAL for too
 * many entries, an unknown kind or opcode, an empty key, a value where
 * none belongs, or a second write to a key; -EMSGSIZE for a key or value
 * over the map's limits, or more than %SNAPMAP_TXN_MAX_BYTES of them;
 * -ENOSPC at the map's entry or byte limit; -ENOMEM.
 */
int snapmap_txn(struct snapmap *map, const struct snapmap_txn_check *checks,
		unsigned int nr_checks, const struct snapmap_txn_write *writes,
		unsigned int nr_writes, u64 *version, unsigned int *failed)
{
	return snapmap_txn_fill(map, checks, nr_checks, writes, nr_writes,
				NULL, NULL, version, failed);
}
EXPORT_SYMBOL_GPL(snapmap_txn);
