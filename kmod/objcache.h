/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - nodes and versions recycled after a grace period (objcache.c)
 */

#ifndef _SNAPMAP_OBJCACHE_H
#define _SNAPMAP_OBJCACHE_H

#include "core.h"

int snapmap_objcache_init(struct snapmap *map);
void snapmap_objcache_destroy(struct snapmap *map);
void *snapmap_obj_reuse(struct snapmap *map, enum snapmap_obj_kind kind,
			size_t size);
void *snapmap_obj_alloc(struct snapmap *map, enum snapmap_obj_kind kind,
			size_t size, gfp_t gfp);
bool snapmap_obj_free_rcu(struct snapmap *map, enum snapmap_obj_kind kind,
			  void *obj, size_t size);
unsigned long snapmap_objcache_count(struct snapmap *map);
void snapmap_obj_discard(struct snapmap *map, enum snapmap_obj_kind kind,
			 void *obj, size_t size);

#endif /* _SNAPMAP_OBJCACHE_H */
