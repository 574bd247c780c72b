// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: transactions and reads at one version.
 *
 * SNAPMAP_IOC_TXN: every errno with the entry it names, and nothing
 * changed by a transaction that fails; conditions; writes at one version.
 * Then what makes a transaction one: the rig's pause point holds one
 * between publishing its versions and committing them, and no reader sees
 * any of them; bank transfers keep every snapshot, clone and multi-GET
 * summing to the same total, where the same transfers made of single PUTs
 * do not; every snapshot is the replay of exactly the transactions below
 * its version; compare-and-swap transactions from several threads lose no
 * update.  SNAPMAP_BATCH_SNAPSHOT and SNAPMAP_IOC_SNAPSHOT_GET.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "snapmap_test.h"
#include "testhook.h"

#define KEY_MAX 64
#define VAL_MAX 256

/* What the module writes back, set to something it would never write. */
#define UNTOUCHED 0x5a5a5a5aU

static void c_key(struct snapmap_txn_cond *c, __u32 kind, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->key = SM_PTR(key);
	c->key_len = strlen(key);
}

static void c_version(struct snapmap_txn_cond *c, const char *key, __u64 v)
{
	c_key(c, SNAPMAP_TXN_IF_VERSION, key);
	c->version = v;
}

static void c_value(struct snapmap_txn_cond *c, const char *key,
		    const void *value, __u32 len)
{
	c_key(c, SNAPMAP_TXN_IF_VALUE, key);
	c->value = SM_PTR(value);
	c->value_len = len;
}

static void o_put(struct snapmap_txn_op *o, const void *key, __u32 key_len,
		  const void *value, __u32 len)
{
	memset(o, 0, sizeof(*o));
	o->opcode = SNAPMAP_TXN_PUT;
	o->key = SM_PTR(key);
	o->key_len = key_len;
	o->value = SM_PTR(value);
	o->value_len = len;
}

static void o_puts(struct snapmap_txn_op *o, const char *key,
		   const char *value)
{
	o_put(o, key, strlen(key), value, strlen(value));
}

static void o_del(struct snapmap_txn_op *o, const void *key, __u32 key_len)
{
	memset(o, 0, sizeof(*o));
	o->opcode = SNAPMAP_TXN_DEL;
	o->key = SM_PTR(key);
	o->key_len = key_len;
}

/* SNAPMAP_IOC_TXN with the entries' own sizes: 0 or -errno. */
static int txn(int fd, const struct snapmap_txn_cond *c, __u32 nc,
	       const struct snapmap_txn_op *o, __u32 no, __u64 *version,
	       __u32 *failed)
{
	struct snapmap_txn arg = {
		.size = sizeof(arg),
		.cond_count = nc,
		.cond_size = sizeof(*c),
		.op_count = no,
		.op_size = sizeof(*o),
		.conds = SM_PTR(c),
		.ops = SM_PTR(o),
		.out_version = UNTOUCHED,
		.out_failed = UNTOUCHED,
	};
	int ret = sm_ret(ioctl(fd, SNAPMAP_IOC_TXN, &arg));

	if (version)
		*version = arg.out_version;
	if (failed)
		*failed = arg.out_failed;
	return ret;
}

/* A BATCH of GETs at one version: 0 or -errno; the version in *@v. */
static int mget(int fd, struct snapmap_batch_op *ops, __u32 n, __u64 *v)
{
	struct snapmap_batch arg = {
		.size = sizeof(arg),
		.flags = SNAPMAP_BATCH_SNAPSHOT,
		.count = n,
		.op_size = sizeof(*ops),
		.ops = SM_PTR(ops),
		.out_version = UNTOUCHED,
	};
	int ret = sm_ret(ioctl(fd, SNAPMAP_IOC_BATCH, &arg));

	if (v)
		*v = arg.out_version;
	if (!ret && arg.out_done != n)
		return -EIO;
	return ret;
}

static void op_get(struct snapmap_batch_op *op, const void *key,
		   __u32 key_len, void *buf, __u32 len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_GET;
	op->key = SM_PTR(key);
	op->key_len = key_len;
	op->value = SM_PTR(buf);
	op->value_len = len;
	op->out_result = UNTOUCHED;
}

static int puts_(int fd, const char *key, const char *value, __u64 *version)
{
	return sm_put(fd, 0, key, strlen(key), value, strlen(value), 0,
		      version);
}

FIXTURE(txn) {
	int ctl;
	int fd;
	int ro;
};

FIXTURE_SETUP(txn)
{
	char name[SNAPMAP_NAME_LEN];

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(name, sizeof(name), "txn_test-%d", (int)getpid());
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 16, 0, 0, name);
	ASSERT_LE(0, self->fd);
	self->ro = sm_open(self->ctl, name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, self->ro);
}

FIXTURE_TEARDOWN(txn)
{
	EXPECT_EQ(0, close(self->ro));
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/* Writes take effect at one version, which every written key carries. */
TEST_F(txn, writes_at_one_version)
{
	struct snapmap_txn_op o[3];
	struct snapmap_info before, after;
	__u64 v, old;
	__u32 failed;

	ASSERT_EQ(0, puts_(self->fd, "c", "gone", &old));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	o_puts(&o[0], "a", "1");
	o_puts(&o[1], "b", "22");
	o_del(&o[2], "c", 1);
	ASSERT_EQ(0, txn(self->fd, NULL, 0, o, 3, &v, &failed));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_LT(old, v);
	EXPECT_VALUE(self->fd, "a", 1, "1", 1, v);
	EXPECT_VALUE(self->fd, "b", 1, "22", 2, v);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "c", 1, NULL, 0, NULL, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_EQ(before.out_entries + 1, after.out_entries);
	EXPECT_EQ(before.out_puts + 2, after.out_puts);
	EXPECT_EQ(before.out_dels + 1, after.out_dels);
	/* One version for all three writes. */
	EXPECT_EQ(v, after.out_version);
}

/*
 * No entry, or only deletions of absent keys: nothing changes, no
 * version is taken, and no empty node stays behind.
 */
TEST_F(txn, nothing_to_write)
{
	struct snapmap_info before, after;
	struct snapmap_txn_cond c;
	struct snapmap_txn_op o;
	__u64 v;
	__u32 failed;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(0, txn(self->fd, NULL, 0, NULL, 0, &v, &failed));
	EXPECT_EQ(0, v);
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	o_del(&o, "absent", 6);
	c_key(&c, SNAPMAP_TXN_IF_ABSENT, "other");
	EXPECT_EQ(0, txn(self->fd, &c, 1, &o, 1, &v, &failed));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
}

/* Each kind of condition, holding and not; a failure changes nothing. */
TEST_F(txn, conditions)
{
	struct snapmap_info before, after;
	struct snapmap_txn_cond c[4];
	struct snapmap_txn_op o;
	__u64 va, v;
	__u32 failed;

	ASSERT_EQ(0, puts_(self->fd, "a", "x", &va));
	o_puts(&o, "w", "new");

	c_version(&c[0], "a", va);
	c_key(&c[1], SNAPMAP_TXN_IF_PRESENT, "a");
	c_key(&c[2], SNAPMAP_TXN_IF_ABSENT, "nope");
	c_value(&c[3], "a", "x", 1);
	ASSERT_EQ(0, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_VALUE(self->fd, "w", 1, "new", 3, v);

	ASSERT_EQ(0, sm_info(self->fd, &before));
	o_puts(&o, "w", "newer");
	/* Each condition turned false in turn: the one that fails is named. */
	c_version(&c[0], "a", va + 1000);
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_EQ(0, failed);
	EXPECT_EQ(0, v);
	c_version(&c[0], "a", va);
	c_key(&c[1], SNAPMAP_TXN_IF_PRESENT, "nope");
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_EQ(1, failed);
	c_key(&c[1], SNAPMAP_TXN_IF_PRESENT, "a");
	c_key(&c[2], SNAPMAP_TXN_IF_ABSENT, "a");
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_EQ(2, failed);
	c_key(&c[2], SNAPMAP_TXN_IF_ABSENT, "nope");
	c_value(&c[3], "a", "y", 1);
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_EQ(3, failed);
	c_value(&c[3], "a", "xx", 2);
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_EQ(3, failed);
	/* A version or value on an absent key fails too. */
	c_value(&c[3], "nope", "", 0);
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 4, &o, 1, &v, &failed));
	EXPECT_EQ(3, failed);
	c_version(&c[0], "nope", 0);
	EXPECT_EQ(-ECANCELED, txn(self->fd, c, 1, &o, 1, &v, &failed));
	EXPECT_EQ(0, failed);

	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_VALUE(self->fd, "w", 1, "new", 3, before.out_version);
}

/* An empty value is a value: IF_VALUE of zero bytes. */
TEST_F(txn, condition_on_empty_value)
{
	struct snapmap_txn_cond c;
	struct snapmap_txn_op o;
	__u64 v;

	ASSERT_EQ(0, puts_(self->fd, "e", "", NULL));
	c_value(&c, "e", "", 0);
	o_puts(&o, "e", "full");
	EXPECT_EQ(0, txn(self->fd, &c, 1, &o, 1, &v, NULL));
	EXPECT_VALUE(self->fd, "e", 1, "full", 4, v);
	EXPECT_EQ(-ECANCELED, txn(self->fd, &c, 1, &o, 1, &v, NULL));
}

/* Errors of the transaction itself: no entry is read. */
TEST_F(txn, bad_argument)
{
	struct snapmap_txn arg = {
		.size = sizeof(arg),
		.cond_size = sizeof(struct snapmap_txn_cond),
		.op_size = sizeof(struct snapmap_txn_op),
	};
	struct snapmap_txn a;

	a = arg;
	a.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a = arg;
	a.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a = arg;
	a.cond_count = SNAPMAP_TXN_MAX_CONDS + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a = arg;
	a.op_count = SNAPMAP_TXN_MAX_OPS + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a = arg;
	a.cond_size = offsetof(struct snapmap_txn_cond, version);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a.cond_size = 4097;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a = arg;
	a.op_size = offsetof(struct snapmap_txn_op, value);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	a.op_size = 4097;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_TXN, &a));
	/* Flags come before the fd's mode; the mode before the rest. */
	a = arg;
	a.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ro, SNAPMAP_IOC_TXN, &a));
	a = arg;
	EXPECT_ERRNO(EBADF, ioctl(self->ro, SNAPMAP_IOC_TXN, &a));
	a.conds = 1;
	a.cond_count = 1;
	EXPECT_ERRNO(EBADF, ioctl(self->ro, SNAPMAP_IOC_TXN, &a));
	/* Not a command of the control fd. */
	a = arg;
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_TXN, &a));
}

/* A bad entry gets its errno, its index, and changes nothing. */
TEST_F(txn, bad_entries_named)
{
	static char big[VAL_MAX + 1], key[KEY_MAX + 1];
	struct snapmap_info before, after;
	struct snapmap_txn_cond c[2];
	struct snapmap_txn_op o[3];
	__u32 failed;
	__u64 v;

	ASSERT_EQ(0, puts_(self->fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	memset(key, 'k', sizeof(key));

	c_key(&c[0], SNAPMAP_TXN_IF_PRESENT, "k");
	c_key(&c[1], SNAPMAP_TXN_IF_PRESENT, "k");
	o_puts(&o[0], "a", "1");
	o_puts(&o[1], "b", "2");
	o_puts(&o[2], "c", "3");

	c[1].kind = 9;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(1, failed);
	EXPECT_EQ(0, v);
	c[1].kind = SNAPMAP_TXN_IF_PRESENT;
	c[1].flags = 1;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(1, failed);
	c[1].flags = 0;
	c[1].value = SM_PTR("x");
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(1, failed);
	c[1].value = 0;
	c[1].value_len = 1;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(1, failed);
	c[1].value_len = 0;
	c[1].version = 3;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(1, failed);
	c[1].version = 0;
	c[0].key_len = 0;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(0, failed);
	c[0].key = SM_PTR(key);
	c[0].key_len = KEY_MAX + 1;
	EXPECT_EQ(-EMSGSIZE, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(0, failed);
	c_value(&c[0], "k", big, VAL_MAX + 1);
	EXPECT_EQ(-EMSGSIZE, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(0, failed);
	c_key(&c[0], SNAPMAP_TXN_IF_PRESENT, "k");

	/* Writes are counted after the conditions. */
	o[1].opcode = 7;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(3, failed);
	o_puts(&o[1], "b", "2");
	o[2].flags = 1;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);
	o_del(&o[2], "c", 1);
	o[2].value_len = 1;
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);
	o[2].value_len = 0;
	o[2].value = SM_PTR("x");
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);
	o_puts(&o[2], "c", "3");
	o_put(&o[2], "c", 1, big, VAL_MAX + 1);
	EXPECT_EQ(-EMSGSIZE, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);
	o_put(&o[2], key, KEY_MAX + 1, "3", 1);
	EXPECT_EQ(-EMSGSIZE, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);
	o_put(&o[2], "c", 0, "3", 1);
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);

	/* A second write to a key; the later one is named. */
	o_puts(&o[2], "a", "again");
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(4, failed);
	o_del(&o[1], "a", 1);
	o_puts(&o[2], "c", "3");
	EXPECT_EQ(-EINVAL, txn(self->fd, c, 2, o, 3, &v, &failed));
	EXPECT_EQ(3, failed);

	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "a", 1, NULL, 0, NULL, NULL));
}

/* A non-zero tail beyond the module's entry: E2BIG, named. */
TEST_F(txn, entry_tail_e2big)
{
	struct {
		struct snapmap_txn_op op;
		__u64 tail;
	} o[2];
	struct snapmap_txn arg = {
		.size = sizeof(arg),
		.cond_size = sizeof(struct snapmap_txn_cond),
		.op_count = 2,
		.op_size = sizeof(o[0]),
		.ops = SM_PTR(o),
	};

	o_puts(&o[0].op, "a", "1");
	o[0].tail = 0;
	o_puts(&o[1].op, "b", "2");
	o[1].tail = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, SNAPMAP_IOC_TXN, &arg));
	EXPECT_EQ(1, arg.out_failed);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "a", 1, NULL, 0, NULL, NULL));
	/* A zero tail is accepted. */
	o[1].tail = 0;
	EXPECT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_TXN, &arg));
	EXPECT_VALUE(self->fd, "b", 1, "2", 1, arg.out_version);
}

/* Faults: the array, a key, a condition's value, a write's value. */
TEST_F(txn, faults_named)
{
	struct snapmap_info before, after;
	struct snapmap_txn_cond c;
	struct snapmap_txn_op o[2];
	struct snapmap_txn *ro_arg;
	void *bad;
	__u32 failed;
	__u64 v;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(bad != MAP_FAILED);
	ASSERT_EQ(0, puts_(self->fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	c_key(&c, SNAPMAP_TXN_IF_PRESENT, "k");
	o_puts(&o[0], "a", "1");
	o_puts(&o[1], "b", "2");

	EXPECT_EQ(-EFAULT, txn(self->fd, bad, 1, o, 2, &v, &failed));
	EXPECT_EQ(0, failed);
	EXPECT_EQ(-EFAULT, txn(self->fd, &c, 1, bad, 2, &v, &failed));
	EXPECT_EQ(1, failed);
	o[1].key = SM_PTR(bad);
	EXPECT_EQ(-EFAULT, txn(self->fd, &c, 1, o, 2, &v, &failed));
	EXPECT_EQ(2, failed);
	o_puts(&o[1], "b", "2");
	c_value(&c, "k", bad, 1);
	EXPECT_EQ(-EFAULT, txn(self->fd, &c, 1, o, 2, &v, &failed));
	EXPECT_EQ(0, failed);
	c_key(&c, SNAPMAP_TXN_IF_PRESENT, "k");
	o[1].value = SM_PTR(bad);
	EXPECT_EQ(-EFAULT, txn(self->fd, &c, 1, o, 2, &v, &failed));
	EXPECT_EQ(2, failed);
	o_puts(&o[1], "b", "2");

	/* An answer that cannot be written back: refused before anything. */
	ro_arg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro_arg != MAP_FAILED);
	*ro_arg = (struct snapmap_txn) {
		.size = sizeof(*ro_arg),
		.cond_size = sizeof(c),
		.op_count = 2,
		.op_size = sizeof(o[0]),
		.ops = SM_PTR(o),
	};
	ASSERT_EQ(0, mprotect(ro_arg, 4096, PROT_READ));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_TXN, ro_arg));

	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	munmap(ro_arg, 4096);
	munmap(bad, 4096);
}

/* SNAPMAP_TXN_MAX_BYTES, counted over keys and values. */
TEST(txn_bytes_limit)
{
	struct snapmap_txn_op o[SNAPMAP_TXN_MAX_OPS];
	struct snapmap_info before, after;
	int ctl = snapmap_open_ctl(), fd;
	__u32 len = SNAPMAP_TXN_MAX_BYTES / 4, failed, i;
	char *value = calloc(1, len);
	__u8 keys[SNAPMAP_TXN_MAX_OPS];

	ASSERT_LE(0, ctl);
	ASSERT_TRUE(value != NULL);
	fd = sm_create(ctl, 8, len, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++) {
		keys[i] = i;
		o_put(&o[i], &keys[i], 1, value, len);
	}
	ASSERT_EQ(0, sm_info(fd, &before));
	/* Four values and four keys: the fourth entry goes over. */
	EXPECT_EQ(-EMSGSIZE, txn(fd, NULL, 0, o, 4, NULL, &failed));
	EXPECT_EQ(3, failed);
	ASSERT_EQ(0, sm_info(fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	o[3].value_len = len - 4;
	EXPECT_EQ(0, txn(fd, NULL, 0, o, 4, NULL, &failed));
	EXPECT_EQ(SNAPMAP_TXN_NONE, failed);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
	free(value);
}

/* The most entries there may be, on as many keys. */
TEST_F(txn, most_entries)
{
	struct snapmap_txn_cond c[SNAPMAP_TXN_MAX_CONDS];
	struct snapmap_txn_op o[SNAPMAP_TXN_MAX_OPS];
	char ckeys[SNAPMAP_TXN_MAX_CONDS][8], okeys[SNAPMAP_TXN_MAX_OPS][8];
	struct snapmap_info info;
	int ctl = self->ctl, fd;
	__u32 i;
	__u64 v;

	fd = sm_create(ctl, 8, 8, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < SNAPMAP_TXN_MAX_CONDS; i++) {
		snprintf(ckeys[i], sizeof(ckeys[i]), "c%u", i);
		c_key(&c[i], SNAPMAP_TXN_IF_ABSENT, ckeys[i]);
	}
	for (i = 0; i < SNAPMAP_TXN_MAX_OPS; i++) {
		snprintf(okeys[i], sizeof(okeys[i]), "o%u", i);
		o_puts(&o[i], okeys[i], "v");
	}
	ASSERT_EQ(0, txn(fd, c, SNAPMAP_TXN_MAX_CONDS, o, SNAPMAP_TXN_MAX_OPS,
			 &v, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(SNAPMAP_TXN_MAX_OPS, info.out_entries);
	for (i = 0; i < SNAPMAP_TXN_MAX_OPS; i++)
		EXPECT_VALUE(fd, okeys[i], strlen(okeys[i]), "v", 1, v);
	EXPECT_EQ(0, close(fd));
}

/* The entry limit: a transaction that would pass it changes nothing. */
TEST_F(txn, entry_limit)
{
	struct snapmap_info before, after;
	struct snapmap_txn_op o[3];
	char key[8];
	int i;

	for (i = 0; i < 15; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, puts_(self->fd, key, "v", NULL));
	}
	ASSERT_EQ(0, sm_info(self->fd, &before));
	o_puts(&o[0], "k0", "replaced");
	o_puts(&o[1], "new1", "1");
	o_puts(&o[2], "new2", "2");
	EXPECT_EQ(-ENOSPC, txn(self->fd, NULL, 0, o, 3, NULL, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "new1", 4, NULL, 0, NULL, NULL));
	/* Deleting one in the same transaction makes room. */
	o_del(&o[0], "k0", 2);
	EXPECT_EQ(0, txn(self->fd, NULL, 0, o, 2, NULL, NULL));
}

/* A transaction held between publishing and committing. */
struct held_txn {
	int fd;
	pid_t tid;
	int ret;
	__u64 version;
};

static void *held_txn_run(void *arg)
{
	struct held_txn *h = arg;
	struct snapmap_txn_op o[2];

	h->tid = syscall(SYS_gettid);
	if (arm("txn_prepared", h->tid)) {
		h->ret = -EIO;
		return NULL;
	}
	/*
	 * As long as the old values: the map's bytes do not change, so
	 * closing a snapshot while the transaction is held queues no sweep
	 * that would wait for its locks.
	 */
	o_puts(&o[0], "a", "NEW");
	o_puts(&o[1], "b", "NEW");
	h->ret = txn(h->fd, NULL, 0, o, 2, &h->version, NULL);
	return NULL;
}

/* The batch GET of "a" and "b" at one version: 0 if both are old. */
static int both_old(int fd, __u64 va, __u64 vb)
{
	struct snapmap_batch_op ops[2];
	char a[16], b[16];
	__u64 v;

	op_get(&ops[0], "a", 1, a, sizeof(a));
	op_get(&ops[1], "b", 1, b, sizeof(b));
	if (mget(fd, ops, 2, &v) || ops[0].out_result || ops[1].out_result)
		return -EIO;
	return ops[0].out_version == va && ops[1].out_version == vb &&
	       !memcmp(a, "old", 3) && !memcmp(b, "old", 3) ? 0 : -EINVAL;
}

/*
 * While a transaction's versions are published and not committed, no
 * reader sees any of them: GET, a batch at one version, a snapshot taken
 * then and read after the commit, SNAPMAP_IOC_SNAPSHOT_GET.
 */
TEST_F_TIMEOUT(txn, uncommitted_is_invisible, 120)
{
	struct held_txn h = { .fd = self->fd };
	char buf[16], hook[64];
	pthread_t thread;
	__u64 va, vb, v = 0, sv = 0;
	__u32 len = 0;
	int sfd;

	ASSERT_EQ(0, sm_read_file(HOOK_PAUSE, hook, sizeof(hook)));
	ASSERT_EQ(0, puts_(self->fd, "a", "old", &va));
	ASSERT_EQ(0, puts_(self->fd, "b", "old", &vb));
	ASSERT_EQ(0, pthread_create(&thread, NULL, held_txn_run, &h));
	ASSERT_EQ(0, wait_paused());

	EXPECT_VALUE(self->fd, "a", 1, "old", 3, va);
	EXPECT_VALUE(self->fd, "b", 1, "old", 3, vb);
	EXPECT_EQ(0, both_old(self->fd, va, vb));
	sfd = sm_snapshot(self->fd, 0, &sv);
	EXPECT_LE(0, sfd);

	ASSERT_EQ(0, sm_write_file(HOOK_PAUSE, "release"));
	pthread_join(thread, NULL);
	ASSERT_EQ(0, h.ret);
	EXPECT_LT(sv, h.version);
	EXPECT_VALUE(self->fd, "a", 1, "NEW", 3, h.version);
	EXPECT_VALUE(self->fd, "b", 1, "NEW", 3, h.version);

	/* The snapshot taken meanwhile holds neither write. */
	EXPECT_EQ(0, sm_snapshot_get(sfd, "a", 1, buf, sizeof(buf), &len, &v));
	EXPECT_EQ(va, v);
	EXPECT_EQ(0, sm_snapshot_get(sfd, "b", 1, buf, sizeof(buf), &len, &v));
	EXPECT_EQ(vb, v);
	EXPECT_EQ(3, len);
	close(sfd);
}

/* SNAPMAP_BATCH_SNAPSHOT: GETs at one version, nothing but GETs. */
TEST_F(txn, batch_at_one_version)
{
	struct snapmap_batch_op ops[3];
	char a[16], b[16], c[16];
	__u64 va, vb, v;

	ASSERT_EQ(0, puts_(self->fd, "a", "1", &va));
	ASSERT_EQ(0, puts_(self->fd, "b", "2", &vb));
	op_get(&ops[0], "a", 1, a, sizeof(a));
	op_get(&ops[1], "b", 1, b, sizeof(b));
	op_get(&ops[2], "c", 1, c, sizeof(c));
	ASSERT_EQ(0, mget(self->fd, ops, 3, &v));
	EXPECT_LT(vb, v);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(va, ops[0].out_version);
	EXPECT_EQ(vb, ops[1].out_version);
	EXPECT_EQ('2', b[0]);
	EXPECT_EQ(-ENOENT, ops[2].out_result);
	/* Read-only fds too. */
	ASSERT_EQ(0, mget(self->ro, ops, 2, &v));
	EXPECT_EQ(va, ops[0].out_version);

	/* A write in such a batch does not run. */
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].opcode = SNAPMAP_BATCH_PUT;
	ops[1].key = SM_PTR("b");
	ops[1].key_len = 1;
	ops[1].value = SM_PTR("x");
	ops[1].value_len = 1;
	ASSERT_EQ(0, mget(self->fd, ops, 2, &v));
	EXPECT_EQ(-EINVAL, ops[1].out_result);
	EXPECT_VALUE(self->fd, "b", 1, "2", 1, vb);
}

/* SNAPMAP_BATCH_SNAPSHOT takes a snapshot, and counts against the caps. */
TEST_F(txn, batch_at_one_version_caps)
{
	unsigned long long per_map = 0;
	struct snapmap_batch_op op;
	char buf[8];
	int sfd;

	ASSERT_EQ(0, sm_param("max_snapshots_per_map", &per_map));
	ASSERT_EQ(0, sm_set_param("max_snapshots_per_map", 1));
	sfd = sm_snapshot(self->fd, 0, NULL);
	EXPECT_LE(0, sfd);
	op_get(&op, "a", 1, buf, sizeof(buf));
	EXPECT_EQ(-ENOSPC, mget(self->fd, &op, 1, NULL));
	EXPECT_EQ(UNTOUCHED, op.out_result);
	close(sfd);
	EXPECT_EQ(0, mget(self->fd, &op, 1, NULL));
	EXPECT_EQ(-ENOENT, op.out_result);
	EXPECT_EQ(0, sm_set_param("max_snapshots_per_map", per_map));
}

/* SNAPMAP_IOC_SNAPSHOT_GET: the key as the snapshot holds it. */
TEST_F(txn, snapshot_get)
{
	struct snapmap_get arg = { .size = sizeof(arg) };
	char buf[16];
	__u64 v1, v = 0, sv;
	__u32 len = 0;
	int sfd, wfd;

	ASSERT_EQ(0, puts_(self->fd, "a", "one", &v1));
	ASSERT_EQ(0, puts_(self->fd, "gone", "x", NULL));
	sfd = sm_snapshot(self->fd, 0, &sv);
	ASSERT_LE(0, sfd);
	wfd = sm_snapshot(self->fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, puts_(self->fd, "a", "two", NULL));
	ASSERT_EQ(0, puts_(self->fd, "later", "y", NULL));
	ASSERT_EQ(0, sm_del(self->fd, 0, "gone", 4, 0, NULL));

	EXPECT_EQ(0, sm_snapshot_get(sfd, "a", 1, buf, sizeof(buf), &len, &v));
	EXPECT_EQ(3, len);
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(v1, v);
	EXPECT_EQ(0, sm_snapshot_get(sfd, "gone", 4, buf, sizeof(buf), &len,
				     &v));
	EXPECT_EQ(-ENOENT, sm_snapshot_get(sfd, "later", 5, buf, sizeof(buf),
					   &len, &v));
	/* Too small a buffer: the length and version all the same. */
	len = 0;
	EXPECT_EQ(-ERANGE, sm_snapshot_get(sfd, "a", 1, buf, 2, &len, &v));
	EXPECT_EQ(3, len);
	EXPECT_EQ(v1, v);
	/* A WEAK snapshot reads the map as it is. */
	EXPECT_EQ(0, sm_snapshot_get(wfd, "a", 1, buf, sizeof(buf), &len, &v));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	EXPECT_EQ(-ENOENT, sm_snapshot_get(wfd, "gone", 4, buf, sizeof(buf),
					   &len, &v));

	EXPECT_EQ(-EINVAL, sm_snapshot_get(sfd, "", 0, buf, sizeof(buf), &len,
					   &v));
	arg.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_GET, &arg));
	arg.flags = 0;
	arg.key_len = 1;
	arg.key = 1;
	EXPECT_ERRNO(EFAULT, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_GET, &arg));
	/* Not a command of a map fd. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, SNAPMAP_IOC_SNAPSHOT_GET, &arg));
	close(wfd);
	close(sfd);
}

/*
 * Bank transfers: accounts, each an 8-byte balance under a 1-byte key,
 * and writers moving amounts between two of them.
 */
#define ACCOUNTS 8
#define OPENING 1000
#define TOTAL ((__u64)ACCOUNTS * OPENING)

struct bank {
	int fd;
	int atomic;		/* transfers as transactions */
	unsigned int transfers;	/* each writer's */
	int stop;		/* set to stop the writers */
	unsigned int done;	/* transfers made */
	unsigned int running;	/* writers not yet finished */
};

static int balance(int fd, __u8 acct, __u64 *bal, __u64 *version)
{
	__u32 len;
	int ret = sm_get(fd, &acct, 1, bal, sizeof(*bal), &len, version);

	return ret ?: len == sizeof(*bal) ? 0 : -EIO;
}

/* One transfer of up to 50 from @a to @b: 0, or -errno. */
static int transfer(struct bank *bk, __u8 a, __u8 b, unsigned int seed)
{
	struct snapmap_txn_cond c[2];
	struct snapmap_txn_op o[2];
	__u64 ba, bb, va, vb, x;
	int ret;

	do {
		ret = balance(bk->fd, a, &ba, &va) ?:
		      balance(bk->fd, b, &bb, &vb);
		if (ret)
			return ret;
		x = seed % 50 < ba ? seed % 50 : ba;
		ba -= x;
		bb += x;
		if (!bk->atomic)
			return sm_put(bk->fd, 0, &a, 1, &ba, 8, 0, NULL) ?:
			       sm_put(bk->fd, 0, &b, 1, &bb, 8, 0, NULL);
		c_key(&c[0], SNAPMAP_TXN_IF_VERSION, "");
		c[0].key = SM_PTR(&a);
		c[0].key_len = 1;
		c[0].version = va;
		c[1] = c[0];
		c[1].key = SM_PTR(&b);
		c[1].version = vb;
		o_put(&o[0], &a, 1, &ba, 8);
		o_put(&o[1], &b, 1, &bb, 8);
		ret = txn(bk->fd, c, 2, o, 2, NULL, NULL);
	} while (ret == -ECANCELED);
	return ret;
}

static void *bank_writer(void *arg)
{
	struct bank *bk = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed, i;
	__u8 a, b;

	void *ret = NULL;

	for (i = 0; i < bk->transfers &&
		    !__atomic_load_n(&bk->stop, __ATOMIC_RELAXED); i++) {
		seed = seed * 1103515245 + 12345;
		a = (seed >> 8) % ACCOUNTS;
		b = (a + 1 + (seed >> 16) % (ACCOUNTS - 1)) % ACCOUNTS;
		if (transfer(bk, a, b, seed >> 4)) {
			ret = (void *)-1L;
			break;
		}
		__atomic_add_fetch(&bk->done, 1, __ATOMIC_RELAXED);
	}
	__atomic_sub_fetch(&bk->running, 1, __ATOMIC_RELEASE);
	return ret;
}

/* The sum of the balances in the records of the snapshot @sfd. */
static long long snapshot_sum(int sfd)
{
	static char buf[4096];
	long long sum = 0;
	struct sm_record rec;
	ssize_t n, off;
	size_t size;

	while ((n = read(sfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += size) {
			__u64 bal;

			size = sm_record_parse(buf + off, n - off, &rec);
			if (!size || rec.value_len != sizeof(bal))
				return -1;
			memcpy(&bal, rec.value, sizeof(bal));
			sum += bal;
		}
	}
	return n < 0 ? -1 : sum;
}

/* The sum of the balances read by one batch at one version. */
static long long mget_sum(int fd)
{
	struct snapmap_batch_op ops[ACCOUNTS];
	__u64 bal[ACCOUNTS];
	__u8 keys[ACCOUNTS];
	long long sum = 0;
	int i;

	for (i = 0; i < ACCOUNTS; i++) {
		keys[i] = i;
		op_get(&ops[i], &keys[i], 1, &bal[i], sizeof(bal[i]));
	}
	if (mget(fd, ops, ACCOUNTS, NULL))
		return -1;
	for (i = 0; i < ACCOUNTS; i++) {
		if (ops[i].out_result)
			return -1;
		sum += bal[i];
	}
	return sum;
}

struct bank_tally {
	unsigned int snapshots, mgets, clones, bad;
};

/* Read the map every way while the writers run; count the bad sums. */
static int bank_read(struct bank *bk, struct bank_tally *t,
		     unsigned int min_reads, bool stop_on_bad)
{
	long long sum;
	int sfd, cfd;

	while (__atomic_load_n(&bk->running, __ATOMIC_ACQUIRE) ||
	       t->mgets < min_reads) {
		sfd = sm_snapshot(bk->fd, 0, NULL);
		if (sfd < 0)
			return sfd;
		sum = snapshot_sum(sfd);
		close(sfd);
		t->snapshots++;
		t->bad += sum != TOTAL;
		sum = mget_sum(bk->fd);
		t->mgets++;
		t->bad += sum != TOTAL;
		if (t->mgets % 32 == 0) {
			cfd = sm_clone(bk->fd, NULL, 0, NULL);
			if (cfd < 0)
				return cfd;
			sfd = sm_snapshot(cfd, 0, NULL);
			sum = sfd < 0 ? -1 : snapshot_sum(sfd);
			close(sfd);
			close(cfd);
			t->clones++;
			t->bad += sum != TOTAL;
		}
		if (stop_on_bad && t->bad)
			break;
		if (t->mgets > 200000)
			break;
	}
	return 0;
}

static int bank_open(int ctl)
{
	__u64 bal = OPENING;
	__u8 i;
	int fd = sm_create(ctl, 8, 8, 0, 0, 0, NULL);

	for (i = 0; fd >= 0 && i < ACCOUNTS; i++)
		if (sm_put(fd, 0, &i, 1, &bal, 8, 0, NULL))
			return -EIO;
	return fd;
}

/*
 * Transfers as transactions: every snapshot, every batch at one version
 * and every clone sums to the total, while two writers run.
 */
TEST_F_TIMEOUT(txn, bank_transfers_keep_the_total, 600)
{
	struct bank bk = { .atomic = 1, .transfers = 3000, .running = 2 };
	struct bank_tally t = {};
	pthread_t w[2];
	long long sum;
	int i, sfd;
	void *ret;

	bk.fd = bank_open(self->ctl);
	ASSERT_LE(0, bk.fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, bank_writer, &bk));
	EXPECT_EQ(0, bank_read(&bk, &t, 200, false));
	__atomic_store_n(&bk.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(w[i], &ret);
		EXPECT_TRUE(!ret);
	}
	TH_LOG("%u transfers; %u snapshots, %u batches, %u clones; %u bad",
	       bk.done, t.snapshots, t.mgets, t.clones, t.bad);
	EXPECT_EQ(0, t.bad);
	EXPECT_LE(200, t.mgets);
	EXPECT_LE(6, t.clones);
	sfd = sm_snapshot(bk.fd, 0, NULL);
	ASSERT_LE(0, sfd);
	sum = snapshot_sum(sfd);
	EXPECT_EQ(TOTAL, sum);
	close(sfd);
	close(bk.fd);
}

/*
 * The control: the same transfers made of two PUTs each.  A reader must
 * catch the total wrong, or the check above could not fail.
 */
TEST_F_TIMEOUT(txn, bank_transfers_without_txn_break_the_total, 600)
{
	struct bank bk = { .atomic = 0, .transfers = 1000000, .running = 1 };
	struct bank_tally t = {};
	pthread_t w;
	void *ret;

	bk.fd = bank_open(self->ctl);
	ASSERT_LE(0, bk.fd);
	ASSERT_EQ(0, pthread_create(&w, NULL, bank_writer, &bk));
	EXPECT_EQ(0, bank_read(&bk, &t, 0, true));
	__atomic_store_n(&bk.stop, 1, __ATOMIC_RELAXED);
	pthread_join(w, &ret);
	EXPECT_TRUE(!ret);
	TH_LOG("%u transfers; %u snapshots, %u batches, %u clones; %u bad",
	       bk.done, t.snapshots, t.mgets, t.clones, t.bad);
	EXPECT_LT(0, t.bad);
	close(bk.fd);
}

/*
 * History: writers run transactions of one to four writes on 16 keys
 * and log them; every snapshot taken meanwhile must equal the replay of
 * exactly the logged transactions below its version.
 */
#define H_KEYS 16
#define H_WRITERS 2
#define H_TXNS 1500
#define H_SNAPS 150

struct h_txn {
	__u64 version;
	__u8 n;
	__u8 key[4];
	__u8 del[4];
	__u64 value[4];
};

struct h_writer {
	int fd;
	unsigned int id;
	struct h_txn log[H_TXNS];
	unsigned int n;
	unsigned int tried;	/* transactions run, for the snapshots' pace */
	int err;
};

static void *h_writer_run(void *arg)
{
	struct h_writer *w = arg;
	unsigned int seed = w->id * 7919 + 1, i, j;
	struct snapmap_txn_op o[4];

	for (i = 0; i < H_TXNS; i++) {
		struct h_txn *t = &w->log[w->n];

		seed = seed * 1103515245 + 12345;
		t->n = 1 + (seed >> 8) % 4;
		for (j = 0; j < t->n; j++) {
			seed = seed * 1103515245 + 12345;
			/* Distinct keys: one of each quarter. */
			t->key[j] = (seed >> 12) % 4 + 4 * j;
			t->del[j] = (seed >> 20) % 4 == 0;
			t->value[j] = (__u64)w->id << 32 | i << 2 | j;
			if (t->del[j])
				o_del(&o[j], &t->key[j], 1);
			else
				o_put(&o[j], &t->key[j], 1, &t->value[j], 8);
		}
		w->err = txn(w->fd, NULL, 0, o, t->n, &t->version, NULL);
		__atomic_add_fetch(&w->tried, 1, __ATOMIC_RELEASE);
		if (w->err)
			return NULL;
		/* Only deletions of absent keys: nothing happened. */
		if (t->version)
			w->n++;
	}
	return NULL;
}

/*
 * Wait until the writers have run @want transactions between them, or
 * one stopped: the snapshots are spread over the writers' run, however
 * the threads are scheduled.
 */
static void h_pace(struct h_writer *w, unsigned int want)
{
	double deadline = sm_now() + SM_WAIT_SECONDS;
	unsigned int i, tried;

	do {
		for (i = 0, tried = 0; i < H_WRITERS; i++)
			tried += __atomic_load_n(&w[i].tried, __ATOMIC_ACQUIRE);
		if (tried >= want)
			return;
		sched_yield();
	} while (sm_now() < deadline);
}

struct h_state {
	__u64 value[H_KEYS];
	__u64 version[H_KEYS];	/* 0: absent */
};

static int h_cmp(const void *a, const void *b)
{
	const struct h_txn *x = *(struct h_txn * const *)a;
	const struct h_txn *y = *(struct h_txn * const *)b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* Read the snapshot @sfd into @s: 0, or -1 for a record out of place. */
static int h_read(int sfd, struct h_state *s)
{
	static char buf[4096];
	struct sm_record rec;
	ssize_t n, off;
	size_t size;

	memset(s, 0, sizeof(*s));
	while ((n = read(sfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += size) {
			size = sm_record_parse(buf + off, n - off, &rec);
			if (!size || rec.key_len != 1 || rec.key[0] >= H_KEYS ||
			    rec.value_len != 8 || s->version[rec.key[0]])
				return -1;
			memcpy(&s->value[rec.key[0]], rec.value, 8);
			s->version[rec.key[0]] = rec.version;
		}
	}
	return n < 0 ? -1 : 0;
}

TEST_F_TIMEOUT(txn, history_replays_exactly, 600)
{
	static struct h_writer w[H_WRITERS];
	static struct h_state snaps[H_SNAPS], replay;
	static struct h_txn *all[H_WRITERS * H_TXNS];
	static __u64 sv[H_SNAPS];
	unsigned int n = 0, i, j, k, s, bad = 0;
	pthread_t th[H_WRITERS];
	int fd, sfd;

	fd = sm_create(self->ctl, 8, 8, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < H_WRITERS; i++) {
		w[i] = (struct h_writer){ .fd = fd, .id = i + 1 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, h_writer_run, &w[i]));
	}
	for (s = 0; s < H_SNAPS; s++) {
		/* The first after a transaction, the last before the end. */
		h_pace(w, 1 + s * (H_WRITERS * H_TXNS - 1) / H_SNAPS);
		sfd = sm_snapshot(fd, 0, &sv[s]);
		ASSERT_LE(0, sfd);
		EXPECT_EQ(0, h_read(sfd, &snaps[s]));
		close(sfd);
	}
	for (i = 0; i < H_WRITERS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, w[i].err);
		for (j = 0; j < w[i].n; j++)
			all[n++] = &w[i].log[j];
	}
	qsort(all, n, sizeof(*all), h_cmp);
	for (i = 1; i < n; i++)
		EXPECT_NE(all[i - 1]->version, all[i]->version);

	/* The snapshots in version order, each replayed up to its V. */
	memset(&replay, 0, sizeof(replay));
	for (i = 0, s = 0; s < H_SNAPS; s++) {
		__u64 floor = s ? sv[s - 1] : 0;

		/* Snapshots are taken one after another: V grows. */
		EXPECT_LT(floor, sv[s]);
		for (; i < n && all[i]->version < sv[s]; i++) {
			for (k = 0; k < all[i]->n; k++) {
				__u8 key = all[i]->key[k];

				replay.version[key] = all[i]->del[k] ? 0 :
						      all[i]->version;
				replay.value[key] = all[i]->del[k] ? 0 :
						    all[i]->value[k];
			}
		}
		for (k = 0; k < H_KEYS; k++) {
			bad += snaps[s].version[k] != replay.version[k] ||
			       snaps[s].value[k] != replay.value[k];
		}
	}
	TH_LOG("%u transactions, %u snapshots, %u keys out of place", n,
	       H_SNAPS, bad);
	EXPECT_EQ(0, bad);
	/* The writers ran before the last snapshot was taken. */
	EXPECT_LT(0, i);
	close(fd);
}

/*
 * Compare-and-swap transactions from several threads on one counter,
 * each also bumping a key of its own: every success counts once, every
 * failure changes nothing.
 */
#define CAS_THREADS 4
#define CAS_ROUNDS 400

struct cas {
	int fd;
	unsigned int id;
	unsigned int wins, losses;
	int err;
};

static void *cas_run(void *arg)
{
	struct cas *c = arg;
	struct snapmap_txn_cond cond;
	struct snapmap_txn_op o[2];
	__u64 ctr, mine, v;
	char key[8];
	__u32 len;
	int ret;

	snprintf(key, sizeof(key), "t%u", c->id);
	while (c->wins < CAS_ROUNDS) {
		c->err = sm_get(c->fd, "ctr", 3, &ctr, 8, &len, &v);
		if (c->err)
			return NULL;
		ctr++;
		mine = c->wins + 1;
		c_version(&cond, "ctr", v);
		o_put(&o[0], "ctr", 3, &ctr, 8);
		o_put(&o[1], key, strlen(key), &mine, 8);
		ret = txn(c->fd, &cond, 1, o, 2, NULL, NULL);
		if (ret == -ECANCELED) {
			c->losses++;
		} else if (ret) {
			c->err = ret;
			return NULL;
		} else {
			c->wins++;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(txn, cas_loses_no_update, 600)
{
	struct cas c[CAS_THREADS];
	pthread_t th[CAS_THREADS];
	unsigned int i, losses = 0;
	__u64 zero = 0, ctr, mine;
	char key[8];
	__u32 len;
	int fd;

	fd = sm_create(self->ctl, 8, 8, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put(fd, 0, "ctr", 3, &zero, 8, 0, NULL));
	for (i = 0; i < CAS_THREADS; i++) {
		c[i] = (struct cas){ .fd = fd, .id = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cas_run, &c[i]));
	}
	for (i = 0; i < CAS_THREADS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, c[i].err);
		losses += c[i].losses;
		snprintf(key, sizeof(key), "t%u", i);
		ASSERT_EQ(0, sm_get(fd, key, strlen(key), &mine, 8, &len,
				    NULL));
		EXPECT_EQ(CAS_ROUNDS, mine);
	}
	ASSERT_EQ(0, sm_get(fd, "ctr", 3, &ctr, 8, &len, NULL));
	TH_LOG("%u transactions committed, %u refused", CAS_THREADS *
	       CAS_ROUNDS, losses);
	EXPECT_EQ(CAS_THREADS * CAS_ROUNDS, ctr);
	close(fd);
}

/*
 * CLEAR at one version: before it every reader sees the map as it was,
 * after it an empty map, and writes go on from there.
 */
TEST_F(txn, clear_at_one_version)
{
	struct snapmap_info before, info;
	struct snapmap_txn_cond c;
	struct snapmap_txn_op o;
	__u64 va, vc, v = 0, sv;
	char buf[16];
	__u32 len = 0;
	int s1, s2;

	ASSERT_EQ(0, puts_(self->fd, "a", "1", &va));
	ASSERT_EQ(0, puts_(self->fd, "b", "2", NULL));
	s1 = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, s1);
	ASSERT_EQ(0, sm_info(self->fd, &before));
	ASSERT_EQ(0, sm_clear(self->fd, &vc));
	EXPECT_EQ(before.out_version + 1, vc);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(vc, info.out_version);
	EXPECT_EQ(before.out_dels, info.out_dels);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "a", 1, NULL, 0, NULL, NULL));
	s2 = sm_snapshot(self->fd, 0, &sv);
	ASSERT_LE(0, s2);
	EXPECT_LT(vc, sv);

	/* The snapshot taken before still holds both keys. */
	EXPECT_EQ(0, sm_snapshot_get(s1, "a", 1, buf, sizeof(buf), &len, &v));
	EXPECT_EQ(va, v);
	EXPECT_EQ(0, sm_snapshot_get(s1, "b", 1, buf, sizeof(buf), &len, &v));
	EXPECT_EQ(-ENOENT, sm_snapshot_get(s2, "a", 1, buf, sizeof(buf), &len,
					   &v));

	/* Writes see the keys absent. */
	EXPECT_EQ(-ENOENT, sm_put(self->fd, SNAPMAP_PUT_EXIST, "b", 1, "x", 1,
				  0, NULL));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "a", 1,
				     "x", 1, va, NULL));
	EXPECT_EQ(-ENOENT, sm_del(self->fd, 0, "b", 1, 0, NULL));
	EXPECT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, "a", 1, "new", 3,
			    0, &v));
	EXPECT_LT(sv, v);
	c_key(&c, SNAPMAP_TXN_IF_ABSENT, "b");
	o_puts(&o, "b", "newer");
	EXPECT_EQ(0, txn(self->fd, &c, 1, &o, 1, &v, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(2, info.out_entries);
	EXPECT_EQ(-ENOENT, sm_snapshot_get(s2, "b", 1, buf, sizeof(buf), &len,
					   &v));
	close(s2);
	close(s1);

	/* An empty map: nothing to delete, no version taken. */
	ASSERT_EQ(0, sm_clear(self->fd, NULL));
	EXPECT_EQ(0, sm_wait_bytes(self->fd, 0, &info.out_bytes));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	ASSERT_EQ(0, sm_clear(self->fd, &vc));
	EXPECT_EQ(before.out_version, vc);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

/* The bank, cleared and reopened while transfers and readers run. */
struct cleared_bank {
	struct bank bk;
	int by_key;		/* clear with a DEL per account instead */
	unsigned int clears;	/* to do */
	unsigned int partial;	/* reads that saw some accounts, not all */
	unsigned int empty, full;
};

/* Open the bank again if it is gone, all accounts at once. */
static int reopen(int fd)
{
	struct snapmap_txn_cond c[ACCOUNTS];
	struct snapmap_txn_op o[ACCOUNTS];
	__u8 keys[ACCOUNTS];
	__u64 bal = OPENING;
	int i, ret;

	for (i = 0; i < ACCOUNTS; i++) {
		keys[i] = i;
		c_key(&c[i], SNAPMAP_TXN_IF_ABSENT, "");
		c[i].key = SM_PTR(&keys[i]);
		c[i].key_len = 1;
		o_put(&o[i], &keys[i], 1, &bal, 8);
	}
	ret = txn(fd, c, ACCOUNTS, o, ACCOUNTS, NULL, NULL);
	return ret == -ECANCELED ? 0 : ret;
}

static void *cleared_bank_writer(void *arg)
{
	struct cleared_bank *cb = arg;
	struct bank *bk = &cb->bk;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	void *ret = NULL;
	__u8 a, b;
	int err;

	while (!__atomic_load_n(&bk->stop, __ATOMIC_RELAXED)) {
		seed = seed * 1103515245 + 12345;
		a = (seed >> 8) % ACCOUNTS;
		b = (a + 1 + (seed >> 16) % (ACCOUNTS - 1)) % ACCOUNTS;
		err = transfer(bk, a, b, seed >> 4);
		if (err == -ENOENT)
			err = reopen(bk->fd);
		if (err) {
			ret = (void *)-1L;
			break;
		}
	}
	__atomic_sub_fetch(&bk->running, 1, __ATOMIC_RELEASE);
	return ret;
}

static void *clearer(void *arg)
{
	struct cleared_bank *cb = arg;
	unsigned int i;
	__u8 k;

	for (i = 0; i < cb->clears &&
		    !__atomic_load_n(&cb->bk.stop, __ATOMIC_RELAXED); i++) {
		if (!cb->by_key) {
			if (sm_clear(cb->bk.fd, NULL))
				return (void *)-1L;
			continue;
		}
		for (k = 0; k < ACCOUNTS; k++)
			sm_del(cb->bk.fd, 0, &k, 1, 0, NULL);
	}
	return NULL;
}

/* Classify a read of the accounts: all present with the total, or none. */
static void tally(struct cleared_bank *cb, unsigned int present,
		  long long sum, unsigned int *bad)
{
	if (present == ACCOUNTS && sum == TOTAL)
		cb->full++;
	else if (!present)
		cb->empty++;
	else if (present == ACCOUNTS)
		(*bad)++;
	else
		cb->partial++;
}

/* Read the accounts by a snapshot and by a batch until the clearer is done. */
static int cleared_bank_read(struct cleared_bank *cb, pthread_t clr,
			     unsigned int *bad)
{
	struct snapmap_batch_op ops[ACCOUNTS];
	__u64 bal[ACCOUNTS], b;
	static char buf[4096];
	struct sm_record rec;
	unsigned int present, i, reads;
	__u8 keys[ACCOUNTS];
	long long sum;
	ssize_t n, off;
	size_t size;
	int sfd;

	for (reads = 0; reads < 20000; reads++) {
		sfd = sm_snapshot(cb->bk.fd, 0, NULL);
		if (sfd < 0)
			return sfd;
		present = 0;
		sum = 0;
		while ((n = read(sfd, buf, sizeof(buf))) > 0) {
			for (off = 0; off < n; off += size) {
				size = sm_record_parse(buf + off, n - off,
						       &rec);
				if (!size || rec.value_len != 8)
					return -EIO;
				memcpy(&b, rec.value, 8);
				sum += b;
				present++;
			}
		}
		close(sfd);
		tally(cb, present, sum, bad);

		for (i = 0; i < ACCOUNTS; i++) {
			keys[i] = i;
			op_get(&ops[i], &keys[i], 1, &bal[i], 8);
		}
		if (mget(cb->bk.fd, ops, ACCOUNTS, NULL))
			return -EIO;
		present = 0;
		sum = 0;
		for (i = 0; i < ACCOUNTS; i++) {
			if (ops[i].out_result)
				continue;
			present++;
			sum += bal[i];
		}
		tally(cb, present, sum, bad);
		if (cb->by_key && cb->partial)
			break;
		if (pthread_tryjoin_np(clr, NULL) == 0)
			return 1;
	}
	return 0;
}

static void run_cleared_bank(struct __test_metadata *_metadata, int ctl,
			     struct cleared_bank *cb)
{
	unsigned int bad = 0, i;
	pthread_t w[2], clr;
	void *ret;
	int joined;

	cb->bk.atomic = 1;
	cb->bk.running = 2;
	cb->bk.fd = bank_open(ctl);
	ASSERT_LE(0, cb->bk.fd);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, cleared_bank_writer,
					    cb));
	ASSERT_EQ(0, pthread_create(&clr, NULL, clearer, cb));
	joined = cleared_bank_read(cb, clr, &bad);
	EXPECT_LE(0, joined);
	if (joined != 1) {
		__atomic_store_n(&cb->bk.stop, 1, __ATOMIC_RELAXED);
		pthread_join(clr, &ret);
	}
	__atomic_store_n(&cb->bk.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(w[i], &ret);
		EXPECT_TRUE(!ret);
	}
	TH_LOG("%s: %u full, %u empty, %u partial, %u wrong totals",
	       cb->by_key ? "DEL per account" : "CLEAR", cb->full, cb->empty,
	       cb->partial, bad);
	EXPECT_EQ(0, bad);
	close(cb->bk.fd);
}

/*
 * Transfers, a clearer and a reopener: every snapshot and every batch at
 * one version sees every account with the total, or none.
 */
TEST_F_TIMEOUT(txn, clear_is_one_instant, 600)
{
	struct cleared_bank cb = { .clears = 300 };

	run_cleared_bank(_metadata, self->ctl, &cb);
	EXPECT_EQ(0, cb.partial);
	EXPECT_LT(0, cb.full);
}

/* The control: deleting the accounts one by one shows partial maps. */
TEST_F_TIMEOUT(txn, clear_key_by_key_shows_part, 600)
{
	struct cleared_bank cb = { .clears = 100000, .by_key = 1 };

	run_cleared_bank(_metadata, self->ctl, &cb);
	EXPECT_LT(0, cb.partial);
}

TEST_HARNESS_MAIN
