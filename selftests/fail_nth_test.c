// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: every ioctl, and read(2) and lseek(2) on snapshot
 * fds, with its 1st, 2nd, ... nth fault point made to fail in turn, until
 * the call runs through without reaching its nth point (fault.h: slab and
 * page allocations and copies from and to user memory, in the order the
 * call reaches them).
 *
 * Each call starts from the same map, built afresh, so that a clean run is
 * deterministic down to the versions.  After a failed call:
 *
 * - it returned ENOMEM for an allocation, EFAULT for a user copy;
 * - the map is exactly as before: INFO's entries, bytes, version, puts and
 *   dels, and every record of an ATOMIC snapshot, versions included;
 * - no fd and no map was left behind; a name asked for is still free;
 * - a snapshot fd lost no record: what is read from it next is what it
 *   would have given.
 *
 * A call whose failed point was in code that copes (kmemleak's metadata,
 * kvmalloc()'s fallback to vmalloc) must instead have done exactly what a
 * clean call does.  A batch, which reports op by op, must have left
 * exactly the map a clean batch of the ops it reports as done leaves.
 * kmemleak, scanned by the runner once every test is done, checks that
 * the failed calls leaked nothing.
 *
 * A point counts as fired only when the call consumed the fail-nth
 * counter (reading it back gives 0).  Every sweep must fire its first
 * point (each call copies its argument in at least) and must see at least
 * one fired point fail the call: a sweep that injected nothing, or only
 * into code that copes, proves nothing and fails.  Each sweep prints how
 * many fault points its call has, of which kind.
 */

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "snapmap_test.h"
#include "fault.h"

#define KEY_MAX 256
#define VAL_MAX 16384
#define BIG_VAL 5000
#define HUGE_VAL 12000
#define NKEYS 8
/* More points than any call has: a sweep that gets here is broken. */
#define NTH_MAX 2000

/* What a call returns when it succeeds. */
enum result {
	RES_NONE,	/* 0 or an errno */
	RES_MAP_FD,	/* a new map fd */
	RES_SNAP_FD,	/* a new snapshot fd */
	RES_READ,	/* bytes read from the snapshot fd */
};

/* The state one call starts from, and what it made. */
struct ctx {
	int ctl;
	int fd;			/* the map */
	int pin;		/* an ATOMIC snapshot held across the call */
	int sfd;		/* a snapshot the call works on, read partly */
	int ret;		/* the call's result */
	char name[SNAPMAP_NAME_LEN];	/* of the map, if named */
	char new_name[SNAPMAP_NAME_LEN];	/* a name the call asks for */
	void *head;		/* what was read from @sfd before the call */
	ssize_t head_len;
	unsigned char buf[65536];	/* what the call read */
	__u64 version[NKEYS];	/* of each key as first written */
	__u32 snap_flags;	/* of @sfd */
	struct snapmap_batch_op ops[8];
};

struct op;
typedef int (*call_fn)(struct ctx *c, const struct op *op);

/* A call to sweep. */
struct op {
	const char *name;
	call_fn call;
	enum result result;
	bool named;		/* the map has a name */
	bool pinned;		/* a snapshot pins old versions during the call */
	bool snap;		/* the call works on a snapshot fd, @sfd */
	__u32 snap_flags;	/* taken with these flags */
	bool weak;		/* the call makes a WEAK snapshot */
	bool clone;		/* the call clones the map */
	bool no_points;		/* copies nothing and allocates nothing */
};

/* What a map looks like, to compare before and after. */
struct state {
	struct snapmap_info info;
	void *dump;
	ssize_t len;
};

static void key_of(unsigned int i, char *key, __u32 *len)
{
	if (i == 6) {
		/* A key too long for the ioctl layer's stack buffer. */
		memset(key, 'k', 100);
		*len = 100;
		return;
	}
	*len = sprintf(key, "key-%u", i);
}

static void value_of(unsigned int i, char *value, __u32 *len)
{
	__u32 n = i == 6 ? BIG_VAL : i == 7 ? 0 : 10 + 7 * i, j;

	for (j = 0; j < n; j++)
		value[j] = 'a' + (i + j) % 26;
	*len = n;
}

static int put_key(int fd, unsigned int i, __u64 *version)
{
	static char key[KEY_MAX], value[VAL_MAX];
	__u32 key_len, value_len;

	key_of(i, key, &key_len);
	value_of(i, value, &value_len);
	return sm_put(fd, 0, key, key_len, value, value_len, 0, version);
}

/* The whole of an ATOMIC snapshot of @fd, then INFO. */
static int sort_records(void *buf, size_t len);

static int state_take(int fd, struct state *s)
{
	int sfd = sm_snapshot(fd, 0, NULL);

	memset(s, 0, sizeof(*s));
	if (sfd < 0)
		return sfd;
	s->len = sm_read_all(sfd, 65536, &s->dump);
	close(sfd);
	if (s->len < 0)
		return s->len;
	if (sort_records(s->dump, s->len))
		return -EPROTO;
	return sm_info(fd, &s->info);
}

static void state_free(struct state *s)
{
	free(s->dump);
	s->dump = NULL;
}

/* "fail_nth-<tag>-<pid>": no other test or process uses it. */
static void make_name(char *buf, const char *tag)
{
	snprintf(buf, SNAPMAP_NAME_LEN, "fail_nth-%s-%d", tag, getpid());
}

/* Build the map every call starts from. */
static int ctx_setup(struct ctx *c, const struct op *op)
{
	char head[256];
	unsigned int i;
	ssize_t n;
	int err;

	memset(c, 0, sizeof(*c));
	c->pin = -1;
	c->sfd = -1;
	c->ret = -1;
	c->snap_flags = op->snap_flags;
	make_name(c->new_name, "new");
	if (op->named)
		make_name(c->name, "map");
	c->ctl = snapmap_open_ctl();
	if (c->ctl < 0)
		return -errno;
	c->fd = sm_create(c->ctl, KEY_MAX, VAL_MAX, 64, 0, 0666,
			  op->named ? c->name : NULL);
	if (c->fd < 0)
		return c->fd;
	for (i = 0; i < NKEYS; i++) {
		err = put_key(c->fd, i, &c->version[i]);
		if (err)
			return err;
	}
	if (op->pinned) {
		c->pin = sm_snapshot(c->fd, 0, NULL);
		if (c->pin < 0)
			return c->pin;
		/* Versions only the snapshot needs now. */
		err = sm_put_str(c->fd, "key-0", "replaced", NULL) ?:
		      sm_del_str(c->fd, "key-1", NULL);
		if (err)
			return err;
	}
	if (op->snap && op->result == RES_READ) {
		c->sfd = sm_snapshot(c->fd, op->snap_flags, NULL);
		if (c->sfd < 0)
			return c->sfd;
		/*
		 * Read the first record or two, or the one big record: the
		 * call starts midway.
		 */
		n = read(c->sfd, head, sizeof(head));
		if (n < 0 && errno == EMSGSIZE)
			n = read(c->sfd, c->buf,
				 SNAPMAP_RECORD_SIZE(100, BIG_VAL));
		else if (n > 0)
			memcpy(c->buf, head, n);
		if (n <= 0)
			return -EPROTO;
		c->head = malloc(n);
		if (!c->head)
			return -ENOMEM;
		memcpy(c->head, c->buf, n);
		c->head_len = n;
	} else if (op->snap) {
		c->sfd = sm_snapshot(c->fd, op->snap_flags, NULL);
		if (c->sfd < 0)
			return c->sfd;
	}
	return 0;
}

static void ctx_teardown(struct ctx *c, const struct op *op)
{
	if ((op->result == RES_MAP_FD || op->result == RES_SNAP_FD) &&
	    c->ret >= 0)
		close(c->ret);
	if (c->sfd >= 0)
		close(c->sfd);
	if (c->pin >= 0)
		close(c->pin);
	if (c->fd >= 0)
		close(c->fd);
	if (c->ctl >= 0)
		close(c->ctl);
	free(c->head);
	c->head = NULL;
}

/* The calls. */

static int call_api(struct ctx *c, const struct op *op)
{
	struct snapmap_api arg = { .size = sizeof(arg) };

	return sm_ret(ioctl(c->ctl, SNAPMAP_IOC_API, &arg));
}

static int call_create(struct ctx *c, const struct op *op)
{
	return sm_create(c->ctl, 32, 128, 100, 1 << 20, 0644, NULL);
}

static int call_create_named(struct ctx *c, const struct op *op)
{
	return sm_create(c->ctl, 0, 0, 0, 0, 0600, c->new_name);
}

static int call_open(struct ctx *c, const struct op *op)
{
	return sm_open(c->ctl, c->name, 0);
}

static int call_open_rdonly(struct ctx *c, const struct op *op)
{
	return sm_open(c->ctl, c->name, SNAPMAP_OPEN_RDONLY);
}

static int call_info(struct ctx *c, const struct op *op)
{
	struct snapmap_info info;

	return sm_info(c->fd, &info);
}

static int get_key(struct ctx *c, unsigned int i, __u32 buf_len)
{
	char key[KEY_MAX];
	__u32 key_len;

	key_of(i, key, &key_len);
	return sm_get(c->fd, key, key_len, c->buf, buf_len, NULL, NULL);
}

static int call_get(struct ctx *c, const struct op *op)
{
	return get_key(c, 2, 64);
}

static int call_get_big(struct ctx *c, const struct op *op)
{
	return get_key(c, 6, VAL_MAX);
}

static int call_get_erange(struct ctx *c, const struct op *op)
{
	return get_key(c, 6, 100);
}

static int call_get_absent(struct ctx *c, const struct op *op)
{
	return sm_get(c->fd, "absent", 6, c->buf, 64, NULL, NULL);
}

static int call_put_new(struct ctx *c, const struct op *op)
{
	return sm_put_str(c->fd, "new-key", "new value", NULL);
}

static int call_put_new_big(struct ctx *c, const struct op *op)
{
	static char key[200], value[HUGE_VAL];

	memset(key, 'n', sizeof(key));
	memset(value, 'v', sizeof(value));
	return sm_put(c->fd, 0, key, sizeof(key), value, sizeof(value), 0,
		      NULL);
}

static int call_put_replace(struct ctx *c, const struct op *op)
{
	return sm_put_str(c->fd, "key-2", "a new value", NULL);
}

static int call_put_noexist(struct ctx *c, const struct op *op)
{
	return sm_put(c->fd, SNAPMAP_PUT_NOEXIST, "new-key", 7, "v", 1, 0,
		      NULL);
}

static int call_put_exist(struct ctx *c, const struct op *op)
{
	return sm_put(c->fd, SNAPMAP_PUT_EXIST, "key-3", 5, "v", 1, 0, NULL);
}

static int call_put_cas(struct ctx *c, const struct op *op)
{
	return sm_put(c->fd, SNAPMAP_PUT_IF_VERSION, "key-3", 5, "cas", 3,
		      c->version[3], NULL);
}

static int call_del(struct ctx *c, const struct op *op)
{
	return sm_del_str(c->fd, "key-4", NULL);
}

static int call_del_cas(struct ctx *c, const struct op *op)
{
	return sm_del(c->fd, SNAPMAP_DEL_IF_VERSION, "key-4", 5,
		      c->version[4], NULL);
}

static int call_clear(struct ctx *c, const struct op *op)
{
	return sm_clear(c->fd, NULL);
}

static int call_snapshot(struct ctx *c, const struct op *op)
{
	return sm_snapshot(c->fd, 0, NULL);
}

static int call_snapshot_weak(struct ctx *c, const struct op *op)
{
	return sm_snapshot(c->fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
}

static int call_clone(struct ctx *c, const struct op *op)
{
	return sm_clone(c->fd, NULL, 0, NULL);
}

static int call_clone_named(struct ctx *c, const struct op *op)
{
	return sm_clone(c->fd, c->new_name, 0640, NULL);
}

static int call_snapshot_info(struct ctx *c, const struct op *op)
{
	struct snapmap_snapshot_info info;

	return sm_snapshot_info(c->sfd, &info);
}

static int call_read(struct ctx *c, const struct op *op)
{
	ssize_t n = read(c->sfd, c->buf, sizeof(c->buf));

	return n < 0 ? -errno : n;
}

/*
 * The lseek system call itself, not the C library's: a 32-bit lseek()
 * goes through _llseek, whose copy of the result to user memory is a
 * fault point of the system call rather than of snapmap.
 */
static int call_rewind(struct ctx *c, const struct op *op)
{
	return syscall(__NR_lseek, c->sfd, 0L, SEEK_SET) < 0 ? -errno : 0;
}

/* Keys the batch works on, and what it does to each. */
enum { B_PUT_NEW, B_PUT_REPLACE, B_GET, B_DEL, B_PUT_BIG, B_OPS };

/* Fill in the batch's ops, each marked as not yet run. */
static void batch_fill(struct ctx *c)
{
	static char big_key[100], big_value[HUGE_VAL];
	struct snapmap_batch_op *o = c->ops;
	unsigned int i;

	memset(big_key, 'b', sizeof(big_key));
	memset(big_value, 'B', sizeof(big_value));
	memset(c->ops, 0, sizeof(c->ops));
	o[B_PUT_NEW] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_PUT, .key_len = 5, .value_len = 3,
		.key = SM_PTR("b-new"), .value = SM_PTR("new"),
	};
	o[B_PUT_REPLACE] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_PUT, .key_len = 5, .value_len = 7,
		.key = SM_PTR("key-2"), .value = SM_PTR("replace"),
	};
	o[B_GET] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 100,
		.value_len = VAL_MAX, .key = SM_PTR(big_key),
		.value = SM_PTR(c->buf),
	};
	/* The long key of key_of(6), for a heap key buffer. */
	memset(big_key, 'k', sizeof(big_key));
	o[B_DEL] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_DEL, .key_len = 5,
		.key = SM_PTR("key-4"),
	};
	o[B_PUT_BIG] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_PUT, .key_len = 5,
		.value_len = sizeof(big_value), .key = SM_PTR("b-big"),
		.value = SM_PTR(big_value),
	};
	/* Tells an op that never ran from one that did. */
	for (i = 0; i < B_OPS; i++)
		o[i].out_result = 1;
}

static int call_batch(struct ctx *c, const struct op *op)
{
	batch_fill(c);
	return sm_batch(c->fd, 0, c->ops, B_OPS, NULL);
}

/* Checks. */

static void expect_same_state(struct __test_metadata *_metadata,
			      const struct state *a, const struct state *b)
{
	EXPECT_MAP_UNCHANGED(a->info, b->info);
	ASSERT_EQ(a->len, b->len);
	EXPECT_EQ(0, memcmp(a->dump, b->dump, a->len));
}

struct rec_ref {
	const unsigned char *p;
	size_t size;
	struct sm_record rec;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec_ref *x = a, *y = b;
	size_t n = x->rec.key_len < y->rec.key_len ? x->rec.key_len :
						     y->rec.key_len;
	int d = memcmp(x->rec.key, y->rec.key, n);

	if (d)
		return d;
	if (x->rec.key_len != y->rec.key_len)
		return x->rec.key_len < y->rec.key_len ? -1 : 1;
	return x->size == y->size ? memcmp(x->p, y->p, x->size) :
				    x->size < y->size ? -1 : 1;
}

/*
 * Put the records of @buf in the order of their keys: the order of a
 * snapshot's records is unspecified, and differs between two maps of the
 * same content (it follows the map's random hash seed), while the sweep
 * compares maps built afresh for each call.
 */
static int sort_records(void *buf, size_t len)
{
	struct rec_ref *refs = NULL, *r;
	size_t off = 0, n = 0, size, i;
	unsigned char *copy;
	struct sm_record rec;

	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	while (off < len) {
		size = sm_record_parse(copy + off, len - off, &rec);
		if (!size)
			break;
		r = realloc(refs, (n + 1) * sizeof(*refs));
		if (!r)
			break;
		refs = r;
		refs[n].p = copy + off;
		refs[n].size = size;
		refs[n].rec = rec;
		n++;
		off += size;
	}
	if (off == len) {
		qsort(refs, n, sizeof(*refs), rec_cmp);
		for (off = 0, i = 0; i < n; i++) {
			memcpy((unsigned char *)buf + off, refs[i].p,
			       refs[i].size);
			off += refs[i].size;
		}
	}
	free(refs);
	free(copy);
	return off == len ? 0 : -EPROTO;
}

/* The whole content of the snapshot fd or map fd @fd. */
static ssize_t content_of(int fd, const struct op *op, void **buf)
{
	struct state s;
	ssize_t len;

	*buf = NULL;
	if (op->result == RES_SNAP_FD) {
		len = sm_read_all(fd, 65536, buf);
		if (len > 0 && sort_records(*buf, len))
			return -EPROTO;
		return len;
	}
	len = state_take(fd, &s);
	if (len)
		return len;
	*buf = s.dump;
	return s.len;
}

/*
 * For calls on @sfd: the rest of the snapshot, appended to what was read
 * before the call (unless the call rewinds) and, if @got, what the call
 * read.
 */
static ssize_t stream_of(struct ctx *c, const struct op *op, bool got,
			 void **out)
{
	size_t head_len = op->call == call_rewind ? 0 : c->head_len;
	void *rest;
	ssize_t len, n;
	char *p;

	*out = NULL;
	len = sm_read_all(c->sfd, 65536, &rest);
	if (len < 0)
		return len;
	n = got && c->ret > 0 ? c->ret : 0;
	p = malloc(head_len + n + len + 1);
	if (!p) {
		free(rest);
		return -ENOMEM;
	}
	memcpy(p, c->head, head_len);
	memcpy(p + head_len, c->buf, n);
	memcpy(p + head_len + n, rest, len);
	free(rest);
	*out = p;
	len += head_len + n;
	if (sort_records(p, len))
		return -EPROTO;
	return len;
}

/* What a clean call leaves, to compare the sweep's calls with. */
struct reference {
	int ret;
	struct snapmap_info info;	/* INFO right after the call */
	struct state after;
	void *made;		/* the content of the fd the call made */
	ssize_t made_len;
	void *stream;		/* for calls on @sfd, the whole snapshot */
	ssize_t stream_len;
};

/*
 * The records read from @sfd before the call, by the call and after it
 * are those of the clean call's snapshot: none lost, none twice.
 */
static void expect_stream(struct __test_metadata *_metadata, struct ctx *c,
			  const struct op *op, const struct reference *ref,
			  unsigned int nth, int kind)
{
	ssize_t len;
	void *got;

	len = stream_of(c, op, c->ret > 0, &got);
	ASSERT_EQ(ref->stream_len, len) {
		TH_LOG("point %u (%s): call returned %d",
		       nth, fault_kind_names[kind], c->ret);
	}
	EXPECT_EQ(0, memcmp(ref->stream, got, len));
	free(got);
}

/*
 * What the map would hold had exactly the batch's ops in @mask run: the
 * same start, with the same snapshot taken before (a snapshot takes a
 * version), then a clean batch of those ops alone, in their order.
 */
static int batch_replay(const struct op *op, unsigned int mask,
			struct state *out)
{
	struct snapmap_batch_op ops[B_OPS];
	struct state pre = {};
	unsigned int i, n = 0;
	struct ctx *e;
	int err;

	memset(out, 0, sizeof(*out));
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	err = ctx_setup(e, op) ?: state_take(e->fd, &pre);
	if (!err) {
		batch_fill(e);
		for (i = 0; i < B_OPS; i++)
			if (mask & (1U << i))
				ops[n++] = e->ops[i];
		err = n ? sm_batch(e->fd, 0, ops, n, NULL) : 0;
		for (i = 0; !err && i < n; i++)
			if (ops[i].out_result)
				err = -EPROTO;
	}
	if (!err)
		err = state_take(e->fd, out);
	state_free(&pre);
	ctx_teardown(e, op);
	free(e);
	return err;
}

static bool same_state(const struct state *a, const struct state *b)
{
	return a->info.out_entries == b->info.out_entries &&
	       a->info.out_bytes == b->info.out_bytes &&
	       a->info.out_version == b->info.out_version &&
	       a->info.out_puts == b->info.out_puts &&
	       a->info.out_dels == b->info.out_dels && a->len == b->len &&
	       !memcmp(a->dump, b->dump, a->len);
}

/*
 * The batch under a fault.  A clean batch's ops all succeed.  Here each op
 * that reports a result reports 0 or the errno of the failed point, at
 * most one of them; an op that reports nothing never ran, or ran and lost
 * its answer (the failed point was that copy), and the ops after it never
 * ran; and the map holds exactly what the ops that ran leave, down to the
 * versions, entry and byte counts: the map of a clean batch of those ops
 * alone (with or without the op whose answer was lost).  Returns whether
 * the fault made anything fail.
 */
static bool check_batch(struct __test_metadata *_metadata, struct ctx *c,
			const struct op *op, int kind)
{
	struct snapmap_batch_op *o = c->ops;
	unsigned int i, failed = 0, ran = 0, maybe = 0;
	struct state got, want, want_maybe = {};
	bool stopped = false, match;

	EXPECT_TRUE(c->ret == 0 || c->ret == -EFAULT);
	for (i = 0; i < B_OPS; i++) {
		if (stopped) {
			EXPECT_EQ(1, o[i].out_result);
		} else if (o[i].out_result == 1) {
			EXPECT_EQ(-EFAULT, c->ret);
			EXPECT_EQ(FAULT_USERCOPY, kind);
			maybe |= 1U << i;
			stopped = true;
		} else if (o[i].out_result) {
			EXPECT_EQ(kind == FAULT_USERCOPY ? -EFAULT : -ENOMEM,
				  o[i].out_result);
			failed++;
		} else {
			ran |= 1U << i;
		}
	}
	EXPECT_GE(1, failed + stopped);

	ASSERT_EQ(0, state_take(c->fd, &got));
	ASSERT_EQ(0, batch_replay(op, ran, &want));
	match = same_state(&want, &got);
	if (!match && maybe) {
		ASSERT_EQ(0, batch_replay(op, ran | maybe, &want_maybe));
		match = same_state(&want_maybe, &got);
	}
	EXPECT_TRUE(match) {
		TH_LOG("ops run %#x (and maybe %#x): map of %llu entries, %llu bytes, version %llu; expected %llu, %llu, %llu",
		       ran, maybe, (unsigned long long)got.info.out_entries,
		       (unsigned long long)got.info.out_bytes,
		       (unsigned long long)got.info.out_version,
		       (unsigned long long)want.info.out_entries,
		       (unsigned long long)want.info.out_bytes,
		       (unsigned long long)want.info.out_version);
	}
	state_free(&got);
	state_free(&want);
	state_free(&want_maybe);
	return c->ret || failed || stopped;
}

FIXTURE(nth) {
	struct fault fault;
	int maps;
	/* Why there is no fault injection, or NULL. */
	const char *why;
};

FIXTURE_VARIANT(nth) {
	struct op op;
};

#define OP(_name, ...)							\
	FIXTURE_VARIANT_ADD(nth, _name) {				\
		.op = { .name = #_name, __VA_ARGS__ },		\
	}

OP(api, .call = call_api);
OP(create, .call = call_create, .result = RES_MAP_FD);
OP(create_named, .call = call_create_named, .result = RES_MAP_FD);
OP(open, .call = call_open, .result = RES_MAP_FD, .named = true);
OP(open_rdonly, .call = call_open_rdonly, .result = RES_MAP_FD,
   .named = true);
OP(info, .call = call_info);
OP(get, .call = call_get);
OP(get_big, .call = call_get_big);
OP(get_erange, .call = call_get_erange);
OP(get_absent, .call = call_get_absent);
OP(put_new, .call = call_put_new);
OP(put_new_big, .call = call_put_new_big);
OP(put_new_pinned, .call = call_put_new, .pinned = true);
OP(put_replace, .call = call_put_replace);
OP(put_replace_pinned, .call = call_put_replace, .pinned = true);
OP(put_noexist, .call = call_put_noexist);
OP(put_exist, .call = call_put_exist);
OP(put_cas, .call = call_put_cas);
OP(del, .call = call_del);
OP(del_pinned, .call = call_del, .pinned = true);
OP(del_cas, .call = call_del_cas);
OP(batch, .call = call_batch);
OP(clear, .call = call_clear);
OP(clear_pinned, .call = call_clear, .pinned = true);
OP(snapshot, .call = call_snapshot, .result = RES_SNAP_FD);
OP(snapshot_weak, .call = call_snapshot_weak, .result = RES_SNAP_FD,
   .weak = true);
OP(snapshot_pinned, .call = call_snapshot, .result = RES_SNAP_FD,
   .pinned = true);
OP(clone, .call = call_clone, .result = RES_MAP_FD, .clone = true);
OP(clone_named, .call = call_clone_named, .result = RES_MAP_FD,
   .clone = true);
OP(clone_pinned, .call = call_clone, .result = RES_MAP_FD, .pinned = true,
   .clone = true);
OP(snapshot_info, .call = call_snapshot_info, .snap = true);
OP(snapshot_info_weak, .call = call_snapshot_info,
   .snap = true, .snap_flags = SNAPMAP_SNAPSHOT_WEAK);
OP(read, .call = call_read, .result = RES_READ, .snap = true);
OP(read_weak, .call = call_read, .result = RES_READ,
   .snap = true, .snap_flags = SNAPMAP_SNAPSHOT_WEAK);
OP(read_pinned, .call = call_read, .result = RES_READ, .snap = true,
   .pinned = true);
/* lseek(2) takes no argument in user memory and allocates nothing. */
OP(rewind, .call = call_rewind, .result = RES_READ, .snap = true,
   .no_points = true);

FIXTURE_SETUP(nth)
{
	self->why = fault_setup(&self->fault);
	self->maps = SM_COUNT_MAPS();
}

FIXTURE_TEARDOWN(nth)
{
	int maps = sm_count_maps();

	fault_teardown(&self->fault);
	/* Every map of the test is gone with its fds (unless it failed). */
	EXPECT_LE(0, maps);
	if (_metadata->passed)
		EXPECT_EQ(self->maps, maps);
}

/* One call from a fresh map, with its @nth point failing (0: none). */
static int run_one(struct __test_metadata *_metadata, struct fault *f,
		   const struct op *op, unsigned int nth, struct ctx *c,
		   struct state *before, struct state *after)
{
	int kind = FAULT_NONE;

	ASSERT_EQ(0, ctx_setup(c, op));
	ASSERT_EQ(0, state_take(c->fd, before));
	if (nth)
		ASSERT_EQ(0, fault_arm(f, nth));
	c->ret = op->call(c, op);
	if (nth)
		kind = fault_disarm(f);
	ASSERT_LE(0, kind);
	ASSERT_EQ(0, sm_info(c->fd, &after->info));
	return kind;
}

/*
 * A failed call: it returned the errno of its failed point and changed
 * nothing.  Two exceptions, each a state a clean call would leave:
 *
 * - the answer of a call that changes the map is written back last, after
 *   the change; the call made sure the argument was writable first, so
 *   that only a concurrent munmap() or mprotect() (or fail_usercopy) can
 *   make that write fail.  The map then holds what the clean call left:
 *   *@committed is set to @nth, for the caller to check that it was the
 *   last user copy of the call;
 * - a failed clone may have taken its ATOMIC snapshot of the map, and so
 *   advanced the map's version counter by one.
 */
static void check_failed(struct __test_metadata *_metadata,
			 const struct op *op, struct ctx *c,
			 const struct reference *ref,
			 const struct state *before, struct state *after,
			 unsigned int nth, int kind, unsigned int *committed)
{
	EXPECT_EQ(kind == FAULT_USERCOPY ? -EFAULT : -ENOMEM, c->ret) {
		TH_LOG("point %u (%s)", nth, fault_kind_names[kind]);
	}
	if (kind == FAULT_USERCOPY &&
	    after->info.out_version == ref->info.out_version &&
	    after->info.out_version != before->info.out_version) {
		*committed = nth;
		EXPECT_MAP_UNCHANGED(ref->info, after->info);
		state_free(after);
		ASSERT_EQ(0, state_take(c->fd, after));
		expect_same_state(_metadata, &ref->after, after);
		return;
	}
	if (op->clone &&
	    after->info.out_version == before->info.out_version + 1)
		after->info.out_version--;
	if (before->info.out_version != after->info.out_version ||
	    before->info.out_bytes != after->info.out_bytes)
		TH_LOG("point %u (%s): call returned %d", nth,
		       fault_kind_names[kind], c->ret);
	EXPECT_MAP_UNCHANGED(before->info, after->info);
	state_free(after);
	ASSERT_EQ(0, state_take(c->fd, after));
	ASSERT_EQ(before->len, after->len);
	EXPECT_EQ(0, memcmp(before->dump, after->dump, before->len));
	if (op->call == call_create_named || op->call == call_clone_named)
		EXPECT_EQ(-ENOENT, sm_open(c->ctl, c->new_name, 0));
}

TEST_F_TIMEOUT(nth, sweep, 600)
{
	const struct op *op = &variant->op;
	unsigned int nth, points[FAULT_KINDS] = {}, absorbed = 0, failed = 0;
	unsigned int last_copy = 0, committed = 0;
	struct reference ref = {};
	struct state before, after;
	struct ctx *c;
	bool verbose = getenv("SNAPMAP_FAIL_NTH_VERBOSE");
	int kind, fds, maps;
	ssize_t len;

	/* Here: a SKIP in the fixture's setup would still run the test. */
	if (self->why)
		SKIP(return, "%s", self->why);
	void *got;

	c = malloc(sizeof(*c));
	ASSERT_TRUE(c != NULL);

	/* The clean call. */
	run_one(_metadata, &self->fault, op, 0, c, &before, &ref.after);
	ref.ret = c->ret;
	ref.info = ref.after.info;
	ASSERT_TRUE(op->result == RES_NONE || c->ret >= 0) {
		TH_LOG("the clean call failed: %d", c->ret);
	}
	state_free(&ref.after);
	ASSERT_EQ(0, state_take(c->fd, &ref.after));
	if (op->result == RES_MAP_FD || op->result == RES_SNAP_FD) {
		ref.made_len = content_of(c->ret, op, &ref.made);
		ASSERT_LE(0, ref.made_len);
	}
	if (op->result == RES_READ) {
		ref.stream_len = stream_of(c, op, true, &ref.stream);
		ASSERT_LE(0, ref.stream_len);
	}
	state_free(&before);
	ctx_teardown(c, op);

	for (nth = 1; nth < NTH_MAX; nth++) {
		fds = SM_COUNT_FDS();
		maps = SM_COUNT_MAPS();
		kind = run_one(_metadata, &self->fault, op, nth, c, &before,
			       &after);
		if (kind == FAULT_NONE) {
			/*
			 * The call ran through: the sweep is over.  How much
			 * a read gets depends on which records the read
			 * before it took, so on the order of the records,
			 * which follows each fresh map's hash seed: a read
			 * is checked by the records it and the rest give.
			 */
			if (op->result == RES_READ)
				expect_stream(_metadata, c, op, &ref, nth,
					      kind);
			else
				EXPECT_EQ(ref.ret, c->ret);
			state_free(&before);
			state_free(&after);
			ctx_teardown(c, op);
			break;
		}
		points[kind]++;
		if (verbose)
			printf("# point %u: %s, call returned %d\n", nth,
			       fault_kind_names[kind], c->ret);
		if (kind == FAULT_USERCOPY)
			last_copy = nth;

		if (op->call == call_batch) {
			if (check_batch(_metadata, c, op, kind))
				failed++;
			else
				absorbed++;
		} else if (c->ret == ref.ret ||
			   (c->ret >= 0 && op->result != RES_NONE)) {
			/* The failed point was one that copes. */
			absorbed++;
			state_free(&after);
			ASSERT_EQ(0, state_take(c->fd, &after));
			expect_same_state(_metadata, &ref.after, &after);
			if (op->result == RES_MAP_FD ||
			    op->result == RES_SNAP_FD) {
				len = content_of(c->ret, op, &got);
				ASSERT_EQ(ref.made_len, len);
				EXPECT_EQ(0, memcmp(ref.made, got, len));
				free(got);
			}
		} else {
			failed++;
			check_failed(_metadata, op, c, &ref, &before, &after,
				     nth, kind, &committed);
			/* No fd and no map left behind. */
			EXPECT_EQ(fds + 2 + (c->pin >= 0) + (c->sfd >= 0),
				  SM_COUNT_FDS());
			EXPECT_EQ(maps + 1, SM_COUNT_MAPS());
		}
		/* Whatever happened, no record was lost. */
		if (op->result == RES_READ)
			expect_stream(_metadata, c, op, &ref, nth, kind);
		state_free(&before);
		state_free(&after);
		ctx_teardown(c, op);
		if (!_metadata->passed)
			break;
	}
	EXPECT_LT(nth, NTH_MAX);
	EXPECT_EQ(nth - 1, failed + absorbed);
	if (op->no_points) {
		/* A point that appears must be swept like the others. */
		EXPECT_EQ(1, nth);
	} else {
		/*
		 * Every other call copies its argument from or to user
		 * memory at least: a sweep whose first point never fired
		 * injected nothing and proved nothing.
		 */
		EXPECT_LT(1, nth) {
			TH_LOG("%s: not one fault point fired", op->name);
		}
		/* And at least one injected fault made the call fail. */
		EXPECT_LT(0, failed) {
			TH_LOG("%s: all %u fault points coped with", op->name,
			       absorbed);
		}
	}
	/* A change was kept only when the answer's write-back failed. */
	if (committed)
		EXPECT_EQ(last_copy, committed);
	printf("# %s: %u fault points: %u slab, %u page, %u usercopy, %u other; %u failed the call, %u coped with\n",
	       op->name, nth - 1, points[FAULT_SLAB], points[FAULT_PAGE],
	       points[FAULT_USERCOPY], points[FAULT_OTHER], failed, absorbed);
	fflush(stdout);
	state_free(&ref.after);
	free(ref.made);
	free(ref.stream);
	free(c);
}

#define KAPI_DIR "/sys/kernel/debug/snapmap_kapi_fail/"

FIXTURE(kapi) {
	struct fault fault;
	int sweep;
};

FIXTURE_SETUP(kapi)
{
	const char *why;

	self->sweep = open(KAPI_DIR "sweep", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->sweep) TH_LOG("no snapmap_kapi_fail module");
	why = fault_setup(&self->fault);
	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(kapi)
{
	fault_teardown(&self->fault);
	if (self->sweep >= 0)
		close(self->sweep);
}

/*
 * Every entry point of the kernel API, swept by the test module
 * snapmap_kapi_fail in this thread: see its comment for the checks.  Each
 * call's report gives its counts, then a line per check that did not hold.
 */
TEST_F_TIMEOUT(kapi, sweep, 600)
{
	unsigned int points, failed, coped, calls = 0, total = 0;
	char list[4096], report[4096], *name, *save, *p;
	unsigned int lines;
	ssize_t len;

	ASSERT_EQ(0, fault_read(KAPI_DIR "calls", list, sizeof(list)));
	for (name = strtok_r(list, "\n", &save); name;
	     name = strtok_r(NULL, "\n", &save)) {
		len = write(self->sweep, name, strlen(name));
		if (len < 0 && errno == EOPNOTSUPP)
			SKIP(return, "no CONFIG_FAULT_INJECTION");
		ASSERT_EQ(strlen(name), len);
		len = pread(self->sweep, report, sizeof(report) - 1, 0);
		ASSERT_LT(0, len);
		report[len] = '\0';
		ASSERT_EQ(3, sscanf(report, "points %u failed %u coped %u",
				    &points, &failed, &coped));
		for (lines = 0, p = report; *p; p++)
			lines += *p == '\n';
		/* Nothing but the counts: every check held. */
		EXPECT_EQ(3, lines) {
			TH_LOG("%s:\n%s", name, report);
		}
		/* Each point fired either failed the call or was coped with. */
		EXPECT_EQ(points, failed + coped);
		printf("# kapi %s: %u fault points, %u failed with ENOMEM, %u coped with\n",
		       name, points, failed, coped);
		calls++;
		total += points;
	}
	printf("# kernel API: %u calls, %u fault points\n", calls, total);
	/* Injection reached the kernel API at all. */
	EXPECT_LT(0, calls);
	EXPECT_LT(0, total);
	fflush(stdout);
}

TEST_HARNESS_MAIN
