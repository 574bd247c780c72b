// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: watches.
 *
 * SNAPMAP_IOC_WATCH: every change once, in the order of its version, with
 * transactions counted; where a watch starts (now, an older version, a
 * snapshot of its own); non-blocking reads, poll and a blocked reader
 * woken; a buffer too small, a fault, and nothing lost; a watch that
 * falls behind is told so, and comes back through a snapshot; one that
 * keeps up with many times its buffer loses nothing; a prefix;
 * every errno of the ioctl; a watch outliving its map fd; a wakeup mark
 * (wakeup_bytes): poll and a blocking read wait for enough records, a
 * non-blocking read takes what there is, a lost change wakes at once,
 * with a snapshot and a prefix, the structure's first size.  Then the
 * replica: writers PUT, DEL, CLEAR and run transactions while a watcher
 * keeps a copy from a snapshot and the feed, equal at many points to an
 * ATOMIC snapshot of the same version.
 */

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "snapmap_test.h"

#define KEY_MAX 32
#define VAL_MAX 64

/* A change as read, copied out of the read buffer. */
struct change {
	__u32 type;
	__u32 count;
	__u64 version;
	__u32 key_len;
	__u32 value_len;
	char key[KEY_MAX + 1];
	char value[VAL_MAX + 1];
};

/* Copy the parsed change @c into @out. */
static void change_copy(struct change *out, const struct sm_change *c)
{
	memset(out, 0, sizeof(*out));
	out->type = c->hdr.type;
	out->count = c->hdr.count;
	out->version = c->hdr.version;
	out->key_len = c->hdr.key_len;
	out->value_len = c->hdr.value_len;
	if (c->hdr.key_len <= KEY_MAX)
		memcpy(out->key, c->key, c->hdr.key_len);
	if (c->hdr.value_len <= VAL_MAX)
		memcpy(out->value, c->value, c->hdr.value_len);
}

/*
 * Read every change the non-blocking watch fd @wfd has ready into @out,
 * at most @max.  Returns their number; -errno of a read that failed
 * before any change was read (EAGAIN ends the reading); -EPROTO for bytes
 * that are not whole records; -E2BIG for more than @max.
 */
static int read_ready(int wfd, struct change *out, int max)
{
	static unsigned char buf[1 << 16];
	struct sm_change c;
	size_t off, size;
	ssize_t len;
	int n = 0;

	for (;;) {
		len = read(wfd, buf, sizeof(buf));
		if (len < 0)
			return errno == EAGAIN || n ? n : -errno;
		for (off = 0; off < (size_t)len; off += size) {
			size = sm_change_parse(buf + off, len - off, &c);
			if (!size)
				return -EPROTO;
			if (n == max)
				return -E2BIG;
			change_copy(&out[n++], &c);
		}
	}
}

static int nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

#define EXPECT_CHANGE(c, t, k, v, ver) do {				\
	EXPECT_EQ(t, (c).type);						\
	EXPECT_STREQ(k, (c).key);					\
	EXPECT_EQ(strlen(k), (c).key_len);				\
	EXPECT_STREQ(v, (c).value);					\
	EXPECT_EQ(strlen(v), (c).value_len);				\
	EXPECT_EQ(ver, (c).version);					\
	EXPECT_EQ(0, (c).count);					\
} while (0)

/* A transaction of PUTs of @keys[i] = @values[i] and DELs of @dels[i]. */
static int txn(int fd, const char *const *keys, const char *const *values,
	       int nr_puts, const char *const *dels, int nr_dels, __u64 *v)
{
	struct snapmap_txn_op o[8] = {};
	struct snapmap_txn arg = {
		.size = sizeof(arg),
		.cond_size = sizeof(struct snapmap_txn_cond),
		.op_count = nr_puts + nr_dels,
		.op_size = sizeof(o[0]),
		.ops = SM_PTR(o),
	};
	int i, ret;

	for (i = 0; i < nr_puts; i++) {
		o[i].opcode = SNAPMAP_TXN_PUT;
		o[i].key = SM_PTR(keys[i]);
		o[i].key_len = strlen(keys[i]);
		o[i].value = SM_PTR(values[i]);
		o[i].value_len = strlen(values[i]);
	}
	for (i = 0; i < nr_dels; i++) {
		o[nr_puts + i].opcode = SNAPMAP_TXN_DEL;
		o[nr_puts + i].key = SM_PTR(dels[i]);
		o[nr_puts + i].key_len = strlen(dels[i]);
	}
	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_TXN, &arg));
	if (!ret && v)
		*v = arg.out_version;
	return ret;
}

FIXTURE(watch) {
	int ctl;
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(watch)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(self->name, sizeof(self->name), "watch_test-%d",
		 (int)getpid());
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 4096, 0, 0,
			     self->name);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(watch)
{
	if (self->fd >= 0)
		EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/*
 * PUT, DEL, a transaction and CLEAR, each once, in the order of their
 * versions; writes that change nothing have no record.
 */
TEST_F(watch, changes_in_order)
{
	static const char *const tk[] = { "c" }, *const tv[] = { "3" };
	static const char *const td[] = { "b", "absent" };
	struct change ch[16];
	__u64 start, va, vb, vda, vt, vc;
	struct snapmap_info info;
	int wfd;

	ASSERT_EQ(0, sm_put_str(self->fd, "before", "0", NULL));
	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, &start, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(info.out_version, start);
	ASSERT_EQ(0, nonblock(wfd));
	EXPECT_EQ(0, read_ready(wfd, ch, 16));

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "1", &va));
	ASSERT_EQ(0, sm_put_str(self->fd, "b", "22", &vb));
	ASSERT_EQ(0, sm_del_str(self->fd, "a", &vda));
	ASSERT_EQ(-ENOENT, sm_del_str(self->fd, "a", NULL));
	ASSERT_EQ(0, txn(self->fd, tk, tv, 1, td, 2, &vt));
	ASSERT_EQ(0, sm_clear(self->fd, &vc));
	/* An empty map's CLEAR changes nothing. */
	ASSERT_EQ(0, sm_clear(self->fd, NULL));

	ASSERT_EQ(7, read_ready(wfd, ch, 16));
	EXPECT_LT(start, va);
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "a", "1", va);
	EXPECT_CHANGE(ch[1], SNAPMAP_CHANGE_PUT, "b", "22", vb);
	EXPECT_CHANGE(ch[2], SNAPMAP_CHANGE_DEL, "a", "", vda);
	/* The deletion of an absent key is no write of the transaction. */
	EXPECT_EQ(SNAPMAP_CHANGE_TXN, ch[3].type);
	EXPECT_EQ(2, ch[3].count);
	EXPECT_EQ(vt, ch[3].version);
	EXPECT_EQ(0, ch[3].key_len);
	EXPECT_CHANGE(ch[4], SNAPMAP_CHANGE_PUT, "c", "3", vt);
	EXPECT_CHANGE(ch[5], SNAPMAP_CHANGE_DEL, "b", "", vt);
	EXPECT_CHANGE(ch[6], SNAPMAP_CHANGE_CLEAR, "", "", vc);
	EXPECT_EQ(0, read_ready(wfd, ch, 16));
	EXPECT_EQ(0, close(wfd));
}

/*
 * A watch from an older version replays what the map kept since; one
 * from before the map kept anything, or from a version it has not
 * reached, is refused.
 */
TEST_F(watch, since)
{
	struct change ch[8];
	__u64 start, vx, vy, vz;
	struct snapmap_info info;
	int w1, w2;

	ASSERT_EQ(0, sm_put_str(self->fd, "old", "0", NULL));
	w1 = sm_watch(self->fd, 0, 0, NULL, 0, 0, &start, NULL);
	ASSERT_LE(0, w1);
	ASSERT_EQ(0, sm_put_str(self->fd, "x", "1", &vx));
	ASSERT_EQ(0, sm_put_str(self->fd, "y", "2", &vy));

	/* From the start of the first watch: both. */
	w2 = sm_watch(self->fd, SNAPMAP_WATCH_SINCE, start, NULL, 0, 0,
		      &vz, NULL);
	ASSERT_LE(0, w2);
	EXPECT_EQ(start, vz);
	ASSERT_EQ(0, nonblock(w2));
	ASSERT_EQ(2, read_ready(w2, ch, 8));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "x", "1", vx);
	EXPECT_CHANGE(ch[1], SNAPMAP_CHANGE_PUT, "y", "2", vy);
	EXPECT_EQ(0, close(w2));

	/* From x's version: y only. */
	w2 = sm_watch(self->fd, SNAPMAP_WATCH_SINCE, vx, NULL, 0, 0, NULL,
		      NULL);
	ASSERT_LE(0, w2);
	ASSERT_EQ(0, nonblock(w2));
	ASSERT_EQ(1, read_ready(w2, ch, 8));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "y", "2", vy);
	EXPECT_EQ(0, close(w2));

	/* Before the first watch, the map kept nothing. */
	EXPECT_EQ(-ESTALE, sm_watch(self->fd, SNAPMAP_WATCH_SINCE, start - 1,
				    NULL, 0, 0, NULL, NULL));
	/* A version the map has not reached. */
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(-EINVAL, sm_watch(self->fd, SNAPMAP_WATCH_SINCE,
				    info.out_version + 1, NULL, 0, 0, NULL,
				    NULL));
	/* The map's own version: nothing to replay. */
	w2 = sm_watch(self->fd, SNAPMAP_WATCH_SINCE, info.out_version, NULL,
		      0, 0, NULL, NULL);
	ASSERT_LE(0, w2);
	ASSERT_EQ(0, nonblock(w2));
	EXPECT_EQ(0, read_ready(w2, ch, 8));
	EXPECT_EQ(0, close(w2));
	EXPECT_EQ(0, close(w1));

	/* With no watch open, the map keeps nothing. */
	ASSERT_EQ(0, sm_put_str(self->fd, "z", "3", &vz));
	EXPECT_EQ(-ESTALE, sm_watch(self->fd, SNAPMAP_WATCH_SINCE, vz - 1,
				    NULL, 0, 0, NULL, NULL));
}

/* A watch with a snapshot of its own: the snapshot, then every change. */
TEST_F(watch, with_a_snapshot)
{
	struct snapmap_snapshot_info si;
	char buf[16];
	struct change ch[4];
	__u64 start, va, vb, v;
	__u32 len = 0;
	int wfd, sfd = -1;

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "1", &va));
	wfd = sm_watch(self->fd, SNAPMAP_WATCH_SNAPSHOT, 0, NULL, 0, 0, &start,
		       &sfd);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, sfd);
	EXPECT_NE(wfd, sfd);
	EXPECT_LT(va, start);
	ASSERT_EQ(0, sm_snapshot_info(sfd, &si));
	EXPECT_EQ(start, si.out_version);
	EXPECT_EQ(1, si.out_entries);
	EXPECT_EQ(FD_CLOEXEC, fcntl(sfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(wfd, F_GETFD) & FD_CLOEXEC);

	ASSERT_EQ(0, sm_put_str(self->fd, "b", "2", &vb));
	ASSERT_EQ(0, nonblock(wfd));
	ASSERT_EQ(1, read_ready(wfd, ch, 4));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "b", "2", vb);
	EXPECT_EQ(-ENOENT, sm_snapshot_get(sfd, "b", 1, buf, sizeof(buf),
					   &len, &v));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(wfd));

	/* Without the flag, no snapshot fd. */
	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, &sfd);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(-1, sfd);
	EXPECT_EQ(0, close(wfd));
}

/* The thread a watcher is blocked in, and what it read. */
struct blocked_reader {
	int wfd;
	pid_t tid;
	int done;		/* set once read(2) has returned */
	ssize_t len;
	unsigned char buf[256];
};

static void *blocked_read(void *arg)
{
	struct blocked_reader *r = arg;

	__atomic_store_n(&r->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	r->len = read(r->wfd, r->buf, sizeof(r->buf));
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Whether thread @tid is asleep ('S' in its stat). */
static int thread_sleeps(pid_t tid)
{
	char path[64], stat[256], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if (sm_read_file(path, stat, sizeof(stat)))
		return 0;
	p = strrchr(stat, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

/* Start @r's thread, and wait until it is asleep in read(2). */
static void blocked_reader_start(struct __test_metadata *_metadata,
				 struct blocked_reader *r, pthread_t *thread)
{
	double deadline;

	ASSERT_EQ(0, pthread_create(thread, NULL, blocked_read, r));
	deadline = sm_now() + SM_WAIT_SECONDS;
	while (!(__atomic_load_n(&r->tid, __ATOMIC_SEQ_CST) &&
		 thread_sleeps(r->tid)) && sm_now() < deadline)
		sched_yield();
}

/*
 * One change read by a reader asleep in read(2), after it went to sleep;
 * its version in *@v.
 */
static void put_to_sleeper(struct __test_metadata *_metadata, int fd,
			   int wfd, const char *value, __u64 *v)
{
	struct blocked_reader r = { .wfd = wfd };
	struct sm_change c;
	pthread_t thread;

	blocked_reader_start(_metadata, &r, &thread);
	ASSERT_EQ(0, sm_put_str(fd, "k", value, v));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(SNAPMAP_CHANGE_SIZE(1, 1), r.len);
	ASSERT_NE(0, sm_change_parse(r.buf, r.len, &c));
	EXPECT_EQ(*v, c.hdr.version);
	EXPECT_EQ(value[0], c.value[0]);
}

/*
 * Non-blocking: EAGAIN, and poll says not readable until a change comes.
 * Blocking: a reader asleep in read(2) is woken by the change.
 */
TEST_F(watch, poll_and_wait)
{
	struct pollfd pfd;
	unsigned char buf[64];
	__u64 v;
	int wfd;

	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	EXPECT_ERRNO(EAGAIN, read(wfd, buf, sizeof(buf)));
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(SNAPMAP_CHANGE_SIZE(1, 1), read(wfd, buf, sizeof(buf)));
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* Blocking again; the reader goes to sleep before the write. */
	ASSERT_EQ(0, fcntl(wfd, F_SETFL, 0));
	put_to_sleeper(_metadata, self->fd, wfd, "w", &v);
	EXPECT_EQ(0, close(wfd));
}

/*
 * A reader that found several changes at one look, then sleeps, is woken
 * by a timer after watch_coalesce_us, not by the next writer; having then
 * found one change, by the writer again: the change written while it
 * sleeps is read either way.  The same with coalescing off.  The delay is
 * the ceiling, 10 ms, for the first write to fall in its window.
 */
TEST_F(watch, coalesced_wakeups_lose_nothing)
{
	static const unsigned long long delays[] = { 10000, 0 };
	unsigned long long saved = 0;
	struct change ch[3];
	__u64 v[3], w;
	unsigned int d;
	int wfd, i;

	ASSERT_EQ(0, sm_param("watch_coalesce_us", &saved));
	for (d = 0; d < sizeof(delays) / sizeof(delays[0]); d++) {
		ASSERT_EQ(0, sm_set_param("watch_coalesce_us", delays[d]));
		wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
		ASSERT_LE(0, wfd);
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v[i]));
		/* All three at one look: the first read takes them. */
		ASSERT_EQ(0, nonblock(wfd));
		ASSERT_EQ(3, read_ready(wfd, ch, 3));
		for (i = 0; i < 3; i++)
			EXPECT_CHANGE(ch[i], SNAPMAP_CHANGE_PUT, "k", "v", v[i]);
		ASSERT_EQ(0, fcntl(wfd, F_SETFL, 0));
		put_to_sleeper(_metadata, self->fd, wfd, "w", &w);
		put_to_sleeper(_metadata, self->fd, wfd, "x", &w);
		EXPECT_EQ(0, close(wfd));
	}
	EXPECT_EQ(0, sm_set_param("watch_coalesce_us", saved));
}

/*
 * A buffer too small for the next record: EMSGSIZE; a buffer that faults:
 * EFAULT; the record is still there for the next read either way.
 */
TEST_F(watch, small_buffer_and_fault_lose_nothing)
{
	size_t size = SNAPMAP_CHANGE_SIZE(3, 5);
	unsigned char buf[128];
	struct sm_change c;
	void *gone;
	__u64 v;
	int wfd;

	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	ASSERT_EQ(0, sm_put_str(self->fd, "key", "value", &v));

	EXPECT_ERRNO(EMSGSIZE, read(wfd, buf, size - 1));
	EXPECT_ERRNO(EMSGSIZE, read(wfd, buf, 0));
	gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(gone != MAP_FAILED);
	EXPECT_ERRNO(EFAULT, read(wfd, gone, 4096));
	EXPECT_EQ(0, munmap(gone, 4096));
	/* Unmapped now. */
	EXPECT_ERRNO(EFAULT, read(wfd, gone, 4096));

	memset(buf, 0xff, sizeof(buf));
	ASSERT_EQ(size, read(wfd, buf, sizeof(buf)));
	ASSERT_EQ(size, sm_change_parse(buf, size, &c));
	EXPECT_EQ(SNAPMAP_CHANGE_PUT, c.hdr.type);
	EXPECT_EQ(v, c.hdr.version);
	EXPECT_EQ(0, memcmp(c.key, "keyvalue", 8));
	/* The padding is zero, and nothing was written past the record. */
	EXPECT_EQ(0xff, buf[size]);
	EXPECT_ERRNO(EAGAIN, read(wfd, buf, sizeof(buf)));
	EXPECT_EQ(0, close(wfd));
}

/* A string key and value for key @i, version @round. */
static void kv(unsigned int i, unsigned int round, char *key, char *value)
{
	snprintf(key, KEY_MAX, "key-%u", i);
	snprintf(value, VAL_MAX, "%u-%u-%040u", i, round, round);
}

/*
 * A watch that does not read while the map changes more than its buffer
 * holds is told so, with ESTALE, as soon as a change it had to yield is
 * gone; poll says so too.  A new watch with a snapshot of its own gets
 * the map back exactly.
 */
TEST_F(watch, falls_behind_then_resyncs)
{
	char key[KEY_MAX], value[VAL_MAX], buf[VAL_MAX];
	struct change *ch;
	struct pollfd pfd;
	unsigned int i;
	int wfd, sfd, n;
	__u64 v;
	__u32 len;

	wfd = sm_watch(self->fd, 0, 0, NULL, 0, SNAPMAP_WATCH_MIN_BUFFER,
		       NULL, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	for (i = 0; i < 200; i++) {
		kv(i % 50, i, key, value);
		ASSERT_EQ(0, sm_put_str(self->fd, key, value, NULL));
	}
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_ERRNO(ESTALE, read(wfd, buf, sizeof(buf)));
	EXPECT_ERRNO(ESTALE, read(wfd, buf, sizeof(buf)));
	EXPECT_EQ(0, close(wfd));

	/* Back in step: the snapshot, then the changes since. */
	wfd = sm_watch(self->fd, SNAPMAP_WATCH_SNAPSHOT, 0, NULL, 0,
		       SNAPMAP_WATCH_MIN_BUFFER, NULL, &sfd);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	for (i = 0; i < 10; i++) {
		kv(i, 1000, key, value);
		ASSERT_EQ(0, sm_put_str(self->fd, key, value, NULL));
	}
	ch = calloc(16, sizeof(*ch));
	ASSERT_TRUE(ch != NULL);
	n = read_ready(wfd, ch, 16);
	ASSERT_EQ(10, n);
	for (i = 0; i < 50; i++) {
		char want[VAL_MAX], snap[VAL_MAX] = "";
		unsigned int j;

		kv(i, 0, key, want);
		len = 0;
		/* The last value the snapshot saw of each key... */
		EXPECT_EQ(0, sm_snapshot_get(sfd, key, strlen(key), snap,
					     sizeof(snap) - 1, &len, &v));
		snap[len] = 0;
		kv(i, 150 + i, key, want);
		EXPECT_STREQ(want, snap);
		/* ...then the changes since, equal to the map now. */
		for (j = 0; j < (unsigned int)n; j++)
			if (!strcmp(ch[j].key, key))
				strcpy(snap, ch[j].value);
		len = 0;
		ASSERT_EQ(0, sm_get(self->fd, key, strlen(key), buf,
				    sizeof(buf) - 1, &len, NULL));
		buf[len] = 0;
		EXPECT_STREQ(buf, snap);
	}
	free(ch);
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(wfd));
}

/*
 * keeps_up_through_many_buffers: a buffer for which the feed keeps eight
 * pages to carve records from (an eighth of it), which the pages of the
 * records let go fill again; three times over, a few changes per read.
 */
#define KEEP_UP_BUFFER (256 << 10)
#define KEEP_UP_CHANGES 8000
#define KEEP_UP_PER_READ 4

/* Key and value of its change @i: lengths that leave varied padding. */
static void keep_up_kv(unsigned int i, char *key, char *value)
{
	unsigned int len = 1 + i % 40;

	snprintf(key, KEY_MAX, "k%u", i % 97);
	memset(value, 'a' + i % 26, len);
	value[len] = 0;
}

/*
 * A watch that keeps up with many times its buffer of changes loses none:
 * its reads let the oldest records go, and the pages they were carved from
 * serve again, each record read whole, its padding zero whatever the page
 * held before (sm_change_parse() checks).  A watch that never reads
 * meanwhile is told it fell behind: the other's reads let its records go.
 */
TEST_F(watch, keeps_up_through_many_buffers)
{
	__u64 v[KEEP_UP_PER_READ];
	struct change ch[KEEP_UP_PER_READ + 1];
	char key[KEY_MAX], value[VAL_MAX];
	unsigned int i, j;
	int wfd, stalled;

	wfd = sm_watch(self->fd, 0, 0, NULL, 0, KEEP_UP_BUFFER, NULL, NULL);
	ASSERT_LE(0, wfd);
	stalled = sm_watch(self->fd, 0, 0, NULL, 0, KEEP_UP_BUFFER, NULL,
			   NULL);
	ASSERT_LE(0, stalled);
	ASSERT_EQ(0, nonblock(wfd));
	ASSERT_EQ(0, nonblock(stalled));
	for (i = 0; i < KEEP_UP_CHANGES; i++) {
		keep_up_kv(i, key, value);
		ASSERT_EQ(0, sm_put_str(self->fd, key, value,
					&v[i % KEEP_UP_PER_READ]));
		if (i % KEEP_UP_PER_READ != KEEP_UP_PER_READ - 1)
			continue;
		ASSERT_EQ(KEEP_UP_PER_READ,
			  read_ready(wfd, ch, KEEP_UP_PER_READ + 1)) {
			TH_LOG("change %u", i);
		}
		for (j = 0; j < KEEP_UP_PER_READ; j++) {
			keep_up_kv(i + 1 - KEEP_UP_PER_READ + j, key, value);
			EXPECT_CHANGE(ch[j], SNAPMAP_CHANGE_PUT, key, value,
				      v[j]);
		}
	}
	EXPECT_ERRNO(ESTALE, read(stalled, value, sizeof(value)));
	EXPECT_EQ(0, close(stalled));
	EXPECT_EQ(0, close(wfd));
}

/* A prefix: its keys' changes, CLEARs, and transactions counted to it. */
TEST_F(watch, prefix)
{
	static const char *const tk[] = { "a/3", "b/2" };
	static const char *const tv[] = { "3", "2" };
	struct change ch[8];
	__u64 v1, v2, vt, vc;
	int wfd;

	wfd = sm_watch(self->fd, 0, 0, "a/", 2, 0, NULL, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	ASSERT_EQ(0, sm_put_str(self->fd, "a/1", "1", &v1));
	ASSERT_EQ(0, sm_put_str(self->fd, "b/1", "1", NULL));
	ASSERT_EQ(0, sm_put_str(self->fd, "a", "short", NULL));
	ASSERT_EQ(0, sm_put_str(self->fd, "a/2", "2", &v2));
	ASSERT_EQ(0, txn(self->fd, tk, tv, 2, NULL, 0, &vt));
	ASSERT_EQ(0, txn(self->fd, tk + 1, tv, 1, NULL, 0, NULL));
	ASSERT_EQ(0, sm_clear(self->fd, &vc));
	ASSERT_EQ(5, read_ready(wfd, ch, 8));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "a/1", "1", v1);
	EXPECT_CHANGE(ch[1], SNAPMAP_CHANGE_PUT, "a/2", "2", v2);
	EXPECT_EQ(SNAPMAP_CHANGE_TXN, ch[2].type);
	EXPECT_EQ(1, ch[2].count);
	EXPECT_EQ(vt, ch[2].version);
	EXPECT_CHANGE(ch[3], SNAPMAP_CHANGE_PUT, "a/3", "3", vt);
	EXPECT_CHANGE(ch[4], SNAPMAP_CHANGE_CLEAR, "", "", vc);
	EXPECT_EQ(0, close(wfd));
}

/* Every errno of SNAPMAP_IOC_WATCH, each with nothing opened. */
TEST_F(watch, bad_input)
{
	char prefix[KEY_MAX + 1] = "";
	unsigned long long cap = 0, max = 0;
	struct snapmap_watch_arg arg = { .size = sizeof(arg) };
	int fds = SM_COUNT_FDS(), w[2];

	arg.flags = 1U << 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_WATCH, &arg));
	EXPECT_EQ(-EINVAL, sm_watch(self->fd, SNAPMAP_WATCH_SINCE |
				    SNAPMAP_WATCH_SNAPSHOT, 0, NULL, 0, 0,
				    NULL, NULL));
	/* A version to start at, without the flag that says so. */
	EXPECT_EQ(-EINVAL, sm_watch(self->fd, 0, 1, NULL, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, sm_watch(self->fd, 0, 0, NULL, 0,
				    SNAPMAP_WATCH_MIN_BUFFER - 1, NULL, NULL));
	ASSERT_EQ(0, sm_param("max_watch_buffer_bytes", &cap));
	EXPECT_EQ(-EINVAL, sm_watch(self->fd, 0, 0, NULL, 0, cap + 1, NULL,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_watch(self->fd, 0, 0, prefix, KEY_MAX + 1, 0,
				      NULL, NULL));
	EXPECT_EQ(-EFAULT, sm_watch(self->fd, 0, 0, NULL, 1, 0, NULL, NULL));
	/* The answer cannot be written back: EFAULT, and no fd. */
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_WATCH, NULL));
	EXPECT_EQ(fds, SM_COUNT_FDS());

	/* As many watches as the module allows. */
	ASSERT_EQ(0, sm_param("max_watches_per_map", &max));
	ASSERT_EQ(0, sm_set_param("max_watches_per_map", 2));
	w[0] = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	w[1] = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	EXPECT_EQ(-ENOSPC, sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL));
	EXPECT_EQ(0, sm_set_param("max_watches_per_map", max));
	ASSERT_LE(0, w[0]);
	ASSERT_LE(0, w[1]);
	EXPECT_EQ(0, close(w[0]));
	EXPECT_EQ(0, close(w[1]));
	EXPECT_EQ(fds, SM_COUNT_FDS());
}

/*
 * The default buffer, a module parameter, set to nothing: a watch that
 * asks for none still has the smallest one a caller may ask for.
 */
TEST_F(watch, default_buffer_has_a_floor)
{
	unsigned long long def = 0;
	struct change ch[16];
	int wfd, i;

	ASSERT_EQ(0, sm_param("watch_buffer_bytes", &def));
	ASSERT_EQ(0, sm_set_param("watch_buffer_bytes", 0));
	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	EXPECT_EQ(0, sm_set_param("watch_buffer_bytes", def));
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", NULL));
	EXPECT_EQ(10, read_ready(wfd, ch, 16));
	EXPECT_EQ(0, close(wfd));
}

/*
 * A watch holds its map: it reads on after the map fd is closed, and the
 * map goes with its last watch.
 */
TEST_F(watch, outlives_the_map_fd)
{
	struct change ch[4];
	int wfd, maps;
	__u64 v;

	maps = SM_COUNT_MAPS();
	wfd = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(1, read_ready(wfd, ch, 4));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "k", "v", v);
	EXPECT_EQ(0, read_ready(wfd, ch, 4));
	EXPECT_EQ(maps, SM_COUNT_MAPS());
	EXPECT_EQ(0, close(wfd));
	EXPECT_EQ(maps - 1, SM_COUNT_MAPS());
}

/*
 * Wakeup marks.  A small record (key of at most 7 bytes, value of 1) takes
 * SNAPMAP_CHANGE_SIZE() = 32 bytes in a read, and a little more as the
 * buffer counts it: one is below MARK, and the PUTs that reach MARK are
 * more than one and at most MARK / 32 of them, whatever the bookkeeping.
 * MARK_BUFFER holds far more than MARK_PUTS of them.
 */
#define MARK 512
#define MARK_BUFFER 65536
#define MARK_PUTS 64
#define SMALL SNAPMAP_CHANGE_SIZE(1, 1)

/*
 * SNAPMAP_IOC_WATCH as sm_watch() from the map's version, with the
 * string @prefix (or NULL), a buffer of @buffer_bytes and a mark of
 * @wakeup_bytes: a watch fd, or -errno.
 */
static int watch_mark(int fd, __u32 flags, const char *prefix,
		      __u64 buffer_bytes, __u64 wakeup_bytes,
		      __u64 *out_version, int *out_sfd)
{
	struct snapmap_watch_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.prefix = SM_PTR(prefix),
		.prefix_len = prefix ? strlen(prefix) : 0,
		.buffer_bytes = buffer_bytes,
		.wakeup_bytes = wakeup_bytes,
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_WATCH, &arg));
	if (ret >= 0 && out_version)
		*out_version = arg.out_version;
	if (ret >= 0 && out_sfd)
		*out_sfd = arg.out_snapshot_fd;
	return ret;
}

/* The number on the line @key of the fdinfo of @fd, or ~0ULL if none. */
static unsigned long long fdinfo_num(int fd, const char *key)
{
	char path[64], buf[4096], line[64], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(line, sizeof(line), "\n%s:\t", key);
	if (sm_read_file(path, buf, sizeof(buf)))
		return ~0ULL;
	p = strstr(buf, line);
	return p ? strtoull(p + strlen(line), NULL, 10) : ~0ULL;
}

/*
 * PUT @key = "v" on @fd, one at a time, until poll(2) reports the watch
 * fd @wfd readable, at most @max times.  Returns the PUTs it took (their
 * versions in @v), 0 if @max were not enough, or -errno.
 */
static int put_until_readable(int fd, int wfd, const char *key, __u64 *v,
			      int max)
{
	struct pollfd pfd = { .fd = wfd, .events = POLLIN };
	int n, ret;

	for (n = 1; n <= max; n++) {
		ret = sm_put_str(fd, key, "v", &v[n - 1]);
		if (ret)
			return ret;
		ret = poll(&pfd, 1, 0);
		if (ret < 0)
			return -errno;
		if (ret)
			return pfd.revents == POLLIN ? n : -EPROTO;
	}
	return 0;
}

/* The handshake reports the mark; the structure's sizes. */
TEST_F(watch, wakeup_api)
{
	struct snapmap_api api = { .size = sizeof(api) };

	ASSERT_EQ(0, ioctl(self->ctl, SNAPMAP_IOC_API, &api));
	EXPECT_EQ(5, SNAPMAP_ABI_VERSION);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, api.out_abi_version);
	EXPECT_EQ(1ULL << 7, SNAPMAP_FEATURE_WATCH_WAKEUP);
	EXPECT_TRUE(api.out_features & SNAPMAP_FEATURE_WATCH_WAKEUP);
	/* The first version ends where the mark starts. */
	EXPECT_EQ(offsetof(struct snapmap_watch_arg, wakeup_bytes),
		  SNAPMAP_WATCH_ARG_SIZE_VER0);
	EXPECT_EQ(SNAPMAP_WATCH_ARG_SIZE_VER0 + 8,
		  sizeof(struct snapmap_watch_arg));
}

/*
 * A mark above half the watch's buffer: EINVAL, with nothing opened (no
 * fd, no snapshot, and the map keeps no records, as with no watch); half
 * is accepted.  Without a buffer, the half is of the module's default,
 * whatever it is now.
 */
TEST_F(watch, wakeup_above_half_the_buffer)
{
	unsigned long long def = 0;
	struct snapmap_info before, after;
	int fds = SM_COUNT_FDS(), sfd = -1, wfd, w8k[2], wmin[2];
	__u64 v;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-EINVAL, watch_mark(self->fd, 0, NULL, 8192, 4097, NULL,
				      NULL));
	EXPECT_EQ(-EINVAL, watch_mark(self->fd, 0, NULL, 8192, ~0ULL, NULL,
				      NULL));
	EXPECT_EQ(-EINVAL, watch_mark(self->fd, SNAPMAP_WATCH_SNAPSHOT, "a/",
				      8192, 4097, NULL, &sfd));
	EXPECT_EQ(-1, sfd);
	ASSERT_EQ(0, sm_param("watch_buffer_bytes", &def));
	if (def < SNAPMAP_WATCH_MIN_BUFFER)
		def = SNAPMAP_WATCH_MIN_BUFFER;
	EXPECT_EQ(-EINVAL, watch_mark(self->fd, 0, NULL, 0, def / 2 + 1, NULL,
				      NULL));
	EXPECT_EQ(fds, SM_COUNT_FDS());
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(before.out_snapshots, after.out_snapshots);
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	EXPECT_EQ(-ESTALE, sm_watch(self->fd, SNAPMAP_WATCH_SINCE, v - 1,
				    NULL, 0, 0, NULL, NULL));

	/* Exactly half. */
	wfd = watch_mark(self->fd, 0, NULL, 8192, 4096, NULL, NULL);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(4096, fdinfo_num(wfd, "watch_wakeup"));
	EXPECT_EQ(0, close(wfd));
	wfd = watch_mark(self->fd, 0, NULL, 0, def / 2, NULL, NULL);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(def, fdinfo_num(wfd, "watch_buffer"));
	EXPECT_EQ(def / 2, fdinfo_num(wfd, "watch_wakeup"));
	EXPECT_EQ(0, close(wfd));

	/* The default as it is at the call: 8192, then 0 (the floor). */
	ASSERT_EQ(0, sm_param("watch_buffer_bytes", &def));
	ASSERT_EQ(0, sm_set_param("watch_buffer_bytes", 8192));
	w8k[0] = watch_mark(self->fd, 0, NULL, 0, 4097, NULL, NULL);
	w8k[1] = watch_mark(self->fd, 0, NULL, 0, 4096, NULL, NULL);
	EXPECT_EQ(0, sm_set_param("watch_buffer_bytes", 0));
	wmin[0] = watch_mark(self->fd, 0, NULL, 0,
			     SNAPMAP_WATCH_MIN_BUFFER / 2 + 1, NULL, NULL);
	wmin[1] = watch_mark(self->fd, 0, NULL, 0,
			     SNAPMAP_WATCH_MIN_BUFFER / 2, NULL, NULL);
	EXPECT_EQ(0, sm_set_param("watch_buffer_bytes", def));
	EXPECT_EQ(-EINVAL, w8k[0]);
	EXPECT_EQ(-EINVAL, wmin[0]);
	ASSERT_LE(0, w8k[1]);
	ASSERT_LE(0, wmin[1]);
	EXPECT_EQ(8192, fdinfo_num(w8k[1], "watch_buffer"));
	EXPECT_EQ(SNAPMAP_WATCH_MIN_BUFFER, fdinfo_num(wmin[1],
						       "watch_buffer"));
	EXPECT_EQ(0, close(w8k[1]));
	EXPECT_EQ(0, close(wmin[1]));
	EXPECT_EQ(fds, SM_COUNT_FDS());
}

/*
 * The sizes of the structure: short of the first version, EINVAL; a
 * non-zero byte past the structure, E2BIG; a zero one, the mark as asked.
 * A caller of the first version's size gets no mark, whatever follows it
 * in memory, and nothing is written there.
 */
TEST_F(watch, wakeup_sizes)
{
	struct snapmap_watch_arg arg = {
		.size = sizeof(arg),
		.buffer_bytes = MARK_BUFFER,
		.wakeup_bytes = MARK,
	};
	int fds = SM_COUNT_FDS(), wfd;
	struct change ch[2];
	struct pollfd pfd;
	__u64 tail = ~0ULL, v;

	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_WATCH, &arg,
					  sizeof(arg),
					  SNAPMAP_WATCH_ARG_SIZE_VER0 - 1, 0,
					  NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_WATCH, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_WATCH, &arg,
					 sizeof(arg), sizeof(arg) + 8, 0x80,
					 NULL));
	EXPECT_EQ(fds, SM_COUNT_FDS());
	wfd = sm_ioctl_sized(self->fd, SNAPMAP_IOC_WATCH, &arg, sizeof(arg),
			     sizeof(arg) + 8, 0, &tail);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(0, tail);
	EXPECT_EQ(MARK, fdinfo_num(wfd, "watch_wakeup"));
	EXPECT_EQ(0, close(wfd));

	arg = (struct snapmap_watch_arg){
		.size = SNAPMAP_WATCH_ARG_SIZE_VER0,
		.buffer_bytes = MARK_BUFFER,
		.wakeup_bytes = MARK,
	};
	wfd = sm_ret(ioctl(self->fd, SNAPMAP_IOC_WATCH, &arg));
	ASSERT_LE(0, wfd);
	EXPECT_EQ(MARK, arg.wakeup_bytes);
	EXPECT_EQ(0, fdinfo_num(wfd, "watch_wakeup"));
	EXPECT_EQ(MARK_BUFFER, fdinfo_num(wfd, "watch_buffer"));
	/* Any record wakes it. */
	ASSERT_EQ(0, nonblock(wfd));
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(1, read_ready(wfd, ch, 2));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "k", "v", v);
	EXPECT_EQ(0, close(wfd));
}

/* fdinfo: the mark as asked, 0 by default, after the buffer. */
TEST_F(watch, wakeup_fdinfo)
{
	char path[64], buf[4096], *buffer, *wakeup;
	int w0, wfd;

	w0 = sm_watch(self->fd, 0, 0, NULL, 0, 0, NULL, NULL);
	ASSERT_LE(0, w0);
	EXPECT_EQ(0, fdinfo_num(w0, "watch_wakeup"));
	wfd = watch_mark(self->fd, 0, NULL, MARK_BUFFER, MARK_BUFFER / 2 - 8,
			 NULL, NULL);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(MARK_BUFFER / 2 - 8, fdinfo_num(wfd, "watch_wakeup"));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", wfd);
	ASSERT_EQ(0, sm_read_file(path, buf, sizeof(buf)));
	buffer = strstr(buf, "\nwatch_buffer:\t");
	wakeup = strstr(buf, "\nwatch_wakeup:\t");
	ASSERT_TRUE(buffer && wakeup);
	EXPECT_TRUE(buffer < wakeup);
	EXPECT_EQ(0, close(wfd));
	EXPECT_EQ(0, close(w0));
}

/*
 * Below the mark, poll says not readable, and a non-blocking read takes
 * the record there is.  PUTs then reach the mark: readable, and the reads
 * return every record, in order; below the mark again once read.
 */
TEST_F(watch, wakeup_poll_and_nonblocking_read)
{
	struct change ch[MARK_PUTS];
	__u64 start, v[MARK_PUTS];
	struct pollfd pfd;
	int wfd, n, i;

	wfd = watch_mark(self->fd, 0, NULL, MARK_BUFFER, MARK, &start, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v[0]));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(1, read_ready(wfd, ch, MARK_PUTS));
	EXPECT_LT(start, v[0]);
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "k", "v", v[0]);
	EXPECT_EQ(0, read_ready(wfd, ch, MARK_PUTS));

	n = put_until_readable(self->fd, wfd, "k", v, MARK_PUTS);
	EXPECT_LE(2, n);
	EXPECT_GE(MARK / SMALL, n);
	ASSERT_LT(0, n);
	ASSERT_EQ(n, read_ready(wfd, ch, MARK_PUTS));
	for (i = 0; i < n; i++)
		EXPECT_CHANGE(ch[i], SNAPMAP_CHANGE_PUT, "k", "v", v[i]);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, close(wfd));
}

/*
 * A reader asleep in read(2) with a mark: a record below it leaves the
 * reader asleep (looked at for a bounded while: poll with a timeout does
 * not see the fd readable, and the read has not returned); the PUTs past
 * it wake the reader, and the records come in order, none lost.
 */
TEST_F(watch, wakeup_blocking_read)
{
	struct blocked_reader r = { .tid = 0 };
	struct change ch[MARK_PUTS];
	__u64 v[MARK_PUTS];
	struct sm_change c;
	struct pollfd pfd;
	pthread_t thread;
	double deadline;
	size_t off, size;
	int wfd, i, n = 0;

	wfd = watch_mark(self->fd, 0, NULL, MARK_BUFFER, MARK, NULL, NULL);
	ASSERT_LE(0, wfd);
	r.wfd = wfd;
	blocked_reader_start(_metadata, &r, &thread);
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v[0]));
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 500));
	EXPECT_EQ(0, __atomic_load_n(&r.done, __ATOMIC_SEQ_CST));
	EXPECT_TRUE(thread_sleeps(r.tid));

	for (i = 1; i < MARK_PUTS; i++)
		ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v[i]));
	deadline = sm_now() + SM_WAIT_SECONDS;
	while (!__atomic_load_n(&r.done, __ATOMIC_SEQ_CST) &&
	       sm_now() < deadline)
		sched_yield();
	ASSERT_TRUE(__atomic_load_n(&r.done, __ATOMIC_SEQ_CST));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	/* Whole records from the first, more than one: the mark's. */
	ASSERT_LE(2 * SMALL, r.len);
	ASSERT_GE(sizeof(r.buf), r.len);
	for (off = 0; off < (size_t)r.len; off += size) {
		size = sm_change_parse(r.buf + off, r.len - off, &c);
		ASSERT_NE(0, size);
		change_copy(&ch[n++], &c);
	}
	ASSERT_EQ(0, nonblock(wfd));
	ASSERT_EQ(MARK_PUTS - n, read_ready(wfd, ch + n, MARK_PUTS - n));
	for (i = 0; i < MARK_PUTS; i++)
		EXPECT_CHANGE(ch[i], SNAPMAP_CHANGE_PUT, "k", "v", v[i]);
	EXPECT_EQ(0, close(wfd));
}

/*
 * A watch with the highest mark that falls behind and loses a change is
 * readable, and its reads fail with ESTALE, a blocking one as well.
 * (A watch loses a change only once more than its buffer is unread, past
 * a mark of at most half of it: below the mark, only a record that could
 * not be allocated loses one, which fail_nth_test injects.)
 */
TEST_F(watch, wakeup_lost_change_wakes)
{
	char key[KEY_MAX], value[VAL_MAX];
	struct pollfd pfd;
	unsigned int i;
	int wfd;

	wfd = watch_mark(self->fd, 0, NULL, SNAPMAP_WATCH_MIN_BUFFER,
			 SNAPMAP_WATCH_MIN_BUFFER / 2, NULL, NULL);
	ASSERT_LE(0, wfd);
	for (i = 0; i < 200; i++) {
		kv(i % 50, i, key, value);
		ASSERT_EQ(0, sm_put_str(self->fd, key, value, NULL));
	}
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_ERRNO(ESTALE, read(wfd, value, sizeof(value)));
	ASSERT_EQ(0, nonblock(wfd));
	EXPECT_ERRNO(ESTALE, read(wfd, value, sizeof(value)));
	EXPECT_EQ(0, close(wfd));
}

/*
 * A mark with a snapshot of its own: the snapshot at the watch's start,
 * then the records above it once they reach the mark.
 */
TEST_F(watch, wakeup_with_a_snapshot)
{
	struct snapmap_snapshot_info si;
	struct change ch[MARK_PUTS];
	__u64 start, v0, v[MARK_PUTS];
	struct pollfd pfd;
	int wfd, sfd = -1, n, i;

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "1", &v0));
	wfd = watch_mark(self->fd, SNAPMAP_WATCH_SNAPSHOT, NULL, MARK_BUFFER,
			 MARK, &start, &sfd);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, sfd);
	EXPECT_LT(v0, start);
	ASSERT_EQ(0, sm_snapshot_info(sfd, &si));
	EXPECT_EQ(start, si.out_version);
	EXPECT_EQ(1, si.out_entries);
	EXPECT_EQ(MARK, fdinfo_num(wfd, "watch_wakeup"));
	ASSERT_EQ(0, nonblock(wfd));
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	n = put_until_readable(self->fd, wfd, "k", v, MARK_PUTS);
	EXPECT_LE(2, n);
	EXPECT_GE(MARK / SMALL, n);
	ASSERT_LT(0, n);
	EXPECT_LT(start, v[0]);
	ASSERT_EQ(n, read_ready(wfd, ch, MARK_PUTS));
	for (i = 0; i < n; i++)
		EXPECT_CHANGE(ch[i], SNAPMAP_CHANGE_PUT, "k", "v", v[i]);
	EXPECT_EQ(-ENOENT, sm_snapshot_get(sfd, "k", 1, NULL, 0, NULL, NULL));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(wfd));
}

/*
 * A mark with a prefix: the records of other keys count toward it; the
 * read yields the prefix's only.
 */
TEST_F(watch, wakeup_with_a_prefix)
{
	struct change ch[MARK_PUTS];
	__u64 v[MARK_PUTS], va;
	struct pollfd pfd;
	int wfd, n;

	wfd = watch_mark(self->fd, 0, "a/", MARK_BUFFER, MARK, NULL, NULL);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, nonblock(wfd));
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	n = put_until_readable(self->fd, wfd, "b/1", v, MARK_PUTS);
	EXPECT_LE(2, n);
	EXPECT_GE(MARK / SMALL, n);
	ASSERT_LT(0, n);

	ASSERT_EQ(0, sm_put_str(self->fd, "a/1", "1", &va));
	ASSERT_EQ(1, read_ready(wfd, ch, MARK_PUTS));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "a/1", "1", va);
	EXPECT_LT(v[n - 1], va);
	/* Every record passed by: below the mark again. */
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, sm_put_str(self->fd, "a/2", "2", &va));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(1, read_ready(wfd, ch, MARK_PUTS));
	EXPECT_CHANGE(ch[0], SNAPMAP_CHANGE_PUT, "a/2", "2", va);
	EXPECT_EQ(0, close(wfd));
}

/* The replica check's keys: "r-00" to "r-31". */
#define R_KEYS 32

/* A map of the replica check's keys, as a watcher keeps it. */
struct replica {
	unsigned char present[R_KEYS];
	__u32 len[R_KEYS];
	__u64 version[R_KEYS];
	char value[R_KEYS][VAL_MAX];
};

/* The index of key @key of @len bytes, or -1 if it is none of ours. */
static int r_index(const unsigned char *key, __u32 len)
{
	if (len != 4 || key[0] != 'r' || key[1] != '-' ||
	    key[2] < '0' || key[2] > '9' || key[3] < '0' || key[3] > '9')
		return -1;
	len = (key[2] - '0') * 10 + key[3] - '0';
	return len < R_KEYS ? (int)len : -1;
}

static int r_set(struct replica *r, const unsigned char *key, __u32 key_len,
		 const unsigned char *value, __u32 len, __u64 version)
{
	int i = r_index(key, key_len);

	if (i < 0 || len > VAL_MAX)
		return -1;
	r->present[i] = 1;
	r->len[i] = len;
	r->version[i] = version;
	memcpy(r->value[i], value, len);
	return 0;
}

/* Load the snapshot fd @sfd into @r. */
static int r_load(struct replica *r, int sfd)
{
	struct sm_record rec;
	ssize_t len, off, size;
	void *buf;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	len = sm_read_all(sfd, 4096, &buf);
	if (len < 0)
		return len;
	for (off = 0; off < len && !ret; off += size) {
		size = sm_record_parse((unsigned char *)buf + off, len - off,
				       &rec);
		ret = size ? r_set(r, rec.key, rec.key_len, rec.value,
				   rec.value_len, rec.version) : -1;
	}
	free(buf);
	return ret;
}

/* Apply the change @c to @r. */
static int r_apply(struct replica *r, const struct sm_change *c)
{
	int i;

	switch (c->hdr.type) {
	case SNAPMAP_CHANGE_PUT:
		return r_set(r, c->key, c->hdr.key_len, c->value,
			     c->hdr.value_len, c->hdr.version);
	case SNAPMAP_CHANGE_DEL:
		i = r_index(c->key, c->hdr.key_len);
		if (i < 0 || !r->present[i])
			return -1;
		r->present[i] = 0;
		return 0;
	case SNAPMAP_CHANGE_CLEAR:
		memset(r->present, 0, sizeof(r->present));
		return 0;
	case SNAPMAP_CHANGE_TXN:
		return c->hdr.count ? 0 : -1;
	}
	return -1;
}

/* Whether @a and @b hold the same keys, values and versions. */
static int r_equal(const struct replica *a, const struct replica *b)
{
	int i;

	for (i = 0; i < R_KEYS; i++) {
		if (a->present[i] != b->present[i])
			return 0;
		if (a->present[i] &&
		    (a->len[i] != b->len[i] || a->version[i] != b->version[i] ||
		     memcmp(a->value[i], b->value[i], a->len[i])))
			return 0;
	}
	return 1;
}

/* A writer of the replica check. */
struct r_writer {
	int fd;
	unsigned int seed;
	unsigned int ops;
	int err;
	int *done;
};

static void r_key(char *key, unsigned int i)
{
	snprintf(key, 5, "r-%02u", i % R_KEYS);
}

/*
 * PUTs, DELs, transactions of two to four writes to different keys, and
 * now and then a CLEAR.
 */
static void *r_write(void *arg)
{
	struct r_writer *w = arg;
	char keys[4][5], values[4][VAL_MAX];
	const char *k[4], *v[4];
	unsigned int op, i, n, first;
	int ret = 0;

	for (op = 0; op < w->ops && !ret; op++) {
		unsigned int dice = rand_r(&w->seed) % 100;

		first = rand_r(&w->seed);
		n = dice < 40 ? 1 : 2 + dice % 3;
		for (i = 0; i < n; i++) {
			r_key(keys[i], first + i * 7);
			snprintf(values[i], VAL_MAX, "%u-%u-%u", w->seed % 1000,
				 op, i);
			k[i] = keys[i];
			v[i] = values[i];
		}
		if (dice < 30) {
			ret = sm_put_str(w->fd, k[0], v[0], NULL);
		} else if (dice < 40) {
			ret = sm_del_str(w->fd, k[0], NULL);
			if (ret == -ENOENT)
				ret = 0;
		} else if (dice < 99) {
			/* Every other write of a transaction a deletion. */
			ret = txn(w->fd, k, v, (n + 1) / 2, k + (n + 1) / 2,
				  n / 2, NULL);
		} else {
			ret = sm_clear(w->fd, NULL);
		}
	}
	w->err = ret;
	__atomic_add_fetch(w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * The replica: two writers change the map while the watcher keeps a copy,
 * from the snapshot of its watch and the feed.  Now and then the watcher
 * takes an ATOMIC snapshot of version V, and writes a key itself after
 * it; once it reaches a change above V (every change below V is then
 * applied), its copy must equal the snapshot, keys, values and versions.
 * A last snapshot after the writers closes the run.
 */
TEST_F_TIMEOUT(watch, replica_equals_every_snapshot, 600)
{
	/* Small reads: a checkpoint can be taken between any few changes. */
	static unsigned char buf[1024];
	struct r_writer w[2];
	struct replica *mine, *snap;
	unsigned int checks = 0, changes = 0, i;
	__u64 pending = 0;
	struct pollfd pfd;
	bool last = false;
	pthread_t threads[2];
	struct sm_change c;
	size_t off, size;
	int wfd, sfd, done = 0;
	ssize_t len;

	mine = calloc(1, sizeof(*mine));
	snap = calloc(1, sizeof(*snap));
	ASSERT_TRUE(mine && snap);
	wfd = sm_watch(self->fd, SNAPMAP_WATCH_SNAPSHOT, 0, NULL, 0, 0, NULL,
		       &sfd);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(0, r_load(mine, sfd));
	EXPECT_EQ(0, close(sfd));

	for (i = 0; i < 2; i++) {
		w[i] = (struct r_writer){
			.fd = self->fd, .seed = i + 1, .ops = 1500,
			.done = &done,
		};
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, r_write, &w[i]));
	}
	pfd = (struct pollfd){ .fd = wfd, .events = POLLIN };
	while (!last || pending) {
		if (!pending && (changes >= 10 * (checks + 1) ||
				 __atomic_load_n(&done, __ATOMIC_SEQ_CST) == 2)) {
			/* A checkpoint: the map at V, to be reached. */
			last = __atomic_load_n(&done, __ATOMIC_SEQ_CST) == 2;
			sfd = sm_snapshot(self->fd, 0, &pending);
			ASSERT_LE(0, sfd);
			ASSERT_EQ(0, r_load(snap, sfd));
			EXPECT_EQ(0, close(sfd));
			/*
			 * A change above V, to be read whether the writers
			 * are done or not: they may have just stopped.
			 */
			ASSERT_EQ(0, sm_put_str(self->fd, "r-00", "mark",
						NULL));
		}
		ASSERT_EQ(1, poll(&pfd, 1, SM_WAIT_SECONDS * 1000));
		len = read(wfd, buf, sizeof(buf));
		ASSERT_LT(0, len);
		for (off = 0; off < (size_t)len; off += size) {
			size = sm_change_parse(buf + off, len - off, &c);
			ASSERT_NE(0, size);
			if (pending && c.hdr.version > pending) {
				/* Every change below V is in. */
				ASSERT_TRUE(r_equal(mine, snap))
					TH_LOG("copy differs from the snapshot at %llu after %u changes",
					       (unsigned long long)pending,
					       changes);
				checks++;
				pending = 0;
			}
			ASSERT_EQ(0, r_apply(mine, &c));
			changes++;
		}
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		EXPECT_EQ(0, w[i].err);
	}
	TH_LOG("%u changes, %u snapshots equal to the copy", changes, checks);
	EXPECT_LE(50, checks);
	EXPECT_EQ(0, close(wfd));
	free(mine);
	free(snap);
}

TEST_HARNESS_MAIN
