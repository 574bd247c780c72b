// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - watches: each reads the map's feed of changes from a place of
 * its own
 *
 * A watch is a cursor in the feed's log (feed.c): the last record it took,
 * held by a reference so that it stays valid when the feed lets it go.
 * It reads on from there, record by record, to the end of the log (every
 * record in it is final: feed.c), past the records of versions up to its
 * start and of keys outside its prefix.  The records it reads are held by
 * references while they are handed out, outside the feed's lock: the
 * callback may sleep, and may fault on a user's buffer.  A record it did
 * not take stays for the next read, so a fault loses nothing.
 *
 * The feed counts the bytes it ever put in its log and those it took out,
 * oldest first, and each watch the bytes up to its cursor: a watch whose
 * count is below what the feed took out has lost a record (if that record
 * was one it had to yield: the feed's newest taken out is above the
 * watch's start).  The same counts tell a reader, without the lock the
 * writers share, that there is a record past its cursor, or none: the
 * cursor is the reader's own, and only a look that finds nothing before
 * the reader sleeps, or one that takes records, needs the lock.
 *
 * A reader that finds too little asks the writers to wake it once it has
 * enough: a writer pays for that wake-up.  A watch woken for any record
 * whose reader found more than one change at its last look is following
 * changes that come faster than it can be woken for each: it asks the
 * feed's timer instead, and a writer only if half its buffer fills first
 * (snapmap_watch_arm()).
 */

#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "core.h"
#include "feed.h"
#include "limits.h"
#include "map.h"
#include "map_fd.h"

/* Records handed out per hold of the feed's lock. */
#define SNAPMAP_WATCH_BATCH 16

/**
 * struct snapmap_watch - a watch of a map
 * @map: the map, held
 * @feed: the map's feed, which lives as long as its watches
 * @link: in &snapmap_feed.watches; protected by the feed's lock
 * @cursor: the last record taken, held; NULL before the first record of
 *          the log.  Protected by @read_mutex; where it points, by the
 *          feed's lock
 * @consumed: the bytes of the log up to and including @cursor, as
 *            &snapmap_feed.appended counts them; written under
 *            @read_mutex, read by poll at any time
 * @start: the watch yields the changes of versions above it
 * @stale: a change the watch had to yield could not be recorded; written
 *         under the feed's lock, read by a reader at any time
 * @buffer: its buffer, which the feed keeps records for
 * @wakeup_bytes: as the watch was asked for, for fdinfo
 * @mark: the bytes past @consumed that make the watch ready: @wakeup_bytes,
 *        at least 1
 * @changes: the changes taken since the reader last found too little
 *           (a transaction is one); written under @read_mutex, reset
 *           under the feed's lock
 * @coalesced: the reader waits for the feed's timer, until its run
 *             numbered @timer_run is over; under the feed's lock
 * @timer_run: see @coalesced
 * @announced: the version of the transaction whose TXN record was given
 * @read: the version of the last change handed out, @start before any;
 *        written under @read_mutex, read by fdinfo at any time
 * @read_mutex: one reader at a time
 * @prefix_len: length of @prefix
 * @prefix: the watch yields the changes of keys that start with it
 */
struct snapmap_watch {
	struct snapmap *map;
	struct snapmap_feed *feed;
	struct list_head link;
	struct snapmap_change_rec *cursor;
	u64 consumed;
	u64 start;
	bool stale;
	u64 buffer;
	u64 wakeup_bytes;
	u64 mark;
	unsigned int changes;
	bool coalesced;
	unsigned long timer_run;
	u64 announced;
	u64 read;
	struct mutex read_mutex;	/* see the kernel-doc above */
	u32 prefix_len;
	u8 prefix[];
};

/* The record after @rec in the log, or its first if @rec is NULL or gone. */
static struct snapmap_change_rec *
snapmap_feed_after(struct snapmap_feed *feed, struct snapmap_change_rec *rec)
{
	struct list_head *next;

	lockdep_assert_held(&feed->lock);
	next = rec && !list_empty(&rec->link) ? rec->link.next :
						 feed->log.next;
	if (next == &feed->log)
		return NULL;
	return list_entry(next, struct snapmap_change_rec, link);
}

/* Whether @w has lost a change it had to yield.  Caller holds the lock. */
static bool snapmap_watch_lost(struct snapmap_watch *w)
{
	struct snapmap_feed *feed = w->feed;

	return w->stale || (feed->trimmed > READ_ONCE(w->consumed) &&
			    feed->trimmed_version > w->start);
}

/*
 * Whether a record is past @w's cursor: the log holds bytes past those up
 * to it.  Without the feed's lock the answer may be out of date once used;
 * a reader about to sleep asks again under the lock, which orders it with
 * the writers' appends.
 */
static bool snapmap_watch_pending(struct snapmap_watch *w)
{
	return READ_ONCE(w->feed->appended) > READ_ONCE(w->consumed);
}

/*
 * Whether the log holds as many bytes past @w's cursor as the watch waits
 * for; as snapmap_watch_pending(), out of date once used without the lock.
 */
static bool snapmap_watch_enough(struct snapmap_watch *w)
{
	return READ_ONCE(w->feed->appended) - READ_ONCE(w->consumed) >=
	       w->mark;
}

/* Whether @w yields @rec, once it is past the watch's start. */
static bool snapmap_watch_wants(struct snapmap_watch *w,
				const struct snapmap_change_rec *rec)
{
	if (rec->hdr.version <= w->start)
		return false;
	if (rec->hdr.type == SNAPMAP_CHANGE_CLEAR)
		return true;
	return rec->hdr.key_len >= w->prefix_len &&
	       !memcmp(rec->data, w->prefix, w->prefix_len);
}

/*
 * The records from @rec on that @w yields of @rec's transaction: the
 * count of the TXN record that goes before the first of them.
 */
static u32 snapmap_watch_txn_count(struct snapmap_watch *w,
				   struct snapmap_change_rec *rec)
{
	u64 version = rec->hdr.version;
	u32 count = 0;

	for (; rec && rec->hdr.version == version;
	     rec = snapmap_feed_after(w->feed, rec))
		count += snapmap_watch_wants(w, rec);
	return count;
}

/*
 * @w has too little to read: have its readers woken once it has enough.
 * The writer whose commit reaches the mark pays for the wake-up
 * (feed.c).  A watch woken for any record whose reader found more than
 * one change at its last look follows a feed its reader cannot keep up
 * with change by change: it is woken by the feed's timer after
 * watch_coalesce_us, which costs the writers nothing, or by the writer
 * that fills half its buffer first, so that coalescing never loses a
 * change that waking for each would have kept.  Until the timer has run,
 * the reader's looks (a sleeper looks again once it is on the wait queue)
 * wait for it still; a reader that then finds one change, or none, is
 * woken for the next one again.  Caller holds the lock, and starts the
 * timer once it lets the lock go.
 *
 * Return: how long until the timer is to wake the reader, in
 * microseconds, or 0 if only a writer is to wake it.
 */
static unsigned int snapmap_watch_arm(struct snapmap_watch *w)
{
	unsigned int us = READ_ONCE(snapmap_watch_coalesce_us);
	unsigned long run = snapmap_feed_timer_run(w->feed);
	struct snapmap_feed *feed = w->feed;
	u64 mark = w->mark;

	if (w->mark != 1 || !us) {
		w->coalesced = false;
	} else if (READ_ONCE(w->changes) > 1) {
		w->coalesced = true;
		w->timer_run = run;
	} else if (w->timer_run != run) {
		w->coalesced = false;
	}
	WRITE_ONCE(w->changes, 0);
	if (w->coalesced)
		mark = w->buffer / 2;
	feed->wake_at = min(feed->wake_at, READ_ONCE(w->consumed) + mark);
	return w->coalesced ? us : 0;
}

/**
 * snapmap_watch_ready() - whether a watch has what its reader waits for
 * @watch: the watch
 *
 * If not, the reader is to be woken once it has: by the writer whose
 * change gives it enough, or, for a reader that keeps finding several
 * changes at once, by a timer a while later (see the uapi header's
 * "watches").
 *
 * Context: any context but hard interrupts; may take the feed's lock.
 *
 * Return: true if records of the watch's wakeup_bytes (any record, by
 * default; records it passes by without yielding them count too) are
 * there to read, or the watch has lost a change.
 */
bool snapmap_watch_ready(struct snapmap_watch *watch)
{
	struct snapmap_feed *feed = watch->feed;
	unsigned int us = 0;
	bool ready;

	/* Enough to read: no need for the lock the writers share. */
	if (snapmap_watch_enough(watch))
		return true;
	spin_lock(&feed->lock);
	ready = snapmap_watch_lost(watch) || snapmap_watch_enough(watch);
	if (!ready)
		us = snapmap_watch_arm(watch);
	spin_unlock(&feed->lock);
	/* Not under the lock: starting a timer may program a device. */
	if (us)
		snapmap_feed_coalesce(feed, us);
	return ready;
}
EXPORT_SYMBOL_GPL(snapmap_watch_ready);

/**
 * snapmap_watch_wait() - wait until snapmap_watch_ready()
 * @watch: the watch
 *
 * Context: process context; sleeps, interruptibly.
 *
 * Return: 0, or -ERESTARTSYS if a signal came first.
 */
int snapmap_watch_wait(struct snapmap_watch *watch)
{
	return wait_event_interruptible(watch->feed->wq,
					snapmap_watch_ready(watch));
}
EXPORT_SYMBOL_GPL(snapmap_watch_wait);

/**
 * snapmap_watch_waitqueue() - where the readers of a watch wait
 * @watch: the watch
 *
 * For poll(2): it is woken when records come, and when the watch loses
 * one.
 *
 * Return: the wait queue.
 */
struct wait_queue_head *snapmap_watch_waitqueue(struct snapmap_watch *watch)
{
	return &watch->feed->wq;
}

/**
 * snapmap_watch_show_fdinfo() - what a watch fd's fdinfo says
 * @m: where to print it
 * @watch: the watch
 *
 * Its map's lines, then where the watch starts, the version of the last
 * change handed out, its buffer and its wakeup_bytes.
 *
 * Context: process context.
 */
void snapmap_watch_show_fdinfo(struct seq_file *m, struct snapmap_watch *watch)
{
	snapmap_map_show_fdinfo(m, watch->map);
	seq_printf(m, "watch_start:\t%llu\n", watch->start);
	seq_printf(m, "watch_read:\t%llu\n", READ_ONCE(watch->read));
	seq_printf(m, "watch_buffer:\t%llu\n", watch->buffer);
	seq_printf(m, "watch_wakeup:\t%llu\n", watch->wakeup_bytes);
}

/**
 * struct snapmap_watch_batch - records handed out in one go
 * @recs: the records, each held
 * @txn: for each, the count of the TXN record to give before it, or 0
 * @nr: their number
 */
struct snapmap_watch_batch {
	struct snapmap_change_rec *recs[SNAPMAP_WATCH_BATCH];
	u32 txn[SNAPMAP_WATCH_BATCH];
	unsigned int nr;
};

/*
 * Take the records past @w's cursor, up to the end of the log, held,
 * into @b; -ESTALE if the watch lost one.
 */
static int snapmap_watch_gather(struct snapmap_watch *w,
				struct snapmap_watch_batch *b)
{
	struct snapmap_feed *feed = w->feed;
	struct snapmap_change_rec *rec;
	u64 announced = w->announced;

	b->nr = 0;
	/*
	 * Nothing past the cursor, and nothing lost (no record past it was
	 * let go): nothing to take, without the lock the writers share.  A
	 * record that comes meanwhile is found by the reader's next look,
	 * which, before it sleeps, is under the lock (snapmap_watch_ready()).
	 */
	if (!snapmap_watch_pending(w) && !READ_ONCE(w->stale))
		return 0;
	spin_lock(&feed->lock);
	if (snapmap_watch_lost(w)) {
		spin_unlock(&feed->lock);
		return -ESTALE;
	}
	for (rec = snapmap_feed_after(feed, w->cursor);
	     rec && b->nr < SNAPMAP_WATCH_BATCH;
	     rec = snapmap_feed_after(feed, rec)) {
		b->txn[b->nr] = 0;
		if (rec->txn && rec->hdr.version != announced &&
		    snapmap_watch_wants(w, rec)) {
			b->txn[b->nr] = snapmap_watch_txn_count(w, rec);
			announced = rec->hdr.version;
		}
		refcount_inc(&rec->ref);
		b->recs[b->nr++] = rec;
	}
	spin_unlock(&feed->lock);
	return 0;
}

/*
 * Hand the records of @b that @w yields to @fn, in order, and move the
 * cursor past those taken; returns what @fn returned if it stopped.
 */
static int snapmap_watch_give(struct snapmap_watch *w,
			      struct snapmap_watch_batch *b,
			      snapmap_change_fn fn, void *arg)
{
	struct snapmap_change_rec *rec, *old = NULL;
	u64 last = w->cursor ? w->cursor->hdr.version : 0;
	unsigned int i, changes = 0;
	u64 bytes = 0, read = 0;
	int ret = 0;

	for (i = 0; i < b->nr; i++) {
		rec = b->recs[i];
		if (b->txn[i] && w->announced != rec->hdr.version) {
			struct snapmap_change txn = {
				.type = SNAPMAP_CHANGE_TXN,
				.count = b->txn[i],
				.version = rec->hdr.version,
			};

			ret = fn(&txn, NULL, NULL, arg);
			if (ret)
				break;
			w->announced = rec->hdr.version;
			read = rec->hdr.version;
		}
		if (snapmap_watch_wants(w, rec)) {
			ret = fn(&rec->hdr, rec->data,
				 rec->data + rec->hdr.key_len, arg);
			if (ret)
				break;
			read = rec->hdr.version;
		}
		bytes += rec->size;
		/* The records of a transaction have its version. */
		changes += rec->hdr.version != last;
		last = rec->hdr.version;
	}
	if (read)
		WRITE_ONCE(w->read, read);
	if (changes)
		WRITE_ONCE(w->changes, READ_ONCE(w->changes) + changes);
	if (i) {
		/* The last record taken is the cursor now, and so its hold. */
		old = w->cursor;
		w->cursor = b->recs[i - 1];
		b->recs[i - 1] = NULL;
		WRITE_ONCE(w->consumed, w->consumed + bytes);
	}
	for (i = 0; i < b->nr; i++)
		snapmap_change_put(w->feed, b->recs[i]);
	snapmap_change_put(w->feed, old);
	return ret;
}

/**
 * snapmap_watch_next() - hand out the changes a watch has to read
 * @watch: the watch
 * @fn: called with each change, in order
 * @arg: passed to @fn
 *
 * Never waits for changes: see snapmap_watch_wait().  The changes of a
 * transaction come after a %SNAPMAP_CHANGE_TXN that counts them; @fn may
 * stop between them, and the next call goes on from there.  A call first
 * lets the map's oldest records go, those over the largest buffer of its
 * watches (snapmap_feed_trim_over()), and may allocate a few pages for
 * the map's writers to carve the records of their changes from
 * (snapmap_feed_refill()): the watchers pay for the memory of what they
 * follow.
 *
 * Context: process context; may sleep.  Readers of one watch take turns.
 *
 * Return: 0 once every change there is has been taken; what @fn returned
 * if it stopped; -ESTALE if the watch lost a change it had to yield (the
 * changes taken before are right).
 */
int snapmap_watch_next(struct snapmap_watch *watch, snapmap_change_fn fn,
		       void *arg)
{
	struct snapmap_watch_batch b;
	int ret;

	/* As if the writers had trimmed: a watch too far behind finds out. */
	snapmap_feed_trim_over(watch->feed);
	snapmap_feed_refill(watch->feed);
	mutex_lock(&watch->read_mutex);
	do {
		ret = snapmap_watch_gather(watch, &b);
		if (!ret && b.nr)
			ret = snapmap_watch_give(watch, &b, fn, arg);
	} while (!ret && b.nr);
	mutex_unlock(&watch->read_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(snapmap_watch_next);

/*
 * Place a new watch in the feed: after the last record up to its start.
 * Caller holds the feed's lock, so every change up to the map's counter,
 * the start at most, has its record in: the records to come land after.
 */
static int snapmap_watch_place(struct snapmap_watch *w,
			       struct snapmap_feed *feed,
			       const struct snapmap_watch_attr *attr)
{
	u64 now = atomic64_read(&feed->map->seq), after = 0;
	struct snapmap_change_rec *rec;

	w->start = now;
	if (attr->flags & SNAPMAP_WATCH_SINCE) {
		if (attr->since > now)
			return -EINVAL;
		if (attr->since < feed->floor)
			return -ESTALE;
		w->start = attr->since;
	}
	w->cursor = NULL;
	list_for_each_entry_reverse(rec, &feed->log, link) {
		if (rec->hdr.version <= w->start) {
			refcount_inc(&rec->ref);
			w->cursor = rec;
			break;
		}
		after += rec->size;
	}
	w->consumed = feed->appended - after;
	return 0;
}

/*
 * Take @w out of its feed, and the feed out of the map if @w was its last
 * watch.  Caller holds the map's feed_mutex.
 */
static void snapmap_watch_unlink(struct snapmap_watch *w)
{
	struct snapmap_feed *feed = w->feed;
	struct snapmap_watch *other;
	u64 cap = 0;

	spin_lock(&feed->lock);
	list_del(&w->link);
	feed->nr_watches--;
	list_for_each_entry(other, &feed->watches, link)
		cap = max(cap, other->buffer);
	WRITE_ONCE(feed->cap, cap);
	spin_unlock(&feed->lock);
	if (!feed->nr_watches) {
		snapmap_feed_destroy(w->map);
		return;
	}
	/* Down to the buffers left now, not in one writer's commit. */
	snapmap_feed_trim_over(feed);
}

/* The buffer of a watch opened with @attr. */
static u64 snapmap_watch_buffer_of(const struct snapmap_watch_attr *attr)
{
	/* The default is a module parameter: no smaller than a caller's. */
	return attr->buffer_bytes ?:
	       max_t(u64, READ_ONCE(snapmap_watch_buffer),
		     SNAPMAP_WATCH_MIN_BUFFER);
}

/**
 * snapmap_watch_check() - check a watch's parameters before opening it
 * @map: the map
 * @attr: the parameters; @attr->prefix is not looked at
 * @snapshot: whether the caller takes the snapshot of
 *            %SNAPMAP_WATCH_SNAPSHOT
 *
 * Return: 0, or the first error of snapmap_watch_open() that depends on
 * @attr alone: -EINVAL or -EMSGSIZE.
 */
int snapmap_watch_check(struct snapmap *map,
			const struct snapmap_watch_attr *attr, bool snapshot)
{
	u64 buffer = attr->buffer_bytes;

	if (attr->flags & ~SNAPMAP_WATCH_MASK ||
	    (attr->flags & SNAPMAP_WATCH_SINCE &&
	     attr->flags & SNAPMAP_WATCH_SNAPSHOT) ||
	    (!(attr->flags & SNAPMAP_WATCH_SINCE) && attr->since) ||
	    (attr->flags & SNAPMAP_WATCH_SNAPSHOT && !snapshot))
		return -EINVAL;
	if (buffer && (buffer < SNAPMAP_WATCH_MIN_BUFFER ||
		       buffer > READ_ONCE(snapmap_cap_watch_buffer)))
		return -EINVAL;
	if (attr->wakeup_bytes > snapmap_watch_buffer_of(attr) / 2)
		return -EINVAL;
	if (attr->prefix_len > map->max_key_len)
		return -EMSGSIZE;
	return 0;
}

/**
 * snapmap_watch_open() - follow a map's changes
 * @map: the map; the watch takes a reference
 * @attr: where to start, which keys, and the buffer
 * @version: set to the watch's start: it yields the changes of versions
 *           above it
 * @snapshot: with %SNAPMAP_WATCH_SNAPSHOT, set to an ATOMIC snapshot taken
 *            at @version, the caller's to close; else unused (may be NULL)
 *
 * See the uapi header's "watches".  The first watch of a map makes every
 * write to it keep a record while it has watches.
 *
 * Context: process context; may sleep.  Opening the first watch of a map,
 * and closing its last, wait for the writes under way.
 *
 * Return: the watch; ERR_PTR(-EINVAL) for bad flags, buffer or
 * wakeup_bytes, or a @since above the map's version; ERR_PTR(-EMSGSIZE)
 * for a prefix longer than the map's keys may be; ERR_PTR(-ESTALE) if the
 * changes since @since are no longer all kept; ERR_PTR(-ENOSPC) if the
 * map has as many watches as allowed; the errors of
 * snapmap_snapshot_open(); ERR_PTR(-ENOMEM).
 */
struct snapmap_watch *snapmap_watch_open(struct snapmap *map,
					 const struct snapmap_watch_attr *attr,
					 u64 *version,
					 struct snapmap_snapshot **snapshot)
{
	struct snapmap_snapshot *snap = NULL;
	struct snapmap_feed *feed;
	struct snapmap_watch *w;
	int err;

	err = snapmap_watch_check(map, attr, !!snapshot);
	if (err)
		return ERR_PTR(err);
	w = kzalloc(struct_size(w, prefix, attr->prefix_len),
		    GFP_KERNEL_ACCOUNT);
	if (!w)
		return ERR_PTR(-ENOMEM);
	mutex_init(&w->read_mutex);
	w->map = map;
	w->buffer = snapmap_watch_buffer_of(attr);
	/*
	 * At most half the buffer even if the default buffer changed since
	 * the check: feed.c counts on it to wake a reader before its watch
	 * can lose a change.
	 */
	w->wakeup_bytes = min(attr->wakeup_bytes, w->buffer / 2);
	w->mark = max_t(u64, w->wakeup_bytes, 1);
	w->prefix_len = attr->prefix_len;
	if (attr->prefix_len)
		memcpy(w->prefix, attr->prefix, attr->prefix_len);
	if (attr->flags & SNAPMAP_WATCH_SNAPSHOT) {
		snap = snapmap_snapshot_alloc(map, 0);
		if (IS_ERR(snap)) {
			err = PTR_ERR(snap);
			goto err_free;
		}
	}

	mutex_lock(&map->feed_mutex);
	feed = map->feed ?: snapmap_feed_create(map);
	if (!feed) {
		err = -ENOMEM;
		goto err_unlock;
	}
	w->feed = feed;
	/* So that @since finds the log as a read would. */
	snapmap_feed_trim_over(feed);
	spin_lock(&feed->lock);
	err = feed->nr_watches >= READ_ONCE(snapmap_cap_watches_per_map) ?
	      -ENOSPC : snapmap_watch_place(w, feed, attr);
	if (!err) {
		list_add_tail(&w->link, &feed->watches);
		feed->nr_watches++;
		WRITE_ONCE(feed->cap, max(feed->cap, w->buffer));
	}
	spin_unlock(&feed->lock);
	if (err) {
		if (!feed->nr_watches)
			snapmap_feed_destroy(map);
		goto err_unlock;
	}
	mutex_unlock(&map->feed_mutex);
	snapmap_get(map);

	if (snap) {
		u64 start;

		/* Taken after the watch began: it sees every change above. */
		snapmap_snapshot_start(snap);
		snapmap_snapshot_version(snap, &start);
		spin_lock(&feed->lock);
		w->start = start;
		spin_unlock(&feed->lock);
		*snapshot = snap;
	}
	w->read = w->start;
	*version = w->start;
	return w;

err_unlock:
	mutex_unlock(&map->feed_mutex);
	if (snap)
		snapmap_snapshot_close(snap);
err_free:
	kfree(w);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(snapmap_watch_open);

/**
 * snapmap_watch_close() - stop following a map's changes
 * @watch: the watch
 *
 * Context: process context; may sleep.  No read of the watch may be under
 * way.
 */
void snapmap_watch_close(struct snapmap_watch *watch)
{
	struct snapmap *map = watch->map;

	/* While the feed is there: the record's page may go back to it. */
	snapmap_change_put(watch->feed, watch->cursor);
	mutex_lock(&map->feed_mutex);
	snapmap_watch_unlink(watch);
	mutex_unlock(&map->feed_mutex);
	mutex_destroy(&watch->read_mutex);
	kfree(watch);
	snapmap_put(map);
}
EXPORT_SYMBOL_GPL(snapmap_watch_close);

/**
 * snapmap_watch_lose() - tell the watches a change is lost
 * @feed: the feed
 * @version: the change's version
 *
 * Every watch that had to yield it will fail its next read.
 *
 * Context: the feed's lock held.
 */
void snapmap_watch_lose(struct snapmap_feed *feed, u64 version)
{
	struct snapmap_watch *w;

	lockdep_assert_held(&feed->lock);
	list_for_each_entry(w, &feed->watches, link)
		if (version > w->start)
			WRITE_ONCE(w->stale, true);
}
