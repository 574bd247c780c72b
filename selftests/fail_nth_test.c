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
 * exactly the map a clean batch of the ops it reports as done leaves; a
 * batch at one version, only GETs, the map as it was but for the version
 * its snapshot took.  A call whose answer is known (a transaction, a GET
 * in a snapshot) has it checked after the clean call, and after the call
 * that ran through: what it returned, and what it wrote or read.
 * kmemleak, scanned by the runner once every test is done, checks that
 * the failed calls leaked nothing.
 *
 * With a watch open, a write that failed left no record in it, and one
 * that went through left its record or made the watch fail with ESTALE (a
 * record that could not be allocated): never a silent gap.  The watch
 * waits for more than a write's records (wakeup_bytes), in an epoll set
 * that polled it before the call: a write that lost its record must have
 * woken it, one that kept it or failed must not have.  A read of a watch
 * that failed lost no record.
 *
 * A point counts as fired only when the call consumed the fail-nth
 * counter (reading it back gives 0).  Every sweep must fire its first
 * point (each call copies its argument in at least) and must see at least
 * one fired point fail the call: a sweep that injected nothing, or only
 * into code that copes, proves nothing and fails.  Each sweep prints how
 * many fault points its call has, of which kind.
 */

#include <stdbool.h>
#include <sys/epoll.h>
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
	RES_WATCH_READ,	/* bytes read from the watch fd */
};

/* The state one call starts from, and what it made. */
struct ctx {
	int ctl;
	int fd;			/* the map */
	int pin;		/* an ATOMIC snapshot held across the call */
	int wfd;		/* a watch open across the call, non-blocking */
	int wep;		/* an epoll set of @wfd alone */
	__u64 wversion[3];	/* of the writes it has to yield */
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
	struct snapmap_txn_cond conds[4];
	struct snapmap_txn_op txn_ops[5];
	__u64 out_version;	/* of a TXN, a BATCH at one version, a GET */
	__u32 out_failed;	/* of a TXN */
	__u32 out_value_len;	/* of a GET */
	/*
	 * A mapping of a page that was touched, then VAL_MAX bytes of pages
	 * no one touched yet, @fresh: a GET's straight copy cannot fault
	 * them in, so the GET copies the value again through a buffer of
	 * its own.  NULL unless the call reads a value there.
	 */
	unsigned char *mapping;
	size_t mapping_len;
	unsigned char *fresh;
};

struct op;
typedef int (*call_fn)(struct ctx *c, const struct op *op);
/* Check what a call that ran through did: its answer and the map. */
typedef void (*expect_fn)(struct __test_metadata *_metadata, struct ctx *c,
			  const struct snapmap_info *before,
			  const struct snapmap_info *after);

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
	bool own_snapshot;	/* the call takes a snapshot (not a clone) */
	bool watched;		/* a watch is open across the call, @wfd */
	/*
	 * Run once the fault is disarmed: checks what the call did that the
	 * sweep does not look at, and returns the call's result, or -EPROTO
	 * if the check failed.
	 */
	call_fn after;
	bool no_points;		/* copies nothing and allocates nothing */
	bool fresh;		/* the call reads a value into @fresh */
	/*
	 * The call frees memory in the background (a CLEAR): how far that
	 * went is no part of its answer, so the map's bytes after it are
	 * not compared; the rest of the map is.
	 */
	bool background;
	expect_fn expect;	/* the answer of a clean call, or NULL */
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

static int call_read_watch(struct ctx *c, const struct op *op);

/* A watch's buffer, and the mark it waits for: more than any call writes. */
#define WATCH_BUFFER (16ULL << 20)
#define WATCH_MARK (WATCH_BUFFER / 2)

/* Open @c's watch, non-blocking, and an epoll set of it alone. */
static int watch_open(struct ctx *c)
{
	struct snapmap_watch_arg arg = {
		.size = sizeof(arg),
		.buffer_bytes = WATCH_BUFFER,
		.wakeup_bytes = WATCH_MARK,
	};
	struct epoll_event ev = { .events = EPOLLIN };

	c->wfd = sm_ret(ioctl(c->fd, SNAPMAP_IOC_WATCH, &arg));
	if (c->wfd < 0)
		return c->wfd;
	if (fcntl(c->wfd, F_SETFL, O_NONBLOCK))
		return -errno;
	c->wep = epoll_create1(EPOLL_CLOEXEC);
	if (c->wep < 0 || epoll_ctl(c->wep, EPOLL_CTL_ADD, c->wfd, &ev))
		return -errno;
	return 0;
}

/* Build the map every call starts from. */
static int ctx_setup(struct ctx *c, const struct op *op)
{
	struct epoll_event ev;
	char head[256];
	unsigned int i;
	ssize_t n;
	int err;

	memset(c, 0, sizeof(*c));
	c->pin = -1;
	c->sfd = -1;
	c->wfd = -1;
	c->wep = -1;
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
	if (op->watched) {
		err = watch_open(c);
		if (err)
			return err;
		/* Records for a read of the watch to take. */
		if (op->call == call_read_watch) {
			for (i = 0; i < 3; i++) {
				err = put_key(c->fd, i, &c->wversion[i]);
				if (err)
					return err;
			}
		}
		/* Not ready yet: the watch now waits for its mark. */
		if (epoll_wait(c->wep, &ev, 1, 0))
			return -EPROTO;
	}
	if (op->fresh) {
		c->mapping_len = sysconf(_SC_PAGESIZE) + VAL_MAX;
		c->mapping = mmap(NULL, c->mapping_len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c->mapping == MAP_FAILED) {
			c->mapping = NULL;
			return -errno;
		}
		/*
		 * The first page only: what the first fault of a mapping
		 * allocates (its anon_vma) is the test's, not snapmap's.
		 */
		c->mapping[0] = 1;
		c->fresh = c->mapping + c->mapping_len - VAL_MAX;
	}
	return 0;
}

static int call_create_persistent(struct ctx *c, const struct op *op);

static void ctx_teardown(struct ctx *c, const struct op *op)
{
	struct snapmap_delete del = { .size = sizeof(del) };

	/* A persistent map made goes with its name, and only so. */
	if (op->call == call_create_persistent && c->ret >= 0) {
		strcpy(del.name, c->new_name);
		if (ioctl(c->ctl, SNAPMAP_IOC_DELETE, &del))
			printf("# DELETE %s: %s\n", del.name, strerror(errno));
	}
	if ((op->result == RES_MAP_FD || op->result == RES_SNAP_FD) &&
	    c->ret >= 0)
		close(c->ret);
	if (c->sfd >= 0)
		close(c->sfd);
	if (c->pin >= 0)
		close(c->pin);
	if (c->wep >= 0)
		close(c->wep);
	if (c->wfd >= 0)
		close(c->wfd);
	if (c->fd >= 0)
		close(c->fd);
	if (c->ctl >= 0)
		close(c->ctl);
	if (c->mapping)
		munmap(c->mapping, c->mapping_len);
	c->mapping = NULL;
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

static int call_create_persistent(struct ctx *c, const struct op *op)
{
	struct snapmap_create arg = {
		.size = sizeof(arg),
		.flags = SNAPMAP_CREATE_PERSISTENT,
		.mode = 0600,
	};

	strcpy(arg.name, c->new_name);
	return sm_ret(ioctl(c->ctl, SNAPMAP_IOC_CREATE, &arg));
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

/*
 * A watch, then what a reader sees of it (nothing yet), then closed: a
 * watch's whole life, which must leave the map as it was.
 */
static int watch_once(struct ctx *c, __u32 flags)
{
	int wfd, sfd = -1, ret = 0;

	wfd = sm_watch(c->fd, flags, 0, "key-", 4, 0, NULL, &sfd);
	if (wfd < 0)
		return wfd;
	if (fcntl(wfd, F_SETFL, O_NONBLOCK) ||
	    read(wfd, c->buf, sizeof(c->buf)) != -1 || errno != EAGAIN)
		ret = -EPROTO;
	if (sfd >= 0)
		close(sfd);
	close(wfd);
	return ret;
}

static int call_watch(struct ctx *c, const struct op *op)
{
	return watch_once(c, 0);
}

static int call_watch_snapshot(struct ctx *c, const struct op *op)
{
	return watch_once(c, SNAPMAP_WATCH_SNAPSHOT);
}

static int call_read_watch(struct ctx *c, const struct op *op)
{
	ssize_t n = read(c->wfd, c->buf, sizeof(c->buf));

	return n < 0 ? -errno : n;
}

/*
 * After a write with a watch open: a write that failed left no record; one
 * that went through left its record, of the map's version now, or the
 * watch is told it lost it.  Nothing else is in the watch.  (A write whose
 * answer could not be written back went through: EFAULT with the map
 * changed, which the sweep checks is the clean call's map.)
 */
static unsigned int records_lost;	/* by the writes of a sweep */

static int after_watched_write(struct ctx *c, const struct op *op)
{
	struct epoll_event ev;
	struct snapmap_info info;
	struct sm_change ch;
	int woken;
	ssize_t n;

	/* Only a wake-up puts the watch in the set's ready list. */
	woken = epoll_wait(c->wep, &ev, 1, 0);
	n = read(c->wfd, c->buf, sizeof(c->buf));
	if (n < 0 && errno == ESTALE) {
		records_lost++;
		return c->ret < 0 || woken != 1 ? -EPROTO : c->ret;
	}
	if (woken)
		return -EPROTO;
	if (c->ret < 0 && n < 0 && errno == EAGAIN)
		return c->ret;
	if (c->ret < 0 && c->ret != -EFAULT)
		return -EPROTO;
	if (n <= 0 || sm_info(c->fd, &info) ||
	    !sm_change_parse(c->buf, n, &ch) ||
	    ch.hdr.version != info.out_version ||
	    read(c->wfd, c->buf, sizeof(c->buf)) != -1 || errno != EAGAIN)
		return -EPROTO;
	return c->ret;
}

/*
 * After a read of the watch: what it took and what is left are the three
 * records, each once, in order, whether the read failed or not.
 */
static int after_read_watch(struct ctx *c, const struct op *op)
{
	size_t got = c->ret > 0 ? c->ret : 0, off, size;
	struct sm_change ch;
	unsigned int i = 0;
	ssize_t n;

	n = read(c->wfd, c->buf + got, sizeof(c->buf) - got);
	if (n < 0 && (errno != EAGAIN || !got))
		return -EPROTO;
	got += n > 0 ? n : 0;
	for (off = 0; off < got; off += size, i++) {
		size = sm_change_parse(c->buf + off, got - off, &ch);
		if (!size || i == 3 || ch.hdr.type != SNAPMAP_CHANGE_PUT ||
		    ch.hdr.version != c->wversion[i])
			break;
	}
	return i == 3 && off == got ? c->ret : -EPROTO;
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

/* The entries of the transactions, and what each names. */
enum { T_IF_VALUE, T_IF_VERSION, T_IF_ABSENT, T_IF_PRESENT, T_CONDS };
enum { T_PUT_NEW, T_PUT_REPLACE, T_PUT_BIG, T_DEL, T_DEL_ABSENT, T_OPS };

#define T_NEW_VALUE "new value"
#define T_REPLACED "replaced by the transaction"

/*
 * Fill in a transaction: conditions on key-3's value, key-5's version,
 * a key that is absent and that nothing writes, and the long key present;
 * a PUT of a new key, one of an existing key, one of a new key with a
 * value too long for its node, a DEL of a present key and one of an
 * absent key.  With @cancel, the condition on the version asks for
 * another one: it does not hold.
 */
static void txn_fill(struct ctx *c, bool cancel)
{
	static char value3[VAL_MAX], key6[KEY_MAX], big_value[HUGE_VAL];
	struct snapmap_txn_cond *k = c->conds;
	struct snapmap_txn_op *o = c->txn_ops;
	__u32 value3_len, key6_len;

	value_of(3, value3, &value3_len);
	key_of(6, key6, &key6_len);
	memset(big_value, 'T', sizeof(big_value));
	memset(c->conds, 0, sizeof(c->conds));
	memset(c->txn_ops, 0, sizeof(c->txn_ops));
	k[T_IF_VALUE] = (struct snapmap_txn_cond){
		.kind = SNAPMAP_TXN_IF_VALUE, .key_len = 5,
		.value_len = value3_len, .key = SM_PTR("key-3"),
		.value = SM_PTR(value3),
	};
	k[T_IF_VERSION] = (struct snapmap_txn_cond){
		.kind = SNAPMAP_TXN_IF_VERSION, .key_len = 5,
		.key = SM_PTR("key-5"), .version = c->version[5] + cancel,
	};
	k[T_IF_ABSENT] = (struct snapmap_txn_cond){
		.kind = SNAPMAP_TXN_IF_ABSENT, .key_len = 8,
		.key = SM_PTR("t-absent"),
	};
	k[T_IF_PRESENT] = (struct snapmap_txn_cond){
		.kind = SNAPMAP_TXN_IF_PRESENT, .key_len = key6_len,
		.key = SM_PTR(key6),
	};
	o[T_PUT_NEW] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_PUT, .key_len = 5,
		.value_len = strlen(T_NEW_VALUE), .key = SM_PTR("t-new"),
		.value = SM_PTR(T_NEW_VALUE),
	};
	o[T_PUT_REPLACE] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_PUT, .key_len = 5,
		.value_len = strlen(T_REPLACED), .key = SM_PTR("key-2"),
		.value = SM_PTR(T_REPLACED),
	};
	o[T_PUT_BIG] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_PUT, .key_len = 5,
		.value_len = sizeof(big_value), .key = SM_PTR("t-big"),
		.value = SM_PTR(big_value),
	};
	o[T_DEL] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_DEL, .key_len = 5, .key = SM_PTR("key-4"),
	};
	o[T_DEL_ABSENT] = (struct snapmap_txn_op){
		.opcode = SNAPMAP_TXN_DEL, .key_len = 6, .key = SM_PTR("t-gone"),
	};
}

/* An out_failed the module never writes, to tell when it wrote none. */
#define UNTOUCHED 0x5a5a5a5aU

static int txn_call(struct ctx *c, bool cancel)
{
	struct snapmap_txn arg = {
		.size = sizeof(arg), .cond_count = T_CONDS,
		.cond_size = sizeof(c->conds[0]), .op_count = T_OPS,
		.op_size = sizeof(c->txn_ops[0]), .conds = SM_PTR(c->conds),
		.ops = SM_PTR(c->txn_ops), .out_failed = UNTOUCHED,
	};
	int ret;

	txn_fill(c, cancel);
	ret = sm_ret(ioctl(c->fd, SNAPMAP_IOC_TXN, &arg));
	c->out_version = arg.out_version;
	c->out_failed = arg.out_failed;
	return ret;
}

static int call_txn(struct ctx *c, const struct op *op)
{
	return txn_call(c, false);
}

static int call_txn_cancel(struct ctx *c, const struct op *op)
{
	return txn_call(c, true);
}

/* SNAPMAP_IOC_SNAPSHOT_GET of key @i on @sfd, into @buf. */
static int snapshot_get(struct ctx *c, int sfd, unsigned int i,
			unsigned char *buf)
{
	char key[KEY_MAX];
	struct snapmap_get arg = {
		.size = sizeof(arg), .value_buf_len = VAL_MAX,
		.key = SM_PTR(key), .value = SM_PTR(buf),
	};
	int ret;

	key_of(i, key, &arg.key_len);
	ret = sm_ret(ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_GET, &arg));
	c->out_value_len = arg.out_value_len;
	c->out_version = arg.out_version;
	return ret;
}

/* The long key and its value, too long for the stack's buffers. */
static int call_snapshot_get(struct ctx *c, const struct op *op)
{
	return snapshot_get(c, c->sfd, 6, c->buf);
}

/* The same, into pages the value's straight copy cannot fault in. */
static int call_snapshot_get_fresh(struct ctx *c, const struct op *op)
{
	return snapshot_get(c, c->sfd, 6, c->fresh);
}

/* key-1, deleted since the pinning snapshot was taken. */
static int call_snapshot_get_pinned(struct ctx *c, const struct op *op)
{
	return snapshot_get(c, c->pin, 1, c->buf);
}

static int call_snapshot_get_weak(struct ctx *c, const struct op *op)
{
	return snapshot_get(c, c->sfd, 2, c->buf);
}

/* The GETs of a batch at one version: each key, and where its value goes. */
static const struct {
	int key;		/* of key_of(), or -1: absent */
	int result;
} mget_keys[] = { { 2, 0 }, { 6, 0 }, { -1, -ENOENT }, { 7, 0 } };

#define MGET_OPS ARRAY_SIZE(mget_keys)

static unsigned char *mget_buf(struct ctx *c, unsigned int i)
{
	/* The long value into fresh pages, for a buffer of the GET's own. */
	return mget_keys[i].key == 6 ? c->fresh : c->buf + i * VAL_MAX;
}

static int call_batch_snapshot(struct ctx *c, const struct op *op)
{
	static char keys[MGET_OPS][KEY_MAX];
	struct snapmap_batch arg = {
		.size = sizeof(arg), .flags = SNAPMAP_BATCH_SNAPSHOT,
		.count = MGET_OPS, .op_size = sizeof(c->ops[0]),
		.ops = SM_PTR(c->ops),
	};
	unsigned int i;
	int ret;

	memset(c->ops, 0, sizeof(c->ops));
	for (i = 0; i < MGET_OPS; i++) {
		c->ops[i].opcode = SNAPMAP_BATCH_GET;
		c->ops[i].value_len = VAL_MAX;
		c->ops[i].value = SM_PTR(mget_buf(c, i));
		c->ops[i].key = SM_PTR(keys[i]);
		if (mget_keys[i].key < 0)
			c->ops[i].key_len = sprintf(keys[i], "absent");
		else
			key_of(mget_keys[i].key, keys[i], &c->ops[i].key_len);
		/* Tells an op that never ran from one that did. */
		c->ops[i].out_result = 1;
	}
	ret = sm_ret(ioctl(c->fd, SNAPMAP_IOC_BATCH, &arg));
	c->out_version = arg.out_version;
	return ret;
}

/* Checks. */

/* @len bytes at @buf and @version are key @i's as first written. */
static void expect_first_value(struct __test_metadata *_metadata,
			       struct ctx *c, unsigned int i,
			       const unsigned char *buf, __u32 len,
			       __u64 version)
{
	static char value[VAL_MAX];
	__u32 value_len;

	value_of(i, value, &value_len);
	EXPECT_EQ(value_len, len);
	if (len == value_len)
		EXPECT_EQ(0, memcmp(value, buf, len));
	EXPECT_EQ(c->version[i], version);
}

/* GET of key @i finds it as first written. */
static void expect_get_first(struct __test_metadata *_metadata,
			     struct ctx *c, unsigned int i)
{
	char key[KEY_MAX];
	__u32 key_len, len = 0;
	__u64 version = 0;

	key_of(i, key, &key_len);
	EXPECT_EQ(0, sm_get(c->fd, key, key_len, c->buf, VAL_MAX, &len,
			    &version));
	expect_first_value(_metadata, c, i, c->buf, len, version);
}

/*
 * Every write took effect at one version, the map's last; the keys only
 * the conditions named, and the absent key deleted, are still absent.
 */
static void expect_txn(struct __test_metadata *_metadata, struct ctx *c,
		       const struct snapmap_info *before,
		       const struct snapmap_info *after)
{
	__u32 len = 0;
	__u64 version = 0;
	unsigned int i;

	EXPECT_EQ(0, c->ret);
	EXPECT_EQ(SNAPMAP_TXN_NONE, c->out_failed);
	EXPECT_LT(before->out_version, c->out_version);
	EXPECT_EQ(after->out_version, c->out_version);
	/* Two keys more, one less; three PUTs and one DEL that deleted. */
	EXPECT_EQ(before->out_entries + 1, after->out_entries);
	EXPECT_EQ(before->out_puts + 3, after->out_puts);
	EXPECT_EQ(before->out_dels + 1, after->out_dels);
	EXPECT_VALUE(c->fd, "t-new", 5, T_NEW_VALUE, strlen(T_NEW_VALUE),
		     c->out_version);
	EXPECT_VALUE(c->fd, "key-2", 5, T_REPLACED, strlen(T_REPLACED),
		     c->out_version);
	ASSERT_EQ(0, sm_get(c->fd, "t-big", 5, c->buf, sizeof(c->buf), &len,
			    &version));
	EXPECT_EQ(HUGE_VAL, len);
	for (i = 0; i < HUGE_VAL && c->buf[i] == 'T'; i++)
		;
	EXPECT_EQ(HUGE_VAL, i);
	EXPECT_EQ(c->out_version, version);
	EXPECT_EQ(-ENOENT, sm_get(c->fd, "key-4", 5, c->buf, 64, NULL, NULL));
	EXPECT_EQ(-ENOENT, sm_get(c->fd, "t-gone", 6, c->buf, 64, NULL, NULL));
	EXPECT_EQ(-ENOENT, sm_get(c->fd, "t-absent", 8, c->buf, 64, NULL,
				  NULL));
}

/* The condition on the version is named, and nothing changed. */
static void expect_txn_cancel(struct __test_metadata *_metadata,
			      struct ctx *c, const struct snapmap_info *before,
			      const struct snapmap_info *after)
{
	EXPECT_EQ(-ECANCELED, c->ret);
	EXPECT_EQ(T_IF_VERSION, c->out_failed);
	EXPECT_EQ(0, c->out_version);
	EXPECT_MAP_UNCHANGED(*before, *after);
	EXPECT_EQ(-ENOENT, sm_get(c->fd, "t-new", 5, c->buf, 64, NULL, NULL));
	EXPECT_EQ(-ENOENT, sm_get(c->fd, "t-absent", 8, c->buf, 64, NULL,
				  NULL));
	expect_get_first(_metadata, c, 2);
	expect_get_first(_metadata, c, 4);
}

/* The long key's value as the ATOMIC snapshot holds it. */
static void expect_snapshot_get(struct __test_metadata *_metadata,
				struct ctx *c, const struct snapmap_info *before,
				const struct snapmap_info *after)
{
	EXPECT_EQ(0, c->ret);
	expect_first_value(_metadata, c, 6, c->buf, c->out_value_len,
			   c->out_version);
	EXPECT_MAP_UNCHANGED(*before, *after);
}

static void expect_snapshot_get_fresh(struct __test_metadata *_metadata,
				      struct ctx *c,
				      const struct snapmap_info *before,
				      const struct snapmap_info *after)
{
	EXPECT_EQ(0, c->ret);
	expect_first_value(_metadata, c, 6, c->fresh, c->out_value_len,
			   c->out_version);
	EXPECT_MAP_UNCHANGED(*before, *after);
}

/* key-1, deleted since: the value the pinning snapshot holds. */
static void expect_snapshot_get_pinned(struct __test_metadata *_metadata,
				       struct ctx *c,
				       const struct snapmap_info *before,
				       const struct snapmap_info *after)
{
	EXPECT_EQ(0, c->ret);
	expect_first_value(_metadata, c, 1, c->buf, c->out_value_len,
			   c->out_version);
	EXPECT_EQ(-ENOENT, sm_get(c->fd, "key-1", 5, c->buf, 64, NULL, NULL));
	EXPECT_MAP_UNCHANGED(*before, *after);
}

static void expect_snapshot_get_weak(struct __test_metadata *_metadata,
				     struct ctx *c,
				     const struct snapmap_info *before,
				     const struct snapmap_info *after)
{
	EXPECT_EQ(0, c->ret);
	expect_first_value(_metadata, c, 2, c->buf, c->out_value_len,
			   c->out_version);
	EXPECT_MAP_UNCHANGED(*before, *after);
}

/* The answer of GET @i of the batch at one version, had it run cleanly. */
static void expect_mget_op(struct __test_metadata *_metadata, struct ctx *c,
			   unsigned int i)
{
	const struct snapmap_batch_op *o = &c->ops[i];

	EXPECT_EQ(mget_keys[i].result, o->out_result) {
		TH_LOG("op %u", i);
	}
	if (mget_keys[i].key < 0) {
		EXPECT_EQ(0, o->out_value_len);
		EXPECT_EQ(0, o->out_version);
	} else {
		expect_first_value(_metadata, c, mget_keys[i].key,
				   mget_buf(c, i), o->out_value_len,
				   o->out_version);
	}
}

/*
 * Every GET read the map at the batch's version, which its snapshot took:
 * the map's version moved by that one, and nothing else changed.
 */
static void expect_batch_snapshot(struct __test_metadata *_metadata,
				  struct ctx *c,
				  const struct snapmap_info *before,
				  const struct snapmap_info *after)
{
	struct snapmap_info moved = *before;
	unsigned int i;

	EXPECT_EQ(0, c->ret);
	for (i = 0; i < MGET_OPS; i++)
		expect_mget_op(_metadata, c, i);
	moved.out_version++;
	EXPECT_EQ(after->out_version, c->out_version);
	EXPECT_MAP_UNCHANGED(moved, *after);
}

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

/*
 * The batch at one version under a fault.  It fails as a whole (its
 * argument, its snapshot, an op's read or answer: EFAULT or ENOMEM), or
 * an op reports the fault's errno; at most one of them.  An op that
 * reports a result reports what it reports in a clean batch, or that
 * errno; an op that reports nothing never ran, or ran and lost its answer,
 * and the ops after it never ran.  The map is exactly as before but for
 * its version, which the batch's snapshot moved by one if it was taken:
 * before any op ran, and never if the batch failed for memory (the
 * snapshot's, since an op's goes to its out_result).  Returns whether the
 * fault made anything fail.
 */
static bool check_batch_snapshot(struct __test_metadata *_metadata,
				 struct ctx *c, const struct state *before,
				 struct state *after, int kind)
{
	int err = kind == FAULT_USERCOPY ? -EFAULT : -ENOMEM;
	struct snapmap_info moved = before->info;
	unsigned int i, failed = 0, ran = 0;
	bool stopped = false;

	EXPECT_TRUE(c->ret == 0 || c->ret == err) {
		TH_LOG("batch returned %d", c->ret);
	}
	for (i = 0; i < MGET_OPS; i++) {
		if (stopped) {
			EXPECT_EQ(1, c->ops[i].out_result);
		} else if (c->ops[i].out_result == 1) {
			EXPECT_EQ(err, c->ret);
			stopped = true;
		} else if (c->ops[i].out_result != mget_keys[i].result) {
			EXPECT_EQ(err, c->ops[i].out_result);
			failed++;
			ran++;
		} else {
			expect_mget_op(_metadata, c, i);
			ran++;
		}
	}
	EXPECT_GE(1, failed + (c->ret != 0));

	/* The snapshot moved the version, if it was taken. */
	if (after->info.out_version == moved.out_version + 1 &&
	    c->ret != -ENOMEM)
		moved.out_version++;
	else
		EXPECT_EQ(0, ran);
	if (!c->ret)
		EXPECT_EQ(after->info.out_version, c->out_version);
	EXPECT_MAP_UNCHANGED(moved, after->info);
	state_free(after);
	ASSERT_EQ(0, state_take(c->fd, after));
	ASSERT_EQ(before->len, after->len);
	EXPECT_EQ(0, memcmp(before->dump, after->dump, before->len));
	return c->ret || failed;
}

/*
 * What a transaction that failed at an injected fault answered: no
 * version, and no entry for a failed allocation; for a failed copy, the
 * entry it was reading, or no answer at all (the copies of its argument).
 * One whose answer could not be written back once it had @committed
 * leaves the answer it wrote before it began: no version, no entry.
 */
static void check_txn_failed(struct __test_metadata *_metadata,
			     const struct ctx *c, int kind, bool committed)
{
	EXPECT_EQ(0, c->out_version);
	if (kind == FAULT_USERCOPY && !committed) {
		EXPECT_TRUE(c->out_failed == UNTOUCHED ||
			    c->out_failed < T_CONDS + T_OPS) {
			TH_LOG("EFAULT naming entry %#x", c->out_failed);
		}
	} else {
		EXPECT_EQ(SNAPMAP_TXN_NONE, c->out_failed);
	}
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
OP(create_persistent, .call = call_create_persistent, .result = RES_MAP_FD);
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
OP(clear, .call = call_clear, .background = true);
OP(clear_pinned, .call = call_clear, .pinned = true, .background = true);
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
OP(txn, .call = call_txn, .expect = expect_txn);
OP(txn_pinned, .call = call_txn, .pinned = true, .expect = expect_txn);
OP(txn_cancel, .call = call_txn_cancel, .expect = expect_txn_cancel);
OP(batch_snapshot, .call = call_batch_snapshot, .fresh = true,
   .expect = expect_batch_snapshot);
OP(snapshot_get, .call = call_snapshot_get, .snap = true,
   .expect = expect_snapshot_get);
OP(snapshot_get_fresh, .call = call_snapshot_get_fresh, .snap = true,
   .fresh = true, .expect = expect_snapshot_get_fresh);
OP(snapshot_get_pinned, .call = call_snapshot_get_pinned, .pinned = true,
   .expect = expect_snapshot_get_pinned);
OP(snapshot_get_weak, .call = call_snapshot_get_weak, .snap = true,
   .snap_flags = SNAPMAP_SNAPSHOT_WEAK, .expect = expect_snapshot_get_weak);
OP(watch, .call = call_watch);
OP(watch_snapshot, .call = call_watch_snapshot, .own_snapshot = true);
OP(put_new_watched, .call = call_put_new, .watched = true,
   .after = after_watched_write);
OP(put_replace_watched, .call = call_put_replace, .watched = true,
   .after = after_watched_write);
OP(del_watched, .call = call_del, .watched = true,
   .after = after_watched_write);
OP(txn_watched, .call = call_txn, .watched = true,
   .after = after_watched_write, .expect = expect_txn);
OP(clear_watched, .call = call_clear, .watched = true, .background = true,
   .after = after_watched_write);
OP(read_watch, .call = call_read_watch, .result = RES_WATCH_READ,
   .watched = true, .after = after_read_watch);
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
	if (op->after)
		c->ret = op->after(c, op);
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
		if (op->background)
			after->info.out_bytes = ref->info.out_bytes;
		EXPECT_MAP_UNCHANGED(ref->info, after->info);
		state_free(after);
		ASSERT_EQ(0, state_take(c->fd, after));
		if (op->background)
			after->info.out_bytes = ref->after.info.out_bytes;
		expect_same_state(_metadata, &ref->after, after);
		return;
	}
	if ((op->clone || op->own_snapshot) &&
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
	if (op->call == call_create_named || op->call == call_clone_named ||
	    op->call == call_create_persistent)
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
	records_lost = 0;

	/* The clean call. */
	run_one(_metadata, &self->fault, op, 0, c, &before, &ref.after);
	ref.ret = c->ret;
	ref.info = ref.after.info;
	ASSERT_TRUE(op->result == RES_NONE || c->ret >= 0) {
		TH_LOG("the clean call failed: %d", c->ret);
	}
	if (op->expect)
		op->expect(_metadata, c, &before.info, &ref.after.info);
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
			if (op->expect)
				op->expect(_metadata, c, &before.info,
					   &after.info);
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
		} else if (op->call == call_batch_snapshot) {
			if (check_batch_snapshot(_metadata, c, &before,
						 &after, kind))
				failed++;
			else
				absorbed++;
		} else if (c->ret == ref.ret ||
			   (c->ret >= 0 && op->result != RES_NONE)) {
			/* The failed point was one that copes. */
			absorbed++;
			state_free(&after);
			ASSERT_EQ(0, state_take(c->fd, &after));
			if (op->background)
				after.info.out_bytes =
					ref.after.info.out_bytes;
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
			if (op->call == call_txn || op->call == call_txn_cancel)
				check_txn_failed(_metadata, c, kind,
						 committed == nth);
			/* No fd and no map left behind. */
			EXPECT_EQ(fds + 2 + (c->pin >= 0) + (c->sfd >= 0) +
				  (c->wfd >= 0) + (c->wep >= 0), SM_COUNT_FDS());
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
	/*
	 * A watched write's record is allocated apart from the write, and a
	 * failure there loses the record, not the write: some point did.
	 */
	if (op->after == after_watched_write) {
		EXPECT_LT(0, records_lost) {
			TH_LOG("%s: no fault point lost a record", op->name);
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
