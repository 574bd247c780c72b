// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: transactions and reads at one version.  The
 * snapmap_txn_*() helpers; a transaction that commits, its one version
 * seen by GET on every key it wrote; conditions that fail, with *failed
 * naming the first and the map unchanged; a second write to a key, with
 * the write named; the errors of snapmap_txn(); snapmap_mget() of several
 * keys at one version, against the keys' own versions and a concurrent
 * writer of transactions; and snapmap_snapshot_get() on ATOMIC and WEAK
 * snapshots: old values after later writes, ENOENT, ERANGE, ESTALE.
 */

#include <limits.h>
#include <pthread.h>

#include "lib_test.h"

/* Members the library must set, filled with this first. */
#define POISON 0xa5

/* *failed and *version before a call, to see whether it set them. */
#define UNSET_FAILED 0x5a5a5a5aU
#define UNSET_VERSION 0x5a5a5a5a5a5a5a5aULL

FIXTURE(txn) {
	int ctl;
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(txn)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .max_key_len = 64,
		     .max_value_len = 1024,
		     .name = lib_name(self->name, "txn"));

	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	self->fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(txn)
{
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/* Put a string key and value; its version. */
static __u64 put_str(struct __test_metadata *_metadata, int fd,
		     const char *key, const char *value)
{
	__u64 v = 0;

	EXPECT_EQ(0, LIB(snapmap_put(fd, key, strlen(key), value,
				     strlen(value), 0, &v)));
	return v;
}

/* The map's contents and counters are those of @before. */
#define EXPECT_UNCHANGED(fd, before)					\
	do {								\
		struct snapmap_info __after;				\
		ASSERT_EQ(0, LIB(snapmap_info(fd, &__after)));		\
		EXPECT_MAP_UNCHANGED(before, __after);			\
	} while (0)

/* The helpers set every member, whatever the memory held. */
TEST(helpers)
{
	struct snapmap_txn_cond c;
	struct snapmap_txn_op op;
	char key[4], value[8];

	memset(&c, POISON, sizeof(c));
	snapmap_txn_if_version(&c, key, 3, 42);
	EXPECT_EQ(SNAPMAP_TXN_IF_VERSION, c.kind);
	EXPECT_EQ(0, c.flags);
	EXPECT_EQ(3, c.key_len);
	EXPECT_EQ(0, c.value_len);
	EXPECT_EQ(SM_PTR(key), c.key);
	EXPECT_EQ(0, c.value);
	EXPECT_EQ(42, c.version);

	memset(&c, POISON, sizeof(c));
	snapmap_txn_if_present(&c, key, 4);
	EXPECT_EQ(SNAPMAP_TXN_IF_PRESENT, c.kind);
	EXPECT_EQ(0, c.flags);
	EXPECT_EQ(4, c.key_len);
	EXPECT_EQ(0, c.value_len);
	EXPECT_EQ(SM_PTR(key), c.key);
	EXPECT_EQ(0, c.value);
	EXPECT_EQ(0, c.version);

	memset(&c, POISON, sizeof(c));
	snapmap_txn_if_absent(&c, key + 1, 2);
	EXPECT_EQ(SNAPMAP_TXN_IF_ABSENT, c.kind);
	EXPECT_EQ(0, c.flags);
	EXPECT_EQ(2, c.key_len);
	EXPECT_EQ(0, c.value_len);
	EXPECT_EQ(SM_PTR(key + 1), c.key);
	EXPECT_EQ(0, c.value);
	EXPECT_EQ(0, c.version);

	memset(&c, POISON, sizeof(c));
	snapmap_txn_if_value(&c, key, 1, value, 7);
	EXPECT_EQ(SNAPMAP_TXN_IF_VALUE, c.kind);
	EXPECT_EQ(0, c.flags);
	EXPECT_EQ(1, c.key_len);
	EXPECT_EQ(7, c.value_len);
	EXPECT_EQ(SM_PTR(key), c.key);
	EXPECT_EQ(SM_PTR(value), c.value);
	EXPECT_EQ(0, c.version);

	memset(&op, POISON, sizeof(op));
	snapmap_txn_put(&op, key, 2, value, 5);
	EXPECT_EQ(SNAPMAP_TXN_PUT, op.opcode);
	EXPECT_EQ(0, op.flags);
	EXPECT_EQ(2, op.key_len);
	EXPECT_EQ(5, op.value_len);
	EXPECT_EQ(SM_PTR(key), op.key);
	EXPECT_EQ(SM_PTR(value), op.value);

	memset(&op, POISON, sizeof(op));
	snapmap_txn_del(&op, key, 3);
	EXPECT_EQ(SNAPMAP_TXN_DEL, op.opcode);
	EXPECT_EQ(0, op.flags);
	EXPECT_EQ(3, op.key_len);
	EXPECT_EQ(0, op.value_len);
	EXPECT_EQ(SM_PTR(key), op.key);
	EXPECT_EQ(0, op.value);
}

/*
 * Every kind of condition holds: the writes take effect at one version,
 * which GET reports for each key written, and a deleted key is gone.
 */
TEST_F(txn, commit)
{
	struct snapmap_txn_cond c[4];
	struct snapmap_txn_op op[3];
	struct snapmap_info info;
	__u64 va, vd, version = UNSET_VERSION;
	__u32 failed = UNSET_FAILED, len;
	char buf[16];

	va = put_str(_metadata, self->fd, "a", "alpha");
	put_str(_metadata, self->fd, "b", "beta");

	snapmap_txn_if_version(&c[0], "a", 1, va);
	snapmap_txn_if_present(&c[1], "b", 1);
	snapmap_txn_if_absent(&c[2], "c", 1);
	snapmap_txn_if_value(&c[3], "b", 1, "beta", 4);
	snapmap_txn_put(&op[0], "a", 1, "A", 1);
	snapmap_txn_del(&op[1], "b", 1);
	snapmap_txn_put(&op[2], "c", 1, "", 0);
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, c, 4, op, 3, &version,
				     &failed)));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_LT(va, version);
	EXPECT_NE(UNSET_VERSION, version);
	EXPECT_VALUE(self->fd, "a", 1, "A", 1, version);
	EXPECT_VALUE(self->fd, "c", 1, "", 0, version);
	EXPECT_EQ(-ENOENT, LIB(snapmap_get(self->fd, "b", 1, NULL,
					   &(__u32){ 0 }, NULL)));
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &info)));
	EXPECT_EQ(2, info.out_entries);
	/* A later write comes after it. */
	vd = put_str(_metadata, self->fd, "d", "x");
	EXPECT_LT(version, vd);

	/* version and failed may be NULL. */
	snapmap_txn_if_value(&c[0], "a", 1, "A", 1);
	snapmap_txn_put(&op[0], "a", 1, "again", 5);
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, c, 1, op, 1, NULL, NULL)));
	len = sizeof(buf);
	ASSERT_EQ(0, LIB(snapmap_get(self->fd, "a", 1, buf, &len, &va)));
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(buf, "again", 5));
	EXPECT_LT(vd, va);
}

/* Writing nothing: only conditions, or only DELs of absent keys. */
TEST_F(txn, writes_nothing)
{
	struct snapmap_txn_cond c;
	struct snapmap_txn_op op;
	struct snapmap_info before;
	__u64 version = UNSET_VERSION;
	__u32 failed = UNSET_FAILED;

	put_str(_metadata, self->fd, "a", "alpha");
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &before)));
	snapmap_txn_if_present(&c, "a", 1);
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, &c, 1, NULL, 0, &version,
				     &failed)));
	EXPECT_EQ(0, version);
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);

	version = UNSET_VERSION;
	snapmap_txn_del(&op, "nope", 4);
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, NULL, 0, &op, 1, &version,
				     &failed)));
	EXPECT_EQ(0, version);

	/* And nothing at all. */
	version = UNSET_VERSION;
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, NULL, 0, NULL, 0, &version,
				     &failed)));
	EXPECT_EQ(0, version);
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_UNCHANGED(self->fd, before);
	EXPECT_VALUE(self->fd, "a", 1, "alpha", 5, before.out_version);
}

/*
 * Each kind of condition that does not hold: ECANCELED, *failed names the
 * first one that does not (several do not), *version is left alone, and
 * nothing is written.
 */
TEST_F(txn, cancel)
{
	struct snapmap_txn_cond c[3];
	struct snapmap_txn_op op[2];
	struct snapmap_info before;
	__u64 va, vb, version;
	__u32 failed;
	int i;

	va = put_str(_metadata, self->fd, "a", "alpha");
	vb = put_str(_metadata, self->fd, "b", "beta");
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &before)));
	snapmap_txn_put(&op[0], "a", 1, "A", 1);
	snapmap_txn_put(&op[1], "z", 1, "Z", 1);

	for (i = 0; i < 6; i++) {
		/* Two that hold, then the one under test, last. */
		snapmap_txn_if_present(&c[0], "a", 1);
		snapmap_txn_if_version(&c[1], "b", 1, vb);
		switch (i) {
		case 0:
			snapmap_txn_if_version(&c[2], "a", 1, va + 100);
			break;
		case 1:
			/* An absent key has no version to match. */
			snapmap_txn_if_version(&c[2], "nope", 4, 0);
			break;
		case 2:
			snapmap_txn_if_present(&c[2], "nope", 4);
			break;
		case 3:
			snapmap_txn_if_absent(&c[2], "b", 1);
			break;
		case 4:
			snapmap_txn_if_value(&c[2], "a", 1, "alphA", 5);
			break;
		case 5:
			snapmap_txn_if_value(&c[2], "nope", 4, "", 0);
			break;
		}
		version = UNSET_VERSION;
		failed = UNSET_FAILED;
		EXPECT_EQ(-ECANCELED, LIB(snapmap_txn(self->fd, c, 3, op, 2,
						      &version, &failed))) {
			TH_LOG("case %d", i);
		}
		EXPECT_EQ(2, failed) {
			TH_LOG("case %d", i);
		}
		EXPECT_EQ(UNSET_VERSION, version);
	}

	/* Of several that do not hold, the first. */
	snapmap_txn_if_present(&c[0], "a", 1);
	snapmap_txn_if_absent(&c[1], "a", 1);
	snapmap_txn_if_present(&c[2], "nope", 4);
	failed = UNSET_FAILED;
	EXPECT_EQ(-ECANCELED, LIB(snapmap_txn(self->fd, c, 3, op, 2, NULL,
					      &failed)));
	EXPECT_EQ(1, failed);

	EXPECT_UNCHANGED(self->fd, before);
	EXPECT_VALUE(self->fd, "a", 1, "alpha", 5, va);
	EXPECT_VALUE(self->fd, "b", 1, "beta", 4, vb);
	EXPECT_EQ(-ENOENT, LIB(snapmap_get(self->fd, "z", 1, NULL,
					   &(__u32){ 0 }, NULL)));
}

/*
 * A second write to a key: EINVAL, *failed names that write (counted
 * after the conditions), nothing is written; a condition and a write on
 * one key, or several conditions on one key, are fine.
 */
TEST_F(txn, duplicate_key)
{
	struct snapmap_txn_cond c[2];
	struct snapmap_txn_op op[3];
	struct snapmap_info before;
	__u64 va, version;
	__u32 failed = UNSET_FAILED;

	va = put_str(_metadata, self->fd, "a", "alpha");
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &before)));
	snapmap_txn_if_present(&c[0], "a", 1);
	snapmap_txn_if_version(&c[1], "a", 1, va);
	snapmap_txn_put(&op[0], "a", 1, "A", 1);
	snapmap_txn_put(&op[1], "b", 1, "B", 1);
	snapmap_txn_del(&op[2], "a", 1);
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn(self->fd, c, 2, op, 3, NULL,
					   &failed)));
	EXPECT_EQ(2 + 2, failed);
	EXPECT_UNCHANGED(self->fd, before);
	EXPECT_VALUE(self->fd, "a", 1, "alpha", 5, va);

	/* Without the third write it goes through. */
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, c, 2, op, 2, &version,
				     &failed)));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_VALUE(self->fd, "a", 1, "A", 1, version);
	EXPECT_VALUE(self->fd, "b", 1, "B", 1, version);
}

TEST_F(txn, errors)
{
	char long_key[65], long_value[1025];
	struct snapmap_txn_cond c[2];
	struct snapmap_txn_op op[2];
	struct snapmap_info before;
	__u32 failed;
	int ro;

	put_str(_metadata, self->fd, "a", "alpha");
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &before)));
	memset(long_key, 'k', sizeof(long_key));
	memset(long_value, 'v', sizeof(long_value));

	/* An empty key, in a condition and in a write. */
	snapmap_txn_if_present(&c[0], "a", 1);
	snapmap_txn_if_absent(&c[1], "b", 0);
	snapmap_txn_put(&op[0], "b", 1, "B", 1);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn(self->fd, c, 2, op, 1, NULL,
					   &failed)));
	EXPECT_EQ(1, failed);
	snapmap_txn_if_absent(&c[1], "b", 1);
	snapmap_txn_put(&op[1], "c", 0, "C", 1);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn(self->fd, c, 2, op, 2, NULL,
					   &failed)));
	EXPECT_EQ(3, failed);

	/* Over the map's limits: EMSGSIZE, the entry named. */
	snapmap_txn_put(&op[1], long_key, sizeof(long_key), "C", 1);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_txn(self->fd, c, 2, op, 2, NULL,
					     &failed)));
	EXPECT_EQ(3, failed);
	snapmap_txn_put(&op[1], "c", 1, long_value, sizeof(long_value));
	failed = UNSET_FAILED;
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_txn(self->fd, c, 2, op, 2, NULL,
					     &failed)));
	EXPECT_EQ(3, failed);

	/* Bad pointers: the entry whose key cannot be read, or none. */
	snapmap_txn_put(&op[1], (void *)8, 1, "C", 1);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EFAULT, LIB(snapmap_txn(self->fd, c, 2, op, 2, NULL,
					   &failed)));
	EXPECT_EQ(3, failed);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EFAULT, LIB(snapmap_txn(self->fd, NULL, 1, op, 1, NULL,
					   &failed)));
	EXPECT_EQ(0, failed);

	/* Counts above the caps. */
	failed = UNSET_FAILED;
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn(self->fd, c,
					   SNAPMAP_TXN_MAX_CONDS + 1, op, 1,
					   NULL, &failed)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_txn(self->fd, c, 1, op,
					   SNAPMAP_TXN_MAX_OPS + 1, NULL,
					   &failed)));

	/* Read-only fd, the wrong kind of fd, no fd. */
	snapmap_txn_put(&op[1], "c", 1, "C", 1);
	ro = LIB(snapmap_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EBADF, LIB(snapmap_txn(ro, c, 2, op, 2, NULL, &failed)));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_EQ(0, close(ro));
	failed = UNSET_FAILED;
	EXPECT_EQ(-ENOTTY, LIB(snapmap_txn(self->ctl, c, 2, op, 2, NULL,
					   &failed)));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	failed = UNSET_FAILED;
	EXPECT_EQ(-EBADF, LIB(snapmap_txn(-1, c, 2, op, 2, NULL, &failed)));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);

	EXPECT_UNCHANGED(self->fd, before);
}

/*
 * snapmap_mget(): several keys at one version, the keys' own versions all
 * below it and writes after it above or at it; absent keys, small buffers.
 */
TEST_F(txn, mget)
{
	struct snapmap_batch_op ops[5];
	char v[4][16], small[2];
	__u64 va, vb, vc, version = UNSET_VERSION, later;
	int i;

	va = put_str(_metadata, self->fd, "a", "alpha");
	vb = put_str(_metadata, self->fd, "b", "beta");
	vc = put_str(_metadata, self->fd, "c", "gamma");
	/* Not the latest write of every key: a has been overwritten. */
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "a", 1, "ALPHA", 5, 0, &va)));

	snapmap_batch_get(&ops[0], "a", 1, v[0], sizeof(v[0]));
	snapmap_batch_get(&ops[1], "b", 1, v[1], sizeof(v[1]));
	snapmap_batch_get(&ops[2], "nope", 4, v[2], sizeof(v[2]));
	snapmap_batch_get(&ops[3], "c", 1, small, sizeof(small));
	snapmap_batch_get(&ops[4], "a", 1, v[3], sizeof(v[3]));
	ASSERT_EQ(5, LIB(snapmap_mget(self->fd, ops, 5, &version)));
	EXPECT_NE(UNSET_VERSION, version);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(5, ops[0].out_value_len);
	EXPECT_EQ(0, memcmp(v[0], "ALPHA", 5));
	EXPECT_EQ(va, ops[0].out_version);
	EXPECT_EQ(0, ops[1].out_result);
	EXPECT_EQ(4, ops[1].out_value_len);
	EXPECT_EQ(0, memcmp(v[1], "beta", 4));
	EXPECT_EQ(vb, ops[1].out_version);
	EXPECT_EQ(-ENOENT, ops[2].out_result);
	EXPECT_EQ(-ERANGE, ops[3].out_result);
	EXPECT_EQ(5, ops[3].out_value_len);
	EXPECT_EQ(vc, ops[3].out_version);
	EXPECT_EQ(0, ops[4].out_result);
	EXPECT_EQ(va, ops[4].out_version);
	/* The version read at: every write seen is below it... */
	for (i = 0; i < 5; i++)
		if (!ops[i].out_result || ops[i].out_result == -ERANGE)
			EXPECT_LT(ops[i].out_version, version);
	/* ...and a write after the call is not. */
	later = put_str(_metadata, self->fd, "b", "later");
	EXPECT_LE(version, later);

	/* An empty one, with NULL ops. */
	EXPECT_EQ(0, LIB(snapmap_mget(self->fd, NULL, 0, NULL)));
}

/* Only GETs: any other operation reports EINVAL and does not run. */
TEST_F(txn, mget_gets_only)
{
	struct snapmap_batch_op ops[3];
	struct snapmap_info before;
	char v[16];
	int ro;

	put_str(_metadata, self->fd, "a", "alpha");
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &before)));
	snapmap_batch_get(&ops[0], "a", 1, v, sizeof(v));
	snapmap_batch_put(&ops[1], "a", 1, "x", 1, 0);
	snapmap_batch_del(&ops[2], "a", 1);
	ASSERT_EQ(3, LIB(snapmap_mget(self->fd, ops, 3, NULL)));
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(-EINVAL, ops[1].out_result);
	EXPECT_EQ(-EINVAL, ops[2].out_result);
	EXPECT_VALUE(self->fd, "a", 1, "alpha", 5, before.out_version);

	/* On a read-only fd too. */
	ro = LIB(snapmap_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	ASSERT_EQ(1, LIB(snapmap_mget(ro, ops, 1, NULL)));
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(5, ops[0].out_value_len);
	EXPECT_EQ(0, close(ro));
}

TEST_F(txn, mget_errors)
{
	struct snapmap_batch_op *ops;
	__u64 version = UNSET_VERSION;
	char v[4];
	int i;

	ops = calloc(SNAPMAP_BATCH_MAX + 1, sizeof(*ops));
	ASSERT_TRUE(ops != NULL);
	for (i = 0; i <= SNAPMAP_BATCH_MAX; i++) {
		snapmap_batch_get(&ops[i], "a", 1, v, sizeof(v));
		ops[i].out_result = 12345;
	}
	/* One call, one version: more than it takes is not split. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_mget(self->fd, ops,
					    SNAPMAP_BATCH_MAX + 1, &version)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_mget(self->fd, ops, UINT_MAX,
					    &version)));
	EXPECT_EQ(12345, ops[0].out_result);
	EXPECT_EQ(UNSET_VERSION, version);
	/* The most it takes, in one call. */
	EXPECT_EQ(SNAPMAP_BATCH_MAX, LIB(snapmap_mget(self->fd, ops,
						      SNAPMAP_BATCH_MAX,
						      &version)));
	EXPECT_EQ(-ENOENT, ops[SNAPMAP_BATCH_MAX - 1].out_result);
	EXPECT_EQ(12345, ops[SNAPMAP_BATCH_MAX].out_result);
	EXPECT_NE(UNSET_VERSION, version);

	EXPECT_EQ(-EFAULT, LIB(snapmap_mget(self->fd, NULL, 1, NULL)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_mget(self->fd, (void *)8, 1, NULL)));
	EXPECT_EQ(-ENOTTY, LIB(snapmap_mget(self->ctl, ops, 1, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_mget(-1, ops, 1, NULL)));
	free(ops);
}

/*
 * A writer moves a counter through two keys with transactions, a and b
 * always equal; snapmap_mget() must never see them differ, and sees both
 * at the version of the transaction that wrote them.
 */
struct pair_writer {
	int fd;
	int stop;
	int err;
	unsigned int rounds;
};

static void *pair_writer(void *arg)
{
	struct pair_writer *w = arg;
	struct snapmap_txn_op op[2];
	char value[16];
	int n, ret;

	while (!LOAD(&w->stop)) {
		n = snprintf(value, sizeof(value), "%u", w->rounds + 1);
		snapmap_txn_put(&op[0], "a", 1, value, n);
		snapmap_txn_put(&op[1], "b", 1, value, n);
		ret = snapmap_txn(w->fd, NULL, 0, op, 2, NULL, NULL);
		if (ret) {
			STORE(&w->err, ret);
			break;
		}
		STORE(&w->rounds, w->rounds + 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(txn, mget_sees_whole_txn, 120)
{
	struct pair_writer w = { .fd = self->fd };
	struct snapmap_batch_op ops[2];
	char va[16], vb[16];
	unsigned int i, bad = 0, reads = 0;
	__u64 version;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, pair_writer, &w));
	for (i = 0; i < 2000 && !LOAD(&w.err); i++) {
		snapmap_batch_get(&ops[0], "a", 1, va, sizeof(va));
		snapmap_batch_get(&ops[1], "b", 1, vb, sizeof(vb));
		ASSERT_EQ(2, LIB(snapmap_mget(self->fd, ops, 2, &version)));
		if (ops[0].out_result == -ENOENT &&
		    ops[1].out_result == -ENOENT)
			continue;
		reads++;
		bad += ops[0].out_result || ops[1].out_result ||
		       ops[0].out_version != ops[1].out_version ||
		       ops[0].out_version >= version ||
		       ops[0].out_value_len != ops[1].out_value_len ||
		       memcmp(va, vb, ops[0].out_value_len);
	}
	STORE(&w.stop, 1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, w.err);
	EXPECT_EQ(0, bad) {
		TH_LOG("%u of %u reads saw a half transaction", bad, reads);
	}
	/* The check saw the writer at work. */
	EXPECT_LT(0, reads);
	EXPECT_LT(1, LOAD(&w.rounds));
}

/*
 * snapmap_snapshot_get() on an ATOMIC snapshot: the values and versions
 * of its instant, whatever was written since; it does not move the read
 * position.
 */
TEST_F(txn, snapshot_get)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	char buf[16];
	__u64 va, vb, vnew, version = UNSET_VERSION;
	__u32 len;
	int n = 0, ret;

	va = put_str(_metadata, self->fd, "a", "alpha");
	vb = put_str(_metadata, self->fd, "b", "beta");
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	/* Reading one record first: a lookup must not move past it. */
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	vnew = put_str(_metadata, self->fd, "a", "changed");
	ASSERT_EQ(0, LIB(snapmap_del(self->fd, "b", 1, NULL)));
	put_str(_metadata, self->fd, "c", "new");

	len = sizeof(buf);
	ASSERT_EQ(0, LIB(snapmap_snapshot_get(snap, "a", 1, buf, &len,
					      &version)));
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(buf, "alpha", 5));
	EXPECT_EQ(va, version);
	len = sizeof(buf);
	ASSERT_EQ(0, LIB(snapmap_snapshot_get(snap, "b", 1, buf, &len,
					      NULL)));
	EXPECT_EQ(4, len);
	EXPECT_EQ(0, memcmp(buf, "beta", 4));
	/* Written after its instant: not in it. */
	len = sizeof(buf);
	EXPECT_EQ(-ENOENT, LIB(snapmap_snapshot_get(snap, "c", 1, buf, &len,
						    NULL)));
	/* Too small a buffer: the length and version all the same. */
	len = 2;
	version = UNSET_VERSION;
	EXPECT_EQ(-ERANGE, LIB(snapmap_snapshot_get(snap, "b", 1, buf, &len,
						    &version)));
	EXPECT_EQ(4, len);
	EXPECT_EQ(vb, version);
	len = 0;
	EXPECT_EQ(-ERANGE, LIB(snapmap_snapshot_get(snap, "a", 1, NULL, &len,
						    NULL)));
	EXPECT_EQ(5, len);

	/* The read position stayed after the first record. */
	while ((ret = snapmap_snapshot_next(snap, &e)) > 0)
		n++;
	EXPECT_EQ(0, ret);
	EXPECT_EQ(1, n);
	/* The map itself moved on. */
	EXPECT_VALUE(self->fd, "a", 1, "changed", 7, vnew);
	snapmap_snapshot_close(snap);
}

/* A WEAK snapshot answers with the current value, as GET. */
TEST_F(txn, snapshot_get_weak)
{
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts,
		     .flags = SNAPMAP_SNAPSHOT_WEAK);
	struct snapmap_snapshot *snap;
	char buf[16];
	__u64 va, version;
	__u32 len;

	put_str(_metadata, self->fd, "a", "alpha");
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, &opts, &snap)));
	va = put_str(_metadata, self->fd, "a", "now");
	len = sizeof(buf);
	ASSERT_EQ(0, LIB(snapmap_snapshot_get(snap, "a", 1, buf, &len,
					      &version)));
	EXPECT_EQ(3, len);
	EXPECT_EQ(0, memcmp(buf, "now", 3));
	EXPECT_EQ(va, version);
	snapmap_snapshot_close(snap);
}

TEST_F(txn, snapshot_get_errors)
{
	char long_key[65], buf[16];
	struct snapmap_snapshot *snap;
	__u32 len = sizeof(buf);

	memset(long_key, 'k', sizeof(long_key));
	put_str(_metadata, self->fd, "a", "alpha");
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_get(NULL, "a", 1, buf, &len,
						    NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_get(snap, "a", 1, buf, NULL,
						    NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_get(snap, "a", 0, buf, &len,
						    NULL)));
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_snapshot_get(snap, long_key,
						      sizeof(long_key), buf,
						      &len, NULL)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_snapshot_get(snap, (void *)8, 1, buf,
						    &len, NULL)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_snapshot_get(snap, "a", 1, (void *)8,
						    &len, NULL)));
	/* Untouched by the errors. */
	EXPECT_EQ(sizeof(buf), len);
	snapmap_snapshot_close(snap);
}

/*
 * ESTALE: a map at its byte limit, an ATOMIC snapshot, and overwrites of
 * every key until the versions it pins take the map over the limit.
 */
TEST_F_TIMEOUT(txn, snapshot_get_estale, 120)
{
	SNAPMAP_OPTS(snapmap_create_opts, copts, .max_bytes = 8192);
	struct snapmap_snapshot *snap;
	char key[16], value[32], buf[32];
	unsigned int keys, round, i;
	__u32 len;
	int fd, ret = 0;

	fd = LIB(snapmap_create(self->ctl, &copts));
	ASSERT_LE(0, fd);
	memset(value, 'v', sizeof(value));
	for (keys = 0; keys < 1000; keys++) {
		snprintf(key, sizeof(key), "k%u", keys);
		ret = snapmap_put(fd, key, strlen(key), value, sizeof(value),
				  0, NULL);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOSPC, ret);
	ASSERT_LT(1, keys);
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, NULL, &snap)));
	for (round = 1; round < 100; round++) {
		value[0] = 'a' + round % 26;
		for (i = 0; i < keys; i++) {
			snprintf(key, sizeof(key), "k%u", i);
			ASSERT_EQ(0, LIB(snapmap_put(fd, key, strlen(key),
						     value, sizeof(value), 0,
						     NULL)));
		}
		len = sizeof(buf);
		ret = snapmap_snapshot_get(snap, "k0", 2, buf, &len, NULL);
		if (ret)
			break;
		/* While it is not stale, it is right. */
		EXPECT_EQ('v', buf[0]);
	}
	EXPECT_EQ(-ESTALE, ret) {
		TH_LOG("%u rounds of overwrites of %u keys", round, keys);
	}
	snapmap_snapshot_close(snap);
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
