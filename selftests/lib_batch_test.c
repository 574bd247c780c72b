// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: batches.  The snapmap_batch_*() helpers, mixed
 * batches, batches longer than SNAPMAP_BATCH_MAX sent in several calls
 * with STOP_ON_ERROR honoured across them (also when the failing
 * operation is the last of a call), an error of the batch itself after a
 * first call ran, read-only fds, and the errors of snapmap_batch(): EINVAL,
 * EFAULT, ENOTTY.
 */

#include <limits.h>
#include <sys/mman.h>

#include "lib_test.h"

/* Results of operations that did not run keep this. */
#define UNTOUCHED (-12345)

FIXTURE(batch) {
	int ctl;
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(batch)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .name = lib_name(self->name, "batch"));

	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	self->fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(batch)
{
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/* The helpers set every member, whatever the memory held. */
TEST(helpers)
{
	const char *key = "key";
	struct snapmap_batch_op op;
	char value[8];

	memset(&op, 0xa5, sizeof(op));
	snapmap_batch_get(&op, key, 3, value, sizeof(value));
	EXPECT_EQ(SNAPMAP_BATCH_GET, op.opcode);
	EXPECT_EQ(0, op.flags);
	EXPECT_EQ(3, op.key_len);
	EXPECT_EQ(sizeof(value), op.value_len);
	EXPECT_EQ(SM_PTR(key), op.key);
	EXPECT_EQ(SM_PTR(value), op.value);
	EXPECT_EQ(0, op.version);
	EXPECT_EQ(0, op.out_result);
	EXPECT_EQ(0, op.out_value_len);
	EXPECT_EQ(0, op.out_version);

	memset(&op, 0xa5, sizeof(op));
	snapmap_batch_put(&op, value, 2, value + 2, 5, SNAPMAP_PUT_NOEXIST);
	EXPECT_EQ(SNAPMAP_BATCH_PUT, op.opcode);
	EXPECT_EQ(SNAPMAP_PUT_NOEXIST, op.flags);
	EXPECT_EQ(2, op.key_len);
	EXPECT_EQ(5, op.value_len);
	EXPECT_EQ(SM_PTR(value), op.key);
	EXPECT_EQ(SM_PTR(value + 2), op.value);
	EXPECT_EQ(0, op.version);
	EXPECT_EQ(0, op.out_result);
	EXPECT_EQ(0, op.out_version);

	memset(&op, 0xa5, sizeof(op));
	snapmap_batch_del(&op, value, 4);
	EXPECT_EQ(SNAPMAP_BATCH_DEL, op.opcode);
	EXPECT_EQ(0, op.flags);
	EXPECT_EQ(4, op.key_len);
	EXPECT_EQ(0, op.value_len);
	EXPECT_EQ(SM_PTR(value), op.key);
	EXPECT_EQ(0, op.value);
	EXPECT_EQ(0, op.version);
	EXPECT_EQ(0, op.out_result);
	EXPECT_EQ(0, op.out_value_len);
	EXPECT_EQ(0, op.out_version);
}

TEST_F(batch, mixed)
{
	struct snapmap_batch_op ops[8];
	char v1[8], v2[8], small[2];
	__u64 va = 0;

	snapmap_batch_put(&ops[0], "a", 1, "alpha", 5, 0);
	snapmap_batch_put(&ops[1], "b", 1, "beta", 4, SNAPMAP_PUT_NOEXIST);
	snapmap_batch_get(&ops[2], "a", 1, v1, sizeof(v1));
	snapmap_batch_put(&ops[3], "b", 1, "x", 1, SNAPMAP_PUT_NOEXIST);
	snapmap_batch_get(&ops[4], "b", 1, small, sizeof(small));
	snapmap_batch_del(&ops[5], "b", 1);
	snapmap_batch_get(&ops[6], "b", 1, v2, sizeof(v2));
	/* A conditional delete by hand: its version and flag. */
	snapmap_batch_del(&ops[7], "a", 1);
	ops[7].flags = SNAPMAP_DEL_IF_VERSION;
	ops[7].version = 1;

	ASSERT_EQ(8, LIB(snapmap_batch(self->fd, ops, 8, 0)));
	EXPECT_EQ(0, ops[0].out_result);
	va = ops[0].out_version;
	EXPECT_LT(0, va);
	EXPECT_EQ(0, ops[1].out_result);
	EXPECT_EQ(0, ops[2].out_result);
	EXPECT_EQ(5, ops[2].out_value_len);
	EXPECT_EQ(va, ops[2].out_version);
	EXPECT_EQ(0, memcmp(v1, "alpha", 5));
	EXPECT_EQ(-EEXIST, ops[3].out_result);
	EXPECT_EQ(-ERANGE, ops[4].out_result);
	EXPECT_EQ(4, ops[4].out_value_len);
	EXPECT_EQ(0, ops[5].out_result);
	EXPECT_EQ(-ENOENT, ops[6].out_result);
	EXPECT_EQ(0, ops[7].out_result);
	EXPECT_EQ(1, va);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "a", 1, NULL, 0, NULL, NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "b", 1, NULL, 0, NULL, NULL));

	/* An empty batch, with NULL ops. */
	EXPECT_EQ(0, LIB(snapmap_batch(self->fd, NULL, 0, 0)));
	EXPECT_EQ(0, LIB(snapmap_batch(self->fd, ops, 0,
				       SNAPMAP_BATCH_STOP_ON_ERROR)));
}

#define BIG 10000

struct big_batch {
	struct snapmap_batch_op ops[BIG];
	char keys[BIG][8];
	char values[BIG][8];
};

static struct big_batch *big_batch_new(void)
{
	struct big_batch *b = calloc(1, sizeof(*b));
	unsigned int i;

	if (!b)
		return NULL;
	for (i = 0; i < BIG; i++) {
		snprintf(b->keys[i], sizeof(b->keys[i]), "k%05u", i);
		snprintf(b->values[i], sizeof(b->values[i]), "v%05u", i);
		snapmap_batch_put(&b->ops[i], b->keys[i], 6, b->values[i], 6,
				  0);
		b->ops[i].out_result = UNTOUCHED;
	}
	return b;
}

/* More than SNAPMAP_BATCH_MAX operations: several calls, one result. */
TEST_F_TIMEOUT(batch, split, 120)
{
	struct big_batch *b = big_batch_new();
	struct snapmap_info info;
	char got[BIG][8];
	unsigned int i, bad = 0;

	ASSERT_TRUE(b != NULL);
	ASSERT_LT(SNAPMAP_BATCH_MAX * 2, BIG);
	ASSERT_EQ(BIG, LIB(snapmap_batch(self->fd, b->ops, BIG, 0)));
	for (i = 0; i < BIG; i++) {
		bad += b->ops[i].out_result != 0;
		/* In order, across calls too. */
		if (i)
			bad += b->ops[i].out_version !=
			       b->ops[i - 1].out_version + 1;
	}
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &info)));
	EXPECT_EQ(BIG, info.out_entries);
	EXPECT_EQ(b->ops[BIG - 1].out_version, info.out_version);

	/* And read back the same way. */
	for (i = 0; i < BIG; i++)
		snapmap_batch_get(&b->ops[i], b->keys[i], 6, got[i], 8);
	ASSERT_EQ(BIG, LIB(snapmap_batch(self->fd, b->ops, BIG,
					 SNAPMAP_BATCH_STOP_ON_ERROR)));
	for (i = 0; i < BIG; i++)
		bad += b->ops[i].out_result || b->ops[i].out_value_len != 6 ||
		       memcmp(got[i], b->values[i], 6);
	EXPECT_EQ(0, bad);
	EXPECT_VALUE(self->fd, "k04096", 6, "v04096", 6,
		     b->ops[4096].out_version);
	free(b);
}

/*
 * STOP_ON_ERROR across calls: with the failing operation in the first
 * call, in a later one, and as the very first or the very last operation
 * of a call, the batch stops right after it, and the operations after it
 * did not run.  Without the flag, everything runs.
 */
#define STOP_N (2 * SNAPMAP_BATCH_MAX + 100)

static void expect_stopped_at(struct __test_metadata *_metadata, int fd,
			      unsigned int fail_at, bool stop)
{
	struct big_batch *b = big_batch_new();
	struct snapmap_info info;
	unsigned int i, bad = 0, ran = stop ? fail_at + 1 : STOP_N;

	ASSERT_TRUE(b != NULL);
	ASSERT_EQ(0, LIB(snapmap_clear(fd, NULL)));
	/* The failing one: an existing key, with NOEXIST. */
	ASSERT_EQ(0, LIB(snapmap_put(fd, b->keys[fail_at], 6, "old", 3, 0,
				     NULL)));
	b->ops[fail_at].flags = SNAPMAP_PUT_NOEXIST;

	EXPECT_EQ(ran, LIB(snapmap_batch(fd, b->ops, STOP_N,
					 stop ? SNAPMAP_BATCH_STOP_ON_ERROR :
						0))) {
		TH_LOG("failing at %u", fail_at);
	}
	EXPECT_EQ(-EEXIST, b->ops[fail_at].out_result);
	for (i = 0; i < ran; i++)
		bad += i != fail_at && b->ops[i].out_result != 0;
	for (i = ran; i < STOP_N; i++)
		bad += b->ops[i].out_result != UNTOUCHED;
	EXPECT_EQ(0, bad) {
		TH_LOG("failing at %u", fail_at);
	}
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(ran, info.out_entries);
	free(b);
}

TEST_F_TIMEOUT(batch, stop_on_error_across_calls, 300)
{
	const unsigned int fail_at[] = {
		100, SNAPMAP_BATCH_MAX - 1, SNAPMAP_BATCH_MAX,
		SNAPMAP_BATCH_MAX + 1000, 2 * SNAPMAP_BATCH_MAX - 1,
		STOP_N - 1,
	};
	unsigned int t;

	for (t = 0; t < ARRAY_SIZE(fail_at); t++)
		expect_stopped_at(_metadata, self->fd, fail_at[t], true);
	expect_stopped_at(_metadata, self->fd, SNAPMAP_BATCH_MAX - 1, false);
}

TEST_F(batch, errors)
{
	struct snapmap_batch_op op;

	snapmap_batch_put(&op, "k", 1, "v", 1, 0);
	op.out_result = UNTOUCHED;
	EXPECT_EQ(-EINVAL, LIB(snapmap_batch(self->fd, &op, 1, 1U << 7)));
	/* Even an empty batch is checked. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_batch(self->fd, &op, 0, 1U << 7)));
	/* A count the return value cannot hold. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_batch(self->fd, &op, (__u32)INT_MAX + 1,
					     0)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_batch(self->fd, &op, ~0U, 0)));
	EXPECT_EQ(UNTOUCHED, op.out_result);
	EXPECT_EQ(-EFAULT, LIB(snapmap_batch(self->fd, NULL, 1, 0)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_batch(self->fd, (void *)8, 1, 0)));
	EXPECT_EQ(-ENOTTY, LIB(snapmap_batch(self->ctl, &op, 1, 0)));
	EXPECT_EQ(UNTOUCHED, op.out_result);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, NULL, 0, NULL, NULL));

	/* Errors of single operations are theirs, not the batch's. */
	snapmap_batch_put(&op, "k", 0, "v", 1, 0);
	EXPECT_EQ(1, LIB(snapmap_batch(self->fd, &op, 1, 0)));
	EXPECT_EQ(-EINVAL, op.out_result);
}

/*
 * An error of the batch itself in a later call: the calls before it ran
 * and show their results, the rest did not.  The ops of the second call
 * lie on a page unmapped before the batch.
 */
TEST_F(batch, efault_in_later_call)
{
	size_t page = sysconf(_SC_PAGESIZE);
	size_t first = SNAPMAP_BATCH_MAX * sizeof(struct snapmap_batch_op);
	size_t len = (first + page - 1) / page * page + page;
	struct snapmap_batch_op *ops;
	struct snapmap_info info;
	char keys[SNAPMAP_BATCH_MAX + 4][8];
	unsigned int i, bad = 0;

	/* The first call's ops end exactly on a page boundary. */
	ASSERT_EQ(0, first % page);
	ops = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ops != MAP_FAILED);
	for (i = 0; i < SNAPMAP_BATCH_MAX + 4; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%u", i);
		snapmap_batch_put(&ops[i], keys[i], strlen(keys[i]), "v", 1,
				  0);
		ops[i].out_result = UNTOUCHED;
	}
	ASSERT_EQ(0, munmap((char *)ops + first, page));

	EXPECT_EQ(-EFAULT, LIB(snapmap_batch(self->fd, ops,
					     SNAPMAP_BATCH_MAX + 4, 0)));
	for (i = 0; i < SNAPMAP_BATCH_MAX; i++)
		bad += ops[i].out_result != 0;
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &info)));
	EXPECT_EQ(SNAPMAP_BATCH_MAX, info.out_entries);
	munmap(ops, first);
}

/* On a read-only fd GETs run and the writes report EBADF. */
TEST_F(batch, read_only)
{
	struct snapmap_batch_op ops[3];
	char value[4];
	int ro;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, NULL)));
	ro = LIB(snapmap_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	snapmap_batch_get(&ops[0], "k", 1, value, sizeof(value));
	snapmap_batch_put(&ops[1], "k", 1, "w", 1, 0);
	snapmap_batch_del(&ops[2], "k", 1);
	ASSERT_EQ(3, LIB(snapmap_batch(ro, ops, 3, 0)));
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(1, ops[0].out_value_len);
	EXPECT_EQ(-EBADF, ops[1].out_result);
	EXPECT_EQ(-EBADF, ops[2].out_result);
	/* Stopped at the first write. */
	ops[1].out_result = UNTOUCHED;
	ops[2].out_result = UNTOUCHED;
	ASSERT_EQ(2, LIB(snapmap_batch(ro, ops, 3,
				       SNAPMAP_BATCH_STOP_ON_ERROR)));
	EXPECT_EQ(-EBADF, ops[1].out_result);
	EXPECT_EQ(UNTOUCHED, ops[2].out_result);
	EXPECT_VALUE(self->fd, "k", 1, "v", 1, 1);
	EXPECT_EQ(0, close(ro));
}

TEST_HARNESS_MAIN
