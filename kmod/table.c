// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - the map's nodes: one per key, found by key in an rhashtable
 *
 * A node enters the map empty or with its first version inside it, and
 * leaves it once its chain is down to a deletion.  What a node costs is
 * counted in the map's bytes from the moment it is in the table.
 */

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "clear.h"
#include "core.h"
#include "cursor.h"
#include "objcache.h"
#include "table.h"
#include "version.h"

static size_t snapmap_node_charge(u32 key_len)
{
	return sizeof(struct snapmap_node) + key_len;
}

/**
 * snapmap_node_alloc() - a new node, not yet in the map
 * @map: the map, whose memory cgroup is charged
 * @key: the key
 * @value: the key's first value
 * @len: its length
 *
 * The node holds @value as its first version, not yet published, if it is
 * short enough (snapmap_node_first()).  Free it with kfree() until
 * snapmap_node_insert() takes it.
 *
 * Return: the node, or NULL.
 */
struct snapmap_node *snapmap_node_alloc(struct snapmap *map,
					const struct snapmap_key *key,
					const void *value, u32 len)
{
	bool first_inline = len <= SNAPMAP_INLINE_MAX;
	struct snapmap_node *node;

	node = snapmap_obj_alloc(map, SNAPMAP_OBJ_NODE,
				 snapmap_node_size(key->len, first_inline, len),
				 SNAPMAP_GFP);
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

/**
 * snapmap_node_insert() - put a new, empty node in the map
 * @map: the map
 * @key: the node's key
 * @node: the node, from snapmap_node_alloc(); consumed
 *
 * Context: RCU read-side critical section, which keeps the returned node
 * alive.
 *
 * Return: @node; the node another writer inserted first; ERR_PTR(-EBUSY)
 * if the table is being rehashed (retry outside RCU); ERR_PTR(-ENOMEM) or
 * ERR_PTR(-ENOSPC).
 */
struct snapmap_node *snapmap_node_insert(struct snapmap *map,
					 const struct snapmap_key *key,
					 struct snapmap_node *node)
{
	size_t charge = snapmap_node_charge(node->key_len);
	struct snapmap_node *old;

	/*
	 * On the shard list before it can be found, so that a version
	 * stamped on it is never missed by an iteration that starts later.
	 */
	atomic64_add(charge, &map->live);
	atomic64_add(charge, &map->bytes);
	snapmap_shard_add(map, node);

	old = rhashtable_lookup_get_insert_key(&map->ht, key, &node->rhash,
					       snapmap_ht_params);
	if (!old)
		return node;

	/* Another writer's node won, or the insertion failed. */
	node->dead = true;
	atomic64_sub(charge, &map->live);
	atomic64_sub(charge, &map->bytes);
	snapmap_shard_del(map, node);
	/* E2BIG means a full table: to callers, a full map. */
	return old == ERR_PTR(-E2BIG) ? ERR_PTR(-ENOSPC) : old;
}

/**
 * snapmap_node_remove() - take a node out of the map
 * @map: the map
 * @node: the node
 *
 * The node is marked dead, leaves the rhashtable and its shard list, and
 * is freed with its chain after a grace period.  Its bytes leave the map's
 * counts now.
 *
 * Context: the node's lock held.
 */
void snapmap_node_remove(struct snapmap *map, struct snapmap_node *node)
{
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

	snapmap_shard_del(map, node);
}

/* rhashtable_free_and_destroy() callback, when the map dies. */
static void snapmap_node_free_ht(void *ptr, void *arg)
{
	snapmap_node_free(ptr);
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
	err = snapmap_objcache_init(map);
	if (err)
		goto err_stats;
	err = snapmap_clear_init(map);
	if (err)
		goto err_objcache;
	err = rhashtable_init(&map->ht, &snapmap_ht_params);
	if (err)
		goto err_clear;
	return 0;

err_clear:
	snapmap_clear_destroy(map);
err_objcache:
	snapmap_objcache_destroy(map);
err_stats:
	free_percpu(map->stats);
	return err;
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
	snapmap_clear_destroy(map);
	snapmap_objcache_destroy(map);
	free_percpu(map->stats);
}
