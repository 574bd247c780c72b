/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - CLEAR: every key deleted at one version (clear.c)
 */

#ifndef _SNAPMAP_CLEAR_H
#define _SNAPMAP_CLEAR_H

#include "core.h"

int snapmap_clear_init(struct snapmap *map);
void snapmap_clear_destroy(struct snapmap *map);
bool snapmap_clear_settle(struct snapmap *map, struct snapmap_node *node,
			  struct snapmap_val **spare);
void snapmap_clear_prune(struct snapmap *map, u64 before);
void snapmap_clear_make_room(struct snapmap *map, u64 entries, u64 bytes);

/* Whether the map has clears to apply: a write then brings a deletion. */
static inline bool snapmap_clear_pending(struct snapmap *map)
{
	return !list_empty(&map->clears);
}

#endif /* _SNAPMAP_CLEAR_H */
