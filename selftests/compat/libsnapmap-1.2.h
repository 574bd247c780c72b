/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a program built against libsnapmap 1.2 saw of <libsnapmap.h> and
 * <linux/snapmap.h>: the declarations lib_compat_test uses, copied as they
 * were and frozen.  It stands in for both headers, which the test does
 * not include, so that the test is such a program whatever the headers
 * become: its structures have the sizes they had, and its calls carry no
 * size.
 *
 * A program linked against libsnapmap.so.1.2 calls each function at the
 * version node the function had then (compat/libsnapmap-1.2.map, that
 * release's version script).  The static test binds the same way: the
 * functions whose contract changed since are named by version below, as
 * the dynamic linker binds them; the others kept their contract and
 * their only definition.
 */

#ifndef _LIBSNAPMAP_1_2_H
#define _LIBSNAPMAP_1_2_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define SNAPMAP_NAME_LEN 64
#define SNAPMAP_CMD_BATCH 0x13
#define SNAPMAP_PUT_NOEXIST (1U << 0)
#define SNAPMAP_BATCH_STOP_ON_ERROR (1U << 0)
#define SNAPMAP_BATCH_GET 1
#define SNAPMAP_BATCH_PUT 2
#define SNAPMAP_BATCH_DEL 3
#define SNAPMAP_TXN_IF_VERSION 1
#define SNAPMAP_TXN_IF_PRESENT 2
#define SNAPMAP_TXN_IF_ABSENT 3
#define SNAPMAP_TXN_IF_VALUE 4
#define SNAPMAP_TXN_PUT 1
#define SNAPMAP_TXN_DEL 2
#define SNAPMAP_TXN_NONE 0xffffffffU
#define SNAPMAP_CHANGE_PUT 1
#define SNAPMAP_CHANGE_DEL 2

struct snapmap_api {
	__u32 size;
	__u32 flags;
	__u32 out_abi_version;
	__u32 __reserved;
	__aligned_u64 out_features;
	__aligned_u64 out_ioctls;
};

struct snapmap_map_desc {
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u32 __reserved;
	char name[SNAPMAP_NAME_LEN];
};

struct snapmap_batch_op {
	__u32 opcode;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
	__aligned_u64 version;
	__s32 out_result;
	__u32 out_value_len;
	__aligned_u64 out_version;
};

struct snapmap_txn_cond {
	__u32 kind;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
	__aligned_u64 version;
};

struct snapmap_txn_op {
	__u32 opcode;
	__u32 flags;
	__u32 key_len;
	__u32 value_len;
	__aligned_u64 key;
	__aligned_u64 value;
};

struct snapmap_info {
	__u32 size;
	__u32 flags;
	__u32 out_max_key_len;
	__u32 out_max_value_len;
	__aligned_u64 out_max_entries;
	__aligned_u64 out_max_bytes;
	__aligned_u64 out_entries;
	__aligned_u64 out_bytes;
	__aligned_u64 out_version;
	__aligned_u64 out_gets;
	__aligned_u64 out_puts;
	__aligned_u64 out_dels;
	__u32 out_uid;
	__u32 out_gid;
	__u32 out_mode;
	__u32 __reserved;
	char out_name[SNAPMAP_NAME_LEN];
};

struct snapmap_snapshot_info {
	__u32 size;
	__u32 flags;
	__aligned_u64 out_version;
	__aligned_u64 out_entries;
	__aligned_u64 out_bytes;
	__u32 out_snapshot_flags;
	__u32 __reserved;
};

struct snapmap_create_opts {
	size_t sz;
	__u32 max_key_len;
	__u32 max_value_len;
	__u64 max_entries;
	__u64 max_bytes;
	__u32 mode;
	const char *name;
};

struct snapmap_entry {
	const void *key;
	const void *value;
	__u32 key_len;
	__u32 value_len;
	__u64 version;
};

struct snapmap_change_entry {
	__u32 type;
	__u32 count;
	__u64 version;
	const void *key;
	const void *value;
	__u32 key_len;
	__u32 value_len;
};

struct snapmap_snapshot;
struct snapmap_snapshot_opts;
struct snapmap_watch_opts;
struct snapmap_watch;
struct snapmap_clone_opts;

const char *snapmap_lib_version(void);
int snapmap_ctl_open(void);
int snapmap_api(int ctl_fd, struct snapmap_api *api);
bool snapmap_has_cmd(const struct snapmap_api *api, unsigned int cmd);
int snapmap_create(int ctl_fd, const struct snapmap_create_opts *opts);
int snapmap_open(int ctl_fd, const char *name, __u32 flags);
int snapmap_list(int ctl_fd, struct snapmap_map_desc **descs);
int snapmap_info(int map_fd, struct snapmap_info *info);
int snapmap_get(int map_fd, const void *key, __u32 key_len, void *value,
		__u32 *value_len, __u64 *version);
int snapmap_put(int map_fd, const void *key, __u32 key_len,
		const void *value, __u32 value_len, __u32 flags,
		__u64 *version);
int snapmap_cas(int map_fd, const void *key, __u32 key_len,
		const void *value, __u32 value_len, __u64 expected,
		__u64 *version);
int snapmap_del(int map_fd, const void *key, __u32 key_len, __u64 *version);
int snapmap_del_if(int map_fd, const void *key, __u32 key_len,
		   __u64 expected, __u64 *version);
int snapmap_clear(int map_fd, __u64 *version);
void snapmap_batch_get(struct snapmap_batch_op *op, const void *key,
		       __u32 key_len, void *value, __u32 value_len);
void snapmap_batch_put(struct snapmap_batch_op *op, const void *key,
		       __u32 key_len, const void *value, __u32 value_len,
		       __u32 flags);
void snapmap_batch_del(struct snapmap_batch_op *op, const void *key,
		       __u32 key_len);
int snapmap_batch(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		  __u32 flags);
int snapmap_mget(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		 __u64 *version);
void snapmap_txn_if_version(struct snapmap_txn_cond *c, const void *key,
			    __u32 key_len, __u64 version);
void snapmap_txn_if_present(struct snapmap_txn_cond *c, const void *key,
			    __u32 key_len);
void snapmap_txn_if_absent(struct snapmap_txn_cond *c, const void *key,
			   __u32 key_len);
void snapmap_txn_if_value(struct snapmap_txn_cond *c, const void *key,
			  __u32 key_len, const void *value, __u32 value_len);
void snapmap_txn_put(struct snapmap_txn_op *op, const void *key,
		     __u32 key_len, const void *value, __u32 value_len);
void snapmap_txn_del(struct snapmap_txn_op *op, const void *key,
		     __u32 key_len);
int snapmap_txn(int map_fd, const struct snapmap_txn_cond *conds,
		__u32 cond_count, const struct snapmap_txn_op *ops,
		__u32 op_count, __u64 *version, __u32 *failed);
int snapmap_snapshot_open(int map_fd, const struct snapmap_snapshot_opts *opts,
			  struct snapmap_snapshot **snap);
int snapmap_snapshot_next(struct snapmap_snapshot *snap,
			  struct snapmap_entry *entry);
int snapmap_snapshot_rewind(struct snapmap_snapshot *snap);
int snapmap_snapshot_info(struct snapmap_snapshot *snap,
			  struct snapmap_snapshot_info *info);
int snapmap_snapshot_get(struct snapmap_snapshot *snap, const void *key,
			 __u32 key_len, void *value, __u32 *value_len,
			 __u64 *version);
__u64 snapmap_snapshot_version(const struct snapmap_snapshot *snap);
int snapmap_snapshot_fd(const struct snapmap_snapshot *snap);
void snapmap_snapshot_close(struct snapmap_snapshot *snap);
int snapmap_watch_open(int map_fd, const struct snapmap_watch_opts *opts,
		       struct snapmap_watch **watch);
int snapmap_watch_snapshot(int map_fd, const struct snapmap_watch_opts *opts,
			   struct snapmap_watch **watch,
			   struct snapmap_snapshot **snap);
int snapmap_watch_next(struct snapmap_watch *watch,
		       struct snapmap_change_entry *change);
__u64 snapmap_watch_version(const struct snapmap_watch *watch);
int snapmap_watch_fd(const struct snapmap_watch *watch);
void snapmap_watch_close(struct snapmap_watch *watch);
int snapmap_clone(int map_fd, const struct snapmap_clone_opts *opts,
		  __u64 *version);

/*
 * The versions libsnapmap 1.2's version script gave these.  A program
 * linked against that script (compat/libsnapmap-1.2.map), as
 * compat/dynamic.c is, gets them from the linker.
 */
#ifndef SNAPMAP_1_2_LINKED
#define SNAPMAP_1_2_SYMBOL(name, node) \
	__asm__(".symver " #name ", " #name "@" node)
SNAPMAP_1_2_SYMBOL(snapmap_api, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_list, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_info, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_batch_get, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_batch_put, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_batch_del, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_batch, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_snapshot_next, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_snapshot_info, "LIBSNAPMAP_1.0");
SNAPMAP_1_2_SYMBOL(snapmap_mget, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn_if_version, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn_if_present, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn_if_absent, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn_if_value, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn_put, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn_del, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_txn, "LIBSNAPMAP_1.1");
SNAPMAP_1_2_SYMBOL(snapmap_watch_next, "LIBSNAPMAP_1.2");
#endif

#endif /* _LIBSNAPMAP_1_2_H */
