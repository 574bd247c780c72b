// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: an ioctl fuzzer, run in the guest.
 *
 * Several processes (half of them as the unprivileged user 65534) of
 * several threads each share a pool of fds per process: control fds, map
 * fds read-write and read-only, ATOMIC and WEAK snapshot fds, fds of other
 * kinds (a pipe, an eventfd, /dev/null, a memfd, a directory) and numbers
 * that are no fd at all.  Each thread loops: an ioctl with a command of
 * snapmap's type (right, or with a random number, size or direction) on a
 * random fd of the pool, with an argument that is random or a valid one
 * mutated (sizes, flags, reserved members, lengths, versions, names, and
 * pointers made NULL, unmapped, read-only, straddling, kernel or
 * non-canonical), or read(2), write(2), lseek(2) or mmap(2) on a random fd;
 * now and then a thread closes a pool fd and puts a new one of a random
 * kind in its place.  The processes run in a memory cgroup of their own
 * where the kernel has one, so that what they allocate stays theirs.
 *
 * What must hold, besides the kernel staying clean (the runner scans its
 * log): every failure on a snapmap fd is an errno of the uapi header's
 * table; a successful call answers sensibly (whole records from read(2), a
 * GET's length within its buffer, zero reserved members, a new fd only
 * from a command that makes one, close-on-exec); no process dies; and
 * once all are gone, so are all their maps.  And the run covered what it
 * is for: a table counts, per command, each result (success or errno),
 * and each of a chosen set of them, must_cover[], must have been reached:
 * on a slow kernel the run goes on past its time until it has, up to ten
 * times its time.
 *
 * Bounded by time and by count; the environment may change them:
 * SNAPMAP_FUZZ_SECONDS (default 20), SNAPMAP_FUZZ_ITERATIONS (default
 * 1000000, over all threads), SNAPMAP_FUZZ_SEED (default: from the clock;
 * printed, to repeat a run), SNAPMAP_FUZZ_PROCS (2) and
 * SNAPMAP_FUZZ_THREADS (3).
 */

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "snapmap_test.h"

#define NSLOTS 24
#define NKEYS 32
#define NNAMES 8
#define BUF_SIZE 65536
/* The most of @arg an ioctl's argument is built in. */
#define ARG_SIZE 512
/* fds numbers never open: the pool keeps far fewer fds. */
#define FD_NONE 1000
#define NOBODY 65534
#define CGROUP_DIR "/sys/fs/cgroup/snapmap-fuzz"
#define FUZZ_TIMEOUT 86400

enum kind {
	K_CTL, K_MAP, K_MAP_RO, K_SNAP, K_SNAP_WEAK, K_WATCH,
	K_PIPE, K_EVENTFD, K_NULL, K_MEMFD, K_DIR, K_NOFD,
	K_KINDS
};

static const char *const kind_names[K_KINDS] = {
	"ctl", "map", "map-ro", "snapshot", "weak-snapshot", "watch",
	"pipe", "eventfd", "null", "memfd", "dir", "no-fd",
};

static bool snapmap_kind(enum kind k)
{
	return k <= K_WATCH;
}

/* What every process counts, in memory they share. */
struct shared {
	unsigned long long iterations;
	unsigned long long ioctls, reads, writes, seeks, mmaps, polls;
	unsigned long long reopens, fds_made, successes;
	unsigned long long errnos[256];		/* of ioctls */
	unsigned long long read_errnos[256];
	/*
	 * Coverage: per command number of snapmap's type issued on a snapmap
	 * fd with a well-formed command, what it gave (0: success, or the
	 * errno); and the same for read(2) on snapshot fds.
	 */
	unsigned long long cover[SM_COVER_CMDS][256];
	unsigned long long read_cover[256];
	unsigned long long unexpected;
	unsigned int messages;
	char message[4][256];
	unsigned long long limit;	/* iterations */
	struct timespec deadline;
	struct timespec last_chance;	/* if not covered by the deadline */
	__u64 seed;
	int stop;
};

struct slot {
	int fd;
	enum kind kind;
};

/* The fds a process's threads share; changed under the write lock. */
struct pool {
	pthread_rwlock_t lock;
	struct slot slot[NSLOTS];
};

struct thread {
	pthread_t tid;
	struct shared *sh;
	struct pool *pool;
	__u64 rng;
	/*
	 * Every pointer the module is given points into @mem, or nowhere
	 * mapped: the module rightly writes wherever it is told, so a pointer
	 * to the heap or a stack would let it corrupt this process.  @mem is
	 * a read-write area (@buf, @keys, @arg), then an unmapped page that
	 * stops a copy running on, then a read-only page.  Pointers stored in
	 * a map reach other processes too, where they point into @mem as
	 * well: each process maps the same areas in the same order after
	 * fork(), so at the same addresses.
	 */
	unsigned char *mem;
	size_t mem_len;
	size_t page;
	unsigned char *buf;	/* BUF_SIZE bytes */
	char (*keys)[24];	/* NKEYS keys, in a page of their own */
	unsigned char *arg;	/* the ioctl's argument, a page */
	/*
	 * The argument as given, outside @mem: the module may write a GET's
	 * value over @arg itself (a pointer to @arg is one it is given).
	 */
	unsigned char sent[ARG_SIZE];
	unsigned char *unmapped;
	unsigned char *ro;
	/*
	 * At the start of @buf: a batch with a count or op_size not its own
	 * has the module write answers anywhere up to the unmapped page,
	 * which must hold nothing but scratch.
	 */
	struct snapmap_batch_op *ops;
	/*
	 * The last version a PUT or INFO answered, of whichever map: a WATCH
	 * from at or below it is one a map may no longer replay (ESTALE).
	 */
	__u64 version;
};

static __u64 rnd(struct thread *t)
{
	__u64 x = t->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	return x;
}

static unsigned int below(struct thread *t, unsigned int n)
{
	return rnd(t) % n;
}

static bool chance(struct thread *t, unsigned int percent)
{
	return below(t, 100) < percent;
}

static unsigned long long env_num(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static void count(unsigned long long *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static void unexpected(struct thread *t, const char *fmt, ...)
{
	struct shared *sh = t->sh;
	unsigned int n;
	va_list ap;

	count(&sh->unexpected);
	n = __atomic_fetch_add(&sh->messages, 1, __ATOMIC_RELAXED);
	if (n >= 4)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->message[n], sizeof(sh->message[n]), fmt, ap);
	va_end(ap);
}

/*
 * What a run must have reached, at least once: each command succeeding
 * and failing its argument checks (EINVAL: size, flags, reserved; EFAULT:
 * pointers), and each command's own main error paths.  A fuzzer that
 * never got there tested nothing there.  Left out, because a 20 s run
 * under emulation reaches them only a few times: a DEL that finds its
 * key (soak_test asserts that one) and GET's ERANGE.
 */
static const struct {
	unsigned int nr;
	int err;
} must_cover[] = {
	{ SNAPMAP_CMD_API, 0 }, { SNAPMAP_CMD_API, EINVAL },
	{ SNAPMAP_CMD_API, EFAULT },
	{ SNAPMAP_CMD_CREATE, 0 }, { SNAPMAP_CMD_CREATE, EINVAL },
	{ SNAPMAP_CMD_CREATE, EFAULT }, { SNAPMAP_CMD_CREATE, EEXIST },
	{ SNAPMAP_CMD_OPEN, EINVAL }, { SNAPMAP_CMD_OPEN, EFAULT },
	{ SNAPMAP_CMD_OPEN, ENOENT },
	{ SNAPMAP_CMD_LIST, 0 }, { SNAPMAP_CMD_LIST, EINVAL },
	{ SNAPMAP_CMD_LIST, EFAULT },
	{ SNAPMAP_CMD_DELETE, 0 }, { SNAPMAP_CMD_DELETE, EINVAL },
	{ SNAPMAP_CMD_DELETE, ENOENT },
	{ SNAPMAP_CMD_GET, 0 }, { SNAPMAP_CMD_GET, EINVAL },
	{ SNAPMAP_CMD_GET, EFAULT }, { SNAPMAP_CMD_GET, E2BIG },
	{ SNAPMAP_CMD_GET, ENOENT },
	{ SNAPMAP_CMD_PUT, 0 }, { SNAPMAP_CMD_PUT, EINVAL },
	{ SNAPMAP_CMD_PUT, EFAULT }, { SNAPMAP_CMD_PUT, E2BIG },
	{ SNAPMAP_CMD_PUT, EBADF }, { SNAPMAP_CMD_PUT, EMSGSIZE },
	{ SNAPMAP_CMD_DEL, EINVAL },
	{ SNAPMAP_CMD_DEL, EFAULT }, { SNAPMAP_CMD_DEL, ENOENT },
	{ SNAPMAP_CMD_DEL, EBADF },
	{ SNAPMAP_CMD_BATCH, 0 }, { SNAPMAP_CMD_BATCH, EINVAL },
	{ SNAPMAP_CMD_BATCH, EFAULT },
	{ SNAPMAP_CMD_CLEAR, 0 }, { SNAPMAP_CMD_CLEAR, EINVAL },
	{ SNAPMAP_CMD_CLEAR, EBADF },
	{ SNAPMAP_CMD_INFO, 0 }, { SNAPMAP_CMD_INFO, EINVAL },
	{ SNAPMAP_CMD_INFO, EFAULT },
	{ SNAPMAP_CMD_SNAPSHOT, 0 }, { SNAPMAP_CMD_SNAPSHOT, EINVAL },
	{ SNAPMAP_CMD_SNAPSHOT, EFAULT },
	{ SNAPMAP_CMD_CLONE, 0 }, { SNAPMAP_CMD_CLONE, EINVAL },
	{ SNAPMAP_CMD_CLONE, EFAULT },
	{ SNAPMAP_CMD_TXN, 0 }, { SNAPMAP_CMD_TXN, EINVAL },
	{ SNAPMAP_CMD_TXN, EFAULT }, { SNAPMAP_CMD_TXN, E2BIG },
	{ SNAPMAP_CMD_TXN, EBADF }, { SNAPMAP_CMD_TXN, EMSGSIZE },
	{ SNAPMAP_CMD_TXN, ECANCELED },
	{ SNAPMAP_CMD_SNAPSHOT_INFO, 0 }, { SNAPMAP_CMD_SNAPSHOT_INFO, EINVAL },
	{ SNAPMAP_CMD_SNAPSHOT_INFO, EFAULT },
	{ SNAPMAP_CMD_SNAPSHOT_GET, 0 }, { SNAPMAP_CMD_SNAPSHOT_GET, EINVAL },
	{ SNAPMAP_CMD_SNAPSHOT_GET, EFAULT },
	{ SNAPMAP_CMD_SNAPSHOT_GET, ENOENT },
	{ SNAPMAP_CMD_WATCH, 0 }, { SNAPMAP_CMD_WATCH, EINVAL },
	{ SNAPMAP_CMD_WATCH, EFAULT }, { SNAPMAP_CMD_WATCH, ESTALE },
	/* A command a kind of fd does not know. */
	{ SNAPMAP_CMD_GET, ENOTTY }, { SNAPMAP_CMD_CREATE, ENOTTY },
};

/* read(2) on snapshot fds: records, a short buffer, a bad one. */
static const int must_cover_read[] = { 0, EMSGSIZE, EFAULT };

/* Every entry of must_cover[] and must_cover_read[] is non-zero. */
static bool covered(struct shared *sh)
{
	unsigned int i;

	for (i = 0; i < sizeof(must_cover) / sizeof(must_cover[0]); i++)
		if (!__atomic_load_n(&sh->cover[must_cover[i].nr]
				     [must_cover[i].err], __ATOMIC_RELAXED))
			return false;
	for (i = 0; i < sizeof(must_cover_read) / sizeof(must_cover_read[0]);
	     i++)
		if (!__atomic_load_n(&sh->read_cover[must_cover_read[i]],
				     __ATOMIC_RELAXED))
			return false;
	return true;
}

static bool past(const struct timespec *now, const struct timespec *t)
{
	return now->tv_sec > t->tv_sec ||
	       (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

/*
 * The run's time is up, and it has covered what it must; or, if it has
 * not (a slow kernel), ten times its time is up.
 */
static bool time_up(struct shared *sh)
{
	struct timespec now;

	if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (past(&now, &sh->last_chance))
		return true;
	return past(&now, &sh->deadline) && covered(sh);
}

/* The errnos of the uapi header's table. */
static bool documented(int err)
{
	switch (err) {
	case ENOTTY: case EFAULT: case EINVAL: case E2BIG: case EBADF:
	case EMSGSIZE: case ERANGE: case ENOENT: case EEXIST:
	case ECANCELED: case ENOSPC: case EDQUOT: case EACCES: case ESTALE:
	case ENOMEM: case EMFILE: case EAGAIN:
		return true;
	default:
		return false;
	}
}

/* Pointers. */

enum ptr_kind { P_GOOD, P_NULL, P_UNMAPPED, P_RO, P_STRADDLE, P_KERNEL,
		P_HIGH, P_SELF, P_KINDS };

/* Where P_KERNEL and P_HIGH point. */
#define KERNEL_PTR 0xffff888000000000ULL
#define KERNEL_PTR_RANGE (1U << 20)
#define HIGH_PTR (sizeof(long) == 8 ? 0x8000000000000000ULL : 0xfffff000ULL)

/* A pointer to @len bytes of good memory, or a bad one now and then. */
static __u64 some_ptr(struct thread *t, size_t len, unsigned int bad_percent)
{
	enum ptr_kind k = chance(t, bad_percent) ?
			  1 + below(t, P_KINDS - 1) : P_GOOD;

	if (len > BUF_SIZE)
		len = BUF_SIZE;
	switch (k) {
	case P_NULL:
		return 0;
	case P_UNMAPPED:
		return SM_PTR(t->unmapped + below(t, t->page));
	case P_RO:
		return SM_PTR(t->ro);
	case P_STRADDLE:
		return SM_PTR(t->unmapped - (len ? below(t, len) + 1 : 1));
	case P_KERNEL:
		return KERNEL_PTR + below(t, KERNEL_PTR_RANGE);
	case P_HIGH:
		return HIGH_PTR;
	case P_SELF:
		return SM_PTR(t->arg);
	default:
		return SM_PTR(t->buf + below(t, BUF_SIZE - len + 1));
	}
}

static __u32 some_len(struct thread *t, __u32 good)
{
	static const __u32 odd[] = { 0, 1, 15, 16, 63, 64, 65, 4095, 4096,
				     4097, 65536, 1 << 20, (1 << 20) + 1,
				     0x7fffffff, 0xffffffff };

	if (chance(t, 70))
		return good;
	if (chance(t, 50))
		return odd[below(t, sizeof(odd) / sizeof(odd[0]))];
	return rnd(t);
}

static __u32 some_flags(struct thread *t, __u32 good)
{
	if (chance(t, 70))
		return good;
	if (chance(t, 50))
		return 1U << below(t, 32);
	return rnd(t);
}

static void some_name(struct thread *t, char *name)
{
	unsigned int i, n;

	memset(name, 0, SNAPMAP_NAME_LEN);
	switch (below(t, 10)) {
	case 0:		/* empty */
		break;
	case 1:		/* unterminated */
		memset(name, 'x', SNAPMAP_NAME_LEN);
		break;
	case 2:		/* random bytes */
		n = below(t, SNAPMAP_NAME_LEN);
		for (i = 0; i < n; i++)
			name[i] = rnd(t);
		break;
	default:	/* a name of the small set every process uses */
		snprintf(name, SNAPMAP_NAME_LEN, "fuzz-%u", below(t, NNAMES));
		break;
	}
}

static void key_ptr(struct thread *t, __u32 *len, __u64 *ptr)
{
	unsigned int k = below(t, NKEYS);

	*len = some_len(t, strlen(t->keys[k]));
	*ptr = chance(t, 90) ? SM_PTR(t->keys[k]) : some_ptr(t, *len, 100);
}

static void value_ptr(struct thread *t, __u32 *len, __u64 *ptr)
{
	__u32 good = chance(t, 80) ? below(t, 200) : below(t, BUF_SIZE);

	*len = some_len(t, good);
	*ptr = some_ptr(t, *len, 10);
}

static unsigned int fill_op(struct thread *t, struct snapmap_batch_op *op)
{
	memset(op, 0, sizeof(*op));
	op->opcode = chance(t, 90) ? 1 + below(t, 3) : rnd(t);
	op->flags = some_flags(t, op->opcode == SNAPMAP_BATCH_PUT ?
			       1U << below(t, 4) >> 1 : 0);
	key_ptr(t, &op->key_len, &op->key);
	value_ptr(t, &op->value_len, &op->value);
	if (chance(t, 10))
		op->version = chance(t, 50) ? below(t, 64) : rnd(t);
	if (chance(t, 5))
		op->out_result = rnd(t);
	return sizeof(*op);
}

/*
 * The entries of a transaction are each mangled less often than an op of
 * a batch: one bad entry fails the whole, and there are several.
 */
static void entry_key(struct thread *t, __u32 *len, __u64 *ptr)
{
	unsigned int k = below(t, NKEYS);

	if (chance(t, 8)) {
		key_ptr(t, len, ptr);
		return;
	}
	*len = strlen(t->keys[k]);
	*ptr = SM_PTR(t->keys[k]);
}

static void entry_value(struct thread *t, __u32 *len, __u64 *ptr)
{
	if (chance(t, 8)) {
		value_ptr(t, len, ptr);
		return;
	}
	*len = below(t, 200);
	*ptr = SM_PTR(t->buf + below(t, BUF_SIZE - *len + 1));
}

static __u32 entry_flags(struct thread *t)
{
	return chance(t, 3) ? some_flags(t, 0) : 0;
}

/* A condition of a transaction: its kind's members, others now and then. */
static void fill_cond(struct thread *t, struct snapmap_txn_cond *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = chance(t, 97) ? 1 + below(t, 4) : rnd(t);
	c->flags = entry_flags(t);
	entry_key(t, &c->key_len, &c->key);
	if (c->kind == SNAPMAP_TXN_IF_VALUE || chance(t, 2))
		entry_value(t, &c->value_len, &c->value);
	if (c->kind == SNAPMAP_TXN_IF_VERSION || chance(t, 2))
		c->version = chance(t, 80) ? below(t, 64) : rnd(t);
}

/* A write of a transaction: a PUT's value, a DEL's none, mostly. */
static void fill_txn_op(struct thread *t, struct snapmap_txn_op *o)
{
	memset(o, 0, sizeof(*o));
	o->opcode = chance(t, 97) ? 1 + below(t, 2) : rnd(t);
	o->flags = entry_flags(t);
	entry_key(t, &o->key_len, &o->key);
	if (o->opcode == SNAPMAP_TXN_PUT || chance(t, 2))
		entry_value(t, &o->value_len, &o->value);
}

/*
 * A valid-looking argument for command @nr in @a; returns its size.
 * Mutations come after.
 */
static size_t build_arg(struct thread *t, unsigned int nr, void *a)
{
	union {
		struct snapmap_api api;
		struct snapmap_create create;
		struct snapmap_open open;
		struct snapmap_delete delete;
		struct snapmap_list list;
		struct snapmap_get get;
		struct snapmap_put put;
		struct snapmap_del del;
		struct snapmap_batch batch;
		struct snapmap_clear clear;
		struct snapmap_info info;
		struct snapmap_snapshot_arg snapshot;
		struct snapmap_clone clone;
		struct snapmap_txn txn;
		struct snapmap_watch_arg watch;
		struct snapmap_snapshot_info snapshot_info;
	} *u = a;
	/* A transaction's entries, in the scratch of @buf too. */
	struct snapmap_txn_cond *conds = (struct snapmap_txn_cond *)t->ops;
	struct snapmap_txn_op *tops = (struct snapmap_txn_op *)(conds + 4);
	unsigned int i, n, m;
	size_t size;

	switch (nr) {
	case SNAPMAP_CMD_API:
		size = sizeof(u->api);
		break;
	case SNAPMAP_CMD_CREATE:
		size = sizeof(u->create);
		u->create.max_key_len = chance(t, 80) ? 64 : rnd(t);
		u->create.max_value_len = chance(t, 80) ? BUF_SIZE : rnd(t);
		u->create.max_entries = chance(t, 80) ? 256 : rnd(t);
		/* Small, so that snapshots go stale. */
		u->create.max_bytes = chance(t, 80) ? 1 << (12 + below(t, 8)) :
						     rnd(t);
		u->create.mode = chance(t, 80) ? 0666 : rnd(t);
		if (chance(t, 50))
			some_name(t, u->create.name);
		/* Now and then a map that outlives the fuzzing, until DELETE. */
		if (chance(t, 10))
			u->create.flags = SNAPMAP_CREATE_PERSISTENT;
		break;
	case SNAPMAP_CMD_DELETE:
		size = sizeof(u->delete);
		u->delete.flags = some_flags(t, 0);
		some_name(t, u->delete.name);
		break;
	case SNAPMAP_CMD_OPEN:
		size = sizeof(u->open);
		u->open.flags = some_flags(t, below(t, 2));
		some_name(t, u->open.name);
		break;
	case SNAPMAP_CMD_LIST:
		/* Into the scratch of @buf, as a batch's answers go. */
		size = sizeof(u->list);
		u->list.count = some_len(t, below(t, 8));
		u->list.desc_size = some_len(t, sizeof(struct snapmap_map_desc));
		u->list.descs = chance(t, 85) ? SM_PTR(t->ops) :
						some_ptr(t, 8 * 80, 100);
		break;
	case SNAPMAP_CMD_GET:
	case SNAPMAP_CMD_SNAPSHOT_GET:
		size = sizeof(u->get);
		key_ptr(t, &u->get.key_len, &u->get.key);
		value_ptr(t, &u->get.value_buf_len, &u->get.value);
		break;
	case SNAPMAP_CMD_PUT:
		size = sizeof(u->put);
		u->put.flags = some_flags(t, 1U << below(t, 4) >> 1);
		key_ptr(t, &u->put.key_len, &u->put.key);
		value_ptr(t, &u->put.value_len, &u->put.value);
		if (u->put.flags & SNAPMAP_PUT_IF_VERSION)
			u->put.version = below(t, 64);
		break;
	case SNAPMAP_CMD_DEL:
		size = sizeof(u->del);
		u->del.flags = some_flags(t, below(t, 2));
		key_ptr(t, &u->del.key_len, &u->del.key);
		if (u->del.flags & SNAPMAP_DEL_IF_VERSION)
			u->del.version = below(t, 64);
		break;
	case SNAPMAP_CMD_BATCH:
		size = sizeof(u->batch);
		n = below(t, 8) + 1;
		for (i = 0; i < n; i++)
			fill_op(t, &t->ops[i]);
		u->batch.flags = some_flags(t, below(t, 4));
		u->batch.count = some_len(t, n);
		u->batch.op_size = some_len(t, sizeof(*t->ops));
		u->batch.ops = chance(t, 85) ? SM_PTR(t->ops) :
					       some_ptr(t, n * 56, 100);
		break;
	case SNAPMAP_CMD_TXN:
		size = sizeof(u->txn);
		n = below(t, 3);
		m = below(t, 3) + 1;
		for (i = 0; i < n; i++)
			fill_cond(t, &conds[i]);
		for (i = 0; i < m; i++)
			fill_txn_op(t, &tops[i]);
		u->txn.flags = some_flags(t, 0);
		u->txn.cond_count = some_len(t, n);
		u->txn.cond_size = some_len(t, sizeof(*conds));
		u->txn.op_count = some_len(t, m);
		u->txn.op_size = some_len(t, sizeof(*tops));
		u->txn.conds = chance(t, 85) ? SM_PTR(conds) :
					       some_ptr(t, n * sizeof(*conds),
							100);
		u->txn.ops = chance(t, 85) ? SM_PTR(tops) :
					     some_ptr(t, m * sizeof(*tops), 100);
		break;
	case SNAPMAP_CMD_CLEAR:
		size = sizeof(u->clear);
		break;
	case SNAPMAP_CMD_INFO:
		size = sizeof(u->info);
		break;
	case SNAPMAP_CMD_SNAPSHOT:
		size = sizeof(u->snapshot);
		u->snapshot.flags = some_flags(t, below(t, 2));
		break;
	case SNAPMAP_CMD_CLONE:
		size = sizeof(u->clone);
		u->clone.mode = chance(t, 80) ? 0644 : rnd(t);
		if (chance(t, 50))
			some_name(t, u->clone.name);
		break;
	case SNAPMAP_CMD_WATCH:
		size = sizeof(u->watch);
		u->watch.flags = some_flags(t, below(t, 3));
		/*
		 * Only a @since at or below a map's version, and below what
		 * the map still replays, gets ESTALE: so often at or below a
		 * version this thread saw; else mostly below a bound of 8,
		 * 16, ... or 4096, each as likely, as a map's version is
		 * often small; else anything.
		 */
		if (u->watch.flags & SNAPMAP_WATCH_SINCE || chance(t, 5))
			u->watch.since = chance(t, 50) ?
				rnd(t) % (t->version + 1) : below(t, 4) ?
				below(t, 8U << below(t, 10)) : rnd(t);
		if (chance(t, 30))
			key_ptr(t, &u->watch.prefix_len, &u->watch.prefix);
		if (chance(t, 20))
			u->watch.buffer_bytes = chance(t, 50) ?
				SNAPMAP_WATCH_MIN_BUFFER << below(t, 8) : rnd(t);
		/*
		 * A quarter, half or three quarters of some buffer: below, at
		 * or past half of the watch's; or anything.
		 */
		if (chance(t, 20))
			u->watch.wakeup_bytes = chance(t, 80) ?
				(SNAPMAP_WATCH_MIN_BUFFER << below(t, 8)) / 4 *
				below(t, 4) : rnd(t);
		break;
	case SNAPMAP_CMD_SNAPSHOT_INFO:
		size = sizeof(u->snapshot_info);
		break;
	default:
		size = 8 + below(t, 200);
		for (i = 0; i < size; i++)
			((unsigned char *)a)[i] = rnd(t);
		break;
	}
	*(__u32 *)a = size;
	return size;
}

/* Whether @v is a pointer some_ptr() makes. */
static bool made_ptr(const struct thread *t, __u64 v)
{
	return (v >= SM_PTR(t->mem) && v < SM_PTR(t->mem + t->mem_len)) ||
	       (v >= KERNEL_PTR && v - KERNEL_PTR < KERNEL_PTR_RANGE) ||
	       v == HIGH_PTR;
}

/*
 * If the 64-bit member of @a around byte @at holds a pointer, point it
 * elsewhere with some_ptr() and say so.  A bit or half flipped in a
 * pointer would point it at any memory of the process, a thread's stack
 * as likely as not, and the module would write there as told.
 */
static bool repoint(struct thread *t, unsigned char *a, unsigned int at)
{
	__u64 *member = (__u64 *)(a + (at & ~7U));

	if (!made_ptr(t, *member))
		return false;
	*member = some_ptr(t, 64, 80);
	return true;
}

/* Mutate the argument: its size, a byte, a word. */
static size_t mutate(struct thread *t, unsigned char *a, size_t size)
{
	static const __u32 sizes[] = { 0, 1, 4, 7, 8, 15, 16, 24, 32, 40, 48,
				       56, 64, 72, 88, 104, 160, 168, 4096,
				       0xffffffff };
	unsigned int n = below(t, 4), i, at;
	__u32 s;

	for (i = 0; i < n; i++) {
		switch (below(t, 5)) {
		case 0:		/* the size, known or odd */
			s = chance(t, 70) ? sizes[below(t, sizeof(sizes) / 4)] :
					    rnd(t);
			memcpy(a, &s, 4);
			if (s > size && s <= ARG_SIZE)
				size = s;
			break;
		case 1:		/* a tail beyond the module's structure */
			s = size + 8;
			memcpy(a, &s, 4);
			a[size + below(t, 8)] = chance(t, 50) ? rnd(t) : 0;
			size += 8;
			break;
		case 2:		/* a bit */
			at = below(t, size);
			if (!repoint(t, a, at))
				a[at] ^= 1 << below(t, 8);
			break;
		case 3:		/* a word, from the interesting ones */
			at = below(t, size / 4) * 4;
			s = chance(t, 50) ? 0xffffffff : below(t, 3);
			if (!repoint(t, a, at))
				memcpy(a + at, &s, 4);
			break;
		default:	/* a 64-bit word: a pointer, often */
			at = below(t, size / 8) * 8;
			*(__u64 *)(a + at) = some_ptr(t, 64, 80);
			break;
		}
	}
	return size;
}

/* Whether @nr makes a new fd when it succeeds. */
static bool makes_fd(unsigned int nr)
{
	return nr == SNAPMAP_CMD_CREATE || nr == SNAPMAP_CMD_OPEN ||
	       nr == SNAPMAP_CMD_SNAPSHOT || nr == SNAPMAP_CMD_CLONE ||
	       nr == SNAPMAP_CMD_WATCH;
}

static const unsigned int cmds[] = {
	SNAPMAP_CMD_API, SNAPMAP_CMD_CREATE, SNAPMAP_CMD_OPEN, SNAPMAP_CMD_LIST,
	SNAPMAP_CMD_DELETE, SNAPMAP_CMD_GET, SNAPMAP_CMD_PUT, SNAPMAP_CMD_DEL, SNAPMAP_CMD_BATCH,
	SNAPMAP_CMD_CLEAR, SNAPMAP_CMD_INFO, SNAPMAP_CMD_SNAPSHOT,
	SNAPMAP_CMD_CLONE, SNAPMAP_CMD_TXN, SNAPMAP_CMD_SNAPSHOT_INFO,
	SNAPMAP_CMD_SNAPSHOT_GET, SNAPMAP_CMD_WATCH,
};

/* The commands of each kind of snapmap fd; GET and PUT the most. */
static const unsigned int ctl_cmds[] = {
	SNAPMAP_CMD_API, SNAPMAP_CMD_CREATE, SNAPMAP_CMD_OPEN, SNAPMAP_CMD_LIST,
	SNAPMAP_CMD_DELETE,
};

static const unsigned int map_cmds[] = {
	SNAPMAP_CMD_GET, SNAPMAP_CMD_GET, SNAPMAP_CMD_GET,
	SNAPMAP_CMD_PUT, SNAPMAP_CMD_PUT, SNAPMAP_CMD_PUT, SNAPMAP_CMD_DEL,
	SNAPMAP_CMD_BATCH, SNAPMAP_CMD_BATCH, SNAPMAP_CMD_CLEAR,
	SNAPMAP_CMD_INFO, SNAPMAP_CMD_SNAPSHOT, SNAPMAP_CMD_SNAPSHOT,
	SNAPMAP_CMD_CLONE, SNAPMAP_CMD_TXN, SNAPMAP_CMD_TXN,
	SNAPMAP_CMD_WATCH,
};

static const unsigned int snapshot_cmds[] = {
	SNAPMAP_CMD_SNAPSHOT_INFO, SNAPMAP_CMD_SNAPSHOT_GET,
	SNAPMAP_CMD_SNAPSHOT_GET,
};

#define PICK(t, table) ((table)[below(t, sizeof(table) / sizeof((table)[0]))])

/* A command for an fd of @kind: mostly one it knows. */
static unsigned int pick_cmd(struct thread *t, enum kind kind)
{
	if (chance(t, 25))
		return PICK(t, cmds);
	switch (kind) {
	case K_CTL:
		return PICK(t, ctl_cmds);
	case K_MAP:
	case K_MAP_RO:
		return PICK(t, map_cmds);
	case K_SNAP:
	case K_SNAP_WEAK:
		return PICK(t, snapshot_cmds);
	default:
		return PICK(t, cmds);
	}
}

/* Check what a successful ioctl wrote back, where it could be read. */
static void check_answer(struct thread *t, unsigned int nr, const void *a,
			 size_t size)
{
	const struct snapmap_get *asked = (const void *)t->sent;
	const struct snapmap_info *info = a;
	const struct snapmap_get *get = a;
	const struct snapmap_snapshot_info *si = a;
	const struct snapmap_txn *txn = a;

	/* The buffer's length as given: the value may have overwritten it. */
	if ((nr == SNAPMAP_CMD_GET || nr == SNAPMAP_CMD_SNAPSHOT_GET) &&
	    size >= sizeof(*get) && asked->size >= sizeof(*get) &&
	    get->out_value_len > asked->value_buf_len)
		unexpected(t, "GET: value of %u bytes in a buffer of %u",
			   get->out_value_len, asked->value_buf_len);
	if (nr == SNAPMAP_CMD_TXN && size >= sizeof(*txn) &&
	    txn->size >= sizeof(*txn) &&
	    (txn->__reserved || txn->out_failed != SNAPMAP_TXN_NONE))
		unexpected(t, "TXN: reserved %u, entry %u named",
			   txn->__reserved, txn->out_failed);
	if (nr == SNAPMAP_CMD_INFO && size >= sizeof(*info) &&
	    info->size >= sizeof(*info) &&
	    (info->__reserved || info->out_entries > info->out_max_entries ||
	     !memchr(info->out_name, 0, sizeof(info->out_name))))
		unexpected(t, "INFO: reserved %u, entries %llu of %llu",
			   info->__reserved,
			   (unsigned long long)info->out_entries,
			   (unsigned long long)info->out_max_entries);
	if (nr == SNAPMAP_CMD_SNAPSHOT_INFO && size >= sizeof(*si) &&
	    si->size >= sizeof(*si) &&
	    (si->__reserved || si->out_snapshot_flags & ~SNAPMAP_SNAPSHOT_WEAK))
		unexpected(t, "SNAPSHOT_INFO: reserved %u, flags %#x",
			   si->__reserved, si->out_snapshot_flags);
}

/* Keep the version a PUT or INFO answered, for WATCH's @since. */
static void keep_version(struct thread *t, unsigned int nr, const void *a,
			 size_t size)
{
	const struct snapmap_info *info = a;
	const struct snapmap_put *put = a;

	if (nr == SNAPMAP_CMD_INFO && size >= sizeof(*info) &&
	    info->size >= sizeof(*info))
		t->version = info->out_version;
	if (nr == SNAPMAP_CMD_PUT && size >= sizeof(*put) &&
	    put->size >= sizeof(*put))
		t->version = put->out_version;
}

static void do_ioctl(struct thread *t, const struct slot *s)
{
	unsigned int nr, dir, what = below(t, 100);
	unsigned long cmd;
	size_t size;
	void *arg;
	int ret, err;

	/* The command: mostly snapmap's, sometimes mangled. */
	nr = pick_cmd(t, s->kind);
	dir = _IOC_READ | _IOC_WRITE;
	if (what < 5)
		nr = below(t, 64);
	else if (what < 8)
		dir = below(t, 4);
	memset(t->arg, 0, ARG_SIZE);
	size = build_arg(t, nr, t->arg);
	if (chance(t, 50))
		size = mutate(t, t->arg, size);
	cmd = _IOC(dir, SNAPMAP_IOC_TYPE, nr, chance(t, 90) ? size & 0x3fff :
							   below(t, 0x4000));
	if (what >= 98)
		cmd = chance(t, 50) ? FIONREAD : TCGETS;

	/* The argument: mostly the one built, sometimes anywhere. */
	arg = t->arg;
	if (chance(t, 10))
		arg = (void *)(uintptr_t)some_ptr(t, size, 100);
	else if (chance(t, 5))
		arg = (void *)(uintptr_t)-4096L;

	memcpy(t->sent, t->arg, ARG_SIZE);
	count(&t->sh->ioctls);
	ret = ioctl(s->fd, cmd, arg);
	err = errno;
	if (snapmap_kind(s->kind) && _IOC_TYPE(cmd) == SNAPMAP_IOC_TYPE &&
	    _IOC_NR(cmd) < SM_COVER_CMDS)
		count(&t->sh->cover[_IOC_NR(cmd)][ret < 0 ? err & 0xff : 0]);
	if (ret < 0) {
		count(&t->sh->errnos[err & 0xff]);
		if (snapmap_kind(s->kind) && !documented(err))
			unexpected(t, "ioctl %#lx on a %s fd: errno %d",
				   cmd, kind_names[s->kind], err);
		if (s->kind == K_NOFD && err != EBADF)
			unexpected(t, "ioctl on no fd: errno %d", err);
		return;
	}
	count(&t->sh->successes);
	if (!snapmap_kind(s->kind) || _IOC_TYPE(cmd) != SNAPMAP_IOC_TYPE)
		return;
	if (arg == t->arg) {
		check_answer(t, nr, t->arg, size);
		keep_version(t, nr, t->arg, size);
	}
	/* The second fd of a watch that took a snapshot of its own. */
	if (ret > 0 && nr == SNAPMAP_CMD_WATCH && arg == t->arg &&
	    size >= sizeof(struct snapmap_watch_arg)) {
		int sfd = ((struct snapmap_watch_arg *)t->arg)->out_snapshot_fd;

		if (sfd >= 0) {
			if (!(fcntl(sfd, F_GETFD) & FD_CLOEXEC))
				unexpected(t, "WATCH: snapshot fd %d not close-on-exec",
					   sfd);
			close(sfd);
		}
	}
	if (ret > 0) {
		count(&t->sh->fds_made);
		if (!makes_fd(nr))
			unexpected(t, "ioctl %#lx on a %s fd returned %d", cmd,
				   kind_names[s->kind], ret);
		else if (!(fcntl(ret, F_GETFD) & FD_CLOEXEC))
			unexpected(t, "ioctl %#lx: fd %d not close-on-exec",
				   cmd, ret);
		close(ret);
	}
}

/* Whether the @len bytes at @buf are whole records of a watch. */
static bool changes_whole(const void *buf, size_t len)
{
	struct sm_change c;
	size_t off, size;

	for (off = 0; off < len; off += size) {
		size = sm_change_parse((const char *)buf + off, len - off, &c);
		if (!size)
			return false;
	}
	return true;
}

static void do_read(struct thread *t, const struct slot *s)
{
	static const size_t lens[] = { 0, 1, 15, 16, 24, 100, 4096, 65536 };
	size_t len = lens[below(t, sizeof(lens) / sizeof(lens[0]))];
	bool good = chance(t, 80);
	void *buf = good ? t->buf : (void *)(uintptr_t)some_ptr(t, len, 100);
	ssize_t n;

	if (chance(t, 2))
		len = (size_t)-1;
	count(&t->sh->reads);
	n = read(s->fd, buf, len);
	if (n < 0 && (s->kind == K_SNAP || s->kind == K_SNAP_WEAK))
		count(&t->sh->read_errnos[errno & 0xff]);
	if (s->kind == K_SNAP || s->kind == K_SNAP_WEAK)
		count(&t->sh->read_cover[n < 0 ? errno & 0xff : 0]);
	if (n < 0) {
		if (snapmap_kind(s->kind) && !documented(errno))
			unexpected(t, "read on a %s fd: errno %d",
				   kind_names[s->kind], errno);
		return;
	}
	if (!snapmap_kind(s->kind))
		return;
	if (s->kind == K_WATCH) {
		if ((size_t)n > len || (good && !changes_whole(buf, n)))
			unexpected(t, "watch read of %zu bytes gave %zd", len,
				   n);
		return;
	}
	if (s->kind != K_SNAP && s->kind != K_SNAP_WEAK) {
		/* Only a read of nothing reads nothing but a snapshot. */
		if (n || len)
			unexpected(t, "read of %zu bytes on a %s fd gave %zd",
				   len, kind_names[s->kind], n);
	}
	else if ((size_t)n > len || (good && !sm_records_whole(buf, n)))
		unexpected(t, "read of %zu bytes gave %zd, whole records: %d",
			   len, n, sm_records_whole(buf, n));
}

static void do_other(struct thread *t, const struct slot *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN | POLLOUT };
	void *p;
	off_t off;

	switch (below(t, 4)) {
	case 0:
		count(&t->sh->writes);
		if (write(s->fd, t->buf, below(t, 64)) >= 0 &&
		    snapmap_kind(s->kind))
			unexpected(t, "write on a %s fd worked",
				   kind_names[s->kind]);
		break;
	case 1:
		count(&t->sh->seeks);
		off = chance(t, 70) ? 0 : (off_t)rnd(t);
		off = lseek(s->fd, off, below(t, 5));
		/* A snapshot rewinds to 0; a map fd stays at 0. */
		if (off > 0 && snapmap_kind(s->kind))
			unexpected(t, "lseek on a %s fd gave %lld",
				   kind_names[s->kind], (long long)off);
		break;
	case 2:
		count(&t->sh->mmaps);
		p = mmap(NULL, t->page, PROT_READ, MAP_SHARED, s->fd, 0);
		if (p != MAP_FAILED) {
			munmap(p, t->page);
			if (snapmap_kind(s->kind))
				unexpected(t, "mmap of a %s fd worked",
					   kind_names[s->kind]);
		}
		break;
	default:
		count(&t->sh->polls);
		poll(&pfd, 1, 0);
		break;
	}
}

/* An fd of some kind from the pool, for a new fd to be made with. */
static int pool_fd(struct pool *pool, enum kind kind, unsigned int from)
{
	unsigned int i;

	for (i = 0; i < NSLOTS; i++)
		if (pool->slot[(from + i) % NSLOTS].kind == kind)
			return pool->slot[(from + i) % NSLOTS].fd;
	return -1;
}

/* A new fd of @kind, or a number that is none. */
static struct slot make_slot(struct thread *t, enum kind kind)
{
	struct snapmap_create create = { .size = sizeof(create) };
	struct snapmap_watch_arg watch = {
		.size = sizeof(watch),
		.buffer_bytes = SNAPMAP_WATCH_MIN_BUFFER,
		.wakeup_bytes = SNAPMAP_WATCH_MIN_BUFFER / 2,
	};
	struct slot s = { .fd = -1, .kind = kind };
	char name[SNAPMAP_NAME_LEN];
	int fds[2], ctl, map;

	ctl = pool_fd(t->pool, K_CTL, below(t, NSLOTS));
	map = pool_fd(t->pool, K_MAP, below(t, NSLOTS));
	switch (kind) {
	case K_CTL:
		s.fd = snapmap_open_ctl();
		break;
	case K_MAP:
		if (ctl < 0)
			break;
		if (map >= 0 && chance(t, 30)) {
			s.fd = sm_clone(map, NULL, 0666, NULL);
			break;
		}
		create.max_key_len = 64;
		create.max_value_len = BUF_SIZE;
		create.max_entries = 256;
		create.max_bytes = 1 << (12 + below(t, 8));
		create.mode = 0666;
		if (chance(t, 50))
			snprintf(create.name, sizeof(create.name), "fuzz-%u",
				 below(t, NNAMES));
		s.fd = ioctl(ctl, SNAPMAP_IOC_CREATE, &create);
		break;
	case K_MAP_RO:
		snprintf(name, sizeof(name), "fuzz-%u", below(t, NNAMES));
		s.fd = ctl < 0 ? -1 : sm_open(ctl, name, SNAPMAP_OPEN_RDONLY);
		break;
	case K_SNAP:
	case K_SNAP_WEAK:
		if (map >= 0)
			s.fd = sm_snapshot(map, kind == K_SNAP_WEAK ?
					   SNAPMAP_SNAPSHOT_WEAK : 0, NULL);
		break;
	case K_WATCH:
		/*
		 * Non-blocking: a read with nothing to read would wait.  Half
		 * of them with a wakeup mark, which poll and reads go by.
		 */
		if (map >= 0 && chance(t, 50))
			s.fd = sm_watch(map, 0, 0, NULL, 0, 0, NULL, NULL);
		else if (map >= 0)
			s.fd = ioctl(map, SNAPMAP_IOC_WATCH, &watch);
		if (s.fd >= 0 && fcntl(s.fd, F_SETFL, O_NONBLOCK)) {
			close(s.fd);
			s.fd = -1;
		}
		break;
	case K_PIPE:
		if (!pipe2(fds, O_CLOEXEC)) {
			close(fds[1]);
			s.fd = fds[0];
		}
		break;
	case K_EVENTFD:
		/* Non-blocking: reading an empty one would wait forever. */
		s.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		break;
	case K_NULL:
		s.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case K_MEMFD:
		s.fd = memfd_create("fuzz", MFD_CLOEXEC);
		break;
	case K_DIR:
		s.fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		break;
	default:
		break;
	}
	if (s.fd < 0) {
		s.kind = K_NOFD;
		s.fd = chance(t, 50) ? -1 : FD_NONE + below(t, 10);
	}
	return s;
}

/* Close a pool fd and put a new one of a random kind in its place. */
static void reopen(struct thread *t)
{
	struct pool *pool = t->pool;
	unsigned int i = below(t, NSLOTS);

	count(&t->sh->reopens);
	pthread_rwlock_wrlock(&pool->lock);
	if (pool->slot[i].kind != K_NOFD)
		close(pool->slot[i].fd);
	/* Snapmap's kinds most of the time. */
	pool->slot[i] = make_slot(t, chance(t, 80) ? below(t, K_PIPE) :
						     below(t, K_KINDS));
	pthread_rwlock_unlock(&pool->lock);
}

static void *fuzz_thread(void *arg)
{
	struct thread *t = arg;
	struct shared *sh = t->sh;
	unsigned long long n;
	unsigned int what;
	struct slot s;

	for (;;) {
		n = __atomic_fetch_add(&sh->iterations, 1, __ATOMIC_RELAXED);
		if (n >= sh->limit)
			break;
		if (!(n & 63) && time_up(sh)) {
			__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
			break;
		}
		what = below(t, 100);
		if (what < 3) {
			reopen(t);
			continue;
		}
		pthread_rwlock_rdlock(&t->pool->lock);
		s = t->pool->slot[below(t, NSLOTS)];
		if (what < 80)
			do_ioctl(t, &s);
		else if (what < 92)
			do_read(t, &s);
		else
			do_other(t, &s);
		pthread_rwlock_unlock(&t->pool->lock);
	}
	return NULL;
}

static int thread_setup(struct thread *t, struct shared *sh,
			struct pool *pool, unsigned int id)
{
	unsigned int i;

	t->sh = sh;
	t->pool = pool;
	t->rng = (sh->seed ^ (0x9e3779b97f4a7c15ULL * (id + 1))) | 1;
	t->page = sysconf(_SC_PAGESIZE);
	/* buf, keys, arg, then an unmapped page, then a read-only one. */
	t->mem_len = BUF_SIZE + 4 * t->page;
	t->mem = mmap(NULL, t->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->mem == MAP_FAILED)
		return -1;
	t->buf = t->mem;
	t->ops = (struct snapmap_batch_op *)t->buf;
	t->keys = (char (*)[24])(t->buf + BUF_SIZE);
	t->arg = t->buf + BUF_SIZE + t->page;
	t->unmapped = t->arg + t->page;
	t->ro = t->unmapped + t->page;
	memset(t->mem, 'f', BUF_SIZE + 2 * t->page);
	if (mprotect(t->unmapped, t->page, PROT_NONE) ||
	    mprotect(t->ro, t->page, PROT_READ))
		return -1;
	for (i = 0; i < NKEYS; i++)
		snprintf(t->keys[i], sizeof(t->keys[i]), "fuzz-key-%u", i);
	return 0;
}

/* One fuzzing process: its pool, its threads. */
static int fuzz_process(struct shared *sh, unsigned int proc,
			unsigned int nthreads)
{
	struct thread *threads = calloc(nthreads, sizeof(*threads));
	struct pool *pool = calloc(1, sizeof(*pool));
	unsigned int i;

	if (!threads || !pool)
		return 1;
	/* Odd processes are a user of their own, with no privilege. */
	if (proc & 1 && !getuid() &&
	    (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	     setresuid(NOBODY, NOBODY, NOBODY)))
		return 2;
	pthread_rwlock_init(&pool->lock, NULL);
	for (i = 0; i < nthreads; i++)
		if (thread_setup(&threads[i], sh, pool, proc * 64 + i))
			return 3;
	for (i = 0; i < NSLOTS; i++)
		pool->slot[i] = make_slot(&threads[0], i < 3 ? K_CTL :
					  i < 8 ? K_MAP :
					  below(&threads[0], K_KINDS));
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&threads[i].tid, NULL, fuzz_thread,
				   &threads[i]))
			return 4;
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i].tid, NULL);
	return 0;
}

/* A memory cgroup for the fuzzing processes, if the kernel has one. */
static bool cgroup_setup(void)
{
	return !sm_memcg_create(CGROUP_DIR, "256M");
}

static void cgroup_enter(void)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	sm_write_file(CGROUP_DIR "/cgroup.procs", pid);
}

FIXTURE(fuzz) {
	struct shared *sh;
};

FIXTURE_SETUP(fuzz)
{
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->sh != MAP_FAILED);
	memset(self->sh, 0, sizeof(*self->sh));
}

/*
 * Delete every persistent map: no other test leaves one, and the
 * fuzzing may, under any valid name.  Return: how many there were.
 */
static int delete_persistent(struct __test_metadata *_metadata)
{
	struct snapmap_delete del = { .size = sizeof(del) };
	struct snapmap_map_desc descs[256];
	struct snapmap_list arg = {
		.size = sizeof(arg),
		.count = 256,
		.desc_size = sizeof(descs[0]),
		.descs = SM_PTR(descs),
	};
	unsigned int i;
	int ctl, n = 0;

	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return -1;
	EXPECT_EQ(0, ioctl(ctl, SNAPMAP_IOC_LIST, &arg));
	for (i = 0; i < arg.out_count && i < 256; i++) {
		if (!(descs[i].map_flags & SNAPMAP_MAP_PERSISTENT))
			continue;
		memcpy(del.name, descs[i].name, sizeof(del.name));
		EXPECT_EQ(0, ioctl(ctl, SNAPMAP_IOC_DELETE, &del));
		n++;
	}
	close(ctl);
	return n;
}

FIXTURE_TEARDOWN(fuzz)
{
	munmap(self->sh, sizeof(*self->sh));
}

TEST_F_TIMEOUT(fuzz, run, FUZZ_TIMEOUT)
{
	unsigned int procs = env_num("SNAPMAP_FUZZ_PROCS", 2);
	unsigned int threads = env_num("SNAPMAP_FUZZ_THREADS", 3);
	unsigned long long seconds = env_num("SNAPMAP_FUZZ_SECONDS", 20);
	struct shared *sh = self->sh;
	struct timespec start, end;
	int maps, status, i, e, ctl, fd;
	bool cgroup;
	pid_t *pids;
	char value[8];

	sh->limit = env_num("SNAPMAP_FUZZ_ITERATIONS", 1000000);
	sh->seed = env_num("SNAPMAP_FUZZ_SEED", 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (!sh->seed)
		sh->seed = start.tv_nsec ^ ((__u64)start.tv_sec << 30);
	sh->deadline = start;
	sh->deadline.tv_sec += seconds;
	sh->last_chance = start;
	sh->last_chance.tv_sec += 10 * seconds;
	printf("# seed %llu: SNAPMAP_FUZZ_SEED=%llu repeats this run\n",
	       (unsigned long long)sh->seed, (unsigned long long)sh->seed);
	fflush(stdout);

	maps = SM_COUNT_MAPS();
	cgroup = cgroup_setup();
	pids = calloc(procs, sizeof(*pids));
	ASSERT_TRUE(pids != NULL);
	for (i = 0; i < (int)procs; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			if (cgroup)
				cgroup_enter();
			_exit(fuzz_process(sh, i, threads));
		}
	}
	for (i = 0; i < (int)procs; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		/* No fuzzing process dies, by a signal or otherwise. */
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
			TH_LOG("process %d: status %#x", i, status);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (cgroup)
		rmdir(CGROUP_DIR);

	if (sh->iterations > sh->limit)
		sh->iterations = sh->limit;
	printf("# %llu iterations in %.1f s by %u processes of %u threads: %llu ioctls (%llu worked, %llu new fds), %llu reads, %llu writes, %llu seeks, %llu mmaps, %llu polls, %llu fds replaced\n",
	       sh->iterations, (end.tv_sec - start.tv_sec) +
	       (end.tv_nsec - start.tv_nsec) / 1e9, procs, threads,
	       sh->ioctls, sh->successes, sh->fds_made, sh->reads,
	       sh->writes, sh->seeks, sh->mmaps, sh->polls, sh->reopens);
	printf("# ioctl errnos:");
	for (e = 1; e < 256; e++)
		if (sh->errnos[e])
			printf(" %s %llu", strerrorname_np(e) ?: "?",
			       sh->errnos[e]);
	printf("\n# snapshot read errnos:");
	for (e = 1; e < 256; e++)
		if (sh->read_errnos[e])
			printf(" %s %llu", strerrorname_np(e) ?: "?",
			       sh->read_errnos[e]);
	printf("\n");
	fflush(stdout);
	for (i = 0; i < (int)sh->messages && i < 4; i++)
		TH_LOG("%s", sh->message[i]);
	EXPECT_EQ(0, sh->unexpected);

	/* The coverage: every command and error path listed was reached. */
	sm_cover_print(sh->cover);
	printf("#   snapshot read:");
	for (e = 0; e < 256; e++)
		if (sh->read_cover[e])
			printf(" %s %llu", e ? strerrorname_np(e) ?: "?" : "ok",
			       sh->read_cover[e]);
	printf("\n");
	fflush(stdout);
	/* Braces: EXPECT_*() { ... } is two statements. */
	for (i = 0; i < (int)(sizeof(must_cover) / sizeof(must_cover[0]));
	     i++) {
		EXPECT_LT(0, sh->cover[must_cover[i].nr][must_cover[i].err]) {
			TH_LOG("never reached: command %#x giving %s",
			       must_cover[i].nr, must_cover[i].err ?
			       strerrorname_np(must_cover[i].err) : "success");
		}
	}
	for (i = 0; i < (int)(sizeof(must_cover_read) /
			      sizeof(must_cover_read[0])); i++) {
		EXPECT_LT(0, sh->read_cover[must_cover_read[i]]) {
			TH_LOG("never reached: snapshot read giving %s",
			       must_cover_read[i] ?
			       strerrorname_np(must_cover_read[i]) :
			       "records");
		}
	}

	/*
	 * The processes are gone: so are their maps, but the persistent
	 * ones, which go with their names.
	 */
	printf("# persistent maps left: %d\n", delete_persistent(_metadata));
	fflush(stdout);
	EXPECT_EQ(maps, SM_COUNT_MAPS());
	/* And the module still works. */
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create_default(ctl);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, sm_put_str(fd, "after", "fuzzing", NULL));
	EXPECT_EQ(0, sm_get(fd, "after", 5, value, sizeof(value), NULL, NULL));
	close(fd);
	close(ctl);
	free(pids);
}

TEST_HARNESS_MAIN
