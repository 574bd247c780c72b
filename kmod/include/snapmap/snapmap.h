/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - kernel API for other modules
 *
 * The same maps user space reaches through /dev/snapmap, used directly.
 * Keys and values are byte strings in kernel memory; flags and errors are
 * those of the uapi header <linux/snapmap.h>.
 *
 * Context: unless a function says otherwise, process context; functions
 * that write may sleep (they allocate with GFP_KERNEL_ACCOUNT).  None of
 * them may be called from hard interrupt context: the map's rhashtable
 * bucket locks only disable bottom halves.
 */

#ifndef _SNAPMAP_SNAPMAP_H
#define _SNAPMAP_SNAPMAP_H

#include <linux/snapmap.h>
#include <linux/types.h>

struct snapmap;

/**
 * struct snapmap_attr - parameters of a new map
 * @max_key_len: longest key; 0 for the module's default
 * @max_value_len: longest value; 0 for the module's default
 * @max_entries: most keys; 0 for the module's default
 * @max_bytes: most memory for entries; 0 for the module's default
 * @mode: permission bits checked when user space opens the map by name;
 *        0 means 0600
 * @name: NUL-terminated name, or NULL or "" for an unnamed map
 * @flags: ``SNAPMAP_CREATE_*`` of the uapi header: with
 *         %SNAPMAP_CREATE_PERSISTENT (a named map only), the map lives on
 *         after its last reference, until snapmap_unlink(); snapmap_clone()
 *         ignores it
 */
struct snapmap_attr {
	u32 max_key_len;
	u32 max_value_len;
	u64 max_entries;
	u64 max_bytes;
	umode_t mode;
	const char *name;
	u32 flags;
};

/**
 * typedef snapmap_lookup_fn - callback of snapmap_lookup_rcu()
 * @value: the value, valid only until the callback returns
 * @value_len: its length
 * @version: version of the entry
 * @arg: the argument given to snapmap_lookup_rcu()
 *
 * Context: RCU read-side critical section; must not sleep.
 *
 * Return: what snapmap_lookup_rcu() is to return; should not be -ENOENT.
 */
typedef int (*snapmap_lookup_fn)(const void *value, u32 value_len,
				 u64 version, void *arg);

/**
 * typedef snapmap_record_fn - callback of snapmap_snapshot_next()
 * @key: the record's key, valid only until the callback returns
 * @key_len: its length
 * @value: the record's value, valid only until the callback returns
 * @value_len: its length
 * @version: version of the entry
 * @arg: the argument given to snapmap_snapshot_next()
 *
 * Context: RCU read-side critical section; must not sleep.
 *
 * Return: 0 to take the record and go on; a positive number to stop
 * without taking it (the next call offers it again); a negative errno to
 * stop with that error, without taking it.
 */
typedef int (*snapmap_record_fn)(const void *key, u32 key_len,
				 const void *value, u32 value_len,
				 u64 version, void *arg);

struct snapmap_snapshot;

/**
 * struct snapmap_txn_check - a condition of snapmap_txn()
 * @kind: ``SNAPMAP_TXN_IF_*`` of the uapi header
 * @key_len: length of the key, 1 to the map's key length limit
 * @value_len: %SNAPMAP_TXN_IF_VALUE: length of the value; else 0
 * @key: the key
 * @value: %SNAPMAP_TXN_IF_VALUE: the value the key must have; else NULL
 * @version: %SNAPMAP_TXN_IF_VERSION: the version the key must have
 */
struct snapmap_txn_check {
	u32 kind;
	u32 key_len;
	u32 value_len;
	const void *key;
	const void *value;
	u64 version;
};

/**
 * struct snapmap_txn_write - a write of snapmap_txn()
 * @opcode: %SNAPMAP_TXN_PUT or %SNAPMAP_TXN_DEL of the uapi header
 * @key_len: length of the key, 1 to the map's key length limit
 * @value_len: PUT: length of the value, 0 to the map's value length
 *             limit; DEL: 0
 * @key: the key
 * @value: PUT: the value; DEL: NULL
 */
struct snapmap_txn_write {
	u32 opcode;
	u32 key_len;
	u32 value_len;
	const void *key;
	const void *value;
};

struct snapmap_watch;

/**
 * struct snapmap_watch_attr - parameters of a new watch
 * @flags: ``SNAPMAP_WATCH_*`` of the uapi header
 * @since: with %SNAPMAP_WATCH_SINCE, the version to start at; else 0
 * @prefix: only the changes of keys that start with these bytes, and
 *          CLEARs; copied
 * @prefix_len: its length; 0 for every key
 * @buffer_bytes: as &snapmap_watch_arg.buffer_bytes; 0 for the default
 * @wakeup_bytes: as &snapmap_watch_arg.wakeup_bytes: snapmap_watch_ready()
 *                and snapmap_watch_wait() wait for records of this many
 *                bytes; 0 for any record
 */
struct snapmap_watch_attr {
	u32 flags;
	u64 since;
	const void *prefix;
	u32 prefix_len;
	u64 buffer_bytes;
	u64 wakeup_bytes;
};

/**
 * typedef snapmap_change_fn - callback of snapmap_watch_next()
 * @change: the change, as read(2) on a watch fd yields its header
 * @key: its key, @change->key_len bytes, valid until the callback returns
 * @value: its value, @change->value_len bytes, valid as long
 * @arg: the argument given to snapmap_watch_next()
 *
 * Context: process context, outside RCU and the map's locks; may sleep.
 *
 * Return: 0 to take the change and go on; a positive number to stop
 * without taking it (the next call offers it again); a negative errno to
 * stop with that error, without taking it.
 */
typedef int (*snapmap_change_fn)(const struct snapmap_change *change,
				 const void *key, const void *value,
				 void *arg);

struct snapmap *snapmap_create(const struct snapmap_attr *attr);
struct snapmap *snapmap_find(const char *name);
int snapmap_unlink(const char *name);
void snapmap_get(struct snapmap *map);
void snapmap_put(struct snapmap *map);

int snapmap_lookup(struct snapmap *map, const void *key, u32 key_len,
		   void *value, u32 value_size, u32 *value_len, u64 *version);
int snapmap_lookup_rcu(struct snapmap *map, const void *key, u32 key_len,
		       snapmap_lookup_fn fn, void *arg);
int snapmap_update(struct snapmap *map, const void *key, u32 key_len,
		   const void *value, u32 value_len, u32 flags,
		   u64 expected_version, u64 *version);
int snapmap_cas(struct snapmap *map, const void *key, u32 key_len,
		const void *value, u32 value_len, u64 expected_version,
		u64 *version);
int snapmap_delete(struct snapmap *map, const void *key, u32 key_len,
		   u32 flags, u64 expected_version, u64 *version);
int snapmap_clear(struct snapmap *map, u64 *version);
int snapmap_txn(struct snapmap *map, const struct snapmap_txn_check *checks,
		unsigned int nr_checks, const struct snapmap_txn_write *writes,
		unsigned int nr_writes, u64 *version, unsigned int *failed);
void snapmap_get_info(struct snapmap *map, struct snapmap_info *info);

struct snapmap_snapshot *snapmap_snapshot_open(struct snapmap *map,
					       u32 flags);
int snapmap_snapshot_next(struct snapmap_snapshot *snap, snapmap_record_fn fn,
			  void *arg);
ssize_t snapmap_snapshot_read(struct snapmap_snapshot *snap, void *buf,
			      size_t size);
void snapmap_snapshot_rewind(struct snapmap_snapshot *snap);
void snapmap_snapshot_version(struct snapmap_snapshot *snap, u64 *version);
int snapmap_snapshot_lookup(struct snapmap_snapshot *snap, const void *key,
			    u32 key_len, void *value, u32 value_size,
			    u32 *value_len, u64 *version);
int snapmap_snapshot_lookup_rcu(struct snapmap_snapshot *snap,
				const void *key, u32 key_len,
				snapmap_lookup_fn fn, void *arg);
int snapmap_snapshot_get_info(struct snapmap_snapshot *snap,
			      struct snapmap_snapshot_info *info);
void snapmap_snapshot_close(struct snapmap_snapshot *snap);
struct snapmap *snapmap_clone(struct snapmap *map,
			      const struct snapmap_attr *attr, u64 *version);

struct snapmap_watch *snapmap_watch_open(struct snapmap *map,
					 const struct snapmap_watch_attr *attr,
					 u64 *version,
					 struct snapmap_snapshot **snapshot);
int snapmap_watch_next(struct snapmap_watch *watch, snapmap_change_fn fn,
		       void *arg);
bool snapmap_watch_ready(struct snapmap_watch *watch);
int snapmap_watch_wait(struct snapmap_watch *watch);
void snapmap_watch_close(struct snapmap_watch *watch);

#endif /* _SNAPMAP_SNAPMAP_H */
