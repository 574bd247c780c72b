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
u64 snapmap_val_stamp(struct snapmap *map, struct snapmap_val *val);
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
 * Return: the stamp.
 */
static __always_inline u64 snapmap_val_version(struct snapmap *map,
					       struct snapmap_val *val)
{
	u64 version = atomic64_read(&val->version);

	if (likely(version != SNAPMAP_VERSION_PENDING))
		return version;
	return snapmap_val_stamp(map, val);
}

#endif /* _SNAPMAP_VERSION_H */
