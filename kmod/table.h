/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - the map's nodes, found by key (table.c)
 */

#ifndef _SNAPMAP_TABLE_H
#define _SNAPMAP_TABLE_H

#include <linux/jhash.h>
#include <linux/rhashtable.h>

#include "compat.h"
#include "core.h"

/* What rhashtable lookups are given: a key that is not yet a node. */
struct snapmap_key {
	const void *data;
	u32 len;
};

static inline u32 snapmap_key_hash(const void *data, u32 len, u32 seed)
{
	const struct snapmap_key *key = data;

	return jhash(key->data, key->len, seed);
}

static inline u32 snapmap_node_hash(const void *data, u32 len, u32 seed)
{
	const struct snapmap_node *node = data;

	return jhash(node->key, node->key_len, seed);
}

/* Whether @len bytes at @a and @b are equal, compared a word at a time. */
static __always_inline bool snapmap_key_equal(const u8 *a, const u8 *b,
					      u32 len)
{
	for (; len >= sizeof(u64); len -= sizeof(u64)) {
		if (get_unaligned((const u64 *)a) !=
		    get_unaligned((const u64 *)b))
			return false;
		a += sizeof(u64);
		b += sizeof(u64);
	}
	for (; len; len--)
		if (*a++ != *b++)
			return false;
	return true;
}

/*
 * Inlined into every lookup: the call cost as much as the compare of a
 * short key.  That is why the parameters live in this header: each
 * rhashtable call inlines the functions they name.
 */
static __always_inline int
snapmap_node_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct snapmap_key *key = arg->key;
	const struct snapmap_node *node = obj;

	return node->key_len != key->len ||
	       !snapmap_key_equal(node->key, key->data, key->len);
}

static const struct rhashtable_params snapmap_ht_params = {
	.head_offset = offsetof(struct snapmap_node, rhash),
	.hashfn = snapmap_key_hash,
	.obj_hashfn = snapmap_node_hash,
	.obj_cmpfn = snapmap_node_cmp,
	.automatic_shrinking = true,
};

/**
 * snapmap_node_lookup() - the node of a key
 * @map: the map
 * @key: the key
 *
 * Context: RCU read-side critical section.
 *
 * Return: the node, or NULL if the key has none.
 */
static __always_inline struct snapmap_node *
snapmap_node_lookup(struct snapmap *map, const struct snapmap_key *key)
{
	return rhashtable_lookup(&map->ht, key, snapmap_ht_params);
}

struct snapmap_node *snapmap_node_alloc(struct snapmap *map,
					const struct snapmap_key *key,
					const void *value, u32 len);
struct snapmap_node *snapmap_node_insert(struct snapmap *map,
					 const struct snapmap_key *key,
					 struct snapmap_node *node);
void snapmap_node_remove(struct snapmap *map, struct snapmap_node *node);
int snapmap_table_init(struct snapmap *map);
void snapmap_table_destroy(struct snapmap *map);

#endif /* _SNAPMAP_TABLE_H */
