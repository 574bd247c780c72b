// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: every pointer the module follows, pointed at memory
 * it cannot use.
 *
 * For each pointer of each command (the argument itself, keys, values,
 * the batch's array and its ops' pointers, a transaction's arrays and its
 * entries' pointers, read(2)'s buffer) and each way of being bad (NULL,
 * an unmapped page, a read-only page where the module writes, an object
 * whose tail runs into an unmapped page, a kernel address, a
 * non-canonical address), the call must fail with EFAULT (a batch op:
 * report it in its out_result; a transaction: name the entry in its
 * out_failed) and change nothing: INFO and every record of an ATOMIC
 * snapshot of the map stay as they were (but for the version a batch at
 * one version takes), no fd is left behind, and a snapshot fd loses no
 * record.
 *
 * fail_nth_test covers the same copies with the copy itself made to fail
 * (fail_usercopy); this test needs no fault injection and runs on any
 * kernel.
 */

#include <stdbool.h>
#include <stdint.h>

#include "snapmap_test.h"

#define KEY_MAX 64
#define VAL_MAX 4096
#define NKEYS 8

enum where {
	W_NULL,
	W_UNMAPPED,
	W_READ_ONLY,	/* only where the module writes */
	W_STRADDLE,	/* the object's last byte is unmapped */
	W_KERNEL,
	W_HIGH,		/* non-canonical; the top of the space if 32-bit */
	W_KINDS
};

static const char *const where_names[W_KINDS] = {
	"NULL", "unmapped", "read-only", "straddling", "kernel", "high",
};

/*
 * Four pages: read-write, unmapped, read-only, unmapped.  Objects placed
 * at the end of a mapped page run into the next, unmapped one.
 */
struct pages {
	unsigned char *base;
	size_t page;
};

/* A call with one of its pointers bad. */
struct ctx {
	struct pages pg;
	int ctl;
	int fd;
	int sfd;		/* an ATOMIC snapshot, for read(2) */
	void *full;		/* everything it holds */
	ssize_t full_len;
	unsigned char buf[VAL_MAX + 64];
	struct snapmap_batch_op ops[2];
	struct snapmap_txn_cond conds[2];
	struct snapmap_txn_op txn_ops[2];
	__u64 txn_version;	/* what a TXN answered */
	__u32 txn_failed;
	__u32 want_failed;	/* the entry it must name */
};

struct slot;
typedef int (*call_fn)(struct ctx *c, const struct slot *s, enum where w);

/* One pointer of one command. */
struct slot {
	const char *name;
	call_fn call;
	size_t size;		/* of what it points to */
	bool written;		/* the module writes there */
	bool batch_op;		/* the error goes to the op's out_result */
	bool made_fd;		/* a good call returns a new fd */
	bool txn_entry;		/* a TXN names the entry that holds it */
	bool snapshot;		/* the call takes a snapshot all the same */
};

/*
 * A copy of the @len bytes at @obj (NULL: leave what is there) in a place
 * of kind @w, as a pointer for a __u64 member; W_KINDS is @obj itself.
 */
static __u64 place(struct ctx *c, enum where w, const void *obj, size_t len)
{
	unsigned char *ro = c->pg.base + 2 * c->pg.page;
	size_t page = c->pg.page;

	switch (w) {
	case W_NULL:
		return 0;
	case W_UNMAPPED:
		return SM_PTR(c->pg.base + page);
	case W_READ_ONLY:
		if (mprotect(ro, page, PROT_READ | PROT_WRITE))
			abort();
		if (obj)
			memcpy(ro, obj, len < page ? len : page);
		if (mprotect(ro, page, PROT_READ))
			abort();
		return SM_PTR(ro);
	case W_STRADDLE:
		/* All but the last byte in the first page. */
		if (obj)
			memcpy(c->pg.base + page - len + 1, obj, len - 1);
		return SM_PTR(c->pg.base + page - len + 1);
	case W_KERNEL:
		return 0xffff888000000000ULL;
	case W_HIGH:
		return sizeof(long) == 8 ? 0x8000000000000000ULL :
					   0xfffff000ULL;
	default:
		return SM_PTR(obj);
	}
}

/* The same, as ioctl(2)'s argument, which is a long. */
static void *place_arg(struct ctx *c, enum where w, const void *obj,
		       size_t len)
{
	if (w == W_KERNEL || w == W_HIGH)
		return (void *)(uintptr_t)-4096L;
	return (void *)(uintptr_t)place(c, w, obj, len);
}

static int ioctl_at(struct ctx *c, enum where w, unsigned long cmd,
		    const void *arg, size_t len)
{
	return sm_ret(ioctl(c->fd, cmd, place_arg(c, w, arg, len)));
}

/* The calls, each with one pointer put at @w. */

static int api_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_api arg = { .size = sizeof(arg) };

	return sm_ret(ioctl(c->ctl, SNAPMAP_IOC_API,
			    place_arg(c, w, &arg, sizeof(arg))));
}

static int create_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_create arg = { .size = sizeof(arg) };

	return sm_ret(ioctl(c->ctl, SNAPMAP_IOC_CREATE,
			    place_arg(c, w, &arg, sizeof(arg))));
}

static int open_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_open arg = { .size = sizeof(arg) };

	sm_copy_name(arg.name, "usercopy_test");
	return sm_ret(ioctl(c->ctl, SNAPMAP_IOC_OPEN,
			    place_arg(c, w, &arg, sizeof(arg))));
}

static int get_call(struct ctx *c, enum where w, int which, size_t size)
{
	struct snapmap_get arg = {
		.size = sizeof(arg), .key_len = 5, .value_buf_len = VAL_MAX,
		.key = SM_PTR("key-6"), .value = SM_PTR(c->buf),
	};

	if (which == 1)
		arg.key = place(c, w, "key-6", 5);
	if (which == 2)
		arg.value = place(c, w, c->buf, size);
	return ioctl_at(c, which ? W_KINDS : w, SNAPMAP_IOC_GET, &arg,
			sizeof(arg));
}

static int get_arg(struct ctx *c, const struct slot *s, enum where w)
{
	return get_call(c, w, 0, s->size);
}

static int get_key(struct ctx *c, const struct slot *s, enum where w)
{
	return get_call(c, w, 1, s->size);
}

static int get_value(struct ctx *c, const struct slot *s, enum where w)
{
	return get_call(c, w, 2, s->size);
}

/*
 * A PUT of a new key; @which says which pointer is bad: the argument (0),
 * the key (1) or the value (2), of @len bytes.  A value longer than the
 * module's stack buffer is copied straight into its new version.
 */
static int put_call(struct ctx *c, enum where w, int which, __u32 len)
{
	static const char value[VAL_MAX] = "a new value";
	struct snapmap_put arg = {
		.size = sizeof(arg), .key_len = 7, .value_len = len,
		.key = SM_PTR("new-key"), .value = SM_PTR(value),
	};

	if (which == 1)
		arg.key = place(c, w, "new-key", 7);
	if (which == 2)
		arg.value = place(c, w, value, len);
	return ioctl_at(c, which ? W_KINDS : w, SNAPMAP_IOC_PUT, &arg,
			sizeof(arg));
}

static int put_arg(struct ctx *c, const struct slot *s, enum where w)
{
	return put_call(c, w, 0, 100);
}

static int put_key(struct ctx *c, const struct slot *s, enum where w)
{
	return put_call(c, w, 1, 100);
}

static int put_value(struct ctx *c, const struct slot *s, enum where w)
{
	return put_call(c, w, 2, s->size);
}

static int del_call(struct ctx *c, enum where w, int which)
{
	struct snapmap_del arg = {
		.size = sizeof(arg), .key_len = 5, .key = SM_PTR("key-2"),
	};

	if (which == 1)
		arg.key = place(c, w, "key-2", 5);
	return ioctl_at(c, which ? W_KINDS : w, SNAPMAP_IOC_DEL, &arg,
			sizeof(arg));
}

static int del_arg(struct ctx *c, const struct slot *s, enum where w)
{
	return del_call(c, w, 0);
}

static int del_key(struct ctx *c, const struct slot *s, enum where w)
{
	return del_call(c, w, 1);
}

/*
 * A batch of a GET of key-6 and a PUT of a new key, which stops at the
 * first op that fails; @which says which pointer is bad: the argument (0),
 * the op array (1), the PUT's key (2) or value (3), the GET's value
 * buffer (4).
 */
static int batch_call(struct ctx *c, enum where w, int which, size_t size)
{
	static const char value[VAL_MAX] = "batch value";
	struct snapmap_batch arg = {
		.size = sizeof(arg), .flags = SNAPMAP_BATCH_STOP_ON_ERROR,
		.count = 2, .op_size = sizeof(c->ops[0]),
		.ops = SM_PTR(c->ops),
	};
	struct snapmap_batch_op *o = c->ops;

	memset(c->ops, 0, sizeof(c->ops));
	o[0] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 5,
		.value_len = VAL_MAX, .key = SM_PTR("key-6"),
		.value = SM_PTR(c->buf),
	};
	o[1] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_PUT, .key_len = 7,
		.value_len = which == 3 ? size : 100,
		.key = SM_PTR("new-key"), .value = SM_PTR(value),
	};
	if (which == 2)
		o[1].key = place(c, w, "new-key", size);
	if (which == 3)
		o[1].value = place(c, w, value, size);
	if (which == 4)
		o[0].value = place(c, w, c->buf, size);
	if (which == 1)
		arg.ops = place(c, w, c->ops, size);
	return ioctl_at(c, which ? W_KINDS : w, SNAPMAP_IOC_BATCH, &arg,
			sizeof(arg));
}

static int batch_arg(struct ctx *c, const struct slot *s, enum where w)
{
	return batch_call(c, w, 0, s->size);
}

static int batch_ops(struct ctx *c, const struct slot *s, enum where w)
{
	return batch_call(c, w, 1, s->size);
}

static int batch_put_key(struct ctx *c, const struct slot *s, enum where w)
{
	return batch_call(c, w, 2, s->size);
}

static int batch_put_value(struct ctx *c, const struct slot *s, enum where w)
{
	return batch_call(c, w, 3, s->size);
}

static int batch_get_value(struct ctx *c, const struct slot *s, enum where w)
{
	return batch_call(c, w, 4, s->size);
}

/*
 * A transaction of two conditions, key-3's value and key-2 present, and
 * two writes, a PUT of a new key and a DEL of key-5; @which says which
 * pointer is bad: the argument (0), the conditions (1) or the writes (2),
 * the second condition's key (3), the first's value (4), the PUT's key
 * (5) or value (6), of @size bytes.  The entry that cannot be read is the
 * one a transaction names: the first of an array, but the last of one
 * whose end only is unmapped.
 */
static int txn_call(struct ctx *c, enum where w, int which, size_t size)
{
	static const char value[VAL_MAX] = "a new value";
	static char value3[31];
	struct snapmap_txn arg = {
		.size = sizeof(arg), .cond_count = 2,
		.cond_size = sizeof(c->conds[0]), .op_count = 2,
		.op_size = sizeof(c->txn_ops[0]), .conds = SM_PTR(c->conds),
		.ops = SM_PTR(c->txn_ops),
	};
	struct snapmap_txn_cond *k = c->conds;
	struct snapmap_txn_op *o = c->txn_ops;
	int ret;

	memset(value3, 'a' + 3, sizeof(value3));
	k[0] = (struct snapmap_txn_cond){
		.kind = SNAPMAP_TXN_IF_VALUE, .key_len = 5,
		.value_len = sizeof(value3), .key = SM_PTR("key-3"),
		.value = SM_PTR(value3),
	};
	k[1] = (struct snapmap_txn_cond){
		.kind = SNAPMAP_TXN_IF_PRESENT, .key_len = 5,
		.key = SM_PTR("key-2"),
	};
	o[0] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_PUT, .key_len = 7,
		.value_len = which == 6 ? size : 100,
		.key = SM_PTR("new-key"), .value = SM_PTR(value),
	};
	o[1] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_DEL, .key_len = 5, .key = SM_PTR("key-5"),
	};
	c->want_failed = which == 1 ? (w == W_STRADDLE ? 1 : 0) :
			 which == 2 ? (w == W_STRADDLE ? 3 : 2) :
			 which == 3 ? 1 : which == 4 ? 0 : 2;
	if (which == 3)
		k[1].key = place(c, w, "key-2", size);
	if (which == 4)
		k[0].value = place(c, w, value3, size);
	if (which == 5)
		o[0].key = place(c, w, "new-key", size);
	if (which == 6)
		o[0].value = place(c, w, value, size);
	if (which == 1)
		arg.conds = place(c, w, c->conds, size);
	if (which == 2)
		arg.ops = place(c, w, c->txn_ops, size);
	ret = ioctl_at(c, which ? W_KINDS : w, SNAPMAP_IOC_TXN, &arg,
		       sizeof(arg));
	c->txn_version = arg.out_version;
	c->txn_failed = arg.out_failed;
	return ret;
}

static int txn_arg(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 0, s->size);
}

static int txn_conds(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 1, s->size);
}

static int txn_ops(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 2, s->size);
}

static int txn_cond_key(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 3, s->size);
}

static int txn_cond_value(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 4, s->size);
}

static int txn_put_key(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 5, s->size);
}

static int txn_put_value(struct ctx *c, const struct slot *s, enum where w)
{
	return txn_call(c, w, 6, s->size);
}

/*
 * SNAPMAP_IOC_SNAPSHOT_GET of key-6 on the ATOMIC snapshot; @which says
 * which pointer is bad: the argument (0), the key (1) or the value
 * buffer (2).
 */
static int snapshot_get_call(struct ctx *c, enum where w, int which,
			     size_t size)
{
	struct snapmap_get arg = {
		.size = sizeof(arg), .key_len = 5, .value_buf_len = VAL_MAX,
		.key = SM_PTR("key-6"), .value = SM_PTR(c->buf),
	};

	if (which == 1)
		arg.key = place(c, w, "key-6", 5);
	if (which == 2)
		arg.value = place(c, w, c->buf, size);
	return sm_ret(ioctl(c->sfd, SNAPMAP_IOC_SNAPSHOT_GET,
			    place_arg(c, which ? W_KINDS : w, &arg,
				      sizeof(arg))));
}

static int snapshot_get_arg(struct ctx *c, const struct slot *s, enum where w)
{
	return snapshot_get_call(c, w, 0, s->size);
}

static int snapshot_get_key(struct ctx *c, const struct slot *s, enum where w)
{
	return snapshot_get_call(c, w, 1, s->size);
}

static int snapshot_get_value(struct ctx *c, const struct slot *s,
			      enum where w)
{
	return snapshot_get_call(c, w, 2, s->size);
}

/*
 * A batch at one version: a GET of key-2, then one of key-6 into a bad
 * value buffer.
 */
static int batch_snapshot_value(struct ctx *c, const struct slot *s,
				enum where w)
{
	struct snapmap_batch arg = {
		.size = sizeof(arg), .flags = SNAPMAP_BATCH_SNAPSHOT,
		.count = 2, .op_size = sizeof(c->ops[0]),
		.ops = SM_PTR(c->ops),
	};
	struct snapmap_batch_op *o = c->ops;

	memset(c->ops, 0, sizeof(c->ops));
	o[0] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 5, .value_len = 64,
		.key = SM_PTR("key-2"), .value = SM_PTR(c->buf),
	};
	o[1] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 5,
		.value_len = VAL_MAX, .key = SM_PTR("key-6"),
		.value = place(c, w, c->buf, s->size),
	};
	return ioctl_at(c, W_KINDS, SNAPMAP_IOC_BATCH, &arg, sizeof(arg));
}

static int clear_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_clear arg = { .size = sizeof(arg) };

	return ioctl_at(c, w, SNAPMAP_IOC_CLEAR, &arg, sizeof(arg));
}

static int info_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_info arg = { .size = sizeof(arg) };

	return ioctl_at(c, w, SNAPMAP_IOC_INFO, &arg, sizeof(arg));
}

static int snapshot_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_snapshot_arg arg = { .size = sizeof(arg) };

	return ioctl_at(c, w, SNAPMAP_IOC_SNAPSHOT, &arg, sizeof(arg));
}

static int clone_arg(struct ctx *c, const struct slot *s, enum where w)
{
	struct snapmap_clone arg = { .size = sizeof(arg) };

	return ioctl_at(c, w, SNAPMAP_IOC_CLONE, &arg, sizeof(arg));
}

static int snapshot_info_arg(struct ctx *c, const struct slot *s,
			     enum where w)
{
	struct snapmap_snapshot_info arg = { .size = sizeof(arg) };

	return sm_ret(ioctl(c->sfd, SNAPMAP_IOC_SNAPSHOT_INFO,
			    place_arg(c, w, &arg, sizeof(arg))));
}

static int read_buf(struct ctx *c, const struct slot *s, enum where w)
{
	ssize_t n;

	if (lseek(c->sfd, 0, SEEK_SET))
		return -EPROTO;
	n = read(c->sfd, place_arg(c, w, NULL, s->size), s->size);
	return n < 0 ? -errno : n;
}

#define SLOT(_name, _size, ...)						\
	FIXTURE_VARIANT_ADD(uc, _name) {				\
		.slot = { .name = #_name, .call = _name,		\
			  .size = _size, __VA_ARGS__ },			\
	}

FIXTURE(uc) {
	struct ctx c;
};

FIXTURE_VARIANT(uc) {
	struct slot slot;
};

SLOT(api_arg, sizeof(struct snapmap_api), .written = true);
SLOT(create_arg, sizeof(struct snapmap_create), .made_fd = true);
SLOT(open_arg, sizeof(struct snapmap_open), .made_fd = true);
SLOT(get_arg, sizeof(struct snapmap_get), .written = true);
SLOT(get_key, 5);
/* Only the value's 3000 bytes are written: the straddle is within them. */
SLOT(get_value, 3000, .written = true);
SLOT(put_arg, sizeof(struct snapmap_put), .written = true);
SLOT(put_key, 7);
SLOT(put_value, 100);
FIXTURE_VARIANT_ADD(uc, put_value_long) {
	.slot = { .name = "put_value_long", .call = put_value, .size = 3000 },
};
SLOT(del_arg, sizeof(struct snapmap_del), .written = true);
SLOT(del_key, 5);
SLOT(batch_arg, sizeof(struct snapmap_batch), .written = true);
SLOT(batch_ops, 2 * sizeof(struct snapmap_batch_op), .written = true);
SLOT(batch_put_key, 7, .batch_op = true);
SLOT(batch_put_value, 100, .batch_op = true);
FIXTURE_VARIANT_ADD(uc, batch_put_value_long) {
	.slot = { .name = "batch_put_value_long", .call = batch_put_value,
		  .size = 3000, .batch_op = true },
};
SLOT(batch_get_value, 3000, .written = true, .batch_op = true);
SLOT(txn_arg, sizeof(struct snapmap_txn), .written = true);
SLOT(txn_conds, 2 * sizeof(struct snapmap_txn_cond), .txn_entry = true);
SLOT(txn_ops, 2 * sizeof(struct snapmap_txn_op), .txn_entry = true);
SLOT(txn_cond_key, 5, .txn_entry = true);
SLOT(txn_cond_value, 31, .txn_entry = true);
SLOT(txn_put_key, 7, .txn_entry = true);
SLOT(txn_put_value, 100, .txn_entry = true);
FIXTURE_VARIANT_ADD(uc, txn_put_value_long) {
	.slot = { .name = "txn_put_value_long", .call = txn_put_value,
		  .size = 3000, .txn_entry = true },
};
SLOT(snapshot_get_arg, sizeof(struct snapmap_get), .written = true);
SLOT(snapshot_get_key, 5);
SLOT(snapshot_get_value, 3000, .written = true);
SLOT(batch_snapshot_value, 3000, .written = true, .batch_op = true,
     .snapshot = true);
SLOT(clear_arg, sizeof(struct snapmap_clear), .written = true);
SLOT(info_arg, sizeof(struct snapmap_info), .written = true);
SLOT(snapshot_arg, sizeof(struct snapmap_snapshot_arg), .written = true,
     .made_fd = true);
SLOT(clone_arg, sizeof(struct snapmap_clone), .written = true,
     .made_fd = true);
SLOT(snapshot_info_arg, sizeof(struct snapmap_snapshot_info),
     .written = true);
SLOT(read_buf, 65536, .written = true);

FIXTURE_SETUP(uc)
{
	struct ctx *c = &self->c;
	char key[16], value[VAL_MAX];
	unsigned int i;
	__u32 len;

	memset(c, 0, sizeof(*c));
	c->sfd = -1;
	c->pg.page = sysconf(_SC_PAGESIZE);
	/* read(2)'s buffer straddles too: the first page holds most of it. */
	c->pg.base = mmap(NULL, 4 * c->pg.page + 65536, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(c->pg.base != MAP_FAILED);
	c->pg.base += 65536;
	ASSERT_EQ(0, mprotect(c->pg.base - 65536, 65536 + c->pg.page,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mprotect(c->pg.base + 2 * c->pg.page, c->pg.page,
			      PROT_READ));

	c->ctl = snapmap_open_ctl();
	ASSERT_LE(0, c->ctl);
	c->fd = sm_create(c->ctl, KEY_MAX, VAL_MAX, 64, 0, 0666,
			  "usercopy_test");
	ASSERT_LE(0, c->fd);
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof(key), "key-%u", i);
		len = i == 6 ? 3000 : 10 + 7 * i;
		memset(value, 'a' + i, len);
		ASSERT_EQ(0, sm_put(c->fd, 0, key, strlen(key), value, len, 0,
				    NULL));
	}
	c->sfd = sm_snapshot(c->fd, 0, NULL);
	ASSERT_LE(0, c->sfd);
	c->full_len = sm_read_all(c->sfd, 65536, &c->full);
	ASSERT_LT(0, c->full_len);
}

FIXTURE_TEARDOWN(uc)
{
	struct ctx *c = &self->c;

	free(c->full);
	if (c->sfd >= 0)
		close(c->sfd);
	close(c->fd);
	close(c->ctl);
	munmap(c->pg.base - 65536, 4 * c->pg.page + 65536);
}

/* INFO, then every record of an ATOMIC snapshot of @fd. */
static int take(int fd, struct snapmap_info *info, void **dump)
{
	int sfd, err = sm_info(fd, info);
	ssize_t len;

	if (err)
		return err;
	sfd = sm_snapshot(fd, 0, NULL);
	if (sfd < 0)
		return sfd;
	len = sm_read_all(sfd, 65536, dump);
	close(sfd);
	return len;
}

TEST_F(uc, efault)
{
	const struct slot *s = &variant->slot;
	struct ctx *c = &self->c;
	struct snapmap_info before, after;
	void *dump_before, *dump_after, *rest;
	ssize_t len_before, len_after, len;
	unsigned int tried = 0;
	int w, ret, fds;

	for (w = 0; w < W_KINDS; w++) {
		if (w == W_READ_ONLY && !s->written)
			continue;
		len_before = take(c->fd, &before, &dump_before);
		ASSERT_LE(0, len_before);
		fds = sm_count_fds();

		ret = s->call(c, s, w);

		if (s->batch_op) {
			/* The batch ran; the op with the bad pointer failed. */
			EXPECT_EQ(0, ret);
			EXPECT_EQ(-EFAULT, c->ops[s->call == batch_get_value ?
						  0 : 1].out_result) {
				TH_LOG("%s %s", s->name, where_names[w]);
			}
		} else {
			EXPECT_EQ(-EFAULT, ret) {
				TH_LOG("%s %s", s->name, where_names[w]);
			}
		}
		if (s->txn_entry) {
			/* The entry at fault is named; nothing was written. */
			EXPECT_EQ(c->want_failed, c->txn_failed) {
				TH_LOG("%s %s", s->name, where_names[w]);
			}
			EXPECT_EQ(0, c->txn_version);
		}
		if (s->made_fd && ret >= 0)
			close(ret);
		EXPECT_EQ(fds, sm_count_fds());

		len_after = take(c->fd, &after, &dump_after);
		ASSERT_LE(0, len_after);
		/*
		 * The map is as it was, but for the snapshot take() took: a
		 * CLONE checks its argument before its own snapshot.  A batch
		 * at one version took its own before it ran its ops.
		 */
		after.out_version -= 1 + s->snapshot;
		EXPECT_MAP_UNCHANGED(before, after);
		ASSERT_EQ(len_before, len_after);
		EXPECT_EQ(0, memcmp(dump_before, dump_after, len_before));
		free(dump_before);
		free(dump_after);

		if (s->call == read_buf) {
			/* No record lost: the read starts again where it was. */
			len = sm_read_all(c->sfd, 65536, &rest);
			ASSERT_EQ(c->full_len, len);
			EXPECT_EQ(0, memcmp(c->full, rest, len));
			free(rest);
		}
		tried++;
		if (!_metadata->passed)
			break;
	}
	printf("# %s: %u bad pointers, EFAULT each\n", s->name, tried);
	fflush(stdout);
}

/*
 * A GET copies the value straight from the map to the caller with page
 * faults disabled; into a buffer whose pages are not there yet it must
 * fall back to a copy that can fault them in.  Values short and long,
 * alone and in a batch, into fresh anonymous pages never touched before.
 */
TEST(get_into_pages_not_yet_there)
{
	static const __u32 lens[] = { 1, 64, 65, 3000, VAL_MAX };
	const size_t span = 2 * VAL_MAX;
	unsigned char value[VAL_MAX];
	struct snapmap_batch_op op;
	unsigned int i, j;
	__u32 len, done;
	__u64 v, got_v;
	int ctl, fd;
	char *buf;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create(ctl, KEY_MAX, VAL_MAX, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(value); i++)
		value[i] = i * 7 + 3;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(0, sm_put(fd, 0, "k", 1, value, lens[i], 0, &v));
		for (j = 0; j < 2; j++) {
			buf = mmap(NULL, span, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			ASSERT_TRUE(buf != MAP_FAILED);
			/* The value ends in the second page. */
			buf += span - lens[i] - 1;
			len = 0;
			got_v = 0;
			if (!j) {
				ASSERT_EQ(0, sm_get(fd, "k", 1, buf, lens[i],
						    &len, &got_v));
			} else {
				op = (struct snapmap_batch_op){
					.opcode = SNAPMAP_BATCH_GET,
					.key_len = 1, .value_len = lens[i],
					.key = SM_PTR("k"),
					.value = SM_PTR(buf),
				};
				ASSERT_EQ(0, sm_batch(fd, 0, &op, 1, &done));
				ASSERT_EQ(1, done);
				ASSERT_EQ(0, op.out_result);
				len = op.out_value_len;
				got_v = op.out_version;
			}
			EXPECT_EQ(lens[i], len);
			EXPECT_EQ(v, got_v);
			EXPECT_EQ(0, memcmp(value, buf, lens[i])) {
				TH_LOG("%u bytes, %s", lens[i],
				       j ? "batch" : "GET");
			}
			buf -= span - lens[i] - 1;
			ASSERT_EQ(0, munmap(buf, span));
		}
	}
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
}

/*
 * A named CLONE whose argument cannot be written back: EFAULT before
 * anything else, whether the name is free or taken.  No clone is made or
 * registered under the name, and the source's version does not move.
 */
TEST(clone_read_only_argument_named)
{
	struct snapmap_info before, after;
	char name[SNAPMAP_NAME_LEN], free_name[SNAPMAP_NAME_LEN];
	struct snapmap_clone *arg;
	int ctl, fd, maps, i;
	char *page;

	snprintf(name, sizeof(name), "usercopy_test-src-%d", (int)getpid());
	snprintf(free_name, sizeof(free_name), "usercopy_test-new-%d",
		 (int)getpid());
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create(ctl, 0, 0, 0, 0, 0600, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put(fd, 0, "k", 1, "v", 1, 0, NULL));
	page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	/* The free name, the taken one. */
	arg = (void *)page;
	for (i = 0; i < 2; i++) {
		arg[i].size = sizeof(arg[i]);
		arg[i].mode = 0600;
		sm_copy_name(arg[i].name, i ? name : free_name);
	}
	ASSERT_EQ(0, mprotect(page, getpagesize(), PROT_READ));
	maps = sm_count_maps();
	ASSERT_LE(0, maps);
	ASSERT_EQ(0, sm_info(fd, &before));

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-EFAULT, sm_ret(ioctl(fd, SNAPMAP_IOC_CLONE,
						&arg[i]))) {
			TH_LOG("%s name", i ? "taken" : "free");
		}
	}
	ASSERT_EQ(0, sm_info(fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(maps, sm_count_maps());
	EXPECT_EQ(-ENOENT, sm_open(ctl, free_name, 0));

	EXPECT_EQ(0, munmap(page, getpagesize()));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
}

TEST_HARNESS_MAIN
