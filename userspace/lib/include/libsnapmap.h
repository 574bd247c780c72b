/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libsnapmap - user space library for the snapmap kernel module
 *
 * Conventions, for every function:
 * - it returns 0 (or a file descriptor, or a count) on success and a
 *   negative errno on failure, which it also stores in errno; it never
 *   relies on errno, and leaves it as it was on success;
 * - it is thread-safe: it keeps no state of its own, except in a
 *   &struct snapmap_snapshot or &struct snapmap_watch, which one thread
 *   uses at a time;
 * - file descriptors it opens are close-on-exec;
 * - a @ctl_fd argument is a descriptor of snapmap_ctl_open(), or -1 to let
 *   the call open /dev/snapmap and close it again itself;
 * - an options structure may be NULL for every default.  It starts with
 *   its own size, so it can grow while programs built against an older
 *   header keep working: declare one with SNAPMAP_OPTS();
 * - every other structure it reads or writes, or array of them, travels
 *   with the caller's size of it: the ``*_sz()`` functions take it as
 *   their last arguments, and the functions of the same name without
 *   ``_sz`` are inline wrappers, below, that pass ``sizeof`` as the
 *   program was compiled.  The library writes no more than that size,
 *   and passes it to the module, so that a structure may grow at its end
 *   in a newer header or module while older programs keep working.
 *   Programs built against libsnapmap 1.2 or older call the versions of
 *   these functions that assume the layouts of their release.
 *
 * The errno values are those of the ioctls (see the "errno values" table
 * of <linux/snapmap.h>), plus EOPNOTSUPP when the loaded module is older
 * than the library and does not have the command, or the flag.
 *
 * Functions added in libsnapmap 1.1 (version node LIBSNAPMAP_1.1) say so;
 * they need a module of ABI version 2 (%SNAPMAP_FEATURE_TXN).  Those of
 * libsnapmap 1.2 (LIBSNAPMAP_1.2), watches, need ABI version 3
 * (%SNAPMAP_FEATURE_WATCH).  libsnapmap 1.3 (LIBSNAPMAP_1.3) added the
 * ``*_sz()`` functions, which any module takes, persistent maps and the
 * listing of every map, which need ABI version 4
 * (%SNAPMAP_FEATURE_PERSISTENT), and &snapmap_watch_opts.wakeup_bytes,
 * which needs ABI version 5 (%SNAPMAP_FEATURE_WATCH_WAKEUP) when it is
 * not 0.  A member added to an options structure says so, as a function
 * does.
 */

#ifndef _LIBSNAPMAP_H
#define _LIBSNAPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include <linux/snapmap.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library's version: the first two numbers of snapmap's (the file
 * VERSION of the source tree), the second one that of the newest version
 * node.
 */
#define LIBSNAPMAP_MAJOR_VERSION 1
#define LIBSNAPMAP_MINOR_VERSION 3

/**
 * snapmap_lib_version() - the library's version, as "MAJOR.MINOR"
 *
 * Of the library loaded at run time, which may be newer than the header
 * the program was built with.
 */
const char *snapmap_lib_version(void);

/**
 * SNAPMAP_OPTS() - declare and initialize an options structure
 * @type: the structure's name without ``struct``, e.g. snapmap_create_opts
 * @name: the variable's name
 *
 * Sets the structure's @sz member and zeroes every member not named in
 * the designated initializers that follow, as libbpf's LIBBPF_OPTS().
 */
#define SNAPMAP_OPTS(type, name, ...)					\
	struct type name = {						\
		.sz = sizeof(struct type),				\
		__VA_ARGS__						\
	}

/*
 * The control device
 */

/**
 * snapmap_ctl_open() - open the control device /dev/snapmap
 *
 * Return: a file descriptor or a negative errno (ENOENT when the module is
 * not loaded).
 */
int snapmap_ctl_open(void);

/**
 * snapmap_api_sz() - the API handshake
 * @ctl_fd: control fd, or -1
 * @api: filled with the module's ABI version, features and ioctls
 * @api_size: sizeof(*@api) as the caller knows it; @api->size is set to it
 *
 * Writes at most @api_size bytes.  Added in libsnapmap 1.3.
 *
 * Return: 0 or a negative errno: EINVAL for a NULL @api or an @api_size
 * below that of the first &struct snapmap_api.
 */
int snapmap_api_sz(int ctl_fd, struct snapmap_api *api, size_t api_size);

/* snapmap_api_sz() with the caller's sizeof. */
static inline int snapmap_api(int ctl_fd, struct snapmap_api *api)
{
	return snapmap_api_sz(ctl_fd, api, sizeof(*api));
}

/**
 * snapmap_has_cmd() - whether a handshake's module has a command
 * @api: the answer of snapmap_api()
 * @cmd: a ``SNAPMAP_CMD_*``
 *
 * Return: whether it has; false with errno set to EINVAL for a NULL @api.
 */
bool snapmap_has_cmd(const struct snapmap_api *api, unsigned int cmd);

/*
 * Maps
 */

/**
 * struct snapmap_create_opts - options of snapmap_create()
 * @sz: sizeof(struct snapmap_create_opts); set by SNAPMAP_OPTS()
 * @max_key_len: longest key; 0 for the module's default
 * @max_value_len: longest value; 0 for the module's default
 * @max_entries: most keys; 0 for the module's default
 * @max_bytes: most memory, counting the per-entry overhead; 0 for the
 *             module's default
 * @mode: permission bits for snapmap_open() by others; 0 for 0600
 * @name: name, or NULL (or "") for an unnamed map
 */
struct snapmap_create_opts {
	size_t sz;
	__u32 max_key_len;
	__u32 max_value_len;
	__u64 max_entries;
	__u64 max_bytes;
	__u32 mode;
	const char *name;
};

/**
 * snapmap_create() - create a map
 * @ctl_fd: control fd, or -1
 * @opts: limits, mode and name; NULL for the defaults
 *
 * Return: a map fd, opened for reading and writing, or a negative errno:
 * EINVAL for a bad option or name (longer than %SNAPMAP_NAME_LEN - 1),
 * EEXIST for a name taken, EDQUOT, ENOMEM, EMFILE (no map was made).
 */
int snapmap_create(int ctl_fd, const struct snapmap_create_opts *opts);

/**
 * snapmap_open() - open a named map
 * @ctl_fd: control fd, or -1
 * @name: the map's name
 * @flags: 0 or %SNAPMAP_OPEN_RDONLY
 *
 * Return: a map fd or a negative errno: ENOENT, EACCES, EINVAL, EMFILE.
 */
int snapmap_open(int ctl_fd, const char *name, __u32 flags);

/**
 * snapmap_list_sz() - the named maps
 * @ctl_fd: control fd, or -1
 * @descs: set to an array allocated with malloc(), for the caller to
 *         free(); NULL when there is no named map
 * @desc_size: sizeof(**@descs) as the caller knows it: the array's stride
 *
 * Added in libsnapmap 1.3.
 *
 * Return: the number of descriptions at @descs, or a negative errno:
 * EINVAL for a NULL @descs or a @desc_size outside
 * %SNAPMAP_MAP_DESC_SIZE_VER0 to %SNAPMAP_MAP_DESC_SIZE_MAX, EOPNOTSUPP
 * from a module without %SNAPMAP_IOC_LIST.
 */
int snapmap_list_sz(int ctl_fd, struct snapmap_map_desc **descs,
		    size_t desc_size);

/* snapmap_list_sz() with the caller's sizeof. */
static inline int snapmap_list(int ctl_fd, struct snapmap_map_desc **descs)
{
	return snapmap_list_sz(ctl_fd, descs, sizeof(**descs));
}

/**
 * snapmap_info_sz() - limits, usage and counters of a map
 * @map_fd: map fd
 * @info: filled in
 * @info_size: sizeof(*@info) as the caller knows it; @info->size is set to
 *             it, and the module fills what it knows of that many bytes
 *             and zeroes the rest
 *
 * Added in libsnapmap 1.3.
 *
 * Return: 0 or a negative errno: EINVAL for a NULL @info or an @info_size
 * below that of the first &struct snapmap_info.
 */
int snapmap_info_sz(int map_fd, struct snapmap_info *info, size_t info_size);

/* snapmap_info_sz() with the caller's sizeof. */
static inline int snapmap_info(int map_fd, struct snapmap_info *info)
{
	return snapmap_info_sz(map_fd, info, sizeof(*info));
}

/*
 * Keys
 */

/**
 * snapmap_get() - look a key up
 * @map_fd: map fd
 * @key: the key
 * @key_len: its length
 * @value: buffer for the value, or NULL if @value_len is 0
 * @value_len: in: the buffer's size; out: the value's length
 * @version: set to the entry's version; may be NULL
 *
 * Return: 0, or a negative errno: ENOENT for an absent key, ERANGE when
 * the buffer is too small (@value_len and @version are set all the same,
 * so that the caller can retry with a larger buffer), EMSGSIZE, EINVAL.
 */
int snapmap_get(int map_fd, const void *key, __u32 key_len, void *value,
		__u32 *value_len, __u64 *version);

/**
 * snapmap_put() - insert or replace a key
 * @map_fd: map fd, opened for writing
 * @key: the key
 * @key_len: its length
 * @value: the value
 * @value_len: its length, which may be 0
 * @flags: 0, %SNAPMAP_PUT_NOEXIST or %SNAPMAP_PUT_EXIST
 * @version: set to the new entry's version; may be NULL
 *
 * Return: 0, or a negative errno: EEXIST (NOEXIST), ENOENT (EXIST),
 * ENOSPC, EMSGSIZE, EBADF for a read-only fd, EINVAL, ENOMEM.
 */
int snapmap_put(int map_fd, const void *key, __u32 key_len,
		const void *value, __u32 value_len, __u32 flags,
		__u64 *version);

/**
 * snapmap_cas() - replace a key's value if its version is the one given
 * @map_fd: map fd, opened for writing
 * @key: the key
 * @key_len: its length
 * @value: the new value
 * @value_len: its length
 * @expected: the version the entry must have
 * @version: set to the new entry's version; may be NULL
 *
 * Return: 0, or a negative errno: ECANCELED when the version differs or
 * the key is absent, and those of snapmap_put().
 */
int snapmap_cas(int map_fd, const void *key, __u32 key_len,
		const void *value, __u32 value_len, __u64 expected,
		__u64 *version);

/**
 * snapmap_del() - delete a key
 * @map_fd: map fd, opened for writing
 * @key: the key
 * @key_len: its length
 * @version: set to the deletion's version; may be NULL
 *
 * Return: 0, or a negative errno: ENOENT, EBADF, EMSGSIZE, EINVAL.
 */
int snapmap_del(int map_fd, const void *key, __u32 key_len, __u64 *version);

/**
 * snapmap_del_if() - delete a key if its version is the one given
 * @map_fd: map fd, opened for writing
 * @key: the key
 * @key_len: its length
 * @expected: the version the entry must have
 * @version: set to the deletion's version; may be NULL
 *
 * Return: 0, or a negative errno: ECANCELED when the version differs or
 * the key is absent, and those of snapmap_del().
 */
int snapmap_del_if(int map_fd, const void *key, __u32 key_len,
		   __u64 expected, __u64 *version);

/**
 * snapmap_clear() - delete every key
 * @map_fd: map fd, opened for writing
 * @version: set to the version of the clear; may be NULL
 *
 * Every key at one version: see &struct snapmap_clear.
 *
 * Return: 0 or a negative errno.
 */
int snapmap_clear(int map_fd, __u64 *version);

/*
 * Batches
 */

/*
 * The helpers that fill in an operation are inline: they zero the whole
 * operation as the program knows it, whatever the library's size of it.
 */

/**
 * snapmap_batch_get() - fill in a GET operation of a batch
 * @op: the operation
 * @key: the key
 * @key_len: its length
 * @value: buffer for the value
 * @value_len: its size
 */
static inline void snapmap_batch_get(struct snapmap_batch_op *op,
				     const void *key, __u32 key_len,
				     void *value, __u32 value_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_GET;
	op->key_len = key_len;
	op->value_len = value_len;
	op->key = (__u64)(uintptr_t)key;
	op->value = (__u64)(uintptr_t)value;
}

/**
 * snapmap_batch_put() - fill in a PUT operation of a batch
 * @op: the operation
 * @key: the key
 * @key_len: its length
 * @value: the value
 * @value_len: its length
 * @flags: as snapmap_put()'s
 */
static inline void snapmap_batch_put(struct snapmap_batch_op *op,
				     const void *key, __u32 key_len,
				     const void *value, __u32 value_len,
				     __u32 flags)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_PUT;
	op->flags = flags;
	op->key_len = key_len;
	op->value_len = value_len;
	op->key = (__u64)(uintptr_t)key;
	op->value = (__u64)(uintptr_t)value;
}

/**
 * snapmap_batch_del() - fill in a DEL operation of a batch
 * @op: the operation
 * @key: the key
 * @key_len: its length
 */
static inline void snapmap_batch_del(struct snapmap_batch_op *op,
				     const void *key, __u32 key_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_DEL;
	op->key_len = key_len;
	op->key = (__u64)(uintptr_t)key;
}

/**
 * snapmap_batch_sz() - run several operations in order
 * @map_fd: map fd
 * @ops: the operations, filled in by the snapmap_batch_*() helpers (or by
 *       hand: conditional PUTs and DELs set @version and their flag)
 * @count: how many; more than %SNAPMAP_BATCH_MAX are sent in several
 *         calls
 * @flags: 0 or %SNAPMAP_BATCH_STOP_ON_ERROR
 * @op_size: sizeof(*@ops) as the caller knows it: the array's stride
 *
 * Each operation's outcome is in its out_result (0 or a negative errno),
 * out_value_len and out_version.  With %SNAPMAP_BATCH_STOP_ON_ERROR the
 * batch stops after the first operation that fails.  Added in libsnapmap
 * 1.3.
 *
 * Return: the number of operations run (all of them, unless stopped), or
 * a negative errno for an error of the batch itself (EINVAL, among others
 * for an @op_size below that of the first &struct snapmap_batch_op;
 * E2BIG from the module for an operation larger than it knows with a
 * non-zero tail; EFAULT); when that happens after a first call of
 * several, the operations before it have run and show their results.
 */
int snapmap_batch_sz(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		     __u32 flags, size_t op_size);

/* snapmap_batch_sz() with the caller's sizeof. */
static inline int snapmap_batch(int map_fd, struct snapmap_batch_op *ops,
				__u32 count, __u32 flags)
{
	return snapmap_batch_sz(map_fd, ops, count, flags, sizeof(*ops));
}

/**
 * snapmap_mget_sz() - look several keys up at one version
 * @map_fd: map fd
 * @ops: the lookups, each filled in by snapmap_batch_get()
 * @count: how many, at most %SNAPMAP_BATCH_MAX: they go in one call
 * @version: set to the version the map was read at (the values are those
 *           the keys held just before it); may be NULL
 * @op_size: sizeof(*@ops) as the caller knows it: the array's stride
 *
 * A batch with %SNAPMAP_BATCH_SNAPSHOT: the values are those the keys all
 * held at one instant, as an ATOMIC snapshot would show them, taken and
 * dropped within the call.  Each lookup's outcome is in its out_result,
 * out_value_len and out_version, as for snapmap_batch(): -ENOENT for a
 * key absent at that instant, -ERANGE for a buffer too small.  Any
 * operation other than a GET gets -EINVAL in its out_result and does not
 * run.  Added in libsnapmap 1.3; snapmap_mget() in 1.1.
 *
 * Return: the number of operations run (@count), or a negative errno for
 * the batch itself: EINVAL (@count above %SNAPMAP_BATCH_MAX, @op_size as
 * for snapmap_batch_sz()), ENOSPC and EDQUOT (the caps on open
 * snapshots), ESTALE (the batch's snapshot went stale before the batch
 * was done: try again), EFAULT, EOPNOTSUPP from a module without
 * %SNAPMAP_FEATURE_TXN.
 */
int snapmap_mget_sz(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		    __u64 *version, size_t op_size);

/* snapmap_mget_sz() with the caller's sizeof. */
static inline int snapmap_mget(int map_fd, struct snapmap_batch_op *ops,
			       __u32 count, __u64 *version)
{
	return snapmap_mget_sz(map_fd, ops, count, version, sizeof(*ops));
}

/*
 * Transactions
 */

/**
 * snapmap_txn_if_version() - fill in a condition: the key has this version
 * @c: the condition
 * @key: the key
 * @key_len: its length
 * @version: the version the entry must have; an absent key fails it
 *
 * Added in libsnapmap 1.1, as every snapmap_txn*() function.  Inline, as
 * the helpers of batches.
 */
static inline void snapmap_txn_if_version(struct snapmap_txn_cond *c,
					  const void *key, __u32 key_len,
					  __u64 version)
{
	memset(c, 0, sizeof(*c));
	c->kind = SNAPMAP_TXN_IF_VERSION;
	c->key_len = key_len;
	c->key = (__u64)(uintptr_t)key;
	c->version = version;
}

/**
 * snapmap_txn_if_present() - fill in a condition: the key is present
 * @c: the condition
 * @key: the key
 * @key_len: its length
 */
static inline void snapmap_txn_if_present(struct snapmap_txn_cond *c,
					  const void *key, __u32 key_len)
{
	memset(c, 0, sizeof(*c));
	c->kind = SNAPMAP_TXN_IF_PRESENT;
	c->key_len = key_len;
	c->key = (__u64)(uintptr_t)key;
}

/**
 * snapmap_txn_if_absent() - fill in a condition: the key is absent
 * @c: the condition
 * @key: the key
 * @key_len: its length
 */
static inline void snapmap_txn_if_absent(struct snapmap_txn_cond *c,
					 const void *key, __u32 key_len)
{
	memset(c, 0, sizeof(*c));
	c->kind = SNAPMAP_TXN_IF_ABSENT;
	c->key_len = key_len;
	c->key = (__u64)(uintptr_t)key;
}

/**
 * snapmap_txn_if_value() - fill in a condition: the key has this value
 * @c: the condition
 * @key: the key
 * @key_len: its length
 * @value: the value the entry must have
 * @value_len: its length, which may be 0; an absent key fails it
 */
static inline void snapmap_txn_if_value(struct snapmap_txn_cond *c,
					const void *key, __u32 key_len,
					const void *value, __u32 value_len)
{
	memset(c, 0, sizeof(*c));
	c->kind = SNAPMAP_TXN_IF_VALUE;
	c->key_len = key_len;
	c->value_len = value_len;
	c->key = (__u64)(uintptr_t)key;
	c->value = (__u64)(uintptr_t)value;
}

/**
 * snapmap_txn_put() - fill in a write of a transaction: insert or replace
 * @op: the write
 * @key: the key
 * @key_len: its length
 * @value: the value
 * @value_len: its length, which may be 0
 */
static inline void snapmap_txn_put(struct snapmap_txn_op *op,
				   const void *key, __u32 key_len,
				   const void *value, __u32 value_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_TXN_PUT;
	op->key_len = key_len;
	op->value_len = value_len;
	op->key = (__u64)(uintptr_t)key;
	op->value = (__u64)(uintptr_t)value;
}

/**
 * snapmap_txn_del() - fill in a write of a transaction: delete
 * @op: the write
 * @key: the key
 * @key_len: its length
 *
 * Deleting an absent key is no error, and changes nothing.
 */
static inline void snapmap_txn_del(struct snapmap_txn_op *op,
				   const void *key, __u32 key_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_TXN_DEL;
	op->key_len = key_len;
	op->key = (__u64)(uintptr_t)key;
}

/**
 * snapmap_txn_sz() - check conditions and, if all hold, write at one
 * version
 * @map_fd: map fd, opened for writing
 * @conds: the conditions, filled in by the snapmap_txn_if_*() helpers; may
 *         be NULL if @cond_count is 0
 * @cond_count: how many, at most %SNAPMAP_TXN_MAX_CONDS
 * @ops: the writes, filled in by snapmap_txn_put() and snapmap_txn_del(),
 *       each to a different key; may be NULL if @op_count is 0
 * @op_count: how many, at most %SNAPMAP_TXN_MAX_OPS
 * @version: set on success to the version every write took effect at (0 if
 *           nothing was written: no writes, or only DELs of absent keys);
 *           may be NULL
 * @failed: set to the entry at fault, counting the conditions from 0 and
 *          the writes from @cond_count, or to %SNAPMAP_TXN_NONE when no
 *          entry is; set on failure too; may be NULL
 * @cond_size: sizeof(*@conds) as the caller knows it: the array's stride
 * @op_size: sizeof(*@ops) as the caller knows it: the array's stride
 *
 * Every reader sees all of the writes or none.  Nothing is changed unless
 * the call returns 0.  Added in libsnapmap 1.3; snapmap_txn() in 1.1.
 *
 * Return: 0, or a negative errno: ECANCELED when a condition does not hold
 * (@failed says which: the first in order), EINVAL for an entry that is
 * malformed or a second write to one key (@failed says which) or a count
 * above its cap or an entry size the module does not take, E2BIG for an
 * entry larger than the module knows with a non-zero tail, EMSGSIZE for
 * a key or value longer than the map's limit or a transaction over
 * %SNAPMAP_TXN_MAX_BYTES (@failed says which), EFAULT, ENOSPC, ENOMEM,
 * EBADF for a read-only fd, EOPNOTSUPP from a module without
 * %SNAPMAP_IOC_TXN.
 */
int snapmap_txn_sz(int map_fd, const struct snapmap_txn_cond *conds,
		   __u32 cond_count, const struct snapmap_txn_op *ops,
		   __u32 op_count, __u64 *version, __u32 *failed,
		   size_t cond_size, size_t op_size);

/* snapmap_txn_sz() with the caller's sizeof. */
static inline int snapmap_txn(int map_fd, const struct snapmap_txn_cond *conds,
			      __u32 cond_count,
			      const struct snapmap_txn_op *ops, __u32 op_count,
			      __u64 *version, __u32 *failed)
{
	return snapmap_txn_sz(map_fd, conds, cond_count, ops, op_count,
			      version, failed, sizeof(*conds), sizeof(*ops));
}

/*
 * Snapshots
 */

/**
 * struct snapmap_entry - one record of a snapshot
 * @key: the key, valid until the next call on the snapshot
 * @value: the value, valid until the next call on the snapshot
 * @key_len: length of the key
 * @value_len: length of the value
 * @version: version of the entry
 *
 * It may grow at its end: the library writes no more of it than the size
 * the caller passes to snapmap_snapshot_next_sz().
 */
struct snapmap_entry {
	const void *key;
	const void *value;
	__u32 key_len;
	__u32 value_len;
	__u64 version;
};

/**
 * struct snapmap_snapshot_opts - options of snapmap_snapshot_open()
 * @sz: sizeof(struct snapmap_snapshot_opts); set by SNAPMAP_OPTS()
 * @flags: 0 for an ATOMIC snapshot, %SNAPMAP_SNAPSHOT_WEAK for a WEAK one
 * @buf_size: size of the read buffer; 0 for 64 KiB.  It grows by itself
 *            when a record does not fit.
 */
struct snapmap_snapshot_opts {
	size_t sz;
	__u32 flags;
	size_t buf_size;
};

/* An open snapshot and its read buffer; opaque. */
struct snapmap_snapshot;

/**
 * snapmap_snapshot_open() - take a snapshot of a map
 * @map_fd: map fd
 * @opts: options; NULL for an ATOMIC snapshot
 * @snap: set to the new snapshot
 *
 * Return: 0 or a negative errno.
 */
int snapmap_snapshot_open(int map_fd, const struct snapmap_snapshot_opts *opts,
			  struct snapmap_snapshot **snap);

/**
 * snapmap_snapshot_next_sz() - the next record of a snapshot
 * @snap: the snapshot
 * @entry: set to the record; its pointers are valid until the next call
 *         on @snap
 * @entry_size: sizeof(*@entry) as the caller knows it: the library writes
 *              what it knows of that many bytes and zeroes the rest
 *
 * Added in libsnapmap 1.3.
 *
 * Return: 1 with a record, 0 at the end, or a negative errno: ESTALE when
 * the snapshot was invalidated to keep the map within its byte limit (the
 * records returned so far do not make a whole snapshot: take a new one),
 * ENOMEM, EIO for a record the library cannot parse, EINVAL for a NULL
 * argument or an @entry_size below that of the first &struct
 * snapmap_entry.
 */
int snapmap_snapshot_next_sz(struct snapmap_snapshot *snap,
			     struct snapmap_entry *entry, size_t entry_size);

/* snapmap_snapshot_next_sz() with the caller's sizeof. */
static inline int snapmap_snapshot_next(struct snapmap_snapshot *snap,
					struct snapmap_entry *entry)
{
	return snapmap_snapshot_next_sz(snap, entry, sizeof(*entry));
}

/**
 * snapmap_snapshot_rewind() - start over from the first record
 * @snap: the snapshot
 *
 * An ATOMIC snapshot yields the same records again; a WEAK one walks the
 * map anew.
 *
 * Return: 0 or a negative errno.
 */
int snapmap_snapshot_rewind(struct snapmap_snapshot *snap);

/**
 * snapmap_snapshot_info_sz() - version, records and size of a snapshot
 * @snap: the snapshot
 * @info: filled in
 * @info_size: sizeof(*@info) as the caller knows it; @info->size is set to
 *             it, as for snapmap_info_sz()
 *
 * Added in libsnapmap 1.3.
 *
 * Return: 0 or a negative errno: EINVAL for a NULL argument or an
 * @info_size below that of the first &struct snapmap_snapshot_info.
 */
int snapmap_snapshot_info_sz(struct snapmap_snapshot *snap,
			     struct snapmap_snapshot_info *info,
			     size_t info_size);

/* snapmap_snapshot_info_sz() with the caller's sizeof. */
static inline int snapmap_snapshot_info(struct snapmap_snapshot *snap,
					struct snapmap_snapshot_info *info)
{
	return snapmap_snapshot_info_sz(snap, info, sizeof(*info));
}

/**
 * snapmap_snapshot_get() - look a key up as a snapshot holds it
 * @snap: the snapshot
 * @key: the key
 * @key_len: its length
 * @value: buffer for the value, or NULL if @value_len is 0
 * @value_len: in: the buffer's size; out: the value's length
 * @version: set to the entry's version; may be NULL
 *
 * As snapmap_get(), but an ATOMIC snapshot answers with the value and
 * version the key had at the snapshot's instant, whatever was written
 * since; a WEAK one with the key's current value.  It does not move the
 * position snapmap_snapshot_next() reads from.  Added in libsnapmap 1.1.
 *
 * Return: 0, or a negative errno: those of snapmap_get() (ENOENT for a
 * key absent at the snapshot's instant, ERANGE with @value_len and
 * @version set), ESTALE when the snapshot was invalidated, EINVAL for a
 * NULL @snap or @value_len, EOPNOTSUPP from a module without
 * %SNAPMAP_IOC_SNAPSHOT_GET.
 */
int snapmap_snapshot_get(struct snapmap_snapshot *snap, const void *key,
			 __u32 key_len, void *value, __u32 *value_len,
			 __u64 *version);

/**
 * snapmap_snapshot_version() - version of an ATOMIC snapshot
 * @snap: the snapshot
 *
 * Return: the version (the snapshot holds the writes below it), or 0 for
 * a WEAK snapshot; 0 with errno set to EINVAL for a NULL @snap.
 */
__u64 snapmap_snapshot_version(const struct snapmap_snapshot *snap);

/**
 * snapmap_snapshot_fd() - the snapshot fd under a snapshot
 * @snap: the snapshot
 *
 * For poll(2) or for reading records directly; reading it moves the
 * position snapmap_snapshot_next() reads from.
 *
 * Return: the fd, or -EINVAL (errno EINVAL) for a NULL @snap.
 */
int snapmap_snapshot_fd(const struct snapmap_snapshot *snap);

/**
 * snapmap_snapshot_close() - close a snapshot and free its buffer
 * @snap: the snapshot, or NULL
 */
void snapmap_snapshot_close(struct snapmap_snapshot *snap);

/*
 * Watches
 */

/**
 * struct snapmap_change_entry - one change read from a watch
 * @type: ``SNAPMAP_CHANGE_*``: PUT, DEL, CLEAR, or TXN before the
 *        changes of a transaction
 * @count: for a TXN, the changes of the transaction that follow; else 0
 * @version: the change's version
 * @key: the key, valid until the next call on the watch; NULL for a
 *       CLEAR or a TXN
 * @value: the value of a PUT, valid as long; else NULL
 * @key_len: length of the key
 * @value_len: length of the value
 *
 * It may grow at its end, as &struct snapmap_entry.
 */
struct snapmap_change_entry {
	__u32 type;
	__u32 count;
	__u64 version;
	const void *key;
	const void *value;
	__u32 key_len;
	__u32 value_len;
};

/**
 * struct snapmap_watch_opts - options of snapmap_watch_open()
 * @sz: sizeof(struct snapmap_watch_opts); set by SNAPMAP_OPTS()
 * @flags: 0 to start at the map's current version, or
 *         %SNAPMAP_WATCH_SINCE to start at @since
 * @since: with %SNAPMAP_WATCH_SINCE, the version to start at: the watch
 *         yields the changes above it
 * @prefix: only the changes of keys that start with these bytes, and
 *          CLEARs; NULL for every key
 * @prefix_len: length of @prefix
 * @buffer_bytes: what the module keeps for the watch while it does not
 *                read (see &snapmap_watch_arg); 0 for the module's default
 * @buf_size: size of the library's read buffer; 0 for 64 KiB, and never
 *            less than @wakeup_bytes.  It grows by itself when a record
 *            does not fit.
 * @wakeup_bytes: 0 to be woken for every change; else poll(2) reports the
 *                watch's fd readable, and snapmap_watch_next() waits, only
 *                until records of this many bytes are ready (see
 *                &snapmap_watch_arg), at most half the watch's buffer
 *                (@buffer_bytes, or the module's default).  As with
 *                ``SO_RCVLOWAT``: bound the wait with poll's timeout, then
 *                read with the fd non-blocking, which yields the changes
 *                there are.  Added in libsnapmap 1.3; needs ABI version 5
 *                (%SNAPMAP_FEATURE_WATCH_WAKEUP)
 */
struct snapmap_watch_opts {
	size_t sz;
	__u32 flags;
	__u64 since;
	const void *prefix;
	__u32 prefix_len;
	__u64 buffer_bytes;
	size_t buf_size;
	__u64 wakeup_bytes;
};

/* An open watch and its read buffer; opaque. */
struct snapmap_watch;

/**
 * snapmap_watch_open() - follow the changes of a map
 * @map_fd: map fd
 * @opts: options; NULL to start now, for every key
 * @watch: set to the new watch
 *
 * Added in libsnapmap 1.2.
 *
 * Return: 0 or a negative errno: those of %SNAPMAP_IOC_WATCH, EINVAL for
 * %SNAPMAP_WATCH_SNAPSHOT in @opts (see snapmap_watch_snapshot()) or a
 * @opts->wakeup_bytes above half the watch's buffer, EOPNOTSUPP from a
 * module without watches, or without %SNAPMAP_FEATURE_WATCH_WAKEUP for a
 * @opts->wakeup_bytes other than 0.
 */
int snapmap_watch_open(int map_fd, const struct snapmap_watch_opts *opts,
		       struct snapmap_watch **watch);

/**
 * snapmap_watch_snapshot() - a snapshot of a map and its changes after
 * @map_fd: map fd
 * @opts: options, without %SNAPMAP_WATCH_SINCE; NULL for every key.
 *        @opts->buf_size is that of both read buffers
 * @watch: set to the new watch
 * @snap: set to an ATOMIC snapshot taken where the watch starts
 *
 * The snapshot, then every change the watch yields, make the map at the
 * version of each change: the way to keep a copy of a map, and to come
 * back in step when a watch fails with ESTALE.  Added in libsnapmap 1.2.
 *
 * Return: 0 or a negative errno, as snapmap_watch_open(), and those of
 * snapmap_snapshot_open().
 */
int snapmap_watch_snapshot(int map_fd, const struct snapmap_watch_opts *opts,
			   struct snapmap_watch **watch,
			   struct snapmap_snapshot **snap);

/**
 * snapmap_watch_next_sz() - the next change a watch yields
 * @watch: the watch
 * @change: set to the change; its pointers are valid until the next call
 *          on @watch
 * @change_size: sizeof(*@change) as the caller knows it, as for
 *               snapmap_snapshot_next_sz()
 *
 * Waits for a change, unless the watch's fd is non-blocking
 * (snapmap_watch_fd()): with &snapmap_watch_opts.wakeup_bytes, until
 * records of that many bytes are ready, when none is left in the library's
 * buffer.  Added in libsnapmap 1.3; snapmap_watch_next() in 1.2.
 *
 * Return: 1 with a change, or a negative errno: EAGAIN when none is ready
 * and the fd is non-blocking, EINTR when a signal came while waiting,
 * ESTALE when the watch missed a change it had to yield (take a new
 * snapshot and watch: snapmap_watch_snapshot()), ENOMEM, EIO for a
 * record the library cannot parse, EINVAL for a NULL argument or a
 * @change_size below that of the first &struct snapmap_change_entry.
 */
int snapmap_watch_next_sz(struct snapmap_watch *watch,
			  struct snapmap_change_entry *change,
			  size_t change_size);

/* snapmap_watch_next_sz() with the caller's sizeof. */
static inline int snapmap_watch_next(struct snapmap_watch *watch,
				     struct snapmap_change_entry *change)
{
	return snapmap_watch_next_sz(watch, change, sizeof(*change));
}

/**
 * snapmap_watch_version() - where a watch starts
 * @watch: the watch
 *
 * Return: the version the watch started at: it yields the changes of
 * versions above it; 0 with errno set to EINVAL for a NULL @watch.
 */
__u64 snapmap_watch_version(const struct snapmap_watch *watch);

/**
 * snapmap_watch_fd() - the watch fd under a watch
 * @watch: the watch
 *
 * For poll(2) and epoll, and to make the watch non-blocking with
 * fcntl(2).  Reading it takes records snapmap_watch_next() will not see.
 *
 * Return: the fd, or -EINVAL (errno EINVAL) for a NULL @watch.
 */
int snapmap_watch_fd(const struct snapmap_watch *watch);

/**
 * snapmap_watch_close() - close a watch and free its buffer
 * @watch: the watch, or NULL
 */
void snapmap_watch_close(struct snapmap_watch *watch);

/*
 * Clones
 */

/**
 * struct snapmap_clone_opts - options of snapmap_clone()
 * @sz: sizeof(struct snapmap_clone_opts); set by SNAPMAP_OPTS()
 * @mode: permission bits of the new map; 0 for 0600
 * @name: name of the new map, or NULL for an unnamed map
 */
struct snapmap_clone_opts {
	size_t sz;
	__u32 mode;
	const char *name;
};

/**
 * snapmap_clone() - copy a map, as an ATOMIC snapshot sees it, into a new
 * map
 * @map_fd: map fd of the source
 * @opts: mode and name of the new map; NULL for an unnamed 0600 map
 * @version: set to the version of the snapshot copied; may be NULL
 *
 * Return: a map fd for the new map, opened for reading and writing, or a
 * negative errno: ESTALE, ENOSPC, EEXIST, EDQUOT, EINVAL, ENOMEM, EMFILE
 * (before any snapshot of the source: its version did not move).
 */
int snapmap_clone(int map_fd, const struct snapmap_clone_opts *opts,
		  __u64 *version);

/*
 * Persistent maps, and every map
 */

/**
 * snapmap_create_persistent() - create a named map that outlives its fds
 * @ctl_fd: control fd, or -1
 * @opts: limits, mode and name, as for snapmap_create(); the name is
 *        required
 *
 * As snapmap_create() with %SNAPMAP_CREATE_PERSISTENT: the map stays
 * after its last fd closes, and its creator exits, until snapmap_unlink().
 * Added in libsnapmap 1.3.
 *
 * Return: a map fd, opened for reading and writing, or a negative errno:
 * those of snapmap_create(), EINVAL for no name, EOPNOTSUPP from a module
 * without persistent maps.
 */
int snapmap_create_persistent(int ctl_fd,
			      const struct snapmap_create_opts *opts);

/**
 * snapmap_unlink() - delete a map's name
 * @ctl_fd: control fd, or -1
 * @name: the map's name
 *
 * The name is free at once; fds still open keep the map, unnamed, until
 * they close.  A persistent map is freed once none is left.  Only the
 * map's owner or a caller with CAP_SYS_ADMIN may.  Added in libsnapmap
 * 1.3.
 *
 * Return: 0 or a negative errno: ENOENT, EACCES, EINVAL, EOPNOTSUPP from
 * a module without %SNAPMAP_IOC_DELETE.
 */
int snapmap_unlink(int ctl_fd, const char *name);

/**
 * snapmap_list_all_sz() - every map the caller may see
 * @ctl_fd: control fd, or -1
 * @descs: set to an array allocated with malloc(), for the caller to
 *         free(); NULL when there is no map to list
 * @desc_size: sizeof(**@descs) as the caller knows it: the array's stride,
 *             from the end of &snapmap_map_desc.id to
 *             %SNAPMAP_MAP_DESC_SIZE_MAX
 *
 * As snapmap_list_sz(), with the unnamed maps too: those the caller owns,
 * or every one for a caller with CAP_SYS_ADMIN (%SNAPMAP_LIST_ALL).  An
 * unnamed map's description has an empty name; &snapmap_map_desc.id tells
 * maps apart.  Added in libsnapmap 1.3.
 *
 * Return: the number of descriptions at @descs, or a negative errno:
 * EINVAL for a NULL @descs or a @desc_size outside its bounds, EOPNOTSUPP
 * from a module without %SNAPMAP_LIST_ALL.
 */
int snapmap_list_all_sz(int ctl_fd, struct snapmap_map_desc **descs,
			size_t desc_size);

/* snapmap_list_all_sz() with the caller's sizeof. */
static inline int snapmap_list_all(int ctl_fd,
				   struct snapmap_map_desc **descs)
{
	return snapmap_list_all_sz(ctl_fd, descs, sizeof(**descs));
}

#ifdef __cplusplus
}
#endif

#endif /* _LIBSNAPMAP_H */
