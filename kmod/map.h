/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - the map core, as the rest of the module sees it
 *
 * The exported kernel API is in include/snapmap/snapmap.h; this header adds
 * what only the module itself needs.
 */

#ifndef _SNAPMAP_MAP_H
#define _SNAPMAP_MAP_H

#include <linux/gfp.h>
#include <snapmap/snapmap.h>

/*
 * What buffers for a caller's keys, values and records are allocated
 * with: charged to the caller's memory cgroup.  When that is full the call
 * fails with ENOMEM rather than wake the cgroup's OOM killer
 * (__GFP_RETRY_MAYFAIL, which kvmalloc() supports where __GFP_NORETRY it
 * does not), and quietly: the sizes are the caller's to choose.
 */
#define SNAPMAP_GFP_BUF (GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

struct seq_file;

/**
 * typedef snapmap_fill_fn - callback of snapmap_update_fill()
 * @arg: the argument given to snapmap_update_fill()
 * @data: where the value goes
 * @len: its length
 *
 * Context: process context, outside RCU and locks; may sleep.
 *
 * Return: 0 once @len bytes are at @data, or a negative errno.
 */
typedef int (*snapmap_fill_fn)(void *arg, void *data, u32 len);

int snapmap_update_fill(struct snapmap *map, const void *key, u32 key_len,
			u32 value_len, snapmap_fill_fn fill, void *arg,
			u32 flags, u64 expected_version, u64 *version);

/**
 * typedef snapmap_txn_fill_fn - callback of snapmap_txn_fill()
 * @arg: the argument given to snapmap_txn_fill()
 * @i: index of the write whose value to fill in
 * @data: where the value goes
 * @len: its length
 *
 * Context: process context, outside RCU and locks; may sleep.
 *
 * Return: 0 once @len bytes are at @data, or a negative errno.
 */
typedef int (*snapmap_txn_fill_fn)(void *arg, unsigned int i, void *data,
				   u32 len);

int snapmap_txn_fill(struct snapmap *map,
		     const struct snapmap_txn_check *checks,
		     unsigned int nr_checks,
		     const struct snapmap_txn_write *writes,
		     unsigned int nr_writes, snapmap_txn_fill_fn fill,
		     void *arg, u64 *version, unsigned int *failed);
int snapmap_txn_check_entry(struct snapmap *map,
			    const struct snapmap_txn_check *check);
int snapmap_txn_check_write(struct snapmap *map,
			    const struct snapmap_txn_write *write);

u32 snapmap_max_key_len(const struct snapmap *map);
u32 snapmap_max_value_len(const struct snapmap *map);
int snapmap_lookup_again(struct snapmap *map, const void *key, u32 key_len,
			 void *value, u32 value_size, u32 *value_len,
			 u64 *version);
struct snapmap *snapmap_open_named(const char *name, bool read_only);
void snapmap_show_all(struct seq_file *m);
u32 snapmap_describe(struct snapmap_map_desc *descs, u32 room, bool all,
		     bool admin);
int snapmap_delete_named(const char *name);
u32 snapmap_map_flags(const struct snapmap *map);
bool snapmap_snapshot_weak(const struct snapmap_snapshot *snap);
bool snapmap_snapshot_stale(const struct snapmap_snapshot *snap);
size_t snapmap_snapshot_max_record(const struct snapmap_snapshot *snap);
struct snapmap *snapmap_snapshot_map(const struct snapmap_snapshot *snap);
struct snapmap_snapshot *snapmap_snapshot_alloc(struct snapmap *map,
						u32 flags);
void snapmap_snapshot_start(struct snapmap_snapshot *snap);

/**
 * typedef snapmap_read_out_fn - callback of snapmap_snapshot_read_out()
 * @arg: the argument given to snapmap_snapshot_read_out()
 * @buf: whole records
 * @len: their size
 *
 * Context: process context, with the snapshot's mutex held; may sleep.
 *
 * Return: 0 if the reader took the records, or a negative errno.
 */
typedef int (*snapmap_read_out_fn)(void *arg, const void *buf, size_t len);

ssize_t snapmap_snapshot_read_out(struct snapmap_snapshot *snap, void *buf,
				  size_t size, snapmap_read_out_fn out,
				  void *arg);

struct wait_queue_head;
struct wait_queue_head *snapmap_watch_waitqueue(struct snapmap_watch *watch);
void snapmap_watch_show_fdinfo(struct seq_file *m, struct snapmap_watch *watch);
int snapmap_watch_check(struct snapmap *map,
			const struct snapmap_watch_attr *attr, bool snapshot);

#endif /* _SNAPMAP_MAP_H */
