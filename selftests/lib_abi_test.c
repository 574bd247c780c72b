// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: the sizes callers pass.  Each *_sz() function
 * refuses a size below its structure's first version (EINVAL), writes no
 * byte past the size it is given, zeroes what it does not know of a
 * larger structure, and passes a caller's size on to the module: a larger
 * operation, condition or write with a zero tail works, with a non-zero
 * tail it is E2BIG (an operation's result, or the transaction's error).
 * The inline wrappers and helpers write exactly the caller's sizeof.
 */

#include <fcntl.h>

#include "lib_test.h"

/*
 * The sizes of the first versions, the least a caller may pass whatever
 * the structures have become since.
 */
#define API_SIZE0 offsetofend(struct snapmap_api, out_ioctls)
#define INFO_SIZE0 offsetofend(struct snapmap_info, out_name)
#define SINFO_SIZE0 offsetofend(struct snapmap_snapshot_info, __reserved)
#define ENTRY_SIZE0 offsetofend(struct snapmap_entry, version)
#define CHANGE_SIZE0 offsetofend(struct snapmap_change_entry, value_len)
#define OP_SIZE0 offsetofend(struct snapmap_batch_op, out_version)
#define COND_SIZE0 offsetofend(struct snapmap_txn_cond, version)
#define WRITE_SIZE0 offsetofend(struct snapmap_txn_op, value)

/* Room after every structure: what a newer header might add, and more. */
#define TAIL 24
#define CANARY 0xa5

/*
 * A structure of @type, the TAIL bytes a newer version of it would have
 * (right after it: they are bytes), and a canary after both.
 */
#define BIG(type)							\
	struct {							\
		type s;							\
		unsigned char tail[TAIL];				\
		unsigned char canary[32];				\
	}

static bool all_bytes(const void *p, int byte, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != byte)
			return false;
	return true;
}

FIXTURE(abi) {
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(abi)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .name = lib_name(self->name, "abi"));

	self->fd = LIB(snapmap_create(-1, &opts));
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "a", 1, "1", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "b", 1, "22", 2, 0, NULL)));
}

FIXTURE_TEARDOWN(abi)
{
	EXPECT_EQ(0, close(self->fd));
}

/*
 * INFO, API and SNAPSHOT_INFO: the caller's size is the one the module
 * gets; bytes past what both know come back zero, bytes past the size
 * untouched.
 */
TEST_F(abi, info_sizes)
{
	BIG(struct snapmap_snapshot_info) sinfo;
	BIG(struct snapmap_info) info;
	BIG(struct snapmap_api) api;
	struct snapmap_snapshot *snap;

	memset(&info, 0xff, sizeof(info));
	memset(info.canary, CANARY, sizeof(info.canary));
	EXPECT_EQ(-EINVAL, LIB(snapmap_info_sz(self->fd, &info.s, 0)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_info_sz(self->fd, &info.s,
					       INFO_SIZE0 - 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_info_sz(self->fd, NULL,
					       sizeof(info.s))));
	/* Refused: nothing written. */
	EXPECT_TRUE(all_bytes(&info, 0xff, sizeof(info.s) + TAIL));
	ASSERT_EQ(0, LIB(snapmap_info_sz(self->fd, &info.s,
					 sizeof(info.s) + TAIL)));
	EXPECT_EQ(sizeof(info.s) + TAIL, info.s.size);
	EXPECT_EQ(2, info.s.out_entries);
	EXPECT_STREQ(self->name, info.s.out_name);
	EXPECT_TRUE(all_bytes(info.tail, 0, TAIL));
	EXPECT_TRUE(all_bytes(info.canary, CANARY, sizeof(info.canary)));
	/* The wrapper: the caller's sizeof. */
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &info.s)));
	EXPECT_EQ(sizeof(info.s), info.s.size);
	EXPECT_TRUE(all_bytes(info.tail, 0xff, TAIL));

	memset(&api, 0xff, sizeof(api));
	memset(api.canary, CANARY, sizeof(api.canary));
	EXPECT_EQ(-EINVAL, LIB(snapmap_api_sz(-1, &api.s, API_SIZE0 - 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_api_sz(-1, NULL, sizeof(api.s))));
	ASSERT_EQ(0, LIB(snapmap_api_sz(-1, &api.s, sizeof(api.s) + TAIL)));
	EXPECT_EQ(sizeof(api.s) + TAIL, api.s.size);
	EXPECT_LE(3, api.s.out_abi_version);
	EXPECT_TRUE(snapmap_has_cmd(&api.s, SNAPMAP_CMD_INFO));
	EXPECT_TRUE(all_bytes(api.tail, 0, TAIL));
	EXPECT_TRUE(all_bytes(api.canary, CANARY, sizeof(api.canary)));

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	memset(&sinfo, 0xff, sizeof(sinfo));
	memset(sinfo.canary, CANARY, sizeof(sinfo.canary));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_info_sz(snap, &sinfo.s,
							SINFO_SIZE0 - 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_info_sz(NULL, &sinfo.s,
							sizeof(sinfo.s))));
	ASSERT_EQ(0, LIB(snapmap_snapshot_info_sz(snap, &sinfo.s,
						  sizeof(sinfo.s) + TAIL)));
	EXPECT_EQ(sizeof(sinfo.s) + TAIL, sinfo.s.size);
	EXPECT_EQ(2, sinfo.s.out_entries);
	EXPECT_EQ(snapmap_snapshot_version(snap), sinfo.s.out_version);
	EXPECT_TRUE(all_bytes(sinfo.tail, 0, TAIL));
	EXPECT_TRUE(all_bytes(sinfo.canary, CANARY, sizeof(sinfo.canary)));
	snapmap_snapshot_close(snap);
}

/* LIST with a caller's stride: the module's bounds, and a zeroed tail. */
TEST_F(abi, list_stride)
{
	const size_t stride = sizeof(struct snapmap_map_desc) + TAIL;
	struct snapmap_map_desc *descs = (void *)1;
	const struct snapmap_map_desc *d;
	unsigned char *p;
	int i, n, found = 0;

	EXPECT_EQ(-EINVAL, LIB(snapmap_list_sz(-1, &descs,
					       SNAPMAP_MAP_DESC_SIZE_VER0 - 1)));
	EXPECT_TRUE(descs == NULL);
	EXPECT_EQ(-EINVAL, LIB(snapmap_list_sz(-1, &descs,
					       SNAPMAP_MAP_DESC_SIZE_MAX + 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_list_sz(-1, NULL, stride)));
	n = LIB(snapmap_list_sz(-1, &descs, stride));
	ASSERT_LE(1, n);
	p = (unsigned char *)descs;
	for (i = 0; i < n; i++) {
		d = (const void *)(p + i * stride);
		EXPECT_NE(0, d->name[0]);
		EXPECT_TRUE(all_bytes(p + i * stride + sizeof(*d), 0, TAIL));
		if (!strcmp(d->name, self->name)) {
			found++;
			EXPECT_EQ(getuid(), d->uid);
		}
	}
	EXPECT_EQ(1, found);
	free(descs);
}

/*
 * A snapshot's records and a watch's changes: what the library knows is
 * written, the rest of the caller's size zeroed, nothing past it touched.
 */
TEST_F(abi, entry_sizes)
{
	BIG(struct snapmap_change_entry) c;
	BIG(struct snapmap_entry) e;
	struct snapmap_snapshot *snap;
	struct snapmap_watch *watch;
	__u64 v = 0;

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	memset(&e, 0xff, sizeof(e));
	memset(e.canary, CANARY, sizeof(e.canary));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_next_sz(snap, &e.s,
							ENTRY_SIZE0 - 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_next_sz(NULL, &e.s,
							sizeof(e.s))));
	EXPECT_TRUE(all_bytes(&e, 0xff, sizeof(e.s) + TAIL));
	ASSERT_EQ(1, LIB(snapmap_snapshot_next_sz(snap, &e.s,
						  sizeof(e.s) + TAIL)));
	EXPECT_EQ(1, e.s.key_len);
	EXPECT_LT(0, e.s.version);
	EXPECT_TRUE(all_bytes(e.tail, 0, TAIL));
	EXPECT_TRUE(all_bytes(e.canary, CANARY, sizeof(e.canary)));
	/* The wrapper writes its sizeof, not a byte more. */
	memset(&e, 0xff, sizeof(e));
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e.s)));
	EXPECT_EQ(1, e.s.key_len);
	EXPECT_TRUE(all_bytes(e.tail, 0xff, TAIL));
	snapmap_snapshot_close(snap);

	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, NULL, &watch)));
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "w", 1, "ww", 2, 0, &v)));
	memset(&c, 0xff, sizeof(c));
	memset(c.canary, CANARY, sizeof(c.canary));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_next_sz(watch, &c.s,
						     CHANGE_SIZE0 - 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_next_sz(NULL, &c.s,
						     sizeof(c.s))));
	EXPECT_TRUE(all_bytes(&c, 0xff, sizeof(c.s) + TAIL));
	ASSERT_EQ(1, LIB(snapmap_watch_next_sz(watch, &c.s,
					       sizeof(c.s) + TAIL)));
	EXPECT_EQ(SNAPMAP_CHANGE_PUT, c.s.type);
	EXPECT_EQ(v, c.s.version);
	EXPECT_EQ(2, c.s.value_len);
	EXPECT_TRUE(all_bytes(c.tail, 0, TAIL));
	EXPECT_TRUE(all_bytes(c.canary, CANARY, sizeof(c.canary)));
	snapmap_watch_close(watch);
}

/* An operation as a newer header could have it: TAIL more bytes. */
struct big_op {
	struct snapmap_batch_op op;
	unsigned char tail[TAIL];
};

/*
 * Batches with a caller's op_size: too small for the first version is
 * EINVAL; larger with zero tails runs at that stride; a non-zero byte in
 * a tail is the module's E2BIG for that operation.
 */
TEST_F(abi, batch_op_size)
{
	struct big_op ops[3];
	char v1[4], v2[4];
	__u64 version = 0;

	memset(ops, 0, sizeof(ops));
	snapmap_batch_get(&ops[0].op, "a", 1, v1, sizeof(v1));
	snapmap_batch_put(&ops[1].op, "c", 1, "333", 3, 0);
	snapmap_batch_get(&ops[2].op, "b", 1, v2, sizeof(v2));
	EXPECT_EQ(-EINVAL, LIB(snapmap_batch_sz(self->fd, &ops[0].op, 3, 0,
						OP_SIZE0 - 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_mget_sz(self->fd, &ops[0].op, 1, NULL,
					       OP_SIZE0 - 1)));
	ASSERT_EQ(3, LIB(snapmap_batch_sz(self->fd, &ops[0].op, 3, 0,
					  sizeof(ops[0]))));
	EXPECT_EQ(0, ops[0].op.out_result);
	EXPECT_EQ(1, ops[0].op.out_value_len);
	EXPECT_EQ(0, ops[1].op.out_result);
	EXPECT_LT(0, ops[1].op.out_version);
	EXPECT_EQ(0, ops[2].op.out_result);
	EXPECT_EQ(2, ops[2].op.out_value_len);
	EXPECT_EQ(0, memcmp(v2, "22", 2));
	EXPECT_TRUE(all_bytes(ops[2].tail, 0, TAIL));

	/* STOP_ON_ERROR reads the failed operation's result at the stride. */
	snapmap_batch_del(&ops[0].op, "zz", 2);
	snapmap_batch_del(&ops[1].op, "c", 1);
	EXPECT_EQ(1, LIB(snapmap_batch_sz(self->fd, &ops[0].op, 2,
					  SNAPMAP_BATCH_STOP_ON_ERROR,
					  sizeof(ops[0]))));
	EXPECT_EQ(-ENOENT, ops[0].op.out_result);

	snapmap_batch_get(&ops[0].op, "a", 1, v1, sizeof(v1));
	snapmap_batch_get(&ops[1].op, "c", 1, v2, sizeof(v2));
	ASSERT_EQ(2, LIB(snapmap_mget_sz(self->fd, &ops[0].op, 2, &version,
					 sizeof(ops[0]))));
	EXPECT_LT(0, version);
	EXPECT_EQ(0, ops[1].op.out_result);
	EXPECT_EQ(3, ops[1].op.out_value_len);

	/*
	 * A member this module does not know, set: that operation is
	 * refused with E2BIG, in its result as any error of one operation,
	 * and the others run.
	 */
	ops[1].tail[TAIL - 1] = 1;
	snapmap_batch_put(&ops[0].op, "d", 1, "4", 1, 0);
	ASSERT_EQ(2, LIB(snapmap_batch_sz(self->fd, &ops[0].op, 2, 0,
					  sizeof(ops[0]))));
	EXPECT_EQ(0, ops[0].op.out_result);
	EXPECT_EQ(-E2BIG, ops[1].op.out_result);
	ASSERT_EQ(1, LIB(snapmap_mget_sz(self->fd, &ops[1].op, 1, NULL,
					 sizeof(ops[0]))));
	EXPECT_EQ(-E2BIG, ops[1].op.out_result);
}

struct big_cond {
	struct snapmap_txn_cond c;
	unsigned char tail[TAIL];
};

struct big_write {
	struct snapmap_txn_op op;
	unsigned char tail[TAIL];
};

/* Transactions with a caller's sizes of a condition and of a write. */
TEST_F(abi, txn_sizes)
{
	struct big_write ops[2];
	struct big_cond c[2];
	__u32 failed = 0;
	__u64 version = 0;

	memset(c, 0, sizeof(c));
	memset(ops, 0, sizeof(ops));
	snapmap_txn_if_present(&c[0].c, "a", 1);
	snapmap_txn_if_version(&c[1].c, "b", 1, 1);
	snapmap_txn_put(&ops[0].op, "x", 1, "xx", 2);
	snapmap_txn_del(&ops[1].op, "a", 1);

	/* The second condition fails: counted at the caller's stride. */
	EXPECT_EQ(-ECANCELED, LIB(snapmap_txn_sz(self->fd, &c[0].c, 2,
						 &ops[0].op, 2, &version,
						 &failed, sizeof(c[0]),
						 sizeof(ops[0]))));
	EXPECT_EQ(1, failed);
	/* Sizes below the first versions, which the module refuses. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn_sz(self->fd, &c[0].c, 1,
					      &ops[0].op, 2, NULL, &failed,
					      COND_SIZE0 - 1,
					      sizeof(ops[0]))));
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn_sz(self->fd, &c[0].c, 1,
					      &ops[0].op, 2, NULL, &failed,
					      sizeof(c[0]),
					      WRITE_SIZE0 - 1)));
	/* A non-zero byte in a tail: E2BIG, naming the entry. */
	ops[1].tail[0] = 1;
	EXPECT_EQ(-E2BIG, LIB(snapmap_txn_sz(self->fd, &c[0].c, 1,
					     &ops[0].op, 2, NULL, &failed,
					     sizeof(c[0]), sizeof(ops[0]))));
	EXPECT_EQ(2, failed);
	ops[1].tail[0] = 0;
	ASSERT_EQ(0, LIB(snapmap_txn_sz(self->fd, &c[0].c, 1, &ops[0].op, 2,
					&version, &failed, sizeof(c[0]),
					sizeof(ops[0]))));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_LT(0, version);
	EXPECT_EQ(-ENOENT, LIB(snapmap_get(self->fd, "a", 1, NULL,
					   &(__u32){ 0 }, NULL)));
}

/* The inline helpers fill exactly the caller's structure. */
TEST(helpers_write_sizeof)
{
	BIG(struct snapmap_batch_op) op;
	BIG(struct snapmap_txn_cond) c;
	BIG(struct snapmap_txn_op) w;

	memset(&op, 0xff, sizeof(op));
	snapmap_batch_put(&op.s, "k", 1, "v", 1, 0);
	EXPECT_EQ(SNAPMAP_BATCH_PUT, op.s.opcode);
	EXPECT_EQ(0, op.s.version);
	EXPECT_EQ(0, op.s.out_result);
	EXPECT_TRUE(all_bytes(op.tail, 0xff, TAIL));
	memset(&c, 0xff, sizeof(c));
	snapmap_txn_if_value(&c.s, "k", 1, "v", 1);
	EXPECT_EQ(SNAPMAP_TXN_IF_VALUE, c.s.kind);
	EXPECT_EQ(0, c.s.flags);
	EXPECT_EQ(0, c.s.version);
	EXPECT_TRUE(all_bytes(c.tail, 0xff, TAIL));
	memset(&w, 0xff, sizeof(w));
	snapmap_txn_del(&w.s, "k", 1);
	EXPECT_EQ(SNAPMAP_TXN_DEL, w.s.opcode);
	EXPECT_EQ(0, w.s.value);
	EXPECT_TRUE(all_bytes(w.tail, 0xff, TAIL));
}

TEST_HARNESS_MAIN
