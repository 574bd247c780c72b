/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - the map's data structures, shared by the files of the core
 *
 * A map is an rhashtable of nodes, one node per key.  A node holds a chain
 * of immutable value versions, newest first.  A write pushes a new version
 * on the chain under the node's lock, then stamps it with the map's next
 * sequence number; a reader that finds a version not yet stamped stamps it
 * itself (see snapmap_val_version()), so every version has its final stamp
 * before anyone acts on it.  Versions older than the head are kept only
 * while a snapshot may still need them.
 *
 * Every node is also on one of the map's shard lists, in creation order,
 * which gives the map an iteration order that rhashtable resizes cannot
 * disturb.
 */

#ifndef _SNAPMAP_CORE_H
#define _SNAPMAP_CORE_H

#include <linux/align.h>
#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/cred.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu-rwsem.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "map.h"

struct snapmap_feed;

/* A version not yet stamped; stamps start at 1. */
#define SNAPMAP_VERSION_PENDING 0

/*
 * A version of a transaction that is not committed yet: no reader may use
 * it, and every reader's V is below it, so snapmap_val_at() passes it by.
 * Stamps stay below it: a counter that only grows by one never gets there.
 */
#define SNAPMAP_VERSION_PREPARING S64_MAX

/*
 * Set in the &snapmap_val.version of every version of a transaction but
 * its first, the leader, while the transaction commits: the rest of the
 * value points at the leader, whose own &snapmap_val.version is the stamp
 * they all share (snapmap_val_share()).
 */
#define SNAPMAP_VERSION_SHARED BIT_ULL(63)

/* &snapmap_val.len of a deletion. */
#define SNAPMAP_TOMBSTONE U32_MAX

#define SNAPMAP_NR_SHARDS 64

/* Bit of &snapmap.gc_flags: @gc_work is queued or running. */
#define SNAPMAP_GC_PENDING 0

/**
 * struct snapmap_val - one version of one key's value
 * @older: the version this one replaced, if still needed; protected by the
 *         node's lock, read under RCU
 * @version: the write's stamp, %SNAPMAP_VERSION_PENDING until stamped;
 *           set once, by cmpxchg.  A transaction's versions are
 *           %SNAPMAP_VERSION_PREPARING, or point at the one that is
 *           (%SNAPMAP_VERSION_SHARED), until it commits (see txn.c)
 * @len: length of @data, or %SNAPMAP_TOMBSTONE for a deletion
 * @data: the value; never changes once published
 *
 * A key's first version lives inside its node when its value is short
 * (see snapmap_node_first()); every other version is allocated on its own,
 * inside a &struct snapmap_val_box.
 */
struct snapmap_val {
	struct snapmap_val __rcu *older;
	atomic64_t version;
	u32 len;
	u8 data[];
};

/* Where a version may start: its atomic64_t must not straddle a word. */
#define SNAPMAP_VAL_ALIGN __alignof__(struct snapmap_val)
static_assert(sizeof(atomic64_t) <= SNAPMAP_VAL_ALIGN);

/**
 * struct snapmap_val_box - a version allocated on its own
 * @rcu: frees the version after a grace period
 * @val: the version
 */
struct snapmap_val_box {
	struct rcu_head rcu;
	struct snapmap_val val;
};

/* The longest value a node holds inside itself as its first version. */
#define SNAPMAP_INLINE_MAX 128

/**
 * struct snapmap_node - one key
 * @rhash: link in the map's rhashtable
 * @link: link in its shard's list; protected by the shard's lock, read
 *        under RCU
 * @head: newest version, or NULL while the node is new and empty; written
 *        under @lock, read under RCU
 * @pos: position in its shard list, increasing from head to tail
 * @rcu: frees the node after a grace period
 * @lock: serialises the writers of this key
 * @pins: cursors parked on this node (see struct snapmap_cursor), which
 *        keep it on its shard list; protected by the shard's lock
 * @key_len: length of @key
 * @dead: the node has left the map; writers that find it retry; protected
 *        by @lock
 * @shard: index of its shard list
 * @unlinked: the node has left its shard list; protected by the shard's
 *            lock
 * @first_inline: the node holds its first version after @key
 * @key: the key, then, if @first_inline, padding to the alignment of
 *       &struct snapmap_val and the first version (snapmap_node_first())
 *
 * The first version is allocated with the node: a key written once costs
 * one allocation, and a lookup finds its value next to its key.  When
 * that version is replaced and no snapshot needs it any more, its bytes
 * stay in the node until the node goes (at most %SNAPMAP_INLINE_MAX and a
 * header per key), but the map stops counting them.
 */
struct snapmap_node {
	struct rhash_head rhash;
	struct list_head link;
	struct snapmap_val __rcu *head;
	u64 pos;
	struct rcu_head rcu;
	spinlock_t lock;		/* see the kernel-doc above */
	u32 pins;
	u32 key_len;
	bool dead;
	u8 shard;
	bool unlinked;
	bool first_inline;
	/*
	 * Aligned so that the first version after it is: its atomic64_t
	 * and pointers must never straddle a word (an alignment fault on
	 * arm64, a split lock on x86).  The offset of @key depends on the
	 * size of spinlock_t, which lockdep and PREEMPT_RT change.
	 */
	u8 key[] __aligned(SNAPMAP_VAL_ALIGN);
};

static_assert(IS_ALIGNED(offsetof(struct snapmap_node, key),
			 SNAPMAP_VAL_ALIGN));
static_assert(IS_ALIGNED(offsetof(struct snapmap_val_box, val),
			 SNAPMAP_VAL_ALIGN));

/**
 * snapmap_node_first() - the version a node holds inside itself
 * @node: the node
 *
 * Return: the version, or NULL if the node's first value was too long to
 * be held inside it.
 */
static inline struct snapmap_val *snapmap_node_first(struct snapmap_node *node)
{
	if (!node->first_inline)
		return NULL;
	return (struct snapmap_val *)(node->key +
				      ALIGN(node->key_len, SNAPMAP_VAL_ALIGN));
}

/**
 * snapmap_node_size() - what a node is allocated with
 * @key_len: the length of its key
 * @first_inline: whether it holds its first version inside itself
 * @first_len: the length of that version's value
 *
 * Return: the size in bytes.
 */
static inline size_t snapmap_node_size(u32 key_len, bool first_inline,
				       u32 first_len)
{
	size_t size = offsetof(struct snapmap_node, key) +
		      ALIGN(key_len, SNAPMAP_VAL_ALIGN);

	if (first_inline)
		size += offsetof(struct snapmap_val, data) + first_len;
	return size;
}

/**
 * struct snapmap_shard - a list of nodes in creation order
 * @lock: protects changes to @nodes, @next_pos and the nodes' @unlinked
 *        and @pins
 * @nodes: the nodes
 * @next_pos: position of the next node added
 */
struct snapmap_shard {
	spinlock_t lock;		/* see the kernel-doc above */
	struct list_head nodes;
	u64 next_pos;
} ____cacheline_aligned_in_smp;

/**
 * struct snapmap_pin - the version an open ATOMIC snapshot holds
 * @link: in &snapmap.snapshots, newest first, from the moment the snapshot
 *        starts until it is closed or goes stale; written under the map's
 *        snap_lock, read under RCU
 * @version: the snapshot's V: it sees every version stamped below V;
 *           %SNAPMAP_VERSION_PENDING while the snapshot is being taken
 * @stale: the snapshot was invalidated and left the list; written under
 *         the map's snap_lock
 *
 * Writers read the list newest first, beside a chain that is newest first
 * too, so that trimming a chain walks each list at most once, and a write
 * looks only at the top of both (snapmap_chain_trim()).  Only the newest
 * pin can be pending: a snapshot enters the list and takes its V under
 * snap_lock.
 */
struct snapmap_pin {
	struct list_head link;
	atomic64_t version;
	bool stale;
};

/**
 * struct snapmap_cursor - a place in the map's shard lists that survives
 * leaving RCU
 * @shard: the shard list being walked; %SNAPMAP_NR_SHARDS at the end
 * @pos: position of the last node done in that list, 0 for none
 * @pin: the node of highest position at most @pos still on the list,
 *       pinned so that it stays there, or NULL to start from the head
 *
 * Nodes leave their shard list only when no cursor is parked on them, so a
 * walk can stop, sleep, and go on from its pinned node.
 */
struct snapmap_cursor {
	unsigned int shard;
	u64 pos;
	struct snapmap_node *pin;
};

/**
 * struct snapmap_stats - per-CPU operation counters
 * @gets: GETs served
 * @puts: successful PUTs
 * @dels: successful DELs
 */
struct snapmap_stats {
	u64 gets;
	u64 puts;
	u64 dels;
};

/* What the map recycles through struct snapmap_objcache. */
enum snapmap_obj_kind {
	SNAPMAP_OBJ_VAL,	/* a &struct snapmap_val_box */
	SNAPMAP_OBJ_NODE,	/* a &struct snapmap_node */
	SNAPMAP_OBJ_KINDS,
};

/* Size classes of recycled objects: those of kmalloc() up to 256 bytes. */
#define SNAPMAP_OBJ_CLASSES 6

struct snapmap_obj;

/**
 * struct snapmap_objlist - freed objects of one kind and size class
 * @head: the oldest, first to be reused once its grace period is over
 * @tail: where the next one freed goes
 * @nr: objects on the list
 * @gp: the grace period last asked to start for this list
 *
 * Objects are linked through their own &struct rcu_head, in the order
 * they were freed, so that their grace periods end in list order too.
 */
struct snapmap_objlist {
	struct snapmap_obj *head;
	struct snapmap_obj **tail;
	unsigned int nr;
	unsigned long gp;
};

/**
 * struct snapmap_objcache_cpu - one CPU's freed objects
 * @lock: protects @lists; taken by that CPU's writers, and by the trim
 *        work from any CPU
 * @lists: by kind and size class
 */
struct snapmap_objcache_cpu {
	spinlock_t lock;		/* see the kernel-doc above */
	struct snapmap_objlist lists[SNAPMAP_OBJ_KINDS][SNAPMAP_OBJ_CLASSES];
};

/**
 * struct snapmap_objcache - nodes and versions recycled after a grace
 * period
 * @cpu: the objects each CPU freed
 * @trim: frees what stays unused in the lists once writes stop
 * @cap: the most objects a list holds, by size class
 */
struct snapmap_objcache {
	struct snapmap_objcache_cpu __percpu *cpu;
	struct delayed_work trim;
	unsigned int cap[SNAPMAP_OBJ_CLASSES];
};

/**
 * struct snapmap - a map
 * @ht: the nodes, by key
 * @seq: the last stamp handed out
 * @entries: keys present
 * @bytes: memory charged for nodes and versions, pinned ones included
 * @live: the part of @bytes the map's present state takes: nodes and their
 *        newest versions; what the byte limit admits writes against.  The
 *        rest of @bytes is pinned: older versions kept for snapshots
 * @ref: fds and kernel references
 * @stats: operation counters
 * @shards: every node, in an order resizes do not disturb
 * @max_key_len: key length limit
 * @max_value_len: value length limit
 * @max_entries: entry limit
 * @max_bytes: byte limit
 * @uid: owner
 * @gid: group
 * @mode: permission bits checked by snapmap_open_named()
 * @memcg: the creator's memory cgroup, charged for every allocation
 * @registry: link in the list of all maps; protected by the registry lock
 * @id: a number no other map had since the module was loaded
 * @create_flags: the ``SNAPMAP_CREATE_*`` flags it was made with
 * @persistent: the registry holds a reference on the map, and one on the
 *              module, until its name is deleted; written under the
 *              registry lock
 * @unlinked: its name was deleted: it is found by no name, and is
 *            unnamed to whoever asks, though @name is kept; set once,
 *            under the registry lock
 * @snapshots: the &struct snapmap_pin of each open ATOMIC snapshot that is
 *             not stale, newest first; changed under @snap_lock, read
 *             under RCU
 * @nr_snapshots: open snapshots, ATOMIC, WEAK or stale; protected by
 *                @snap_lock
 * @nr_stale: the open snapshots that went stale; protected by @snap_lock
 * @invalidated: snapshots that went stale since the map was made;
 *               protected by @snap_lock
 * @snap_lock: protects changes to @snapshots, and the counts of snapshots
 * @gc_work: frees versions no snapshot needs any more, and makes the
 *           oldest snapshots stale while the map is over its byte limit
 * @gc_flags: %SNAPMAP_GC_PENDING
 * @clears: the CLEARs not yet applied to every key (clear.c), newest
 *          first; changed under @snap_lock, read under RCU
 * @cleared: the keys a clear deleted that are not freed yet: no longer
 *           in @entries, but held against the entry limit; changed with
 *           @clear_sem held
 * @clear_sem: held for reading by every write, for writing by a CLEAR
 *             while it commits, and while @feed comes or goes
 * @feed: the changes kept for the map's watches (feed.c), or NULL while
 *        it has none; written with @clear_sem held for writing, read with
 *        it held
 * @feed_mutex: serialises the opening and closing of watches
 * @objcache: nodes and versions freed, to be reused
 * @name: NUL-terminated name, empty for an unnamed map
 */
struct snapmap {
	struct rhashtable ht;
	atomic64_t seq ____cacheline_aligned_in_smp;
	atomic64_t entries ____cacheline_aligned_in_smp;
	atomic64_t bytes;
	atomic64_t live;
	refcount_t ref;
	struct snapmap_stats __percpu *stats;
	struct snapmap_shard shards[SNAPMAP_NR_SHARDS];
	u32 max_key_len;
	u32 max_value_len;
	u64 max_entries;
	u64 max_bytes;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct mem_cgroup *memcg;
	struct list_head registry;
	u64 id;
	u32 create_flags;
	bool persistent;
	bool unlinked;
	struct list_head snapshots;
	unsigned int nr_snapshots;
	unsigned int nr_stale;
	u64 invalidated;
	spinlock_t snap_lock;		/* see the kernel-doc above */
	struct work_struct gc_work;
	unsigned long gc_flags;
	struct list_head clears;
	atomic64_t cleared;
	struct percpu_rw_semaphore clear_sem;
	struct snapmap_feed *feed;
	struct mutex feed_mutex;	/* see the kernel-doc above */
	struct snapmap_objcache objcache;
	char name[SNAPMAP_NAME_LEN];
};

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

static inline void *snapmap_alloc(struct snapmap *map, size_t size,
				  gfp_t gfp)
{
	struct mem_cgroup *old = set_active_memcg(map->memcg);
	void *p = kmalloc(size, gfp);

	set_active_memcg(old);
	return p;
}

/* The keys the map holds, those a clear deleted but did not free too. */
static inline u64 snapmap_entries_held(struct snapmap *map)
{
	return atomic64_read(&map->entries) + atomic64_read(&map->cleared);
}

/* Check a key's length against @map's limit. */
static inline int snapmap_check_key(struct snapmap *map, u32 key_len)
{
	if (!key_len)
		return -EINVAL;
	if (key_len > map->max_key_len)
		return -EMSGSIZE;
	return 0;
}

/* map.c */
int snapmap_restore(struct snapmap *map, const void *key, u32 key_len,
		    const void *value, u32 value_len, u64 version);

/* registry.c */
struct snapmap *snapmap_alloc_map(const struct snapmap_attr *attr);
int snapmap_register(struct snapmap *map);

/* Module-wide caps, module parameters of main.c. */
extern unsigned int snapmap_cap_key_len;
extern unsigned int snapmap_cap_value_len;
extern unsigned long snapmap_cap_entries;
extern unsigned long snapmap_cap_bytes;
extern unsigned int snapmap_cap_maps_per_user;
extern unsigned int snapmap_cap_snapshots_per_map;
extern unsigned int snapmap_cap_snapshots_per_user;
extern unsigned long snapmap_watch_buffer;
extern unsigned long snapmap_cap_watch_buffer;
extern unsigned int snapmap_cap_watches_per_map;
extern unsigned int snapmap_watch_coalesce_us;

#endif /* _SNAPMAP_CORE_H */
