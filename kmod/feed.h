/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - the map's feed of changes, for its watches (feed.c, watch.c)
 */

#ifndef _SNAPMAP_FEED_H
#define _SNAPMAP_FEED_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/snapmap.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "core.h"

struct mem_cgroup;

/**
 * struct snapmap_change_rec - one change, kept for the map's watches
 * @link: in &snapmap_feed.log, in version order; taken out with
 *        list_del_init() when the record goes; protected by the feed's lock
 * @ref: the log's reference while the record is in it, a watch's while
 *       it is the watch's cursor, and a reader's while it is read out
 * @txn: for a write of a transaction, the number of records it has; else 0
 * @size: the bytes it counts for: its own allocation
 * @frag: it is a page fragment of the feed's (see snapmap_feed_add())
 * @hdr: what read(2) yields before the key and value
 * @data: the key, then the value, then zeroes up to the size of the
 *        record read(2) yields: from @hdr on, a record is laid out as it
 *        is read, and is copied out whole
 */
struct snapmap_change_rec {
	struct list_head link;
	refcount_t ref;
	u32 txn;
	u32 size;
	bool frag;
	struct snapmap_change hdr;
	u8 data[];
};

struct snapmap_feed_frag;

/**
 * struct snapmap_feed - the changes of a map that has watches
 * @lock: protects every member but @map, @memcg and @wq, and the links
 *        of the records and watches; @bytes and @cap are also read
 *        without it
 * @map: the map
 * @log: the records kept, in version order
 * @watches: the open &struct snapmap_watch
 * @nr_watches: their number
 * @bytes: what the records in @log take
 * @appended: the bytes of every record ever put in @log
 * @trimmed: the bytes of the records taken out of @log, oldest first
 * @trimmed_version: the version of the last record taken out of @log
 * @floor: every change of a version above it is in @log or yet to come
 * @cap: the largest buffer of the open watches: @bytes is trimmed to it
 *       by each read, and by a commit that takes it an eighth over
 * @wake_at: the count of @appended that wakes the readers: the lowest
 *           mark of those that found too little to read and wait, or
 *           U64_MAX if none does (see snapmap_feed_want_wake())
 * @wq: where readers wait for records
 * @coalesce: wakes the readers of @wq that wait for a burst to go on
 *            (see snapmap_feed_coalesce())
 * @timer_runs: the runs of @coalesce begun
 * @memcg: the memory cgroup the records are charged to: that of the
 *         process that opened the first watch
 * @frags: per CPU, the page the small records are carved from
 * @stash_lock: protects @stash and @nr_stash
 * @stash: pages ready to carve records from, linked by their lru
 * @nr_stash: their number
 */
struct snapmap_feed {
	spinlock_t lock;		/* see the kernel-doc above */
	struct snapmap *map;
	struct list_head log;
	struct list_head watches;
	unsigned int nr_watches;
	u64 bytes;
	u64 appended;
	u64 trimmed;
	u64 trimmed_version;
	u64 floor;
	u64 cap;
	u64 wake_at;
	wait_queue_head_t wq;
	struct hrtimer coalesce;
	unsigned long timer_runs;
	struct mem_cgroup *memcg;
	struct snapmap_feed_frag __percpu *frags;
	spinlock_t stash_lock;		/* see the kernel-doc above */
	struct list_head stash;
	unsigned int nr_stash;
};

/**
 * struct snapmap_feed_write - a change on its way to the feed
 * @feed: the map's feed, or NULL when the map has no watch
 * @recs: its records, allocated before any lock is taken
 * @trimmed: records the commit took out of the log, freed by
 *           snapmap_feed_end() outside every lock
 * @txn: the change is a transaction: each of its records says how many
 *       it has
 * @lost: a record could not be allocated
 *
 * A writer that holds the map's clear_sem fills one in with
 * snapmap_feed_start(), adds its records, calls snapmap_feed_begin() before
 * it publishes its first version and snapmap_feed_commit() once they are
 * stamped (or snapmap_feed_abort() if it changed nothing), then
 * snapmap_feed_end() once it holds no lock.
 */
struct snapmap_feed_write {
	struct snapmap_feed *feed;
	struct list_head recs;
	struct list_head trimmed;
	bool txn;
	bool lost;
};

struct snapmap_change_rec *__snapmap_feed_add(struct snapmap_feed_write *fw,
					      u32 type, const void *key,
					      u32 key_len, const void *value,
					      u32 value_len);
void __snapmap_feed_commit(struct snapmap_feed_write *fw, u64 version);
void __snapmap_feed_abort(struct snapmap_feed_write *fw);
void __snapmap_feed_end(struct snapmap_feed_write *fw);

/*
 * The calls below are made by every write; for a map without a watch,
 * which has no feed, each is a test of one pointer, inline.
 */

/**
 * snapmap_feed_start() - prepare to send a change to the map's feed
 * @map: the map
 * @fw: filled in
 *
 * Context: the map's clear_sem held, for reading or writing.
 */
static inline void snapmap_feed_start(struct snapmap *map,
				      struct snapmap_feed_write *fw)
{
	fw->feed = READ_ONCE(map->feed);
	if (fw->feed) {
		INIT_LIST_HEAD(&fw->recs);
		INIT_LIST_HEAD(&fw->trimmed);
		fw->txn = false;
		fw->lost = false;
	}
}

/**
 * snapmap_feed_add() - a record of one change, before any lock is taken
 * @fw: the change, from snapmap_feed_start()
 * @type: ``SNAPMAP_CHANGE_*``
 * @key: the key, or NULL for a CLEAR
 * @key_len: its length
 * @value: for a PUT, the value; else NULL
 * @value_len: its length
 *
 * If the record cannot be allocated, the change goes on without it, and
 * every watch open when it commits is told it missed a change.
 *
 * Context: process context, outside RCU and spinlocks; may sleep.
 *
 * Return: the record, or NULL if the map has no feed or it could not be
 * allocated.
 */
static inline struct snapmap_change_rec *
snapmap_feed_add(struct snapmap_feed_write *fw, u32 type, const void *key,
		 u32 key_len, const void *value, u32 value_len)
{
	if (!fw->feed)
		return NULL;
	return __snapmap_feed_add(fw, type, key, key_len, value, value_len);
}

void snapmap_feed_drop(struct snapmap_feed_write *fw,
		       struct snapmap_change_rec *rec);

/**
 * snapmap_feed_begin() - before a change publishes anything
 * @fw: the change
 *
 * Takes the feed's lock, if the map has a feed, until snapmap_feed_commit()
 * or snapmap_feed_abort().
 *
 * Context: the locks the change publishes under held.
 */
static inline void snapmap_feed_begin(struct snapmap_feed_write *fw)
	__acquires(fw)
{
	if (fw->feed) {
		spin_lock(&fw->feed->lock);
		__release(&fw->feed->lock);
	}
	/* Sparse: the feed's lock, if any, is the change's until commit. */
	__acquire(fw);
}

/**
 * snapmap_feed_commit() - put a change's records in the log
 * @fw: the change, begun
 * @version: its version, stamped
 *
 * The records of a change of several (a transaction's writes) are marked
 * as one, and stay together in the log.  Lets the feed's lock go.
 *
 * Context: the locks the change published under held.
 */
static inline void snapmap_feed_commit(struct snapmap_feed_write *fw,
				       u64 version)
	__releases(fw)
{
	__release(fw);
	if (fw->feed)
		__snapmap_feed_commit(fw, version);
}

/**
 * snapmap_feed_abort() - a change begun that changed nothing after all
 * @fw: the change, begun
 *
 * Lets the feed's lock go.
 *
 * Context: the locks the change published under held.
 */
static inline void snapmap_feed_abort(struct snapmap_feed_write *fw)
	__releases(fw)
{
	__release(fw);
	if (fw->feed)
		__snapmap_feed_abort(fw);
}

/**
 * snapmap_feed_end() - free what a change did not put in the log
 * @fw: the change, committed, aborted or never begun
 *
 * Context: process context, outside RCU and spinlocks.
 */
static inline void snapmap_feed_end(struct snapmap_feed_write *fw)
{
	/* A change committed, of which no record was trimmed: nothing. */
	if (fw->feed &&
	    !(list_empty(&fw->recs) && list_empty(&fw->trimmed)))
		__snapmap_feed_end(fw);
}

void snapmap_change_put(struct snapmap_feed *feed,
			struct snapmap_change_rec *rec);
void snapmap_feed_refill(struct snapmap_feed *feed);
void snapmap_feed_trim_over(struct snapmap_feed *feed);
void snapmap_feed_coalesce(struct snapmap_feed *feed, unsigned int us);

/* How many times the feed's timer began to wake its readers. */
static inline unsigned long snapmap_feed_timer_run(struct snapmap_feed *feed)
{
	return READ_ONCE(feed->timer_runs);
}

struct snapmap_feed *snapmap_feed_create(struct snapmap *map);
void snapmap_feed_destroy(struct snapmap *map);

/* watch.c */
void snapmap_watch_lose(struct snapmap_feed *feed, u64 version);

#endif /* _SNAPMAP_FEED_H */
