// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - the map's shard lists, and cursors that walk them
 *
 * Every node is on one of the map's shard lists, in creation order, each
 * node with a position higher than every node before it.  That gives the
 * map an iteration order that rhashtable resizes cannot disturb: a walk
 * goes shard by shard, and within a shard by position, so it meets every
 * node at most once.  A cursor can be parked on a node, which then stays
 * on its list even if it leaves the map, so that a walk can stop, sleep,
 * and go on where it was.
 *
 * A node's life ends here: it leaves the map's rhashtable first (under its
 * own lock, as a dead node), then its shard list, once no cursor is parked
 * on it, and is freed a grace period later.
 */

#include <linux/rculist.h>
#include <linux/slab.h>

#include "core.h"
#include "cursor.h"
#include "objcache.h"
#include "testhook.h"
#include "version.h"

/**
 * snapmap_node_free() - free a node and every version still on its chain
 * @node: the node, which nobody can reach: after a grace period, or when
 *        the map dies
 */
void snapmap_node_free(struct snapmap_node *node)
{
	struct snapmap_val *val, *older;

	val = rcu_dereference_protected(node->head, true);
	while (val) {
		older = rcu_dereference_protected(val->older, true);
		snapmap_val_free(node, val);
		val = older;
	}
	kfree(node);
}

/*
 * Free a dead node and its versions after a grace period, for the map to
 * reuse if it can.  Its chain no longer changes: writers leave dead nodes
 * alone.
 */
static void snapmap_node_free_rcu(struct snapmap *map,
				  struct snapmap_node *node)
{
	struct snapmap_val *first = snapmap_node_first(node);
	struct snapmap_val *val, *older;
	size_t size;

	val = rcu_dereference_protected(node->head, true);
	while (val) {
		older = rcu_dereference_protected(val->older, true);
		snapmap_val_free_rcu(map, node, val);
		val = older;
	}
	size = snapmap_node_size(node->key_len, first, first ? first->len : 0);
	if (!snapmap_obj_free_rcu(map, SNAPMAP_OBJ_NODE, node, size))
		kfree_rcu(node, rcu);
}

/*
 * Take a dead node off its shard list and free it after a grace period,
 * unless a cursor is parked on it: then the cursor does it when it moves
 * on.  Caller holds the shard's lock.
 */
static void snapmap_node_unlink(struct snapmap *map,
				struct snapmap_shard *shard,
				struct snapmap_node *node)
{
	lockdep_assert_held(&shard->lock);
	if (node->pins || node->unlinked)
		return;
	list_del_rcu(&node->link);
	node->unlinked = true;
	snapmap_node_free_rcu(map, node);
}

/**
 * snapmap_shard_add() - put a new node at the tail of its shard list
 * @map: the map
 * @node: the node, not yet in the map's rhashtable
 *
 * The node gets the next position of its shard, above every node already
 * there, which is what lets a cursor tell the nodes it has done.
 *
 * Context: any context but hard interrupts; takes the shard's lock.
 */
void snapmap_shard_add(struct snapmap *map, struct snapmap_node *node)
{
	struct snapmap_shard *shard = &map->shards[node->shard];

	spin_lock(&shard->lock);
	node->pos = ++shard->next_pos;
	list_add_tail_rcu(&node->link, &shard->nodes);
	spin_unlock(&shard->lock);
}

/**
 * snapmap_shard_del() - take a dead node off its shard list
 * @map: the map
 * @node: the node, marked dead under its lock
 *
 * The node is freed, with its chain, after a grace period; or, if a cursor
 * is parked on it, once that cursor moves on.
 *
 * Context: any context but hard interrupts; takes the shard's lock.
 */
void snapmap_shard_del(struct snapmap *map, struct snapmap_node *node)
{
	struct snapmap_shard *shard = &map->shards[node->shard];

	spin_lock(&shard->lock);
	snapmap_node_unlink(map, shard, node);
	spin_unlock(&shard->lock);
}

/**
 * snapmap_cursor_ends() - where each shard list ends now
 * @map: the map
 * @ends: filled in with the position of the last node added to each
 *        shard list so far: %SNAPMAP_NR_SHARDS of them
 *
 * A walk that skips nodes beyond @ends meets only nodes made before this
 * call.
 *
 * Context: any context but hard interrupts; takes the shard locks one at
 * a time.
 */
void snapmap_cursor_ends(struct snapmap *map, u64 *ends)
{
	struct snapmap_shard *shard;
	unsigned int i;

	for (i = 0; i < SNAPMAP_NR_SHARDS; i++) {
		shard = &map->shards[i];
		spin_lock(&shard->lock);
		ends[i] = shard->next_pos;
		spin_unlock(&shard->lock);
	}
}

/* Drop a cursor's pin; caller holds the lock of the node's shard. */
static void snapmap_node_unpin(struct snapmap *map,
			       struct snapmap_shard *shard,
			       struct snapmap_node *node)
{
	lockdep_assert_held(&shard->lock);
	if (--node->pins == 0 && READ_ONCE(node->dead))
		snapmap_node_unlink(map, shard, node);
}

/**
 * snapmap_cursor_next() - the next node of a walk of the whole map
 * @map: the map
 * @cursor: where the walk stands
 * @node: the node this function returned last in the current RCU
 *        read-side critical section, or NULL to start from @cursor
 *
 * Walks the shard lists in order.  The caller marks a node done by setting
 * @cursor->pos to the node's position; a node not marked done is returned
 * again after snapmap_cursor_park().
 *
 * Context: RCU read-side critical section.
 *
 * Return: the next node not yet done, or NULL at the end of the map.
 */
struct snapmap_node *snapmap_cursor_next(struct snapmap *map,
					 struct snapmap_cursor *cursor,
					 struct snapmap_node *node)
{
	struct snapmap_shard *shard;

	while (cursor->shard < SNAPMAP_NR_SHARDS) {
		shard = &map->shards[cursor->shard];
		if (!node)
			node = cursor->pin ?: list_entry(&shard->nodes,
							 struct snapmap_node,
							 link);
		list_for_each_entry_continue_rcu(node, &shard->nodes, link)
			if (node->pos > cursor->pos) {
				snapmap_test_count(SNAPMAP_TEST_NODES_WALKED,
						   1);
				return node;
			}

		/* This shard is done: go on with the next one. */
		spin_lock(&shard->lock);
		if (cursor->pin)
			snapmap_node_unpin(map, shard, cursor->pin);
		spin_unlock(&shard->lock);
		cursor->pin = NULL;
		cursor->pos = 0;
		cursor->shard++;
		node = NULL;
	}
	return NULL;
}

/**
 * snapmap_cursor_park() - make a cursor safe to keep outside RCU
 * @map: the map
 * @cursor: the cursor; @cursor->pos says which nodes are done
 *
 * Pins the node of highest position at most @cursor->pos still on the
 * shard list, so that the walk can go on from it after sleeping.
 *
 * Context: any context but hard interrupts; takes a shard lock.
 */
void snapmap_cursor_park(struct snapmap *map, struct snapmap_cursor *cursor)
{
	struct snapmap_node *pin = cursor->pin, *next;
	struct snapmap_shard *shard;
	struct list_head *pos;

	if (cursor->shard >= SNAPMAP_NR_SHARDS)
		return;
	shard = &map->shards[cursor->shard];

	/* Under the lock, every node on the list is linked. */
	spin_lock(&shard->lock);
	pos = pin ? &pin->link : &shard->nodes;
	while (pos->next != &shard->nodes) {
		next = list_entry(pos->next, struct snapmap_node, link);
		if (next->pos > cursor->pos)
			break;
		pos = pos->next;
	}
	if (pos != (pin ? &pin->link : &shard->nodes)) {
		next = list_entry(pos, struct snapmap_node, link);
		next->pins++;
		if (pin)
			snapmap_node_unpin(map, shard, pin);
		cursor->pin = next;
	}
	spin_unlock(&shard->lock);
}

/**
 * snapmap_cursor_reset() - move a cursor back to the start of the map
 * @map: the map
 * @cursor: the cursor, parked or new
 *
 * Also the way to drop a cursor: it then pins nothing.
 *
 * Context: any context but hard interrupts; takes a shard lock.
 */
void snapmap_cursor_reset(struct snapmap *map, struct snapmap_cursor *cursor)
{
	struct snapmap_shard *shard;

	if (cursor->pin) {
		shard = &map->shards[cursor->shard];
		spin_lock(&shard->lock);
		snapmap_node_unpin(map, shard, cursor->pin);
		spin_unlock(&shard->lock);
	}
	cursor->shard = 0;
	cursor->pos = 0;
	cursor->pin = NULL;
}
