// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - nodes and versions recycled after a grace period
 *
 * Every write allocates a version or a node, and frees the one it replaced
 * once RCU readers are done with it.  Through kmalloc() and kfree_rcu()
 * that is, per write, a memory cgroup charge and uncharge, a zeroed
 * object, and a callback batch to run after the grace period.  The map
 * keeps what it frees instead: each CPU has a list per kind and size
 * class, in the order the objects were freed, each object stamped with
 * the grace period it waits for (get_state_synchronize_rcu()).  An
 * allocation takes the oldest object of its list if that grace period is
 * over (poll_state_synchronize_rcu()), and falls back to kmalloc()
 * otherwise.  Nothing runs when a grace period ends: the lists are only
 * polled, and the one call into RCU is to start the grace period a list
 * waits for, once per grace period.
 *
 * An object is linked through its own &struct rcu_head, which no reader
 * looks at: the rest of it stays as it was until it is reused, as with
 * kfree_rcu().  It stays charged to the map's memory cgroup while it is on
 * a list.
 *
 * What the lists hold is not in the map's byte count: it is bounded by
 * the caps, at most 1/64 of the map's byte limit per list and CPU, and
 * 4096 objects.  A write reuses objects once the grace period after their
 * free is over, so a list must hold what the map frees in one grace period
 * to serve every write; when writes stop, what is left on the lists is
 * freed by the trim work, a second later.
 */

#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "core.h"
#include "objcache.h"

/**
 * struct snapmap_obj - what a freed object's &struct rcu_head holds
 * @next: the next object freed on the same list
 * @gp: the grace period after which nobody can reach the object
 */
struct snapmap_obj {
	struct snapmap_obj *next;
	unsigned long gp;
};

static_assert(sizeof(struct snapmap_obj) <= sizeof(struct rcu_head));

/* Where each kind keeps its &struct rcu_head. */
static const size_t snapmap_obj_rcu[SNAPMAP_OBJ_KINDS] = {
	[SNAPMAP_OBJ_VAL] = offsetof(struct snapmap_val_box, rcu),
	[SNAPMAP_OBJ_NODE] = offsetof(struct snapmap_node, rcu),
};

static const unsigned int snapmap_obj_size[SNAPMAP_OBJ_CLASSES] = {
	32, 64, 96, 128, 192, 256,
};

/* The most objects a list holds, whatever the map's byte limit. */
#define SNAPMAP_OBJ_LIST_MAX 4096

/* Objects a list keeps once writes stop. */
#define SNAPMAP_OBJ_LIST_IDLE 32

/* How long after a free the trim work looks at the lists. */
#define SNAPMAP_OBJ_TRIM_DELAY HZ

/* The size class of a @size-byte object, or -1 if it has none. */
static int snapmap_obj_class(size_t size)
{
	int i;

	for (i = 0; i < SNAPMAP_OBJ_CLASSES; i++)
		if (size <= snapmap_obj_size[i])
			return i;
	return -1;
}

static struct snapmap_obj *snapmap_obj_of(enum snapmap_obj_kind kind,
					  void *obj)
{
	return obj + snapmap_obj_rcu[kind];
}

static void *snapmap_obj_start(enum snapmap_obj_kind kind,
			       struct snapmap_obj *o)
{
	return (void *)o - snapmap_obj_rcu[kind];
}

/* Take the oldest object off @l, or NULL if it is empty. */
static struct snapmap_obj *snapmap_objlist_take(struct snapmap_objlist *l)
{
	struct snapmap_obj *o = l->head;

	if (!o)
		return NULL;
	l->head = o->next;
	if (!l->head)
		l->tail = &l->head;
	l->nr--;
	return o;
}

/* Take the oldest object off @l if nobody can reach it any more. */
static struct snapmap_obj *snapmap_objlist_pop(struct snapmap_objlist *l)
{
	if (!l->head || !poll_state_synchronize_rcu(l->head->gp))
		return NULL;
	return snapmap_objlist_take(l);
}

/* An object of size class @cls the map can reuse, or NULL. */
static void *snapmap_obj_reuse_class(struct snapmap *map,
				     enum snapmap_obj_kind kind, int cls)
{
	struct snapmap_objcache_cpu *c;
	struct snapmap_obj *o;

	/* Any CPU's lists will do if this task moves meanwhile. */
	c = raw_cpu_ptr(map->objcache.cpu);
	spin_lock(&c->lock);
	o = snapmap_objlist_pop(&c->lists[kind][cls]);
	spin_unlock(&c->lock);
	return o ? snapmap_obj_start(kind, o) : NULL;
}

/**
 * snapmap_obj_reuse() - a node or version the map freed, if it has one
 * @map: the map
 * @kind: what the object is for
 * @size: its size
 *
 * The object's contents are undefined.
 *
 * Context: process context, inside RCU or a spinlock too: does not
 * sleep, and is no fault point of the allocator.
 *
 * Return: the object, or NULL if no freed one is past its grace period.
 */
void *snapmap_obj_reuse(struct snapmap *map, enum snapmap_obj_kind kind,
			size_t size)
{
	int cls = snapmap_obj_class(size);

	if (cls < 0 || !map->objcache.cap[cls])
		return NULL;
	return snapmap_obj_reuse_class(map, kind, cls);
}

/**
 * snapmap_obj_alloc() - a node or version, reused or new
 * @map: the map, whose memory cgroup is charged for a new object
 * @kind: what the object is for
 * @size: its size
 * @gfp: flags for kmalloc(), if it comes to that
 *
 * The object's contents are undefined: a reused one is not zeroed.
 *
 * Context: process context; sleeps if @gfp allows.
 *
 * Return: the object, or NULL.
 */
void *snapmap_obj_alloc(struct snapmap *map, enum snapmap_obj_kind kind,
			size_t size, gfp_t gfp)
{
	int cls = snapmap_obj_class(size);
	void *obj;

	if (cls < 0 || !map->objcache.cap[cls])
		return snapmap_alloc(map, size, gfp);
	obj = snapmap_obj_reuse_class(map, kind, cls);
	if (obj)
		return obj;
	/* The whole class, so that the object can be reused in it. */
	return snapmap_alloc(map, snapmap_obj_size[cls], gfp);
}

static void snapmap_obj_kick_trim(struct snapmap *map,
				  struct snapmap_objlist *l)
{
	if (l->nr > SNAPMAP_OBJ_LIST_IDLE &&
	    !delayed_work_pending(&map->objcache.trim))
		queue_delayed_work(system_unbound_wq, &map->objcache.trim,
				   SNAPMAP_OBJ_TRIM_DELAY);
}

/**
 * snapmap_obj_free_rcu() - keep an object for reuse after a grace period
 * @map: the map
 * @kind: what the object is
 * @obj: the object, from snapmap_obj_alloc(), which RCU readers may still
 *       be looking at
 * @size: the size it was allocated for
 *
 * Only the object's &struct rcu_head is written.
 *
 * Context: process context, interrupts enabled; does not sleep.
 *
 * Return: true if the map keeps the object; false if its list is full,
 * and the caller must free it with kfree_rcu().
 */
bool snapmap_obj_free_rcu(struct snapmap *map, enum snapmap_obj_kind kind,
			  void *obj, size_t size)
{
	struct snapmap_obj *o = snapmap_obj_of(kind, obj), *spare = NULL;
	int cls = snapmap_obj_class(size);
	struct snapmap_objcache_cpu *c;
	struct snapmap_objlist *l;
	bool start = false;
	unsigned long gp;

	if (cls < 0 || !map->objcache.cap[cls])
		return false;
	/* Orders the caller's unlinking of @obj before the grace period. */
	gp = get_state_synchronize_rcu();

	c = raw_cpu_ptr(map->objcache.cpu);
	spin_lock(&c->lock);
	l = &c->lists[kind][cls];
	/* A full list makes room only with an object nobody can reach. */
	if (l->nr >= map->objcache.cap[cls]) {
		spare = snapmap_objlist_pop(l);
		if (!spare) {
			spin_unlock(&c->lock);
			return false;
		}
	}
	o->next = NULL;
	o->gp = gp;
	*l->tail = o;
	l->tail = &o->next;
	l->nr++;
	if (l->gp != gp) {
		l->gp = gp;
		start = true;
	}
	snapmap_obj_kick_trim(map, l);
	spin_unlock(&c->lock);

	/* Nothing else may start that grace period if the system is idle. */
	if (start)
		start_poll_synchronize_rcu();
	if (spare)
		kfree(snapmap_obj_start(kind, spare));
	return true;
}

/**
 * snapmap_obj_discard() - free an object nobody else has seen
 * @map: the map
 * @kind: what the object is
 * @obj: the object, from snapmap_obj_alloc(), never published
 * @size: the size it was allocated for
 *
 * The object is reusable at once: it goes first on its list.
 *
 * Context: process context; does not sleep.
 */
void snapmap_obj_discard(struct snapmap *map, enum snapmap_obj_kind kind,
			 void *obj, size_t size)
{
	struct snapmap_obj *o = snapmap_obj_of(kind, obj);
	int cls = snapmap_obj_class(size);
	struct snapmap_objcache_cpu *c;
	struct snapmap_objlist *l;

	if (cls < 0 || !map->objcache.cap[cls]) {
		kfree(obj);
		return;
	}
	c = raw_cpu_ptr(map->objcache.cpu);
	spin_lock(&c->lock);
	l = &c->lists[kind][cls];
	if (l->nr >= map->objcache.cap[cls]) {
		spin_unlock(&c->lock);
		kfree(obj);
		return;
	}
	o->gp = get_completed_synchronize_rcu();
	o->next = l->head;
	if (!l->head)
		l->tail = &o->next;
	l->head = o;
	l->nr++;
	snapmap_obj_kick_trim(map, l);
	spin_unlock(&c->lock);
}

/**
 * snapmap_objcache_count() - objects the map keeps for reuse
 * @map: the map
 *
 * For debugfs: those waiting for their grace period, and those past it.
 *
 * Context: process context; takes each CPU's lock of the map in turn.
 *
 * Return: the number of objects on the map's lists.
 */
unsigned long snapmap_objcache_count(struct snapmap *map)
{
	unsigned long nr = 0;
	int cpu, k, i;

	for_each_possible_cpu(cpu) {
		struct snapmap_objcache_cpu *c =
			per_cpu_ptr(map->objcache.cpu, cpu);

		spin_lock(&c->lock);
		for (k = 0; k < SNAPMAP_OBJ_KINDS; k++)
			for (i = 0; i < SNAPMAP_OBJ_CLASSES; i++)
				nr += c->lists[k][i].nr;
		spin_unlock(&c->lock);
	}
	return nr;
}

/*
 * Free the objects of every list beyond @keep, oldest first: only those
 * past their grace period if @wait, every one of them otherwise.  Returns
 * whether a list still holds more than @keep.
 */
static bool snapmap_objcache_shrink(struct snapmap *map, unsigned int keep,
				    bool wait)
{
	struct snapmap_obj *o, *freed;
	bool more = false;
	int cpu, k, i;

	for_each_possible_cpu(cpu) {
		struct snapmap_objcache_cpu *c =
			per_cpu_ptr(map->objcache.cpu, cpu);

		for (k = 0; k < SNAPMAP_OBJ_KINDS; k++) {
			for (i = 0; i < SNAPMAP_OBJ_CLASSES; i++) {
				struct snapmap_objlist *l = &c->lists[k][i];

				freed = NULL;
				spin_lock(&c->lock);
				while (l->nr > keep &&
				       (o = wait ? snapmap_objlist_pop(l) :
						   snapmap_objlist_take(l))) {
					o->next = freed;
					freed = o;
				}
				more |= l->nr > keep;
				spin_unlock(&c->lock);

				for (o = freed; o; o = freed) {
					freed = o->next;
					kfree(snapmap_obj_start(k, o));
				}
			}
		}
		cond_resched();
	}
	return more;
}

/*
 * Free what the lists hold beyond what they keep when idle, as far as
 * their grace periods are over; look again later at what is still
 * waiting for one.
 */
static void snapmap_objcache_trim(struct work_struct *work)
{
	struct snapmap *map = container_of(to_delayed_work(work),
					   struct snapmap,
					   objcache.trim);

	if (snapmap_objcache_shrink(map, SNAPMAP_OBJ_LIST_IDLE, true))
		queue_delayed_work(system_unbound_wq, &map->objcache.trim,
				   SNAPMAP_OBJ_TRIM_DELAY);
}

/**
 * snapmap_objcache_init() - set up a new map's object lists
 * @map: the map, its byte limit and memory cgroup set
 *
 * Return: 0 or -ENOMEM.
 */
int snapmap_objcache_init(struct snapmap *map)
{
	struct snapmap_objcache *cache = &map->objcache;
	struct mem_cgroup *old;
	int cpu, k, i;

	old = set_active_memcg(map->memcg);
	cache->cpu = alloc_percpu_gfp(struct snapmap_objcache_cpu,
				      GFP_KERNEL_ACCOUNT);
	set_active_memcg(old);
	if (!cache->cpu)
		return -ENOMEM;

	for_each_possible_cpu(cpu) {
		struct snapmap_objcache_cpu *c = per_cpu_ptr(cache->cpu, cpu);

		spin_lock_init(&c->lock);
		for (k = 0; k < SNAPMAP_OBJ_KINDS; k++)
			for (i = 0; i < SNAPMAP_OBJ_CLASSES; i++)
				c->lists[k][i].tail = &c->lists[k][i].head;
	}
	for (i = 0; i < SNAPMAP_OBJ_CLASSES; i++)
		cache->cap[i] = min_t(u64, SNAPMAP_OBJ_LIST_MAX,
				      div64_u64(map->max_bytes,
						64ULL * snapmap_obj_size[i] *
						nr_cpu_ids));
	INIT_DELAYED_WORK(&cache->trim, snapmap_objcache_trim);
	return 0;
}

/**
 * snapmap_objcache_destroy() - free the object lists of a map nobody can
 * reach
 * @map: the map
 *
 * Context: process context; may sleep.
 */
void snapmap_objcache_destroy(struct snapmap *map)
{
	cancel_delayed_work_sync(&map->objcache.trim);
	/* No reader is left: no grace period to wait for. */
	snapmap_objcache_shrink(map, 0, false);
	free_percpu(map->objcache.cpu);
}
