/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - a key's chain of versions (version.c)
 */

#ifndef _SNAPMAP_VERSION_H
#define _SNAPMAP_VERSION_H

#include "core.h"

/* What a version of a @len-byte value is charged, header included. */
static inline size_t snapmap_val_charge(u32 len)
{
	return sizeof(struct snapmap_val) +
	       (len == SNAPMAP_TOMBSTONE ? 0 : len);
}

void snapmap_val_init(struct snapmap_val *val, const void *value, u32 len);
struct snapmap_val *snapmap_val_alloc(struct snapmap *map, const void *value,
				      u32 len);
struct snapmap_val *snapmap_val_reuse(struct snapmap *map, const void *value,
				      u32 len);
void snapmap_val_discard(struct snapmap *map, struct snapmap_val *val);
void snapmap_val_free(struct snapmap_node *node, struct snapmap_val *val);
void snapmap_val_free_rcu(struct snapmap *map, struct snapmap_node *node,
			  struct snapmap_val *val);
u64 snapmap_val_share(struct snapmap_val *leader);
u64 snapmap_val_stamp(struct snapmap *map, struct snapmap_val *val);
struct snapmap_val *snapmap_val_replaced(struct snapmap *map,
					 struct snapmap_val *val, u64 *version);
u64 snapmap_val_version_acquire(struct snapmap *map, struct snapmap_val *val);
struct snapmap_val *snapmap_val_at(struct snapmap *map,
				   struct snapmap_node *node, u64 v,
				   u64 *version);
bool snapmap_chain_trim(struct snapmap *map, struct snapmap_node *node,
			bool whole);

/**
 * snapmap_val_version() - the version of @val, stamping it if need be
 * @map: the map @val belongs to
 * @val: a version found on a chain
 *
 * Every reader calls this before it acts on a version, which is what makes
 * a write visible only once its stamp is fixed.  Inline: every lookup
 * takes the fast path.
 *
 * Return: the stamp, or %SNAPMAP_VERSION_PREPARING for a version of a
 * transaction not committed yet, which no reader may use.
 */
static __always_inline u64 snapmap_val_version(struct snapmap *map,
					       struct snapmap_val *val)
{
	u64 version = atomic64_read(&val->version);

	if (likely(version != SNAPMAP_VERSION_PENDING &&
		   version < SNAPMAP_VERSION_PREPARING))
		return version;
	return snapmap_val_stamp(map, val);
}

u64 snapmap_clear_below(struct snapmap *map, u64 v);

/**
 * snapmap_clear_seen() - the newest clear a reader sees
 * @map: the map
 * @v: the reader's V, or %U64_MAX for a reader of the present map
 *
 * A reader looks at the clears before it looks at a chain: a clear's
 * record leaves the list only once every key it deleted has a deletion of
 * its own (snapmap_clear_settle()), and the acquire pairs with that, so a
 * reader that finds the list without the record finds the deletion.  The
 * other way round, it could read a chain before the deletion was pushed
 * and the list after the record left.
 *
 * Context: RCU read-side critical section.
 *
 * Return: the version of the newest clear below @v, or 0: every version
 * stamped below it is deleted, for the reader.
 */
static __always_inline u64 snapmap_clear_seen(struct snapmap *map, u64 v)
{
	/* Pairs with snapmap_clear_prune(), as said above. */
	if (likely(smp_load_acquire(&map->clears.next) == &map->clears))
		return 0;
	return snapmap_clear_below(map, v);
}

/**
 * snapmap_val_newest() - a key's newest version that readers may use
 * @map: the map
 * @node: the key's node
 * @version: set to the version's stamp, if there is one
 *
 * The head of the chain, unless it belongs to a transaction that has not
 * committed yet: then the version below it, which is stamped, since only
 * the head of a chain can be pending.
 *
 * Context: RCU read-side critical section.
 *
 * Return: the version, which may be a deletion, or NULL if the key has
 * none, or a clear deleted it.
 */
static __always_inline struct snapmap_val *
snapmap_val_newest(struct snapmap *map, struct snapmap_node *node,
		   u64 *version)
{
	u64 cleared = snapmap_clear_seen(map, U64_MAX);
	struct snapmap_val *val = rcu_dereference(node->head);

	if (!val)
		return NULL;
	*version = snapmap_val_version(map, val);
	if (unlikely(*version == SNAPMAP_VERSION_PREPARING))
		val = snapmap_val_replaced(map, val, version);
	return val && *version > cleared ? val : NULL;
}

#endif /* _SNAPMAP_VERSION_H */
