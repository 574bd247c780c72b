// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: SNAPMAP_IOC_BATCH: operations run in order, each with
 * its own result; SNAPMAP_BATCH_STOP_ON_ERROR and out_done; the limits of
 * count and op_size; operations grown like the other structures; errors of
 * the batch itself against errors of single operations; read-only fds.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapmap_test.h"

#define KEY_MAX 16
#define VAL_MAX 64
#define ENTRIES_MAX 16

/* What an operation the module did not run still holds. */
#define UNTOUCHED_RESULT 0x7777
#define UNTOUCHED_VERSION 0x5a5a5a5a5a5a5a5aULL

FIXTURE(map) {
	int ctl;
	int fd;		/* read-write */
	int ro;		/* the same map, opened read-only */
};

FIXTURE_SETUP(map)
{
	char name[SNAPMAP_NAME_LEN];

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(name, sizeof(name), "batch_test-%d", (int)getpid());
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, ENTRIES_MAX, 0, 0,
			     name);
	ASSERT_LE(0, self->fd);
	self->ro = sm_open(self->ctl, name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, self->ro);
}

FIXTURE_TEARDOWN(map)
{
	EXPECT_EQ(0, close(self->ro));
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

static void op_init(struct snapmap_batch_op *op, __u32 opcode, __u32 flags,
		    const char *key)
{
	memset(op, 0, sizeof(*op));
	op->opcode = opcode;
	op->flags = flags;
	if (key) {
		op->key = SM_PTR(key);
		op->key_len = strlen(key);
	}
	op->out_result = UNTOUCHED_RESULT;
	op->out_value_len = ~0U;
	op->out_version = UNTOUCHED_VERSION;
}

static void op_get(struct snapmap_batch_op *op, const char *key, void *buf,
		   __u32 buf_len)
{
	op_init(op, SNAPMAP_BATCH_GET, 0, key);
	op->value = SM_PTR(buf);
	op->value_len = buf_len;
}

static void op_put(struct snapmap_batch_op *op, __u32 flags, const char *key,
		   const char *value, __u64 version)
{
	op_init(op, SNAPMAP_BATCH_PUT, flags, key);
	op->value = SM_PTR(value);
	op->value_len = value ? strlen(value) : 0;
	op->version = version;
}

static void op_del(struct snapmap_batch_op *op, __u32 flags, const char *key,
		   __u64 version)
{
	op_init(op, SNAPMAP_BATCH_DEL, flags, key);
	op->version = version;
}

/* Expect the operation at @op not to have been run. */
#define EXPECT_UNTOUCHED(op)						\
	do {								\
		EXPECT_EQ(UNTOUCHED_RESULT, (op)->out_result);		\
		EXPECT_EQ(~0U, (op)->out_value_len);			\
		EXPECT_EQ(UNTOUCHED_VERSION, (op)->out_version);	\
	} while (0)

/* Issue a batch with every member given: returns as sm_ret(). */
static int batch_raw(int fd, __u32 flags, __u32 count, __u32 op_size,
		     const void *ops, __u32 *out_done)
{
	struct snapmap_batch arg = {
		.size = sizeof(arg),
		.flags = flags,
		.count = count,
		.op_size = op_size,
		.ops = SM_PTR(ops),
		.out_done = 0xdead,
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_BATCH, &arg));
	if (out_done)
		*out_done = arg.out_done;
	return ret;
}

/* Every kind of operation, each with its own result, in order. */
TEST_F(map, mixed)
{
	struct snapmap_batch_op ops[10];
	struct snapmap_info before, info;
	char buf_a[16], buf_small[2];
	__u64 va, vb, vd, vc;
	__u32 done = 0;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_put(&ops[0], 0, "a", "alpha", 0);
	op_put(&ops[1], 0, "b", "beta", 0);
	op_get(&ops[2], "a", buf_a, sizeof(buf_a));
	op_del(&ops[3], 0, "b", 0);
	op_get(&ops[4], "b", buf_a, sizeof(buf_a));
	op_put(&ops[5], SNAPMAP_PUT_NOEXIST, "a", "nope", 0);
	/* Its version is not known yet: filled in below. */
	op_put(&ops[6], SNAPMAP_PUT_IF_VERSION, "a", "alpha2", 0);
	op_get(&ops[7], "a", buf_small, sizeof(buf_small));
	op_del(&ops[8], SNAPMAP_DEL_IF_VERSION, "a", 0);
	op_put(&ops[9], SNAPMAP_PUT_EXIST, "c", "gamma", 0);

	/* Learn a's version from a first batch of the first op alone. */
	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, 1, &done));
	ASSERT_EQ(1, done);
	ASSERT_EQ(0, ops[0].out_result);
	va = ops[0].out_version;
	EXPECT_LT(before.out_version, va);
	ops[6].version = va;
	ops[8].version = va;
	op_put(&ops[0], 0, "a", "alpha", 0);

	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, 10, &done));
	EXPECT_EQ(10, done);

	/* A replacement of a by the same value: a new version. */
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_LT(va, ops[0].out_version);
	va = ops[0].out_version;
	EXPECT_EQ(0, ops[1].out_result);
	vb = ops[1].out_version;
	EXPECT_LT(va, vb);
	EXPECT_EQ(0, ops[2].out_result);
	EXPECT_EQ(5, ops[2].out_value_len);
	EXPECT_EQ(va, ops[2].out_version);
	EXPECT_EQ(0, memcmp(buf_a, "alpha", 5));
	EXPECT_EQ(0, ops[3].out_result);
	vd = ops[3].out_version;
	EXPECT_LT(vb, vd);
	EXPECT_EQ(-ENOENT, ops[4].out_result);
	EXPECT_EQ(-EEXIST, ops[5].out_result);
	/* The version from the first batch is stale now. */
	EXPECT_EQ(-ECANCELED, ops[6].out_result);
	EXPECT_EQ(-ERANGE, ops[7].out_result);
	EXPECT_EQ(5, ops[7].out_value_len);
	EXPECT_EQ(va, ops[7].out_version);
	EXPECT_EQ(-ECANCELED, ops[8].out_result);
	EXPECT_EQ(-ENOENT, ops[9].out_result);

	/* Compare-and-swap and conditional delete with a's real version. */
	op_put(&ops[0], SNAPMAP_PUT_IF_VERSION, "a", "alpha2", va);
	op_get(&ops[1], "a", buf_a, sizeof(buf_a));
	op_del(&ops[2], SNAPMAP_DEL_IF_VERSION, "a", va);
	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, 3, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(0, ops[0].out_result);
	vc = ops[0].out_version;
	EXPECT_LT(vd, vc);
	EXPECT_EQ(0, ops[1].out_result);
	EXPECT_EQ(6, ops[1].out_value_len);
	EXPECT_EQ(vc, ops[1].out_version);
	EXPECT_EQ(0, memcmp(buf_a, "alpha2", 6));
	EXPECT_EQ(-ECANCELED, ops[2].out_result);

	/* The map agrees with the single commands. */
	EXPECT_VALUE(self->fd, "a", 1, "alpha2", 6, vc);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "b", 1, buf_a, sizeof(buf_a), NULL,
				  NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "c", 1, buf_a, sizeof(buf_a), NULL,
				  NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(vc, info.out_version);
	/* Successful PUTs: 1 + 2 + 1; DELs: 1; GETs: 3 + 1, and 3 above. */
	EXPECT_EQ(before.out_puts + 4, info.out_puts);
	EXPECT_EQ(before.out_dels + 1, info.out_dels);
	EXPECT_EQ(before.out_gets + 4 + 3, info.out_gets);
}

/* Later operations see what earlier ones did, and versions go up. */
TEST_F(map, in_order)
{
	struct snapmap_batch_op ops[8];
	char buf[8][8];
	__u32 done = 0;
	int i;

	for (i = 0; i < 8; i += 2) {
		static const char *const values[] = { "1", "22", "333", "4444" };

		op_put(&ops[i], 0, "k", values[i / 2], 0);
		op_get(&ops[i + 1], "k", buf[i + 1], sizeof(buf[i + 1]));
	}
	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, 8, &done));
	EXPECT_EQ(8, done);
	for (i = 0; i < 8; i += 2) {
		EXPECT_EQ(0, ops[i].out_result);
		EXPECT_EQ(0, ops[i + 1].out_result);
		EXPECT_EQ(i / 2 + 1, ops[i + 1].out_value_len);
		EXPECT_EQ('1' + i / 2, buf[i + 1][0]);
		EXPECT_EQ(ops[i].out_version, ops[i + 1].out_version);
		if (i) {
			EXPECT_LT(ops[i - 2].out_version, ops[i].out_version);
		}
	}
	EXPECT_VALUE(self->fd, "k", 1, "4444", 4, ops[6].out_version);
}

TEST_F(map, stop_on_error)
{
	struct snapmap_batch_op ops[4];
	char buf[8];
	__u32 done = 0;

	op_put(&ops[0], 0, "x", "1", 0);
	op_get(&ops[1], "missing", buf, sizeof(buf));
	op_put(&ops[2], 0, "y", "2", 0);
	op_get(&ops[3], "x", buf, sizeof(buf));
	/*
	 * The batch succeeds: the error is the operation's.  out_done counts
	 * the operation that failed, as the uapi header says.
	 */
	ASSERT_EQ(0, sm_batch(self->fd, SNAPMAP_BATCH_STOP_ON_ERROR, ops, 4,
			      &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(-ENOENT, ops[1].out_result);
	EXPECT_UNTOUCHED(&ops[2]);
	EXPECT_UNTOUCHED(&ops[3]);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "y", 1, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_VALUE(self->fd, "x", 1, "1", 1, ops[0].out_version);

	/* A failing first operation: one done. */
	op_put(&ops[0], SNAPMAP_PUT_NOEXIST, "x", "1", 0);
	op_put(&ops[1], 0, "y", "2", 0);
	ASSERT_EQ(0, sm_batch(self->fd, SNAPMAP_BATCH_STOP_ON_ERROR, ops, 2,
			      &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EEXIST, ops[0].out_result);
	EXPECT_UNTOUCHED(&ops[1]);

	/* Without an error, all done. */
	op_put(&ops[0], 0, "y", "2", 0);
	op_get(&ops[1], "y", buf, sizeof(buf));
	ASSERT_EQ(0, sm_batch(self->fd, SNAPMAP_BATCH_STOP_ON_ERROR, ops, 2,
			      &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(0, ops[1].out_result);

	/* Without the flag, every operation runs after a failure. */
	op_put(&ops[0], 0, "x", "1", 0);
	op_get(&ops[1], "missing", buf, sizeof(buf));
	op_del(&ops[2], 0, "y", 0);
	op_get(&ops[3], "y", buf, sizeof(buf));
	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, 4, &done));
	EXPECT_EQ(4, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(-ENOENT, ops[1].out_result);
	EXPECT_EQ(0, ops[2].out_result);
	EXPECT_EQ(-ENOENT, ops[3].out_result);
}

TEST_F(map, count_zero)
{
	struct snapmap_info before, info;
	struct snapmap_batch_op op;
	__u32 done = 77;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_put(&op, 0, "x", "y", 0);
	EXPECT_EQ(0, batch_raw(self->fd, 0, 0, sizeof(op), &op, &done));
	EXPECT_EQ(0, done);
	EXPECT_UNTOUCHED(&op);
	/* Nothing to read: no pointer needed. */
	done = 77;
	EXPECT_EQ(0, batch_raw(self->fd, 0, 0, sizeof(op), NULL, &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, batch_raw(self->ro, SNAPMAP_BATCH_STOP_ON_ERROR, 0,
			       sizeof(op), NULL, &done));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(before.out_gets, info.out_gets);
}

TEST_F(map, count_max)
{
	struct snapmap_batch_op *ops;
	struct snapmap_info info;
	__u32 done = 0;
	char buf[4];
	__u64 v;
	int i;

	ops = calloc(SNAPMAP_BATCH_MAX + 1, sizeof(*ops));
	ASSERT_TRUE(ops != NULL);
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	for (i = 0; i <= SNAPMAP_BATCH_MAX; i++)
		op_get(&ops[i], "k", buf, sizeof(buf));

	/* One too many: the batch fails and runs nothing. */
	EXPECT_EQ(-EINVAL, batch_raw(self->fd, 0, SNAPMAP_BATCH_MAX + 1,
				     sizeof(*ops), ops, NULL));
	EXPECT_EQ(-EINVAL, batch_raw(self->fd, 0, ~0U, sizeof(*ops), ops,
				     NULL));
	EXPECT_EQ(-EINVAL, batch_raw(self->fd, 0, 1U << 31, sizeof(*ops), ops,
				     NULL));
	EXPECT_UNTOUCHED(&ops[0]);
	EXPECT_UNTOUCHED(&ops[SNAPMAP_BATCH_MAX]);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(0, info.out_gets);

	/* Exactly the most. */
	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, SNAPMAP_BATCH_MAX, &done));
	EXPECT_EQ(SNAPMAP_BATCH_MAX, done);
	for (i = 0; i < SNAPMAP_BATCH_MAX; i++) {
		if (ops[i].out_result || ops[i].out_version != v)
			break;
	}
	EXPECT_EQ(SNAPMAP_BATCH_MAX, i);
	EXPECT_UNTOUCHED(&ops[SNAPMAP_BATCH_MAX]);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(SNAPMAP_BATCH_MAX, info.out_gets);
	free(ops);
}

TEST_F(map, op_size_too_small)
{
	const __u32 sizes[] = {
		0, 1, sizeof(__u32), offsetof(struct snapmap_batch_op, out_result),
		sizeof(struct snapmap_batch_op) - 1,
	};
	struct snapmap_info before, info;
	struct snapmap_batch_op ops[2];
	unsigned int i;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		op_put(&ops[0], 0, "k", "v", 0);
		op_put(&ops[1], 0, "l", "w", 0);
		EXPECT_EQ(-EINVAL, batch_raw(self->fd, 0, 2, sizes[i], ops,
					     NULL));
		EXPECT_UNTOUCHED(&ops[0]);
		EXPECT_UNTOUCHED(&ops[1]);
	}
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

/* Operations of a newer caller: larger, their tail zero or not. */
struct op_with_tail {
	struct snapmap_batch_op op;
	__u64 tail;
};

TEST_F(map, op_size_larger)
{
	struct op_with_tail ops[3];
	struct snapmap_info before, info;
	char buf[8];
	__u32 done = 0;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	memset(ops, 0, sizeof(ops));
	op_put(&ops[0].op, 0, "a", "1", 0);
	op_put(&ops[1].op, 0, "b", "2", 0);
	op_get(&ops[2].op, "a", buf, sizeof(buf));
	ASSERT_EQ(0, batch_raw(self->fd, 0, 3, sizeof(ops[0]), ops, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(0, ops[0].op.out_result);
	EXPECT_EQ(0, ops[1].op.out_result);
	EXPECT_EQ(0, ops[2].op.out_result);
	EXPECT_EQ(1, ops[2].op.out_value_len);
	EXPECT_EQ(ops[0].op.out_version, ops[2].op.out_version);
	/* The tails are left as they were. */
	EXPECT_EQ(0, ops[0].tail);
	EXPECT_EQ(0, ops[1].tail);
	EXPECT_EQ(0, ops[2].tail);

	/* A non-zero tail fails that operation alone. */
	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_put(&ops[0].op, 0, "c", "3", 0);
	op_put(&ops[1].op, 0, "d", "4", 0);
	ops[1].tail = 1ULL << 56;
	op_get(&ops[2].op, "c", buf, sizeof(buf));
	ASSERT_EQ(0, batch_raw(self->fd, 0, 3, sizeof(ops[0]), ops, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(0, ops[0].op.out_result);
	EXPECT_EQ(-E2BIG, ops[1].op.out_result);
	EXPECT_EQ(0, ops[2].op.out_result);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "d", 1, buf, sizeof(buf), NULL,
				  NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(before.out_puts + 1, info.out_puts);
	EXPECT_EQ(before.out_entries + 1, info.out_entries);

	/* With STOP_ON_ERROR, the tail's error stops the batch. */
	op_put(&ops[0].op, 0, "e", "5", 0);
	op_put(&ops[1].op, 0, "f", "6", 0);
	ops[1].tail = 1;
	op_put(&ops[2].op, 0, "g", "7", 0);
	ASSERT_EQ(0, batch_raw(self->fd, SNAPMAP_BATCH_STOP_ON_ERROR, 3,
			       sizeof(ops[0]), ops, &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(0, ops[0].op.out_result);
	EXPECT_EQ(-E2BIG, ops[1].op.out_result);
	EXPECT_UNTOUCHED(&ops[2].op);
	EXPECT_EQ(1, ops[1].tail);
}

/*
 * The module reads ops a few hundred bytes at a time: ops of a newer
 * caller, some with a non-zero tail, across several of those reads, and
 * ops too long for one, each get exactly their own result.  The map holds
 * ENTRIES_MAX keys: each size's keys are deleted before the next.
 */
static void ops_of_size(struct __test_metadata *const _metadata, int fd,
			size_t op_size, unsigned int count)
{
	char keys[64][8], values[64][8];
	struct snapmap_batch_op *op;
	unsigned char *ops;
	unsigned int i;
	__u32 done = 0;
	char buf[8];

	ASSERT_GE(ARRAY_SIZE(keys), count);
	ops = calloc(count, op_size);
	ASSERT_TRUE(ops != NULL);
	for (i = 0; i < count; i++) {
		op = (struct snapmap_batch_op *)(ops + i * op_size);
		snprintf(keys[i], sizeof(keys[i]), "t%zu.%u", op_size % 1000,
			 i);
		snprintf(values[i], sizeof(values[i]), "v%u", i);
		op_put(op, 0, keys[i], values[i], 0);
		/* Every third op has a byte set at the end of its tail. */
		if (i % 3 == 2)
			ops[(i + 1) * op_size - 1] = 1;
	}
	ASSERT_EQ(0, batch_raw(fd, 0, count, op_size, ops, &done));
	EXPECT_EQ(count, done);
	for (i = 0; i < count; i++) {
		op = (struct snapmap_batch_op *)(ops + i * op_size);
		EXPECT_EQ(i % 3 == 2 ? -E2BIG : 0, op->out_result)
			TH_LOG("op %u of %zu bytes", i, op_size);
		EXPECT_EQ(i % 3 == 2 ? -ENOENT : 0,
			  sm_get(fd, keys[i], strlen(keys[i]), buf,
				 sizeof(buf), NULL, NULL))
			TH_LOG("op %u of %zu bytes", i, op_size);
	}
	/* Room for the next size's keys. */
	for (i = 0; i < count; i++)
		if (i % 3 != 2)
			ASSERT_EQ(0, sm_del(fd, 0, keys[i], strlen(keys[i]), 0,
					    NULL));
	free(ops);
}

TEST_F(map, op_size_across_reads)
{
	ops_of_size(_metadata, self->fd, sizeof(struct snapmap_batch_op) + 8,
		    21);
	ops_of_size(_metadata, self->fd, 200, 10);
	ops_of_size(_metadata, self->fd, 4096, 5);
}

/* The size of the first version of struct snapmap_batch. */
#define BATCH_SIZE_VER0 offsetof(struct snapmap_batch, out_version)

TEST_F(map, batch_size)
{
	const __u32 short_sizes[] = { 0, 1, sizeof(__u32),
				      offsetof(struct snapmap_batch, out_done),
				      BATCH_SIZE_VER0 - 1 };
	struct snapmap_batch arg = { .size = sizeof(arg) };
	struct snapmap_info before, info;
	struct snapmap_batch_op op;
	unsigned int i;
	__u64 tail;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_put(&op, 0, "k", "v", 0);
	arg.count = 1;
	arg.op_size = sizeof(op);
	arg.ops = SM_PTR(&op);

	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_BATCH,
						  &arg, sizeof(arg),
						  short_sizes[i], 0, NULL));
		EXPECT_UNTOUCHED(&op);
	}
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_BATCH, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_BATCH, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	EXPECT_UNTOUCHED(&op);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);

	EXPECT_EQ(0, sm_ioctl_sized(self->fd, SNAPMAP_IOC_BATCH, &arg,
				    sizeof(arg), sizeof(arg) + 8, 0, &tail));
	EXPECT_EQ(0, tail);
	EXPECT_EQ(1, arg.out_done);
	EXPECT_EQ(0, op.out_result);
	EXPECT_VALUE(self->fd, "k", 1, "v", 1, op.out_version);

	/* A caller of the first version: out_version is not written. */
	arg.out_version = 0x77;
	op_put(&op, 0, "k", "w", 0);
	EXPECT_EQ(0, sm_ioctl_sized(self->fd, SNAPMAP_IOC_BATCH, &arg,
				    sizeof(arg), BATCH_SIZE_VER0, 0, NULL));
	EXPECT_EQ(1, arg.out_done);
	EXPECT_EQ(0x77, arg.out_version);
	EXPECT_VALUE(self->fd, "k", 1, "w", 1, op.out_version);
}

TEST_F(map, batch_flags_reserved)
{
	struct snapmap_batch arg = { .size = sizeof(arg) };
	struct snapmap_info before, info;
	struct snapmap_batch_op op;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_put(&op, 0, "k", "v", 0);
	arg.count = 1;
	arg.op_size = sizeof(op);
	arg.ops = SM_PTR(&op);

	arg.flags = 1U << 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_BATCH, &arg));
	arg.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_BATCH, &arg));
	arg.flags = 0;
	arg.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_BATCH, &arg));
	EXPECT_UNTOUCHED(&op);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

/* Output members of the batch and of its operations are not input. */
TEST_F(map, out_members_ignored)
{
	struct snapmap_batch arg = { .size = sizeof(arg) };
	struct snapmap_batch_op op;
	char buf[4];

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", NULL));
	op_get(&op, "k", buf, sizeof(buf));
	op.out_result = -1;
	op.out_value_len = 1000;
	op.out_version = ~0ULL;
	arg.count = 1;
	arg.op_size = sizeof(op);
	arg.ops = SM_PTR(&op);
	arg.out_done = 1000;
	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_BATCH, &arg));
	EXPECT_EQ(1, arg.out_done);
	EXPECT_EQ(0, op.out_result);
	EXPECT_EQ(1, op.out_value_len);
	EXPECT_NE(~0ULL, op.out_version);
}

TEST_F(map, bad_pointers)
{
	struct snapmap_info before, info;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_BATCH, NULL));
	EXPECT_EQ(-EFAULT, batch_raw(self->fd, 0, 1,
				     sizeof(struct snapmap_batch_op), NULL,
				     NULL));
	EXPECT_EQ(-EFAULT, batch_raw(self->fd, 0, 1,
				     sizeof(struct snapmap_batch_op),
				     (void *)8, NULL));
	/* An array that would wrap around the address space. */
	EXPECT_EQ(-EFAULT, batch_raw(self->fd, 0, 2,
				     sizeof(struct snapmap_batch_op),
				     (void *)(uintptr_t)-8, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

/*
 * Operations whose results cannot be written back: EFAULT, and, as for
 * every EFAULT, nothing changed.
 */
TEST_F(map, ops_read_only)
{
	struct snapmap_info before, info;
	struct snapmap_batch_op *op;
	char *page, buf[4];
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "gone", "v", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	op = (void *)page;
	op_put(&op[0], 0, "n", "new", 0);
	op_del(&op[1], 0, "gone", 0);
	op_get(&op[2], "gone", NULL, 0);
	ASSERT_EQ(0, mprotect(page, getpagesize(), PROT_READ));
	EXPECT_EQ(-EFAULT, batch_raw(self->fd, 0, 3, sizeof(*op), op, NULL));
	EXPECT_EQ(0, munmap(page, getpagesize()));

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "gone", 4, "v", 1, v);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "n", 1, buf, sizeof(buf), NULL,
				  NULL));
}

/* An array of which only the first operation is mapped: the same. */
TEST_F(map, ops_partly_unmapped)
{
	struct snapmap_info before, info;
	struct snapmap_batch_op *op;
	char *page, buf[4];

	ASSERT_EQ(0, sm_info(self->fd, &before));
	page = mmap(NULL, 2 * getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	ASSERT_EQ(0, munmap(page + getpagesize(), getpagesize()));
	op = (void *)(page + getpagesize() - sizeof(*op));
	op_put(op, 0, "n", "new", 0);
	EXPECT_EQ(-EFAULT, batch_raw(self->fd, 0, 2, sizeof(*op), op, NULL));
	EXPECT_EQ(0, munmap(page, getpagesize()));

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "n", 1, buf, sizeof(buf), NULL,
				  NULL));
}

/*
 * Errors of the batch, in the documented order, come before any
 * operation runs.
 */
TEST_F(map, errno_order)
{
	struct snapmap_batch arg = { .size = sizeof(arg) };
	struct snapmap_info before, info;
	struct snapmap_batch_op op;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_put(&op, 0, "k", "v", 0);
	/* size before flags */
	arg.flags = 1U << 7;
	arg.count = 1;
	arg.op_size = sizeof(op);
	arg.ops = SM_PTR(&op);
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_BATCH, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	/* flags before count, op_size and the pointer */
	arg.size = sizeof(arg);
	arg.count = SNAPMAP_BATCH_MAX + 1;
	arg.ops = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_BATCH, &arg));
	arg.count = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ro, SNAPMAP_IOC_BATCH, &arg));
	/* count and op_size before the pointer */
	EXPECT_EQ(-EINVAL, batch_raw(self->fd, 0, SNAPMAP_BATCH_MAX + 1,
				     sizeof(op), NULL, NULL));
	EXPECT_EQ(-EINVAL, batch_raw(self->fd, 0, 1, 8, NULL, NULL));
	EXPECT_EQ(-EINVAL, batch_raw(self->ro, 0, 1, 0, NULL, NULL));
	EXPECT_UNTOUCHED(&op);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

/* Errors of single operations are theirs: the batch goes on. */
TEST_F(map, op_errors)
{
	char long_key[KEY_MAX + 2], long_value[VAL_MAX + 2], buf[8];
	struct snapmap_info before, info;
	struct snapmap_batch_op ops[16];
	__u32 done = 0;
	__u64 v = 0;
	int n = 0;

	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	op_init(&ops[n++], 0, 0, "k");			/* no such opcode */
	op_init(&ops[n++], 4, 0, "k");			/* nor this one */
	op_init(&ops[n++], ~0U, 0, "k");		/* nor this one */
	op_put(&ops[n++], SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST, "n", "v",
	       0);
	op_put(&ops[n++], 1U << 20, "n", "v", 0);
	op_put(&ops[n++], 0, "n", "v", v);		/* version, no flag */
	op_get(&ops[n], "k", buf, sizeof(buf));
	ops[n++].flags = 1;				/* GET takes none */
	op_del(&ops[n++], 1U << 3, "k", 0);
	op_put(&ops[n], 0, "k", "v", 0);
	ops[n++].key_len = 0;				/* empty key */
	op_put(&ops[n++], 0, long_key, "v", 0);		/* key too long */
	op_put(&ops[n++], 0, "n", long_value, 0);	/* value too long */
	op_get(&ops[n++], long_key, buf, sizeof(buf));
	op_put(&ops[n], 0, "n", "v", 0);
	ops[n++].key = 0;				/* key not mapped */
	op_put(&ops[n], 0, "k", "v", 0);
	ops[n++].value = 0;				/* value not mapped */
	op_get(&ops[n++], "k", NULL, sizeof(buf));	/* buffer not mapped */
	op_del(&ops[n++], SNAPMAP_DEL_IF_VERSION, "k", v + 1);

	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, n, &done));
	EXPECT_EQ(n, done);
	n = 0;
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EINVAL, ops[n++].out_result);
	EXPECT_EQ(-EMSGSIZE, ops[n++].out_result);
	EXPECT_EQ(-EMSGSIZE, ops[n++].out_result);
	EXPECT_EQ(-EMSGSIZE, ops[n++].out_result);
	EXPECT_EQ(-EFAULT, ops[n++].out_result);
	EXPECT_EQ(-EFAULT, ops[n++].out_result);
	EXPECT_EQ(-EFAULT, ops[n++].out_result);
	EXPECT_EQ(-ECANCELED, ops[n++].out_result);

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "value", 5, v);
}

/* A read-only fd runs the GETs and reports EBADF for the others. */
TEST_F(map, read_only_fd)
{
	struct snapmap_info before, info;
	struct snapmap_batch_op ops[6];
	char buf[8];
	__u32 done = 0;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	op_get(&ops[0], "k", buf, sizeof(buf));
	op_put(&ops[1], 0, "n", "new", 0);
	op_del(&ops[2], 0, "k", 0);
	op_put(&ops[3], SNAPMAP_PUT_IF_VERSION, "k", "x", v);
	op_get(&ops[4], "k", buf, sizeof(buf));
	/* The access mode before the operation's lengths. */
	op_put(&ops[5], 0, "k", "v", 0);
	ops[5].key_len = 0;
	ASSERT_EQ(0, sm_batch(self->ro, 0, ops, 6, &done));
	EXPECT_EQ(6, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(5, ops[0].out_value_len);
	EXPECT_EQ(v, ops[0].out_version);
	EXPECT_EQ(-EBADF, ops[1].out_result);
	EXPECT_EQ(-EBADF, ops[2].out_result);
	EXPECT_EQ(-EBADF, ops[3].out_result);
	EXPECT_EQ(0, ops[4].out_result);
	EXPECT_EQ(v, ops[4].out_version);
	EXPECT_EQ(-EBADF, ops[5].out_result);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "value", 5, v);

	/* The operation's flags before the access mode. */
	op_put(&ops[0], 1U << 9, "n", "new", 0);
	ASSERT_EQ(0, sm_batch(self->ro, 0, ops, 1, &done));
	EXPECT_EQ(-EINVAL, ops[0].out_result);

	/* STOP_ON_ERROR stops at the first write. */
	op_get(&ops[0], "k", buf, sizeof(buf));
	op_put(&ops[1], 0, "n", "new", 0);
	op_get(&ops[2], "k", buf, sizeof(buf));
	ASSERT_EQ(0, sm_batch(self->ro, SNAPMAP_BATCH_STOP_ON_ERROR, ops, 3,
			      &done));
	EXPECT_EQ(2, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(-EBADF, ops[1].out_result);
	EXPECT_UNTOUCHED(&ops[2]);
}

/* The limits apply to each operation. */
TEST_F(map, entry_limit)
{
	struct snapmap_batch_op ops[6];
	__u32 done = 0;
	int fd;

	fd = sm_create(self->ctl, 8, 8, 2, 0, 0, NULL);
	ASSERT_LE(0, fd);
	op_put(&ops[0], 0, "a", "1", 0);
	op_put(&ops[1], 0, "b", "2", 0);
	op_put(&ops[2], 0, "c", "3", 0);
	op_put(&ops[3], 0, "a", "4", 0);
	op_del(&ops[4], 0, "b", 0);
	op_put(&ops[5], 0, "c", "5", 0);
	ASSERT_EQ(0, sm_batch(fd, 0, ops, 6, &done));
	EXPECT_EQ(6, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(0, ops[1].out_result);
	EXPECT_EQ(-ENOSPC, ops[2].out_result);
	EXPECT_EQ(0, ops[3].out_result);
	EXPECT_EQ(0, ops[4].out_result);
	EXPECT_EQ(0, ops[5].out_result);
	EXPECT_VALUE(fd, "a", 1, "4", 1, ops[3].out_version);
	EXPECT_VALUE(fd, "c", 1, "5", 1, ops[5].out_version);
	EXPECT_EQ(0, close(fd));
}

/* GETs of empty values, and of values with no buffer given. */
TEST_F(map, get_lengths)
{
	struct snapmap_batch_op ops[3];
	__u64 ve = 0, vf = 0;
	__u32 done = 0;

	ASSERT_EQ(0, sm_put(self->fd, 0, "e", 1, NULL, 0, 0, &ve));
	ASSERT_EQ(0, sm_put_str(self->fd, "f", "full", &vf));
	op_get(&ops[0], "e", NULL, 0);
	op_get(&ops[1], "f", NULL, 0);
	op_get(&ops[2], "g", NULL, 0);
	ASSERT_EQ(0, sm_batch(self->fd, 0, ops, 3, &done));
	EXPECT_EQ(3, done);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(0, ops[0].out_value_len);
	EXPECT_EQ(ve, ops[0].out_version);
	EXPECT_EQ(-ERANGE, ops[1].out_result);
	EXPECT_EQ(4, ops[1].out_value_len);
	EXPECT_EQ(vf, ops[1].out_version);
	EXPECT_EQ(-ENOENT, ops[2].out_result);
}

TEST_HARNESS_MAIN
