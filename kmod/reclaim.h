/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - freeing what snapshots kept, and the map's byte limit
 * (reclaim.c)
 */

#ifndef _SNAPMAP_RECLAIM_H
#define _SNAPMAP_RECLAIM_H

#include "core.h"

void snapmap_reclaim_init(struct snapmap *map);
void snapmap_reclaim_exit(struct snapmap *map);
void snapmap_reclaim_kick(struct snapmap *map);
void snapmap_reclaim_over_limit(struct snapmap *map);

#endif /* _SNAPMAP_RECLAIM_H */
