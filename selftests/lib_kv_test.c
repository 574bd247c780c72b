// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: keys one at a time.  snapmap_get() (ERANGE with
 * the length reported, and the retry it allows), snapmap_put() and its
 * flags, snapmap_cas(), snapmap_del(), snapmap_del_if(), snapmap_clear(),
 * every error their man pages list (ENOENT, EEXIST, ERANGE, ECANCELED,
 * ENOSPC, EMSGSIZE, EBADF on a read-only fd, EINVAL, EFAULT for a pointer
 * passed through, ENOMEM in a full memory cgroup), and several threads
 * using the library on one map at once.
 */

#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib_test.h"

#define KEY_MAX 16
#define VAL_MAX 64

FIXTURE(kv) {
	int ctl;
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(kv)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .max_key_len = KEY_MAX,
		     .max_value_len = VAL_MAX,
		     .name = lib_name(self->name, "kv"));

	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	self->fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(kv)
{
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

TEST_F(kv, put_get)
{
	char value[VAL_MAX];
	__u64 v1 = 0, v2 = 0, got = 0;
	__u32 len;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "key", 3, "value", 5, 0, &v1)));
	EXPECT_LT(0, v1);
	/* What the raw ioctl sees. */
	EXPECT_VALUE(self->fd, "key", 3, "value", 5, v1);

	memset(value, 0, sizeof(value));
	len = sizeof(value);
	ASSERT_EQ(0, LIB(snapmap_get(self->fd, "key", 3, value, &len, &got)));
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(value, "value", 5));
	EXPECT_EQ(v1, got);

	/* Replace, with an empty value; NULL for the versions. */
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "key", 3, NULL, 0, 0, &v2)));
	EXPECT_LT(v1, v2);
	len = sizeof(value);
	ASSERT_EQ(0, LIB(snapmap_get(self->fd, "key", 3, value, &len, NULL)));
	EXPECT_EQ(0, len);
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k2", 2, "x", 1, 0, NULL)));
}

/* Binary keys and values, at their limits. */
TEST_F(kv, binary_at_limits)
{
	unsigned char key[KEY_MAX], val[VAL_MAX], out[VAL_MAX];
	unsigned int i;
	__u32 len;

	for (i = 0; i < KEY_MAX; i++)
		key[i] = i * 37;
	for (i = 0; i < VAL_MAX; i++)
		val[i] = 255 - i;
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, key, KEY_MAX, val, VAL_MAX, 0,
				     NULL)));
	len = sizeof(out);
	ASSERT_EQ(0, LIB(snapmap_get(self->fd, key, KEY_MAX, out, &len,
				     NULL)));
	EXPECT_EQ(VAL_MAX, len);
	EXPECT_EQ(0, memcmp(out, val, VAL_MAX));
}

/* A buffer too small: ERANGE, with the length and version to retry. */
TEST_F(kv, get_erange)
{
	char value[VAL_MAX], small[4];
	__u64 v = 0, got = 0;
	__u32 len;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "0123456789", 10, 0,
				     &v)));
	len = sizeof(small);
	memset(small, 'x', sizeof(small));
	EXPECT_EQ(-ERANGE, LIB(snapmap_get(self->fd, "k", 1, small, &len,
					   &got)));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, got);
	/* Asking the length with no buffer at all. */
	len = 0;
	got = 0;
	EXPECT_EQ(-ERANGE, LIB(snapmap_get(self->fd, "k", 1, NULL, &len,
					   &got)));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, got);
	/* The retry with the length reported. */
	ASSERT_GE(sizeof(value), len);
	ASSERT_EQ(0, LIB(snapmap_get(self->fd, "k", 1, value, &len, NULL)));
	EXPECT_EQ(10, len);
	EXPECT_EQ(0, memcmp(value, "0123456789", 10));
	/* One byte short. */
	len = 9;
	EXPECT_EQ(-ERANGE, LIB(snapmap_get(self->fd, "k", 1, value, &len,
					   NULL)));
	EXPECT_EQ(10, len);
}

TEST_F(kv, get_errors)
{
	char key[KEY_MAX + 1], value[8];
	__u32 len = sizeof(value);
	__u64 got = 12345;

	memset(key, 'k', sizeof(key));
	EXPECT_EQ(-ENOENT, LIB(snapmap_get(self->fd, "nope", 4, value, &len,
					   &got)));
	/* Not found: nothing reported. */
	EXPECT_EQ(sizeof(value), len);
	EXPECT_EQ(12345, got);
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_get(self->fd, key, KEY_MAX + 1, value,
					     &len, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_get(self->fd, key, 0, value, &len,
					   NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_get(self->fd, "k", 1, value, NULL,
					   NULL)));
	/* Pointers the library passes through to the module. */
	EXPECT_EQ(-EFAULT, LIB(snapmap_get(self->fd, (void *)8, 1, value, &len,
					   NULL)));
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, NULL)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_get(self->fd, "k", 1, (void *)8, &len,
					   NULL)));
}

TEST_F(kv, put_flags)
{
	__u64 v1 = 0, v2 = 0, v = 0;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "1", 1,
				     SNAPMAP_PUT_NOEXIST, &v1)));
	v = 99;
	EXPECT_EQ(-EEXIST, LIB(snapmap_put(self->fd, "k", 1, "2", 1,
					   SNAPMAP_PUT_NOEXIST, &v)));
	EXPECT_EQ(99, v);
	EXPECT_VALUE(self->fd, "k", 1, "1", 1, v1);
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "3", 1,
				     SNAPMAP_PUT_EXIST, &v2)));
	EXPECT_LT(v1, v2);
	EXPECT_VALUE(self->fd, "k", 1, "3", 1, v2);
	EXPECT_EQ(-ENOENT, LIB(snapmap_put(self->fd, "absent", 6, "4", 1,
					   SNAPMAP_PUT_EXIST, NULL)));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "absent", 6, NULL, 0, NULL, NULL));

	/* A compare-and-swap is snapmap_cas()'s: it needs a version. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_put(self->fd, "k", 1, "5", 1,
					   SNAPMAP_PUT_IF_VERSION, NULL)));
	EXPECT_EQ(-EINVAL,
		  LIB(snapmap_put(self->fd, "k", 1, "5", 1,
				  SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST,
				  NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_put(self->fd, "k", 1, "5", 1, 1U << 12,
					   NULL)));
	EXPECT_VALUE(self->fd, "k", 1, "3", 1, v2);
}

TEST_F(kv, put_errors)
{
	char key[KEY_MAX + 1], value[VAL_MAX + 1];
	struct snapmap_info before, after;

	memset(key, 'k', sizeof(key));
	memset(value, 'v', sizeof(value));
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &before)));
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_put(self->fd, key, KEY_MAX + 1, value,
					     1, 0, NULL)));
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_put(self->fd, key, 1, value,
					     VAL_MAX + 1, 0, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_put(self->fd, key, 0, value, 1, 0,
					   NULL)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_put(self->fd, (void *)8, 1, value, 1, 0,
					   NULL)));
	EXPECT_EQ(-EFAULT, LIB(snapmap_put(self->fd, key, 1, (void *)8, 1, 0,
					   NULL)));
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &after)));
	EXPECT_MAP_UNCHANGED(before, after);
}

/* A map at its entry limit, then one at its byte limit: ENOSPC. */
TEST_F(kv, put_enospc)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts, .max_entries = 2);
	char key[16], value[VAL_MAX];
	unsigned int i;
	int fd, ret = 0;

	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_put(fd, "a", 1, "1", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "b", 1, "2", 1, 0, NULL)));
	EXPECT_EQ(-ENOSPC, LIB(snapmap_put(fd, "c", 1, "3", 1, 0, NULL)));
	/* Replacing takes no room; a deletion gives some back. */
	EXPECT_EQ(0, LIB(snapmap_put(fd, "a", 1, "4", 1, 0, NULL)));
	EXPECT_EQ(0, LIB(snapmap_del(fd, "b", 1, NULL)));
	EXPECT_EQ(0, LIB(snapmap_put(fd, "c", 1, "3", 1, 0, NULL)));
	EXPECT_EQ(0, close(fd));

	opts.max_entries = 0;
	opts.max_bytes = 4096;
	opts.max_value_len = VAL_MAX;
	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	memset(value, 'v', sizeof(value));
	for (i = 0; i < 4096; i++) {
		snprintf(key, sizeof(key), "key%u", i);
		ret = snapmap_put(fd, key, strlen(key), value, sizeof(value),
				  0, NULL);
		if (ret)
			break;
	}
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_LT(0, i);
	EXPECT_EQ(0, close(fd));
}

/* A new value that takes a map over its byte limit: ENOSPC for a CAS too. */
TEST_F(kv, cas_enospc)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .max_value_len = 1024,
		     .max_bytes = 4096);
	char key[16], value[1024];
	unsigned int i;
	__u64 v0 = 0;
	int fd, ret;

	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	memset(value, 'v', sizeof(value));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "key0", 4, "v", 1, 0, &v0)));
	for (i = 1; i < 4096; i++) {
		snprintf(key, sizeof(key), "key%u", i);
		ret = snapmap_put(fd, key, strlen(key), "v", 1, 0, NULL);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOSPC, ret);
	/* Far more than what is left below the limit. */
	EXPECT_EQ(-ENOSPC, LIB(snapmap_cas(fd, "key0", 4, value, sizeof(value),
					   v0, NULL)));
	EXPECT_VALUE(fd, "key0", 4, "v", 1, v0);
	/* The same size fits. */
	EXPECT_EQ(0, LIB(snapmap_cas(fd, "key0", 4, "w", 1, v0, NULL)));
	EXPECT_EQ(0, close(fd));
}

/* Every write on a read-only fd is EBADF; reads work. */
TEST_F(kv, read_only_ebadf)
{
	char value[4];
	__u32 len = sizeof(value);
	__u64 v = 0;
	int ro;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, &v)));
	ro = LIB(snapmap_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, LIB(snapmap_get(ro, "k", 1, value, &len, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_put(ro, "k", 1, "w", 1, 0, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_put(ro, "n", 1, "w", 1,
					  SNAPMAP_PUT_NOEXIST, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_cas(ro, "k", 1, "w", 1, v, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_del(ro, "k", 1, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_del_if(ro, "k", 1, v, NULL)));
	EXPECT_EQ(-EBADF, LIB(snapmap_clear(ro, NULL)));
	EXPECT_VALUE(self->fd, "k", 1, "v", 1, v);
	EXPECT_EQ(0, close(ro));
}

TEST_F(kv, cas)
{
	__u64 v1 = 0, v2 = 0, v = 0;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "old", 3, 0, &v1)));
	ASSERT_EQ(0, LIB(snapmap_cas(self->fd, "k", 1, "new", 3, v1, &v2)));
	EXPECT_LT(v1, v2);
	EXPECT_VALUE(self->fd, "k", 1, "new", 3, v2);
	/* The version moved on: the old one no longer matches. */
	v = 77;
	EXPECT_EQ(-ECANCELED, LIB(snapmap_cas(self->fd, "k", 1, "x", 1, v1,
					      &v)));
	EXPECT_EQ(77, v);
	EXPECT_EQ(-ECANCELED, LIB(snapmap_cas(self->fd, "k", 1, "x", 1, v2 + 1,
					      NULL)));
	EXPECT_EQ(-ECANCELED, LIB(snapmap_cas(self->fd, "k", 1, "x", 1, 0,
					      NULL)));
	EXPECT_VALUE(self->fd, "k", 1, "new", 3, v2);
	/* An absent key. */
	EXPECT_EQ(-ECANCELED, LIB(snapmap_cas(self->fd, "none", 4, "x", 1, v2,
					      NULL)));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "none", 4, NULL, 0, NULL, NULL));
	/* And the errors it shares with snapmap_put(). */
	EXPECT_EQ(-EFAULT, LIB(snapmap_cas(self->fd, "k", 1, (void *)8, 1, v2,
					   NULL)));
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_cas(self->fd, "k", 1, "x", VAL_MAX + 1,
					     v2, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_cas(self->fd, "k", 0, "x", 1, v2,
					   NULL)));
	ASSERT_EQ(0, LIB(snapmap_cas(self->fd, "k", 1, "last", 4, v2, NULL)));
}

TEST_F(kv, del)
{
	char key[KEY_MAX + 1];
	__u64 v1 = 0, vd = 0;

	memset(key, 'k', sizeof(key));
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, &v1)));
	ASSERT_EQ(0, LIB(snapmap_del(self->fd, "k", 1, &vd)));
	/* A deletion is a write of its own. */
	EXPECT_LT(v1, vd);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, NULL, 0, NULL, NULL));
	EXPECT_EQ(-ENOENT, LIB(snapmap_del(self->fd, "k", 1, NULL)));
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_del(self->fd, key, KEY_MAX + 1,
					     NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_del(self->fd, key, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "v", 1, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_del(self->fd, "k", 1, NULL)));
}

TEST_F(kv, del_if)
{
	__u64 v1 = 0, v2 = 0, vd = 0;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "a", 1, 0, &v1)));
	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "k", 1, "b", 1, 0, &v2)));
	EXPECT_EQ(-ECANCELED, LIB(snapmap_del_if(self->fd, "k", 1, v1, &vd)));
	EXPECT_EQ(0, vd);
	EXPECT_VALUE(self->fd, "k", 1, "b", 1, v2);
	ASSERT_EQ(0, LIB(snapmap_del_if(self->fd, "k", 1, v2, &vd)));
	EXPECT_LT(v2, vd);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, NULL, 0, NULL, NULL));
	/* Absent. */
	EXPECT_EQ(-ECANCELED, LIB(snapmap_del_if(self->fd, "k", 1, v2, NULL)));
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_del_if(self->fd, "0123456789abcdefg",
						KEY_MAX + 1, v2, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_del_if(self->fd, "k", 0, v2, NULL)));
}

TEST_F(kv, clear)
{
	struct snapmap_info info;
	char key[16];
	__u64 last = 0, v = 0;
	unsigned int i;

	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "key%u", i);
		ASSERT_EQ(0, LIB(snapmap_put(self->fd, key, strlen(key), "v",
					     1, 0, &last)));
	}
	ASSERT_EQ(0, LIB(snapmap_clear(self->fd, &v)));
	/* One version, the next after the last put. */
	EXPECT_EQ(last + 1, v);
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &info)));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(v, info.out_version);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "key3", 4, NULL, 0, NULL, NULL));
	/* An empty map; NULL for the version. */
	ASSERT_EQ(0, LIB(snapmap_clear(self->fd, NULL)));
}

/*
 * Several threads on one map, each with its own keys and all of them on
 * one shared counter that they increment with get and compare-and-swap,
 * each also taking snapshots: the library keeps no state they could
 * trip over, so no increment is lost and every snapshot is whole.
 */
#define THREADS 4
#define ROUNDS 300

struct worker {
	pthread_t thread;
	pthread_barrier_t *start;
	int fd;
	int id;
	unsigned int retries;
	int line;
};

/*
 * The steps of a worker's round return 0, or the line of the check that
 * failed: threads cannot use the harness's assertions.
 */

/* Its own key: put, read back, every 10th round delete if unchanged. */
static int worker_own_key(struct worker *w, unsigned int i)
{
	char key[16], value[16], got[16];
	__u64 version, seen;
	__u32 len = sizeof(got);

	snprintf(key, sizeof(key), "t%d-%u", w->id, i % 10);
	snprintf(value, sizeof(value), "%u", i);
	if (snapmap_put(w->fd, key, strlen(key), value, strlen(value), 0,
			&version))
		return __LINE__;
	if (snapmap_get(w->fd, key, strlen(key), got, &len, &seen) ||
	    len != strlen(value) || memcmp(got, value, len) ||
	    seen != version)
		return __LINE__;
	if (i % 10 == 9 &&
	    snapmap_del_if(w->fd, key, strlen(key), version, NULL))
		return __LINE__;
	return 0;
}

/* The shared counter, incremented with get and compare-and-swap. */
static int worker_increment(struct worker *w)
{
	char value[16], got[16];
	unsigned long count;
	__u64 version;
	__u32 len;
	int ret;

	for (;;) {
		len = sizeof(got) - 1;
		if (snapmap_get(w->fd, "counter", 7, got, &len, &version))
			return __LINE__;
		got[len] = 0;
		count = strtoul(got, NULL, 10);
		snprintf(value, sizeof(value), "%lu", count + 1);
		ret = snapmap_cas(w->fd, "counter", 7, value, strlen(value),
				  version, NULL);
		if (!ret)
			return 0;
		if (ret != -ECANCELED)
			return __LINE__;
		w->retries++;
	}
}

/* A snapshot of its own: below its version, the counter once. */
static int worker_snapshot(struct worker *w)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	unsigned int counters = 0;
	int ret, line = 0;

	if (snapmap_snapshot_open(w->fd, NULL, &snap))
		return __LINE__;
	while ((ret = snapmap_snapshot_next(snap, &e)) > 0) {
		if (e.version >= snapmap_snapshot_version(snap))
			line = __LINE__;
		counters += e.key_len == 7 && !memcmp(e.key, "counter", 7);
	}
	snapmap_snapshot_close(snap);
	if (ret || counters != 1)
		return __LINE__;
	return line;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < ROUNDS && !w->line; i++) {
		w->line = worker_own_key(w, i) ?: worker_increment(w);
		if (!w->line && i % 50 == 0)
			w->line = worker_snapshot(w);
	}
	return NULL;
}

TEST_F_TIMEOUT(kv, threads, 300)
{
	struct worker w[THREADS];
	pthread_barrier_t start;
	unsigned int retries = 0;
	char got[16];
	__u32 len = sizeof(got) - 1;
	int i;

	ASSERT_EQ(0, LIB(snapmap_put(self->fd, "counter", 7, "0", 1, 0,
				     NULL)));
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].start = &start;
		w[i].fd = self->fd;
		w[i].id = i;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_fn,
					    &w[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(0, w[i].line) {
			TH_LOG("thread %d failed at line %d", i, w[i].line);
		}
		retries += w[i].retries;
	}
	ASSERT_EQ(0, LIB(snapmap_get(self->fd, "counter", 7, got, &len,
				     NULL)));
	got[len] = 0;
	EXPECT_EQ(THREADS * ROUNDS, strtoul(got, NULL, 10));
	TH_LOG("%u compare-and-swap retries", retries);
	/* Each thread left its last 10 keys deleted every 10th round. */
	for (i = 0; i < THREADS; i++) {
		char key[16];

		snprintf(key, sizeof(key), "t%d-9", i);
		EXPECT_EQ(-ENOENT, sm_get(self->fd, key, strlen(key), NULL, 0,
					  NULL, NULL));
		snprintf(key, sizeof(key), "t%d-8", i);
		EXPECT_EQ(0, sm_get(self->fd, key, strlen(key), got,
				    sizeof(got), NULL, NULL));
	}
}

/*
 * A memory cgroup whose limit the map's own memory reaches: the module's
 * allocations for new entries fail, and the library reports ENOMEM.  Runs
 * in a child in the cgroup, which answers with its exit status.  (Not a
 * create or a clone there: the module's allocation of a new map may still
 * call the cgroup's OOM killer rather than fail.)
 */
#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_DIR CGROUP_ROOT "/snapmap-lib-test"

/*
 * Fault in now every page the child may write once in the cgroup: a
 * copy-on-write of a page shared with its parent, or a new stack page,
 * charged to the full cgroup would call its OOM killer.
 */
static int __attribute__((noinline)) prefault(void)
{
	char stack[64 << 10];

	memset(stack, 0, sizeof(stack));
	/* Keep the compiler from dropping the stores. */
	__asm__ volatile("" : : "r"(stack) : "memory");
	return mlockall(MCL_CURRENT | MCL_FUTURE) ? -errno : 0;
}

static int enomem_child(void)
{
	char pid[32], key[24], value[64];
	struct snapmap_info info;
	unsigned int i, j;
	__u64 version;
	__u32 len;
	int fd, ret = 0;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (prefault())
		return 102;
	if (sm_write_file(CGROUP_DIR "/memory.max", "8M") ||
	    sm_write_file(CGROUP_DIR "/cgroup.procs", pid))
		return 100;
	fd = snapmap_create(-1, NULL);
	if (fd < 0)
		return 101;
	memset(value, 'v', sizeof(value));
	for (i = 0; i < 10000000; i++) {
		snprintf(key, sizeof(key), "key-%u", i);
		ret = snapmap_put(fd, key, strlen(key), value, sizeof(value),
				  0, NULL);
		if (ret)
			break;
	}
	if (ret != -ENOMEM)
		return 1;
	/* Nothing lost: every put that succeeded is there. */
	if (snapmap_info(fd, &info) || info.out_entries != i)
		return 2;

	/*
	 * A new value for a key needs memory too, and the old ones are
	 * freed only after an RCU grace period: replacing one key after
	 * another soon fails as well.
	 */
	memset(value, 'w', sizeof(value));
	for (j = 0; j < i; j++) {
		snprintf(key, sizeof(key), "key-%u", j);
		len = 0;
		ret = snapmap_get(fd, key, strlen(key), NULL, &len, &version);
		if (ret != -ERANGE)
			return 3;
		ret = snapmap_cas(fd, key, strlen(key), value, sizeof(value),
				  version, NULL);
		if (ret)
			break;
	}
	if (ret != -ENOMEM)
		return 4;
	return 0;
}

TEST(enomem)
{
	struct stat st;
	int status;
	pid_t pid;

	if (stat(CGROUP_ROOT "/cgroup.controllers", &st) &&
	    mount("none", CGROUP_ROOT, "cgroup2", 0, NULL))
		SKIP(return, "cannot mount cgroup2");
	if (sm_write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory controller");
	ASSERT_TRUE(!mkdir(CGROUP_DIR, 0755) || errno == EEXIST);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(enomem_child());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* Killed (by the OOM killer) is a failure too. */
	ASSERT_TRUE(WIFEXITED(status)) {
		TH_LOG("child died of signal %d", WTERMSIG(status));
	}
	EXPECT_EQ(0, WEXITSTATUS(status));
	rmdir(CGROUP_DIR);
}

TEST_HARNESS_MAIN
