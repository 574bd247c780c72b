// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - the feed: every change of a map that has watches, in version
 * order
 *
 * While a map has a watch open, each change leaves a record in the map's
 * feed: a PUT its key and value, a DEL its key, a transaction one record
 * per write, all of one version, and a CLEAR one record.  The records are
 * kept in the order of their versions, once for all the watches, each of
 * which reads them from a place of its own (watch.c).
 *
 * Versions are stamped lazily (see version.c), by the writer or by the
 * first reader to find the version.  So a change holds the feed's lock
 * from before it publishes anything to after its version is stamped and
 * its records are in: the versions of changes are taken in the order
 * their records go in, each record goes at the tail, and a reader that
 * holds the lock finds every change of a version up to the map's counter
 * in the log.  A reader may stamp a change's version meanwhile, but only
 * while the change holds the lock; a reader that takes the counter for
 * nothing (the change was stamped first) leaves a version no change has.
 *
 * A change takes the lock under its node's lock (or a transaction's
 * locks, or the write side of clear_sem), for the few instructions that
 * publish and stamp it, and only while the map has a watch: writers of
 * other keys then share this one lock, as they share the log.  Writers
 * see the feed under the read side of the map's clear_sem, which they hold
 * for the whole write; the feed comes and goes under its write side, so
 * no change is under way then and none misses it.
 *
 * Writers never wait for a watch.  The feed keeps records up to the
 * largest buffer of its watches: when a commit takes it over that, the
 * oldest go, and a watch that had not read one of them is told so on its
 * next read (ESTALE).  A record that cannot be allocated is lost for every
 * watch open, which is told the same.
 *
 * Records are small and many, written once and freed in about the order
 * they were written, so the small ones are carved from pages, as the
 * network stack carves packets (page_frag_alloc()): a record costs a few
 * instructions instead of a kmalloc() and its memory cgroup charge, and a
 * page goes back once every record on it is freed.  Each CPU carves from
 * its own page; a record too large for one, or one that the page
 * allocator cannot give without waiting, comes from kvmalloc().
 */

#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/local_lock.h>
#include <linux/memcontrol.h>
#include <linux/percpu.h>
#include <linux/percpu-rwsem.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"

#include "core.h"
#include "feed.h"
#include "map.h"

/* The largest record carved from a page: a page holds at least four. */
#define SNAPMAP_FEED_FRAG_MAX (PAGE_SIZE / 4)

/*
 * A page is carved with the local lock held, so without waiting: one
 * that needs reclaim comes from kvmalloc() instead, which may wait.
 */
#define SNAPMAP_GFP_FRAG (GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN | \
			  __GFP_NOMEMALLOC)

/**
 * struct snapmap_feed_frag - where one CPU carves small records from
 * @lock: held while carving
 * @cache: the page, and what is left of it
 */
struct snapmap_feed_frag {
	local_lock_t lock;
	struct page_frag_cache cache;
};

/*
 * A record of @size bytes, a multiple of 8, charged to the feed's memory
 * cgroup.  Every fragment carved is a multiple of 8 bytes from the end of
 * its page, so every record is aligned for its header.
 */
static struct snapmap_change_rec *
snapmap_change_alloc(struct snapmap_feed *feed, size_t size)
{
	struct snapmap_change_rec *rec = NULL;
	struct mem_cgroup *old;

	old = set_active_memcg(feed->memcg);
	if (size <= SNAPMAP_FEED_FRAG_MAX) {
		local_lock(&feed->frags->lock);
		rec = page_frag_alloc(&this_cpu_ptr(feed->frags)->cache, size,
				      SNAPMAP_GFP_FRAG);
		local_unlock(&feed->frags->lock);
	}
	if (rec) {
		/* Pages are not scanned for pointers: the log's links are. */
		kmemleak_alloc(rec, size, 1, GFP_KERNEL);
		rec->frag = true;
	} else {
		rec = kvmalloc(size, SNAPMAP_GFP_BUF);
		if (rec)
			rec->frag = false;
	}
	set_active_memcg(old);
	return rec;
}

static void snapmap_change_free(struct snapmap_change_rec *rec)
{
	if (rec->frag) {
		kmemleak_free(rec);
		page_frag_free(rec);
	} else {
		kvfree(rec);
	}
}

/* snapmap_feed_start() for a map with a feed. */
void __snapmap_feed_start(struct snapmap_feed_write *fw)
{
	INIT_LIST_HEAD(&fw->recs);
	INIT_LIST_HEAD(&fw->trimmed);
	fw->txn = false;
	fw->lost = false;
}

/*
 * snapmap_feed_add() for a map with a feed.  Records are charged to the
 * memory cgroup of the feed.  If one cannot be allocated, the change goes
 * on without it, and every watch open when it commits is told it missed a
 * change.
 */
struct snapmap_change_rec *__snapmap_feed_add(struct snapmap_feed_write *fw,
					      u32 type, const void *key,
					      u32 key_len, const void *value,
					      u32 value_len)
{
	size_t data = (size_t)key_len + value_len;
	struct snapmap_change_rec *rec;
	size_t size;

	/* The key follows the header as in what read(2) yields. */
	BUILD_BUG_ON(offsetof(struct snapmap_change_rec, data) !=
		     offsetofend(struct snapmap_change_rec, hdr));
	size = offsetof(struct snapmap_change_rec, hdr) +
	       SNAPMAP_CHANGE_SIZE(key_len, value_len);
	rec = snapmap_change_alloc(fw->feed, size);
	if (!rec) {
		fw->lost = true;
		return NULL;
	}
	refcount_set(&rec->ref, 1);
	rec->txn = 0;
	rec->size = size;
	rec->hdr = (struct snapmap_change) {
		.type = type,
		.key_len = key_len,
		.value_len = value_len,
	};
	if (key_len)
		memcpy(rec->data, key, key_len);
	if (value && value_len)
		memcpy(rec->data + key_len, value, value_len);
	memset(rec->data + data, 0,
	       SNAPMAP_CHANGE_SIZE(key_len, value_len) - sizeof(rec->hdr) -
	       data);
	list_add_tail(&rec->link, &fw->recs);
	return rec;
}

/**
 * snapmap_feed_drop() - forget a record of a write that changed nothing
 * @fw: the change
 * @rec: one of its records
 *
 * Context: any; the record is freed by snapmap_feed_end().
 */
void snapmap_feed_drop(struct snapmap_feed_write *fw,
		       struct snapmap_change_rec *rec)
{
	list_move_tail(&rec->link, &fw->trimmed);
}

/*
 * Take the oldest records out of the log while it holds more than the
 * largest buffer of the watches, but never the newest: a watch that reads
 * as it should keeps up with any one record.
 */
static void snapmap_feed_trim(struct snapmap_feed_write *fw)
{
	struct snapmap_feed *feed = fw->feed;
	struct snapmap_change_rec *rec;

	while (feed->bytes > feed->cap && !list_is_singular(&feed->log)) {
		rec = list_first_entry(&feed->log, struct snapmap_change_rec,
				       link);
		list_del_init(&rec->link);
		feed->bytes -= rec->size;
		feed->trimmed += rec->size;
		feed->trimmed_version = rec->hdr.version;
		feed->floor = max(feed->floor, rec->hdr.version);
		if (refcount_dec_and_test(&rec->ref))
			list_add_tail(&rec->link, &fw->trimmed);
	}
}

/*
 * Whether the readers are to be woken for what the caller just did to the
 * log: only if none was since a reader last found nothing to read.  A
 * reader woken reads on until it finds nothing, so the changes that come
 * meanwhile need no wake-up of their own: a writer pays for one when the
 * readers have caught up, not for every change.  Caller holds the lock.
 */
static bool snapmap_feed_want_wake(struct snapmap_feed *feed)
{
	bool wake = !feed->woken;

	feed->woken = true;
	return wake;
}

/* Wake the readers waiting for records, if any wait. */
static void snapmap_feed_wake(struct snapmap_feed *feed)
{
	if (wq_has_sleeper(&feed->wq))
		wake_up_interruptible_poll(&feed->wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * __snapmap_feed_commit() - snapmap_feed_commit() for a map with a feed
 * @fw: the change, begun
 * @version: its version, stamped
 *
 * The records of a change of several (a transaction's writes) are marked
 * as one, and stay together in the log.  Lets the feed's lock go.
 *
 * Context: the locks the change published under held.
 */
void __snapmap_feed_commit(struct snapmap_feed_write *fw, u64 version)
{
	struct snapmap_feed *feed = fw->feed;
	struct snapmap_change_rec *rec;
	unsigned int nr = 0;
	u64 bytes = 0;
	bool wake;

	/* Taken by snapmap_feed_begin(). */
	__acquire(&feed->lock);
	if (fw->txn)
		list_for_each_entry(rec, &fw->recs, link)
			nr++;
	if (fw->lost) {
		/* Part of a change is no change: none of it goes in. */
		list_splice_tail_init(&fw->recs, &fw->trimmed);
		feed->floor = max(feed->floor, version);
		snapmap_watch_lose(feed, version);
	}
	list_for_each_entry(rec, &fw->recs, link) {
		rec->hdr.version = version;
		rec->txn = nr;
		bytes += rec->size;
	}
	/* At the tail of the log, in their order: the latest versions yet. */
	list_splice_tail_init(&fw->recs, &feed->log);
	feed->bytes += bytes;
	/* Readers look at it without the lock (watch.c). */
	WRITE_ONCE(feed->appended, feed->appended + bytes);
	snapmap_feed_trim(fw);
	wake = snapmap_feed_want_wake(feed);
	spin_unlock(&feed->lock);
	if (wake)
		snapmap_feed_wake(feed);
}

/**
 * __snapmap_feed_abort() - snapmap_feed_abort() for a map with a feed
 * @fw: the change, begun
 *
 * Lets the feed's lock go.
 *
 * Context: the locks the change published under held.
 */
void __snapmap_feed_abort(struct snapmap_feed_write *fw)
{
	struct snapmap_feed *feed = fw->feed;

	/* Taken by snapmap_feed_begin(). */
	__acquire(&feed->lock);
	list_splice_tail_init(&fw->recs, &fw->trimmed);
	spin_unlock(&feed->lock);
}

/**
 * snapmap_change_put() - drop a reference to a record
 * @rec: the record
 *
 * Context: process context, outside RCU and spinlocks.
 */
void snapmap_change_put(struct snapmap_change_rec *rec)
{
	if (rec && refcount_dec_and_test(&rec->ref))
		snapmap_change_free(rec);
}

/**
 * __snapmap_feed_end() - snapmap_feed_end() for a map with a feed
 * @fw: the change, committed, aborted or never begun
 *
 * Context: process context, outside RCU and spinlocks.
 */
void __snapmap_feed_end(struct snapmap_feed_write *fw)
{
	struct snapmap_change_rec *rec, *tmp;

	list_splice_tail_init(&fw->recs, &fw->trimmed);
	list_for_each_entry_safe(rec, tmp, &fw->trimmed, link)
		snapmap_change_free(rec);
	INIT_LIST_HEAD(&fw->trimmed);
}

/**
 * snapmap_feed_create() - give a map a feed, for its first watch
 * @map: the map, whose feed_mutex the caller holds
 *
 * The feed starts at the map's version: it holds no change below.  It is
 * published while no write is under way, so every write after sees it.
 *
 * Context: process context; may sleep.  Waits for the writes under way,
 * and an RCU grace period.
 *
 * Return: the feed, or NULL if it could not be allocated.
 */
struct snapmap_feed *snapmap_feed_create(struct snapmap *map)
{
	struct snapmap_feed *feed;
	int cpu;

	lockdep_assert_held(&map->feed_mutex);
	feed = kzalloc(sizeof(*feed), GFP_KERNEL_ACCOUNT);
	if (!feed)
		return NULL;
	feed->frags = alloc_percpu_gfp(struct snapmap_feed_frag,
				       GFP_KERNEL_ACCOUNT);
	if (!feed->frags) {
		kfree(feed);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		local_lock_init(&per_cpu_ptr(feed->frags, cpu)->lock);
	spin_lock_init(&feed->lock);
	feed->map = map;
	INIT_LIST_HEAD(&feed->log);
	INIT_LIST_HEAD(&feed->watches);
	init_waitqueue_head(&feed->wq);
	feed->memcg = get_mem_cgroup_from_mm(current->mm);

	percpu_down_write(&map->clear_sem);
	feed->floor = atomic64_read(&map->seq);
	WRITE_ONCE(map->feed, feed);
	percpu_up_write(&map->clear_sem);
	return feed;
}

/**
 * snapmap_feed_destroy() - take a map's feed away, once its last watch
 * is closed
 * @map: the map, whose feed_mutex the caller holds
 *
 * Context: process context; may sleep.  Waits for the writes under way,
 * and an RCU grace period.
 */
void snapmap_feed_destroy(struct snapmap *map)
{
	struct snapmap_feed *feed = map->feed;
	struct snapmap_change_rec *rec, *tmp;
	int cpu;

	lockdep_assert_held(&map->feed_mutex);
	percpu_down_write(&map->clear_sem);
	WRITE_ONCE(map->feed, NULL);
	percpu_up_write(&map->clear_sem);

	WARN_ON_ONCE(feed->nr_watches);
	list_for_each_entry_safe(rec, tmp, &feed->log, link)
		snapmap_change_put(rec);
	/* A page goes once its last record does, wherever that is now. */
	for_each_possible_cpu(cpu)
		page_frag_cache_drain(&per_cpu_ptr(feed->frags, cpu)->cache);
	free_percpu(feed->frags);
	mem_cgroup_put(feed->memcg);
	kfree(feed);
}
