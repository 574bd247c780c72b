// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: no byte of kernel memory the module did not mean to
 * give reaches user space.
 *
 * - Every command's answer: its out_* members are set to 0x00 in one call
 *   and to 0xff in another, and the structure is passed 64 bytes larger
 *   than the module's, with a zero tail.  Every byte of the answer must be
 *   what the module computed (the same from both calls, or the value
 *   known), reserved members and padding zero, the tail untouched, and no
 *   byte past the answer written.
 * - Records read from snapshot fds: the padding after every key and value,
 *   for lengths of every residue modulo 8, is zero; read(2) writes nothing
 *   past what it returns, even after big records left the module's
 *   buffers full of other bytes.
 * - GET, and SNAPMAP_IOC_SNAPSHOT_GET, write nothing past the value, and
 *   INFO's name is zero after its NUL.
 *
 * The debug kernel fills uninitialised stack with 0xaa
 * (CONFIG_INIT_STACK_ALL_PATTERN), which these checks would see.
 */

#include <stddef.h>
#include <stdbool.h>

#include "snapmap_test.h"

#define TAIL 64
#define KEY_MAX 64
#define VAL_MAX 8192

/* A member the module writes: where, and how big. */
struct span {
	size_t off;
	size_t len;
};

#define SPAN(type, member) { offsetof(type, member), \
			     sizeof(((type *)0)->member) }

/*
 * Issue @cmd on @fd with the @len bytes at @arg followed by TAIL zero
 * bytes, its size member saying so, and the members of @outs set to
 * @fill first.  The answer goes back to @arg; returns as sm_ret(), and
 * -EPROTO if the tail or a byte past it was written.
 */
static int call_filled(int fd, unsigned long cmd, void *arg, size_t len,
		       const struct span *outs, unsigned int nouts,
		       unsigned char fill)
{
	unsigned char buf[512 + TAIL + 64];
	__u32 size = len + TAIL;
	unsigned int i;
	int ret;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, arg, len);
	memcpy(buf, &size, sizeof(size));
	for (i = 0; i < nouts; i++)
		memset(buf + outs[i].off, fill, outs[i].len);
	/* Past the tail: a canary the module must not touch. */
	memset(buf + len + TAIL, 0x5c, 64);
	ret = sm_ret(ioctl(fd, cmd, buf));
	for (i = 0; i < TAIL; i++)
		if (buf[len + i])
			return -EPROTO;
	for (i = 0; i < 64; i++)
		if (buf[len + TAIL + i] != 0x5c)
			return -EPROTO;
	memcpy(arg, buf, len);
	return ret;
}

/*
 * Call twice, out members 0x00 then 0xff: every byte the module answers
 * must be the same.  The answer of the first call is left in @arg.
 */
static int call_twice(struct __test_metadata *_metadata, int fd,
		      unsigned long cmd, void *arg, size_t len,
		      const struct span *outs, unsigned int nouts)
{
	unsigned char first[512], second[512];
	int ret;

	memcpy(first, arg, len);
	memcpy(second, arg, len);
	ret = call_filled(fd, cmd, first, len, outs, nouts, 0x00);
	EXPECT_EQ(ret, call_filled(fd, cmd, second, len, outs, nouts, 0xff));
	/* The size member reads back as the caller's. */
	EXPECT_EQ(0, memcmp(first + 4, second + 4, len - 4));
	memcpy(arg, first, len);
	return ret;
}

FIXTURE(leak) {
	int ctl;
	int fd;
	__u64 version;
};

FIXTURE_SETUP(leak)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 256, 0, 0640,
			     "leak_test");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sm_put_str(self->fd, "key", "value", &self->version));
}

FIXTURE_TEARDOWN(leak)
{
	close(self->fd);
	close(self->ctl);
}

TEST_F(leak, api)
{
	static const struct span outs[] = {
		SPAN(struct snapmap_api, out_abi_version),
		SPAN(struct snapmap_api, out_features),
		SPAN(struct snapmap_api, out_ioctls),
	};
	struct snapmap_api arg = { .size = sizeof(arg) };

	ASSERT_EQ(0, call_twice(_metadata, self->ctl, SNAPMAP_IOC_API, &arg,
				sizeof(arg), outs, 3));
	EXPECT_EQ(SNAPMAP_ABI_VERSION, arg.out_abi_version);
	EXPECT_EQ(0, arg.__reserved);
	EXPECT_EQ(0, arg.flags);
}

TEST_F(leak, get)
{
	static const struct span outs[] = {
		SPAN(struct snapmap_get, out_value_len),
		SPAN(struct snapmap_get, out_version),
	};
	unsigned char value[64];
	struct snapmap_get arg = {
		.size = sizeof(arg), .key_len = 3, .value_buf_len = 64,
		.key = SM_PTR("key"), .value = SM_PTR(value),
	};
	unsigned int i;

	memset(value, 0x5c, sizeof(value));
	ASSERT_EQ(0, call_twice(_metadata, self->fd, SNAPMAP_IOC_GET, &arg,
				sizeof(arg), outs, 2));
	EXPECT_EQ(5, arg.out_value_len);
	EXPECT_EQ(self->version, arg.out_version);
	EXPECT_EQ(0, arg.__reserved);
	/* Nothing past the value. */
	EXPECT_EQ(0, memcmp(value, "value", 5));
	for (i = 5; i < sizeof(value); i++)
		EXPECT_EQ(0x5c, value[i]);

	/* ERANGE answers its two members too. */
	arg.value_buf_len = 2;
	memset(value, 0x5c, sizeof(value));
	EXPECT_EQ(-ERANGE, call_twice(_metadata, self->fd, SNAPMAP_IOC_GET,
				      &arg, sizeof(arg), outs, 2));
	EXPECT_EQ(5, arg.out_value_len);
	EXPECT_EQ(self->version, arg.out_version);
	for (i = 0; i < sizeof(value); i++)
		EXPECT_EQ(0x5c, value[i]);
}

/* The answer of a write: its version, whatever was in out_version. */
TEST_F(leak, writes)
{
	static const struct span put_outs[] = {
		SPAN(struct snapmap_put, out_version),
	};
	static const struct span del_outs[] = {
		SPAN(struct snapmap_del, out_version),
	};
	static const struct span clear_outs[] = {
		SPAN(struct snapmap_clear, out_version),
	};
	struct snapmap_put put = {
		.size = sizeof(put), .key_len = 1, .value_len = 1,
		.key = SM_PTR("a"), .value = SM_PTR("1"),
	};
	struct snapmap_del del = {
		.size = sizeof(del), .key_len = 1, .key = SM_PTR("a"),
	};
	struct snapmap_clear clear = { .size = sizeof(clear) };
	struct snapmap_info info;
	unsigned char fill;
	__u64 version;
	char value[4];

	for (fill = 0; fill < 2; fill++) {
		ASSERT_EQ(0, call_filled(self->fd, SNAPMAP_IOC_PUT, &put,
					 sizeof(put), put_outs, 1,
					 fill ? 0xff : 0));
		ASSERT_EQ(0, sm_get(self->fd, "a", 1, value, sizeof(value),
				    NULL, &version));
		EXPECT_EQ(version, put.out_version);
		ASSERT_EQ(0, call_filled(self->fd, SNAPMAP_IOC_DEL, &del,
					 sizeof(del), del_outs, 1,
					 fill ? 0xff : 0));
		ASSERT_EQ(0, sm_info(self->fd, &info));
		EXPECT_EQ(info.out_version, del.out_version);
		EXPECT_EQ(0, del.__reserved);
		ASSERT_EQ(0, call_filled(self->fd, SNAPMAP_IOC_CLEAR, &clear,
					 sizeof(clear), clear_outs, 1,
					 fill ? 0xff : 0));
		ASSERT_EQ(0, sm_info(self->fd, &info));
		EXPECT_EQ(info.out_version, clear.out_version);
		ASSERT_EQ(0, sm_put_str(self->fd, "key", "value",
					&self->version));
	}
}

TEST_F(leak, batch)
{
	static const struct span outs[] = {
		SPAN(struct snapmap_batch, out_done),
		SPAN(struct snapmap_batch, out_version),
	};
	struct snapmap_batch_op ops[3], copy[3];
	struct snapmap_batch arg = {
		.size = sizeof(arg), .count = 3, .op_size = sizeof(ops[0]),
		.ops = SM_PTR(ops),
	};
	unsigned char value[16];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		memset(ops, i ? 0xff : 0, sizeof(ops));
		ops[0] = (struct snapmap_batch_op){
			.opcode = SNAPMAP_BATCH_GET, .key_len = 3,
			.value_len = sizeof(value), .key = SM_PTR("key"),
			.value = SM_PTR(value),
		};
		/* A failing op: its answer is zero but for out_result. */
		ops[1] = (struct snapmap_batch_op){
			.opcode = SNAPMAP_BATCH_GET, .key_len = 6,
			.value_len = sizeof(value), .key = SM_PTR("absent"),
			.value = SM_PTR(value),
		};
		ops[2] = (struct snapmap_batch_op){ .opcode = 99 };
		ops[0].out_result = ops[1].out_result = ops[2].out_result =
			i ? -1 : 0;
		ops[0].out_value_len = ops[1].out_value_len = i ? ~0U : 0;
		ops[0].out_version = ops[1].out_version = i ? ~0ULL : 0;
		memcpy(copy, ops, sizeof(ops));
		ASSERT_EQ(0, call_filled(self->fd, SNAPMAP_IOC_BATCH, &arg,
					 sizeof(arg), outs, 2, i ? 0xff : 0));
		EXPECT_EQ(3, arg.out_done);
		EXPECT_EQ(0, arg.__reserved);
		/* Not at one version: 0, not whatever was there. */
		EXPECT_EQ(0, arg.out_version);
		EXPECT_EQ(0, ops[0].out_result);
		EXPECT_EQ(5, ops[0].out_value_len);
		EXPECT_EQ(self->version, ops[0].out_version);
		EXPECT_EQ(-ENOENT, ops[1].out_result);
		EXPECT_EQ(0, ops[1].out_value_len);
		EXPECT_EQ(0, ops[1].out_version);
		EXPECT_EQ(-EINVAL, ops[2].out_result);
		EXPECT_EQ(0, ops[2].out_value_len);
		EXPECT_EQ(0, ops[2].out_version);
		/* The members the caller owns are as the caller left them. */
		EXPECT_EQ(0, memcmp(copy, ops,
				    offsetof(struct snapmap_batch_op,
					     out_result)));
	}
}

/*
 * A transaction's answer: its version and the entry it named, on success
 * and on every error found once its argument checked out, whatever was
 * in them; on an error of the argument itself, nothing at all.
 */
TEST_F(leak, txn)
{
	static const struct span outs[] = {
		SPAN(struct snapmap_txn, out_version),
		SPAN(struct snapmap_txn, out_failed),
	};
	struct snapmap_txn_cond cond = {
		.kind = SNAPMAP_TXN_IF_PRESENT, .key_len = 3,
		.key = SM_PTR("key"),
	};
	struct snapmap_txn_op ops[2] = {
		{ .opcode = SNAPMAP_TXN_PUT, .key_len = 1, .value_len = 1,
		  .key = SM_PTR("t"), .value = SM_PTR("1") },
		{ .opcode = SNAPMAP_TXN_DEL, .key_len = 6,
		  .key = SM_PTR("absent") },
	};
	struct snapmap_txn arg = {
		.size = sizeof(arg), .cond_count = 1,
		.cond_size = sizeof(cond), .op_count = 2,
		.op_size = sizeof(ops[0]), .conds = SM_PTR(&cond),
		.ops = SM_PTR(ops),
	};
	struct snapmap_txn a;
	char key[KEY_MAX + 1], value[4];
	unsigned int fill;
	__u64 version;

	for (fill = 0; fill < 2; fill++) {
		a = arg;
		ASSERT_EQ(0, call_filled(self->fd, SNAPMAP_IOC_TXN, &a,
					 sizeof(a), outs, 2, fill ? 0xff : 0));
		ASSERT_EQ(0, sm_get(self->fd, "t", 1, value, sizeof(value),
				    NULL, &version));
		EXPECT_EQ(version, a.out_version);
		EXPECT_EQ(SNAPMAP_TXN_NONE, a.out_failed);
		EXPECT_EQ(0, a.__reserved);
		EXPECT_EQ(0, a.flags);
	}

	/* Nothing written: version 0, nothing named. */
	a = arg;
	a.ops = SM_PTR(&ops[1]);
	a.op_count = 1;
	EXPECT_EQ(0, call_twice(_metadata, self->fd, SNAPMAP_IOC_TXN, &a,
				sizeof(a), outs, 2));
	EXPECT_EQ(0, a.out_version);
	EXPECT_EQ(SNAPMAP_TXN_NONE, a.out_failed);

	/* A condition that does not hold. */
	a = arg;
	cond.kind = SNAPMAP_TXN_IF_ABSENT;
	EXPECT_EQ(-ECANCELED, call_twice(_metadata, self->fd, SNAPMAP_IOC_TXN,
					 &a, sizeof(a), outs, 2));
	EXPECT_EQ(0, a.out_version);
	EXPECT_EQ(0, a.out_failed);
	cond.kind = SNAPMAP_TXN_IF_PRESENT;

	/* A bad entry: a second write to a key, too long a key, a fault. */
	a = arg;
	ops[1] = ops[0];
	EXPECT_EQ(-EINVAL, call_twice(_metadata, self->fd, SNAPMAP_IOC_TXN,
				      &a, sizeof(a), outs, 2));
	EXPECT_EQ(0, a.out_version);
	EXPECT_EQ(2, a.out_failed);
	memset(key, 'k', sizeof(key));
	ops[1].key = SM_PTR(key);
	ops[1].key_len = sizeof(key);
	EXPECT_EQ(-EMSGSIZE, call_twice(_metadata, self->fd, SNAPMAP_IOC_TXN,
					&a, sizeof(a), outs, 2));
	EXPECT_EQ(0, a.out_version);
	EXPECT_EQ(2, a.out_failed);
	ops[1].key = 0;
	ops[1].key_len = 1;
	EXPECT_EQ(-EFAULT, call_twice(_metadata, self->fd, SNAPMAP_IOC_TXN,
				      &a, sizeof(a), outs, 2));
	EXPECT_EQ(0, a.out_version);
	EXPECT_EQ(2, a.out_failed);

	/* An error of the argument itself: nothing written back. */
	a = arg;
	a.flags = 1;
	EXPECT_EQ(-EINVAL, call_filled(self->fd, SNAPMAP_IOC_TXN, &a,
				       sizeof(a), outs, 2, 0xff));
	EXPECT_EQ(~0ULL, a.out_version);
	EXPECT_EQ(~0U, a.out_failed);
}

/*
 * A batch at one version: its version, whatever was in out_version, and
 * its ops' answers as a plain batch's.
 */
TEST_F(leak, batch_snapshot)
{
	static const struct span outs[] = {
		SPAN(struct snapmap_batch, out_done),
		SPAN(struct snapmap_batch, out_version),
	};
	struct snapmap_batch_op ops[2], copy[2];
	struct snapmap_batch arg = {
		.size = sizeof(arg), .flags = SNAPMAP_BATCH_SNAPSHOT,
		.count = 2, .op_size = sizeof(ops[0]), .ops = SM_PTR(ops),
	};
	struct snapmap_info info;
	unsigned char value[16];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		memset(ops, i ? 0xff : 0, sizeof(ops));
		ops[0] = (struct snapmap_batch_op){
			.opcode = SNAPMAP_BATCH_GET, .key_len = 3,
			.value_len = sizeof(value), .key = SM_PTR("key"),
			.value = SM_PTR(value),
		};
		/* Not a GET: refused, its answer zero but for out_result. */
		ops[1] = (struct snapmap_batch_op){
			.opcode = SNAPMAP_BATCH_DEL, .key_len = 3,
			.key = SM_PTR("key"),
		};
		ops[0].out_result = ops[1].out_result = i ? -1 : 0;
		ops[0].out_value_len = ops[1].out_value_len = i ? ~0U : 0;
		ops[0].out_version = ops[1].out_version = i ? ~0ULL : 0;
		memcpy(copy, ops, sizeof(ops));
		ASSERT_EQ(0, call_filled(self->fd, SNAPMAP_IOC_BATCH, &arg,
					 sizeof(arg), outs, 2, i ? 0xff : 0));
		ASSERT_EQ(0, sm_info(self->fd, &info));
		EXPECT_EQ(2, arg.out_done);
		EXPECT_EQ(info.out_version, arg.out_version);
		EXPECT_EQ(0, arg.__reserved);
		EXPECT_EQ(0, ops[0].out_result);
		EXPECT_EQ(5, ops[0].out_value_len);
		EXPECT_EQ(self->version, ops[0].out_version);
		EXPECT_EQ(-EINVAL, ops[1].out_result);
		EXPECT_EQ(0, ops[1].out_value_len);
		EXPECT_EQ(0, ops[1].out_version);
		EXPECT_EQ(0, memcmp(copy, ops,
				    offsetof(struct snapmap_batch_op,
					     out_result)));
	}
}

TEST_F(leak, info)
{
	static const struct span outs[] = {
		{ offsetof(struct snapmap_info, out_max_key_len),
		  offsetof(struct snapmap_info, __reserved) -
		  offsetof(struct snapmap_info, out_max_key_len) },
		SPAN(struct snapmap_info, out_name),
		{ offsetof(struct snapmap_info, out_id),
		  offsetof(struct snapmap_info, __reserved2) -
		  offsetof(struct snapmap_info, out_id) },
	};
	struct snapmap_info arg = { .size = sizeof(arg) };
	unsigned int i;
	char *nul;

	/* INFO counts GETs; none in between. */
	ASSERT_EQ(0, call_twice(_metadata, self->fd, SNAPMAP_IOC_INFO, &arg,
				sizeof(arg), outs, 3));
	EXPECT_EQ(0, arg.__reserved);
	EXPECT_EQ(KEY_MAX, arg.out_max_key_len);
	EXPECT_EQ(0640, arg.out_mode);
	EXPECT_EQ(0, strcmp(arg.out_name, "leak_test"));
	nul = memchr(arg.out_name, 0, sizeof(arg.out_name));
	ASSERT_TRUE(nul != NULL);
	for (i = nul - arg.out_name; i < sizeof(arg.out_name); i++)
		EXPECT_EQ(0, arg.out_name[i]);
}

TEST_F(leak, snapshot_and_clone)
{
	static const struct span snap_outs[] = {
		SPAN(struct snapmap_snapshot_arg, out_version),
	};
	static const struct span info_outs[] = {
		SPAN(struct snapmap_snapshot_info, out_version),
		SPAN(struct snapmap_snapshot_info, out_entries),
		SPAN(struct snapmap_snapshot_info, out_bytes),
		SPAN(struct snapmap_snapshot_info, out_snapshot_flags),
	};
	static const struct span clone_outs[] = {
		SPAN(struct snapmap_clone, out_version),
	};
	struct snapmap_snapshot_arg snap = { .size = sizeof(snap) };
	struct snapmap_snapshot_info info = { .size = sizeof(info) };
	struct snapmap_clone clone = { .size = sizeof(clone) };
	struct snapmap_info map_info;
	unsigned int fill;
	int sfd, cfd;

	for (fill = 0; fill < 2; fill++) {
		sfd = call_filled(self->fd, SNAPMAP_IOC_SNAPSHOT, &snap,
				  sizeof(snap), snap_outs, 1, fill ? 0xff : 0);
		ASSERT_LE(0, sfd);
		ASSERT_EQ(0, sm_info(self->fd, &map_info));
		EXPECT_EQ(map_info.out_version, snap.out_version);
		ASSERT_EQ(0, call_twice(_metadata, sfd,
					SNAPMAP_IOC_SNAPSHOT_INFO, &info,
					sizeof(info), info_outs, 4));
		EXPECT_EQ(snap.out_version, info.out_version);
		EXPECT_EQ(1, info.out_entries);
		EXPECT_EQ(SNAPMAP_RECORD_SIZE(3, 5), info.out_bytes);
		EXPECT_EQ(0, info.out_snapshot_flags);
		EXPECT_EQ(0, info.__reserved);
		close(sfd);

		/* A WEAK snapshot's version is 0, not whatever was there. */
		snap.flags = SNAPMAP_SNAPSHOT_WEAK;
		sfd = call_filled(self->fd, SNAPMAP_IOC_SNAPSHOT, &snap,
				  sizeof(snap), snap_outs, 1, fill ? 0xff : 0);
		ASSERT_LE(0, sfd);
		EXPECT_EQ(0, snap.out_version);
		close(sfd);
		snap.flags = 0;

		cfd = call_filled(self->fd, SNAPMAP_IOC_CLONE, &clone,
				  sizeof(clone), clone_outs, 1,
				  fill ? 0xff : 0);
		ASSERT_LE(0, cfd);
		ASSERT_EQ(0, sm_info(self->fd, &map_info));
		EXPECT_EQ(map_info.out_version, clone.out_version);
		EXPECT_EQ(0, clone.__reserved);
		close(cfd);
	}
}

/* SNAPMAP_IOC_SNAPSHOT_GET answers as GET, and writes nothing past. */
TEST_F(leak, snapshot_get)
{
	static const struct span outs[] = {
		SPAN(struct snapmap_get, out_value_len),
		SPAN(struct snapmap_get, out_version),
	};
	unsigned char value[64];
	struct snapmap_get arg = {
		.size = sizeof(arg), .key_len = 3, .value_buf_len = 64,
		.key = SM_PTR("key"), .value = SM_PTR(value),
	};
	unsigned int i, w;
	__u64 later;
	int sfd;

	for (w = 0; w < 2; w++) {
		sfd = sm_snapshot(self->fd, w ? SNAPMAP_SNAPSHOT_WEAK : 0,
				  NULL);
		ASSERT_LE(0, sfd);
		/* After the snapshot: only the WEAK one sees it. */
		ASSERT_EQ(0, sm_put_str(self->fd, "key", "later", &later));

		arg.value_buf_len = 64;
		memset(value, 0x5c, sizeof(value));
		ASSERT_EQ(0, call_twice(_metadata, sfd,
					SNAPMAP_IOC_SNAPSHOT_GET, &arg,
					sizeof(arg), outs, 2));
		EXPECT_EQ(5, arg.out_value_len);
		EXPECT_EQ(0, arg.__reserved);
		EXPECT_EQ(0, memcmp(value, w ? "later" : "value", 5));
		for (i = 5; i < sizeof(value); i++)
			EXPECT_EQ(0x5c, value[i]);
		EXPECT_EQ(w ? later : self->version, arg.out_version);

		/* ERANGE answers its two members too. */
		arg.value_buf_len = 2;
		memset(value, 0x5c, sizeof(value));
		EXPECT_EQ(-ERANGE, call_twice(_metadata, sfd,
					      SNAPMAP_IOC_SNAPSHOT_GET, &arg,
					      sizeof(arg), outs, 2));
		EXPECT_EQ(5, arg.out_value_len);
		EXPECT_EQ(w ? later : self->version, arg.out_version);
		for (i = 0; i < sizeof(value); i++)
			EXPECT_EQ(0x5c, value[i]);
		close(sfd);
		ASSERT_EQ(0, sm_put_str(self->fd, "key", "value",
					&self->version));
	}
}

/*
 * Records of every length residue: padding zero, and nothing written past
 * what read(2) returns.  Big values first, so that the module's buffers
 * held other bytes before.
 */
TEST_F(leak, records)
{
	unsigned char key[KEY_MAX], value[VAL_MAX], *buf;
	unsigned int k, v, n = 0, i;
	size_t off, size;
	struct sm_record rec;
	ssize_t len;
	int sfd;

	memset(value, 0xa5, sizeof(value));
	memset(key, 'k', sizeof(key));
	ASSERT_EQ(0, sm_put(self->fd, 0, key, KEY_MAX, value, VAL_MAX, 0,
			    NULL));
	for (k = 1; k <= 8; k++)
		for (v = 0; v < 8; v++) {
			key[0] = '0' + k;
			key[1] = '0' + v;
			ASSERT_EQ(0, sm_put(self->fd, 0, key, k + 1, value,
					    v * 9, 0, NULL));
		}
	buf = malloc(1 << 17);
	ASSERT_TRUE(buf != NULL);
	for (i = 0; i < 2; i++) {
		sfd = sm_snapshot(self->fd, i ? SNAPMAP_SNAPSHOT_WEAK : 0,
				  NULL);
		ASSERT_LE(0, sfd);
		memset(buf, 0x5c, 1 << 17);
		len = read(sfd, buf, 1 << 17);
		ASSERT_LT(0, len);
		/* sm_record_parse() checks that padding is zero. */
		for (off = 0, n = 0; off < (size_t)len; off += size, n++) {
			size = sm_record_parse(buf + off, len - off, &rec);
			ASSERT_NE(0, size);
		}
		EXPECT_EQ(66, n);
		for (off = len; off < (1 << 17); off++)
			if (buf[off] != 0x5c)
				break;
		EXPECT_EQ(1 << 17, off);
		close(sfd);
	}
	free(buf);
}

TEST_HARNESS_MAIN
