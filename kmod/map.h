/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - the map core, as the rest of the module sees it
 *
 * The exported kernel API is in include/snapmap/snapmap.h; this header adds
 * what only the module itself needs.
 */

#ifndef _SNAPMAP_MAP_H
#define _SNAPMAP_MAP_H

#include <snapmap/snapmap.h>

struct seq_file;

u32 snapmap_max_key_len(const struct snapmap *map);
u32 snapmap_max_value_len(const struct snapmap *map);
struct snapmap *snapmap_open_named(const char *name, bool read_only);
void snapmap_show_all(struct seq_file *m);
u32 snapmap_count_named(void);
u32 snapmap_describe_named(struct snapmap_map_desc *descs, u32 room);
size_t snapmap_snapshot_max_record(const struct snapmap_snapshot *snap);

#endif /* _SNAPMAP_MAP_H */
