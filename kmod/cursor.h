/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - the map's shard lists, and cursors that walk them (cursor.c)
 */

#ifndef _SNAPMAP_CURSOR_H
#define _SNAPMAP_CURSOR_H

#include "core.h"

void snapmap_node_free(struct snapmap_node *node);
void snapmap_shard_add(struct snapmap *map, struct snapmap_node *node);
void snapmap_shard_del(struct snapmap *map, struct snapmap_node *node);
struct snapmap_node *snapmap_cursor_next(struct snapmap *map,
					 struct snapmap_cursor *cursor,
					 struct snapmap_node *node);
void snapmap_cursor_park(struct snapmap *map, struct snapmap_cursor *cursor);
void snapmap_cursor_reset(struct snapmap *map, struct snapmap_cursor *cursor);
void snapmap_cursor_ends(struct snapmap *map, u64 *ends);

#endif /* _SNAPMAP_CURSOR_H */
