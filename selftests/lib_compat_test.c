// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: a program built against libsnapmap 1.2 still
 * works with this library.  The program's view of the headers is frozen
 * in compat/libsnapmap-1.2.h: its structures have the sizes of 1.2, it
 * passes no size, and it calls the functions at the versions it was linked
 * against then.  Each structure it hands the library is followed by a
 * canary that must come back untouched, and the size members it never set
 * hold garbage, as they would in such a program.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "compat/libsnapmap-1.2.h"

/* The sizes of 1.2's structures, which this program must really have. */
_Static_assert(sizeof(struct snapmap_api) == 32, "api");
_Static_assert(sizeof(struct snapmap_info) == 160, "info");
_Static_assert(sizeof(struct snapmap_snapshot_info) == 40, "snapshot info");
_Static_assert(sizeof(struct snapmap_map_desc) == 80, "map desc");
_Static_assert(sizeof(struct snapmap_batch_op) == 56, "batch op");
_Static_assert(sizeof(struct snapmap_txn_cond) == 40, "txn cond");
_Static_assert(sizeof(struct snapmap_txn_op) == 32, "txn op");
_Static_assert(sizeof(struct snapmap_entry) == 16 + 2 * sizeof(void *),
	       "entry");
_Static_assert(sizeof(struct snapmap_change_entry) ==
	       24 + 2 * sizeof(void *), "change entry");

#define CANARY 0xa5
#define GARBAGE 0x5a

/*
 * A structure (or array) of 1.2's size, and bytes after it the library
 * must not touch.
 */
#define GUARDED(type)							\
	struct {							\
		__typeof__(type) s;					\
		unsigned char canary[64];				\
	}

static int canary_intact(const unsigned char *canary, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (canary[i] != CANARY)
			return 0;
	return 1;
}

/* @g's structure full of garbage, its canary set. */
#define GUARD(g) do {							\
		memset(&(g).s, GARBAGE, sizeof((g).s));			\
		memset((g).canary, CANARY, sizeof((g).canary));		\
	} while (0)
#define INTACT(g) canary_intact((g).canary, sizeof((g).canary))

FIXTURE(old) {
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(old)
{
	struct snapmap_create_opts opts = { .sz = sizeof(opts) };

	snprintf(self->name, sizeof(self->name), "lib-compat-%d",
		 (int)getpid());
	opts.name = self->name;
	self->fd = snapmap_create(-1, &opts);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, snapmap_put(self->fd, "a", 1, "1", 1, 0, NULL));
	ASSERT_EQ(0, snapmap_put(self->fd, "b", 1, "22", 2, 0, NULL));
	ASSERT_EQ(0, snapmap_put(self->fd, "c", 1, "333", 3, 0, NULL));
}

FIXTURE_TEARDOWN(old)
{
	close(self->fd);
}

TEST_F(old, api_and_info)
{
	GUARDED(struct snapmap_api) api;
	GUARDED(struct snapmap_info) info;

	GUARD(api);
	ASSERT_EQ(0, snapmap_api(-1, &api.s));
	EXPECT_TRUE(INTACT(api));
	EXPECT_EQ(sizeof(api.s), api.s.size);
	EXPECT_LE(1, api.s.out_abi_version);
	EXPECT_TRUE(snapmap_has_cmd(&api.s, SNAPMAP_CMD_BATCH));

	GUARD(info);
	ASSERT_EQ(0, snapmap_info(self->fd, &info.s));
	EXPECT_TRUE(INTACT(info));
	EXPECT_EQ(sizeof(info.s), info.s.size);
	EXPECT_EQ(3, info.s.out_entries);
	EXPECT_EQ(3, info.s.out_puts);
	EXPECT_EQ(getuid(), info.s.out_uid);
	EXPECT_STREQ(self->name, info.s.out_name);
}

/* The array comes back with 1.2's stride: every description in place. */
TEST_F(old, list)
{
	struct snapmap_map_desc *descs;
	int i, n, found = 0;

	n = snapmap_list(-1, &descs);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++) {
		EXPECT_NE(0, descs[i].name[0]);
		EXPECT_EQ(0, descs[i].__reserved);
		if (!strcmp(descs[i].name, self->name)) {
			found++;
			EXPECT_EQ(getuid(), descs[i].uid);
			EXPECT_EQ(0600, descs[i].mode);
		}
	}
	EXPECT_EQ(1, found);
	free(descs);
}

TEST_F(old, batch)
{
	GUARDED(struct snapmap_batch_op) one;
	GUARDED(struct snapmap_batch_op[3]) ops;
	char v1[8], v2[8];
	__u64 version = 0;

	GUARD(one);
	snapmap_batch_get(&one.s, "a", 1, v1, sizeof(v1));
	EXPECT_TRUE(INTACT(one));
	EXPECT_EQ(SNAPMAP_BATCH_GET, one.s.opcode);
	EXPECT_EQ(0, one.s.out_result);
	GUARD(one);
	snapmap_batch_put(&one.s, "a", 1, "9", 1, SNAPMAP_PUT_NOEXIST);
	EXPECT_TRUE(INTACT(one));
	EXPECT_EQ(SNAPMAP_PUT_NOEXIST, one.s.flags);
	GUARD(one);
	snapmap_batch_del(&one.s, "a", 1);
	EXPECT_TRUE(INTACT(one));
	EXPECT_EQ(0, one.s.value);

	/* Each result lands in its own operation, 56 bytes apart. */
	GUARD(ops);
	snapmap_batch_put(&ops.s[0], "d", 1, "4444", 4, 0);
	snapmap_batch_get(&ops.s[1], "b", 1, v1, sizeof(v1));
	snapmap_batch_del(&ops.s[2], "zz", 2);
	ASSERT_EQ(3, snapmap_batch(self->fd, ops.s, 3, 0));
	EXPECT_TRUE(INTACT(ops));
	EXPECT_EQ(0, ops.s[0].out_result);
	EXPECT_LT(0, ops.s[0].out_version);
	EXPECT_EQ(0, ops.s[1].out_result);
	EXPECT_EQ(2, ops.s[1].out_value_len);
	EXPECT_EQ(0, memcmp(v1, "22", 2));
	EXPECT_EQ(-ENOENT, ops.s[2].out_result);

	/* Stopped at the second: the third left as it was. */
	GUARD(ops);
	snapmap_batch_del(&ops.s[0], "d", 1);
	snapmap_batch_del(&ops.s[1], "d", 1);
	snapmap_batch_del(&ops.s[2], "c", 1);
	ASSERT_EQ(2, snapmap_batch(self->fd, ops.s, 3,
				   SNAPMAP_BATCH_STOP_ON_ERROR));
	EXPECT_TRUE(INTACT(ops));
	EXPECT_EQ(0, ops.s[0].out_result);
	EXPECT_EQ(-ENOENT, ops.s[1].out_result);

	GUARD(ops);
	snapmap_batch_get(&ops.s[0], "a", 1, v1, sizeof(v1));
	snapmap_batch_get(&ops.s[1], "c", 1, v2, sizeof(v2));
	ASSERT_EQ(2, snapmap_mget(self->fd, ops.s, 2, &version));
	EXPECT_TRUE(INTACT(ops));
	EXPECT_LT(0, version);
	EXPECT_EQ(1, ops.s[0].out_value_len);
	EXPECT_EQ(3, ops.s[1].out_value_len);
	EXPECT_EQ(0, memcmp(v2, "333", 3));
}

TEST_F(old, txn)
{
	GUARDED(struct snapmap_txn_cond[4]) conds;
	GUARDED(struct snapmap_txn_op[2]) ops;
	GUARDED(struct snapmap_batch_op) get;
	__u32 failed = 0;
	__u64 version = 0;
	char v[8];

	GUARD(conds);
	GUARD(ops);
	snapmap_txn_if_present(&conds.s[0], "a", 1);
	snapmap_txn_if_absent(&conds.s[1], "x", 1);
	snapmap_txn_if_value(&conds.s[2], "b", 1, "22", 2);
	snapmap_txn_if_version(&conds.s[3], "c", 1, 0);
	EXPECT_TRUE(INTACT(conds));
	snapmap_txn_put(&ops.s[0], "x", 1, "new", 3);
	snapmap_txn_del(&ops.s[1], "a", 1);
	EXPECT_TRUE(INTACT(ops));

	/* The fourth condition fails: the module counted 40-byte entries. */
	EXPECT_EQ(-ECANCELED, snapmap_txn(self->fd, conds.s, 4, ops.s, 2,
					  &version, &failed));
	EXPECT_EQ(3, failed);
	EXPECT_EQ(ECANCELED, errno);

	ASSERT_EQ(0, snapmap_txn(self->fd, conds.s, 3, ops.s, 2, &version,
				 &failed));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_LT(0, version);
	EXPECT_TRUE(INTACT(conds));
	EXPECT_TRUE(INTACT(ops));

	GUARD(get);
	snapmap_batch_get(&get.s, "x", 1, v, sizeof(v));
	ASSERT_EQ(1, snapmap_batch(self->fd, &get.s, 1, 0));
	EXPECT_EQ(0, get.s.out_result);
	EXPECT_EQ(version, get.s.out_version);
	EXPECT_TRUE(INTACT(get));
}

TEST_F(old, snapshot)
{
	GUARDED(struct snapmap_snapshot_info) info;
	GUARDED(struct snapmap_entry) e;
	struct snapmap_snapshot *snap;
	char seen[4] = "";
	int n = 0, ret;

	ASSERT_EQ(0, snapmap_snapshot_open(self->fd, NULL, &snap));
	for (;;) {
		GUARD(e);
		ret = snapmap_snapshot_next(snap, &e.s);
		EXPECT_TRUE(INTACT(e));
		if (ret <= 0)
			break;
		ASSERT_EQ(1, e.s.key_len);
		ASSERT_GT(3, n);
		seen[n++] = *(const char *)e.s.key;
		EXPECT_EQ(seen[n - 1] - 'a' + 1, e.s.value_len);
		EXPECT_LT(0, e.s.version);
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(3, n);
	EXPECT_TRUE(memchr(seen, 'a', 3) && memchr(seen, 'b', 3) &&
		    memchr(seen, 'c', 3));

	GUARD(info);
	ASSERT_EQ(0, snapmap_snapshot_info(snap, &info.s));
	EXPECT_TRUE(INTACT(info));
	EXPECT_EQ(sizeof(info.s), info.s.size);
	EXPECT_EQ(3, info.s.out_entries);
	snapmap_snapshot_close(snap);
}

TEST_F(old, watch)
{
	GUARDED(struct snapmap_change_entry) c;
	struct snapmap_watch *watch;
	__u64 version = 0;

	ASSERT_EQ(0, snapmap_watch_open(self->fd, NULL, &watch));
	ASSERT_EQ(0, snapmap_put(self->fd, "w", 1, "ww", 2, 0, &version));
	ASSERT_EQ(0, snapmap_del(self->fd, "w", 1, NULL));
	GUARD(c);
	ASSERT_EQ(1, snapmap_watch_next(watch, &c.s));
	EXPECT_TRUE(INTACT(c));
	EXPECT_EQ(SNAPMAP_CHANGE_PUT, c.s.type);
	EXPECT_EQ(version, c.s.version);
	EXPECT_EQ(1, c.s.key_len);
	EXPECT_EQ(2, c.s.value_len);
	EXPECT_EQ(0, memcmp(c.s.value, "ww", 2));
	GUARD(c);
	ASSERT_EQ(1, snapmap_watch_next(watch, &c.s));
	EXPECT_TRUE(INTACT(c));
	EXPECT_EQ(SNAPMAP_CHANGE_DEL, c.s.type);
	EXPECT_TRUE(c.s.value == NULL);
	snapmap_watch_close(watch);
}

/* The old program gets errno set too, as the library now sets it. */
TEST_F(old, errno_set)
{
	GUARDED(struct snapmap_info) info;
	struct snapmap_entry e;

	GUARD(info);
	errno = 0;
	EXPECT_EQ(-EBADF, snapmap_info(-1, &info.s));
	EXPECT_EQ(EBADF, errno);
	EXPECT_TRUE(INTACT(info));
	errno = 0;
	EXPECT_EQ(-EINVAL, snapmap_snapshot_next(NULL, &e));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
