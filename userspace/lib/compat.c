// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: the functions as programs built against libsnapmap 1.0 to
 * 1.2 call them.  Those programs pass no size: each structure they hand
 * over is of its first version, and each function here writes and passes
 * on exactly that, whatever the size of the structure in this library's
 * header.  The symbol versions are those of the release that added each
 * function, which the dynamic linker binds those programs to; programs
 * built now reach the *_sz() functions through the header's inline
 * wrappers, and never these.
 */

#include <string.h>

#include "internal.h"

/*
 * Name a function the @ver version of @name: a version not the default,
 * so that only programs linked against that release bind to it.  The
 * function's own name stays out of the library's exports (the version
 * script's "local: *").
 */
#define LIBSNAPMAP_COMPAT(name, ver) __attribute__((symver(#name "@" ver)))

/* The first versions of the library's own structures, as 1.0 had them. */
struct snapmap_entry_v0 {
	const void *key;
	const void *value;
	__u32 key_len;
	__u32 value_len;
	__u64 version;
};

/* As libsnapmap 1.2 had it. */
struct snapmap_change_entry_v0 {
	__u32 type;
	__u32 count;
	__u64 version;
	const void *key;
	const void *value;
	__u32 key_len;
	__u32 value_len;
};

/*
 * The sizes the compat functions write are those of the first versions;
 * these prove the frozen copies above are those versions.
 */
_Static_assert(sizeof(struct snapmap_entry_v0) == LIBSNAPMAP_ENTRY_SIZE0,
	       "struct snapmap_entry's first version changed");
_Static_assert(sizeof(struct snapmap_change_entry_v0) ==
	       LIBSNAPMAP_CHANGE_SIZE0,
	       "struct snapmap_change_entry's first version changed");
_Static_assert(LIBSNAPMAP_API_SIZE0 == 32 && LIBSNAPMAP_INFO_SIZE0 == 160 &&
	       LIBSNAPMAP_SNAPSHOT_INFO_SIZE0 == 40 &&
	       LIBSNAPMAP_BATCH_OP_SIZE0 == 56 &&
	       LIBSNAPMAP_TXN_COND_SIZE0 == 40 &&
	       LIBSNAPMAP_TXN_OP_SIZE0 == 32 &&
	       SNAPMAP_MAP_DESC_SIZE_VER0 == 80,
	       "a uapi structure's first version changed");

/* Declared here only: nothing else calls them by these names. */
int libsnapmap_api_v0(int ctl_fd, struct snapmap_api *api);
int libsnapmap_list_v0(int ctl_fd, struct snapmap_map_desc **descs);
int libsnapmap_info_v0(int map_fd, struct snapmap_info *info);
void libsnapmap_batch_get_v0(void *op, const void *key, __u32 key_len,
			     void *value, __u32 value_len);
void libsnapmap_batch_put_v0(void *op, const void *key, __u32 key_len,
			     const void *value, __u32 value_len,
			     __u32 flags);
void libsnapmap_batch_del_v0(void *op, const void *key, __u32 key_len);
int libsnapmap_batch_v0(int map_fd, struct snapmap_batch_op *ops,
			__u32 count, __u32 flags);
int libsnapmap_mget_v0(int map_fd, struct snapmap_batch_op *ops,
		       __u32 count, __u64 *version);
void libsnapmap_txn_if_version_v0(void *c, const void *key, __u32 key_len,
				  __u64 version);
void libsnapmap_txn_if_present_v0(void *c, const void *key, __u32 key_len);
void libsnapmap_txn_if_absent_v0(void *c, const void *key, __u32 key_len);
void libsnapmap_txn_if_value_v0(void *c, const void *key, __u32 key_len,
				const void *value, __u32 value_len);
void libsnapmap_txn_put_v0(void *op, const void *key, __u32 key_len,
			   const void *value, __u32 value_len);
void libsnapmap_txn_del_v0(void *op, const void *key, __u32 key_len);
int libsnapmap_txn_v0(int map_fd, const struct snapmap_txn_cond *conds,
		      __u32 cond_count, const struct snapmap_txn_op *ops,
		      __u32 op_count, __u64 *version, __u32 *failed);
int libsnapmap_snapshot_next_v0(struct snapmap_snapshot *snap,
				struct snapmap_entry_v0 *entry);
int libsnapmap_snapshot_info_v0(struct snapmap_snapshot *snap,
				struct snapmap_snapshot_info *info);
int libsnapmap_watch_next_v0(struct snapmap_watch *watch,
			     struct snapmap_change_entry_v0 *change);

LIBSNAPMAP_COMPAT(snapmap_api, "LIBSNAPMAP_1.0")
int libsnapmap_api_v0(int ctl_fd, struct snapmap_api *api)
{
	return snapmap_api_sz(ctl_fd, api, LIBSNAPMAP_API_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_list, "LIBSNAPMAP_1.0")
int libsnapmap_list_v0(int ctl_fd, struct snapmap_map_desc **descs)
{
	return snapmap_list_sz(ctl_fd, descs, SNAPMAP_MAP_DESC_SIZE_VER0);
}

LIBSNAPMAP_COMPAT(snapmap_info, "LIBSNAPMAP_1.0")
int libsnapmap_info_v0(int map_fd, struct snapmap_info *info)
{
	return snapmap_info_sz(map_fd, info, LIBSNAPMAP_INFO_SIZE0);
}

/*
 * The helpers fill in an operation of this header's size, of which the
 * first version's bytes are copied out.
 */
LIBSNAPMAP_COMPAT(snapmap_batch_get, "LIBSNAPMAP_1.0")
void libsnapmap_batch_get_v0(void *op, const void *key, __u32 key_len,
			     void *value, __u32 value_len)
{
	struct snapmap_batch_op o;

	snapmap_batch_get(&o, key, key_len, value, value_len);
	memcpy(op, &o, LIBSNAPMAP_BATCH_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_batch_put, "LIBSNAPMAP_1.0")
void libsnapmap_batch_put_v0(void *op, const void *key, __u32 key_len,
			     const void *value, __u32 value_len, __u32 flags)
{
	struct snapmap_batch_op o;

	snapmap_batch_put(&o, key, key_len, value, value_len, flags);
	memcpy(op, &o, LIBSNAPMAP_BATCH_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_batch_del, "LIBSNAPMAP_1.0")
void libsnapmap_batch_del_v0(void *op, const void *key, __u32 key_len)
{
	struct snapmap_batch_op o;

	snapmap_batch_del(&o, key, key_len);
	memcpy(op, &o, LIBSNAPMAP_BATCH_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_batch, "LIBSNAPMAP_1.0")
int libsnapmap_batch_v0(int map_fd, struct snapmap_batch_op *ops,
			__u32 count, __u32 flags)
{
	return snapmap_batch_sz(map_fd, ops, count, flags,
				LIBSNAPMAP_BATCH_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_mget, "LIBSNAPMAP_1.1")
int libsnapmap_mget_v0(int map_fd, struct snapmap_batch_op *ops,
		       __u32 count, __u64 *version)
{
	return snapmap_mget_sz(map_fd, ops, count, version,
			       LIBSNAPMAP_BATCH_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn_if_version, "LIBSNAPMAP_1.1")
void libsnapmap_txn_if_version_v0(void *c, const void *key, __u32 key_len,
				  __u64 version)
{
	struct snapmap_txn_cond o;

	snapmap_txn_if_version(&o, key, key_len, version);
	memcpy(c, &o, LIBSNAPMAP_TXN_COND_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn_if_present, "LIBSNAPMAP_1.1")
void libsnapmap_txn_if_present_v0(void *c, const void *key, __u32 key_len)
{
	struct snapmap_txn_cond o;

	snapmap_txn_if_present(&o, key, key_len);
	memcpy(c, &o, LIBSNAPMAP_TXN_COND_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn_if_absent, "LIBSNAPMAP_1.1")
void libsnapmap_txn_if_absent_v0(void *c, const void *key, __u32 key_len)
{
	struct snapmap_txn_cond o;

	snapmap_txn_if_absent(&o, key, key_len);
	memcpy(c, &o, LIBSNAPMAP_TXN_COND_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn_if_value, "LIBSNAPMAP_1.1")
void libsnapmap_txn_if_value_v0(void *c, const void *key, __u32 key_len,
				const void *value, __u32 value_len)
{
	struct snapmap_txn_cond o;

	snapmap_txn_if_value(&o, key, key_len, value, value_len);
	memcpy(c, &o, LIBSNAPMAP_TXN_COND_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn_put, "LIBSNAPMAP_1.1")
void libsnapmap_txn_put_v0(void *op, const void *key, __u32 key_len,
			   const void *value, __u32 value_len)
{
	struct snapmap_txn_op o;

	snapmap_txn_put(&o, key, key_len, value, value_len);
	memcpy(op, &o, LIBSNAPMAP_TXN_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn_del, "LIBSNAPMAP_1.1")
void libsnapmap_txn_del_v0(void *op, const void *key, __u32 key_len)
{
	struct snapmap_txn_op o;

	snapmap_txn_del(&o, key, key_len);
	memcpy(op, &o, LIBSNAPMAP_TXN_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_txn, "LIBSNAPMAP_1.1")
int libsnapmap_txn_v0(int map_fd, const struct snapmap_txn_cond *conds,
		      __u32 cond_count, const struct snapmap_txn_op *ops,
		      __u32 op_count, __u64 *version, __u32 *failed)
{
	return snapmap_txn_sz(map_fd, conds, cond_count, ops, op_count,
			      version, failed, LIBSNAPMAP_TXN_COND_SIZE0,
			      LIBSNAPMAP_TXN_OP_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_snapshot_next, "LIBSNAPMAP_1.0")
int libsnapmap_snapshot_next_v0(struct snapmap_snapshot *snap,
				struct snapmap_entry_v0 *entry)
{
	return snapmap_snapshot_next_sz(snap, (struct snapmap_entry *)entry,
					sizeof(*entry));
}

LIBSNAPMAP_COMPAT(snapmap_snapshot_info, "LIBSNAPMAP_1.0")
int libsnapmap_snapshot_info_v0(struct snapmap_snapshot *snap,
				struct snapmap_snapshot_info *info)
{
	return snapmap_snapshot_info_sz(snap, info,
					LIBSNAPMAP_SNAPSHOT_INFO_SIZE0);
}

LIBSNAPMAP_COMPAT(snapmap_watch_next, "LIBSNAPMAP_1.2")
int libsnapmap_watch_next_v0(struct snapmap_watch *watch,
			     struct snapmap_change_entry_v0 *change)
{
	return snapmap_watch_next_sz(watch,
				     (struct snapmap_change_entry *)change,
				     sizeof(*change));
}
