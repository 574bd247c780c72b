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
 * largest buffer of its watches: when it holds more, the oldest go, and a
 * watch that had not read one of them is told so on its next read
 * (ESTALE).  A record that cannot be allocated is lost for every watch
 * open, which is told the same.  The watches take the oldest out, each
 * read first thing, so that every read finds the log within the buffers;
 * a writer does so only once the log is an eighth over, which takes
 * readers that do not read.  The oldest records are long out of a
 * writer's cache (and were last written by a reader, whose references
 * they held): the watchers go through them, not the writers.
 *
 * Records are small and many, written once and freed in about the order
 * they were written, so the small ones are carved from pages, as the
 * network stack carves packets (page_frag_alloc()): a record costs a few
 * instructions instead of a kmalloc() and its memory cgroup charge.  Each
 * CPU carves from its own page.  The pages come from the feed's stash,
 * which the watches' reads fill (snapmap_feed_refill()): the page
 * allocator, and its zeroing of every page (init_on_alloc), is the
 * watchers' cost, not the writers'.  A page whose records are all freed
 * goes back to the stash, so that a feed that keeps its buffer full takes
 * its pages round, and needs the page allocator only to grow.
 * A record too large for a quarter page, or one written while the stash
 * is empty (before the first read, or when the readers fall far behind),
 * comes from kvmalloc().
 *
 * A writer wakes the readers that caught up and wait for its records,
 * which costs it a task's wake-up, and an interrupt if the reader's CPU
 * sleeps.  Once changes come faster than a reader can be woken for each,
 * the feed's timer wakes it instead, on the reader's CPU
 * (snapmap_feed_coalesce()).
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

/* A reader fills the stash in its own time, and does without if it must. */
#define SNAPMAP_GFP_STASH (GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_NORETRY)

/*
 * The most pages the stash keeps: enough for a writer to go on while its
 * watchers read ~1000 records at a time, and at most an eighth of the
 * largest buffer.  It is filled up when it falls to half.
 */
#define SNAPMAP_FEED_STASH_MAX 32U

/*
 * Each record carved holds a reference to its page.  A page taken to carve
 * from is given this many at once, and the CPU hands them out one by one
 * without touching the page: a page holds fewer records than bytes.
 */
#define SNAPMAP_FEED_FRAG_BIAS ((unsigned int)PAGE_SIZE)

/**
 * struct snapmap_feed_frag - where one CPU carves small records from
 * @lock: held while carving
 * @page: the page, or NULL
 * @offset: the bytes of it not carved yet, from its start: records are
 *          carved from its end down
 * @bias: the references to @page the CPU holds, to hand out
 */
struct snapmap_feed_frag {
	local_lock_t lock;
	struct page *page;
	unsigned int offset;
	unsigned int bias;
};

/* The stash's most pages, for the feed's buffers as they were lately. */
static unsigned int snapmap_feed_stash_max(struct snapmap_feed *feed)
{
	return min_t(u64, SNAPMAP_FEED_STASH_MAX,
		     READ_ONCE(feed->cap) >> (PAGE_SHIFT + 3));
}

/* A page of the stash to carve records from, or NULL if it has none. */
static struct page *snapmap_feed_page(struct snapmap_feed *feed)
{
	struct page *page = NULL;

	spin_lock(&feed->stash_lock);
	if (!list_empty(&feed->stash)) {
		page = list_first_entry(&feed->stash, struct page, lru);
		list_del(&page->lru);
		WRITE_ONCE(feed->nr_stash, feed->nr_stash - 1);
	}
	spin_unlock(&feed->stash_lock);
	return page;
}

/*
 * A page whose records are all freed, none of them left: back to the
 * stash, to carve from again, or to the page allocator if the stash is
 * full.  It keeps its memory cgroup charge while the feed has it.
 */
static void snapmap_feed_recycle(struct snapmap_feed *feed, struct page *page)
{
	/* Nobody holds it: set its count again, as page_frag_alloc() does. */
	set_page_count(page, 1);
	spin_lock(&feed->stash_lock);
	if (feed->nr_stash < snapmap_feed_stash_max(feed)) {
		list_add(&page->lru, &feed->stash);
		WRITE_ONCE(feed->nr_stash, feed->nr_stash + 1);
		page = NULL;
	}
	spin_unlock(&feed->stash_lock);
	if (page)
		__free_page(page);
}

/* Let a CPU's page go: its records hold it until they are freed. */
static void snapmap_feed_frag_drain(struct snapmap_feed *feed,
				    struct snapmap_feed_frag *f)
{
	if (!f->page)
		return;
	/* The page's own reference is among the bias. */
	if (page_ref_sub_and_test(f->page, f->bias))
		snapmap_feed_recycle(feed, f->page);
	f->page = NULL;
	f->offset = 0;
}

/*
 * Carve @size bytes, a multiple of 8, from the CPU's page, or from one of
 * the stash if what is left is too small; NULL if the stash is empty.
 * Every record carved is a multiple of 8 bytes from the end of its page,
 * so it is aligned for its header.
 */
static void *snapmap_feed_carve(struct snapmap_feed *feed, unsigned int size)
{
	struct snapmap_feed_frag *f;
	struct page *page;
	void *rec = NULL;

	local_lock(&feed->frags->lock);
	f = this_cpu_ptr(feed->frags);
	if (f->offset < size) {
		page = snapmap_feed_page(feed);
		if (!page)
			goto out;
		snapmap_feed_frag_drain(feed, f);
		page_ref_add(page, SNAPMAP_FEED_FRAG_BIAS - 1);
		f->page = page;
		f->bias = SNAPMAP_FEED_FRAG_BIAS;
		f->offset = PAGE_SIZE;
	}
	f->offset -= size;
	f->bias--;
	rec = page_address(f->page) + f->offset;
out:
	local_unlock(&feed->frags->lock);
	return rec;
}

/*
 * A record of @size bytes, a multiple of 8, charged to the feed's memory
 * cgroup (the stash's pages were when they were allocated).
 */
static struct snapmap_change_rec *
snapmap_change_alloc(struct snapmap_feed *feed, size_t size)
{
	struct snapmap_change_rec *rec = NULL;
	struct mem_cgroup *old;

	if (size <= SNAPMAP_FEED_FRAG_MAX)
		rec = snapmap_feed_carve(feed, size);
	if (rec) {
		/* Pages are not scanned for pointers: the log's links are. */
		kmemleak_alloc(rec, size, 1, GFP_KERNEL);
		rec->frag = true;
		return rec;
	}
	old = set_active_memcg(feed->memcg);
	rec = kvmalloc(size, SNAPMAP_GFP_BUF);
	set_active_memcg(old);
	if (rec)
		rec->frag = false;
	return rec;
}

static void snapmap_change_free(struct snapmap_feed *feed,
				struct snapmap_change_rec *rec)
{
	struct page *page;

	if (rec->frag) {
		kmemleak_free(rec);
		page = virt_to_page(rec);
		if (page_ref_dec_and_test(page))
			snapmap_feed_recycle(feed, page);
	} else {
		kvfree(rec);
	}
}

/**
 * snapmap_feed_refill() - fill the stash up, for the writers' records
 * @feed: the feed
 *
 * Called by the watches' reads, so that the writers carve their records
 * from pages allocated, and zeroed, outside their writes.  Does nothing
 * while the stash holds more than half its most; a page that cannot be
 * allocated is done without.
 *
 * Context: process context, outside spinlocks; may sleep.
 */
void snapmap_feed_refill(struct snapmap_feed *feed)
{
	unsigned int max, nr = READ_ONCE(feed->nr_stash), got = 0;
	struct page *page, *tmp;
	struct mem_cgroup *old;
	LIST_HEAD(pages);

	max = snapmap_feed_stash_max(feed);
	if (!max || nr > max / 2)
		return;
	old = set_active_memcg(feed->memcg);
	for (; nr + got < max; got++) {
		page = alloc_page(SNAPMAP_GFP_STASH);
		if (!page)
			break;
		list_add(&page->lru, &pages);
	}
	set_active_memcg(old);

	/* Readers refill side by side: what overflows goes back. */
	spin_lock(&feed->stash_lock);
	list_for_each_entry_safe(page, tmp, &pages, lru) {
		if (feed->nr_stash >= max)
			break;
		list_move(&page->lru, &feed->stash);
		WRITE_ONCE(feed->nr_stash, feed->nr_stash + 1);
	}
	spin_unlock(&feed->stash_lock);
	list_for_each_entry_safe(page, tmp, &pages, lru)
		__free_page(page);
}

/*
 * Copy @len bytes of a key or a value into a record.  Most are a few
 * words: those are copied a word at a time, not by memcpy(), whose string
 * instruction is slow to start on a few bytes.
 */
static void snapmap_change_fill(u8 *dst, const u8 *src, u32 len)
{
	if (len > 64) {
		memcpy(dst, src, len);
		return;
	}
	for (; len >= 8; len -= 8, dst += 8, src += 8)
		put_unaligned(get_unaligned((const u64 *)src), (u64 *)dst);
	for (; len; len--)
		*dst++ = *src++;
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
	/* The padding: the last word is zeroed, then written over. */
	if (data)
		*(u64 *)(rec->data + ALIGN(data, 8) - 8) = 0;
	snapmap_change_fill(rec->data, key, key_len);
	if (value)
		snapmap_change_fill(rec->data + key_len, value, value_len);
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
 * Take the oldest records out of the log while it holds more than @limit
 * bytes, at most @nr of them, but never the newest: a watch that reads as
 * it should keeps up with any one record.  Those no longer held go on
 * @freed.  Returns whether the log still holds more.
 */
static bool snapmap_feed_trim(struct snapmap_feed *feed, u64 limit,
			      unsigned int nr, struct list_head *freed)
{
	struct snapmap_change_rec *rec;

	lockdep_assert_held(&feed->lock);
	while (feed->bytes > limit && !list_is_singular(&feed->log)) {
		if (!nr--)
			return true;
		rec = list_first_entry(&feed->log, struct snapmap_change_rec,
				       link);
		list_del_init(&rec->link);
		WRITE_ONCE(feed->bytes, feed->bytes - rec->size);
		feed->trimmed += rec->size;
		feed->trimmed_version = rec->hdr.version;
		feed->floor = max(feed->floor, rec->hdr.version);
		if (refcount_dec_and_test(&rec->ref))
			list_add_tail(&rec->link, freed);
	}
	return false;
}

/*
 * Records a reader takes out per hold of the lock the writers share: as
 * many as it takes to read (SNAPMAP_WATCH_BATCH), so that a writer waits
 * no longer for the one than for the other.
 */
#define SNAPMAP_FEED_TRIM_BATCH 16

/**
 * snapmap_feed_trim_over() - take the oldest records out, down to the
 * largest buffer of the watches
 * @feed: the feed
 *
 * Called by the watches first thing in each read, and when a watch opens
 * or closes: so every read finds the log as a writer that trims at each
 * commit would leave it, while the writers, which trim only once the log
 * is an eighth over, leave the oldest records, out of their caches, to
 * the watchers.
 *
 * Context: process context, outside spinlocks.
 */
void snapmap_feed_trim_over(struct snapmap_feed *feed)
{
	struct snapmap_change_rec *rec, *tmp;
	LIST_HEAD(freed);
	bool more;

	/* Not over: no need for the lock the writers share. */
	if (READ_ONCE(feed->bytes) <= READ_ONCE(feed->cap))
		return;
	do {
		spin_lock(&feed->lock);
		more = snapmap_feed_trim(feed, feed->cap,
					 SNAPMAP_FEED_TRIM_BATCH, &freed);
		spin_unlock(&feed->lock);
		list_for_each_entry_safe(rec, tmp, &freed, link)
			snapmap_change_free(feed, rec);
		INIT_LIST_HEAD(&freed);
	} while (more);
}

/*
 * Whether the readers are to be woken for what the caller just did to the
 * log: only if one that waits now has as much to read as it asked for
 * (snapmap_watch_ready()), or a change was lost.  A reader woken reads on
 * until it finds too little, so the changes that come meanwhile need no
 * wake-up of their own: a writer pays for one when a reader has caught up
 * and its mark is reached, not for every change.
 *
 * A trim needs no wake-up of its own: it takes a record past a reader's
 * cursor only once the reader's unread records are over the largest
 * buffer, which is at least twice the reader's mark, so the commit that
 * trims reaches the mark.  Caller holds the lock.
 */
static bool snapmap_feed_want_wake(struct snapmap_feed *feed, bool lost)
{
	if (feed->wake_at == U64_MAX ||
	    (feed->appended < feed->wake_at && !lost))
		return false;
	feed->wake_at = U64_MAX;
	return true;
}

/* Wake the readers waiting for records, if any wait. */
static void snapmap_feed_wake(struct snapmap_feed *feed)
{
	if (wq_has_sleeper(&feed->wq))
		wake_up_interruptible_poll(&feed->wq, EPOLLIN | EPOLLRDNORM);
}

static enum hrtimer_restart snapmap_feed_coalesced(struct hrtimer *timer)
{
	struct snapmap_feed *feed = container_of(timer, struct snapmap_feed,
						 coalesce);

	/* Ordered before the wake-up by its barrier: a reader woken sees it. */
	WRITE_ONCE(feed->timer_runs, feed->timer_runs + 1);
	snapmap_feed_wake(feed);
	return HRTIMER_NORESTART;
}

/**
 * snapmap_feed_coalesce() - wake the feed's readers in a while
 * @feed: the feed
 * @us: how long, in microseconds
 *
 * For a reader that found more than one change at its last look, and now
 * finds none: the changes come faster than it can be woken for each, so
 * it reads the next ones when the timer wakes it, on its own CPU, instead
 * of having a writer pay a wake-up for them.  The timer wakes every reader
 * of the feed; one already started is left to run, and serves.
 *
 * Context: any context but hard interrupts, outside the feed's lock (the
 * timer's device may be programmed, which is slow under emulation); the
 * caller holds a watch of the feed, which stays.
 */
void snapmap_feed_coalesce(struct snapmap_feed *feed, unsigned int us)
{
	if (!hrtimer_is_queued(&feed->coalesce))
		hrtimer_start(&feed->coalesce, us * NSEC_PER_USEC,
			      HRTIMER_MODE_REL_PINNED);
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
	WRITE_ONCE(feed->bytes, feed->bytes + bytes);
	/* Readers look at it without the lock (watch.c). */
	WRITE_ONCE(feed->appended, feed->appended + bytes);
	/* Only if the readers do not: see snapmap_feed_trim_over(). */
	snapmap_feed_trim(feed, feed->cap + feed->cap / 8, UINT_MAX,
			  &fw->trimmed);
	wake = snapmap_feed_want_wake(feed, fw->lost);
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
 * @feed: its feed
 * @rec: the record, or NULL
 *
 * Context: process context, outside RCU and spinlocks.
 */
void snapmap_change_put(struct snapmap_feed *feed,
			struct snapmap_change_rec *rec)
{
	if (rec && refcount_dec_and_test(&rec->ref))
		snapmap_change_free(feed, rec);
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
		snapmap_change_free(fw->feed, rec);
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
	spin_lock_init(&feed->stash_lock);
	INIT_LIST_HEAD(&feed->stash);
	feed->map = map;
	feed->wake_at = U64_MAX;
	INIT_LIST_HEAD(&feed->log);
	INIT_LIST_HEAD(&feed->watches);
	init_waitqueue_head(&feed->wq);
	hrtimer_init(&feed->coalesce, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED);
	feed->coalesce.function = snapmap_feed_coalesced;
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
	struct page *page, *ptmp;
	int cpu;

	lockdep_assert_held(&map->feed_mutex);
	percpu_down_write(&map->clear_sem);
	WRITE_ONCE(map->feed, NULL);
	percpu_up_write(&map->clear_sem);

	WARN_ON_ONCE(feed->nr_watches);
	/* No watch is left to start it: let the last run end. */
	hrtimer_cancel(&feed->coalesce);
	list_for_each_entry_safe(rec, tmp, &feed->log, link)
		snapmap_change_put(feed, rec);
	/* A page goes once its last record does, wherever that is now. */
	for_each_possible_cpu(cpu)
		snapmap_feed_frag_drain(feed, per_cpu_ptr(feed->frags, cpu));
	free_percpu(feed->frags);
	list_for_each_entry_safe(page, ptmp, &feed->stash, lru)
		__free_page(page);
	mem_cgroup_put(feed->memcg);
	kfree(feed);
}
