// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: watches.  snapmap_watch_open() and
 * snapmap_watch_next() yield each change in order, a transaction after
 * its count; a watch from an older version; a prefix; non-blocking
 * through snapmap_watch_fd(); snapmap_watch_snapshot() gives a snapshot
 * and a watch that together make the map, and bring a watch that fell
 * behind (ESTALE) back in step; records larger than the read buffer;
 * wakeup_bytes, and its bounds; the errors of the calls.
 */

#include <fcntl.h>
#include <poll.h>

#include "lib_test.h"

FIXTURE(watch) {
	int ctl;
	int fd;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(watch)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .max_key_len = 64,
		     .max_value_len = 8192,
		     .name = lib_name(self->name, "watch"));

	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	self->fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(watch)
{
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

static __u64 put_str(struct __test_metadata *_metadata, int fd,
		     const char *key, const char *value)
{
	__u64 v = 0;

	EXPECT_EQ(0, LIB(snapmap_put(fd, key, strlen(key), value,
				     strlen(value), 0, &v)));
	return v;
}

/* The change @c is a @type of @key (and @value), of version @version. */
#define EXPECT_CHANGE(c, t, k, v, ver) do {				\
	EXPECT_EQ(t, (c).type);						\
	EXPECT_EQ(ver, (c).version);					\
	EXPECT_EQ(strlen(k), (c).key_len);				\
	if ((c).key_len == strlen(k) && (c).key_len)			\
		EXPECT_EQ(0, memcmp(k, (c).key, (c).key_len));		\
	EXPECT_EQ(strlen(v), (c).value_len);				\
	if ((c).value_len == strlen(v) && (c).value_len)		\
		EXPECT_EQ(0, memcmp(v, (c).value, (c).value_len));	\
} while (0)

/* Every change, in order, then EAGAIN once the fd is non-blocking. */
TEST_F(watch, changes_in_order)
{
	struct snapmap_change_entry c;
	struct snapmap_watch *w = NULL;
	struct snapmap_txn_op ops[2];
	__u64 va, vd, vt, vc, start;
	int wfd;

	put_str(_metadata, self->fd, "old", "0");
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, NULL, &w)));
	start = snapmap_watch_version(w);
	va = put_str(_metadata, self->fd, "a", "1");
	EXPECT_LT(start, va);
	ASSERT_EQ(0, LIB(snapmap_del(self->fd, "a", 1, &vd)));
	snapmap_txn_put(&ops[0], "b", 1, "2", 1);
	snapmap_txn_del(&ops[1], "old", 3);
	ASSERT_EQ(0, LIB(snapmap_txn(self->fd, NULL, 0, ops, 2, &vt, NULL)));
	ASSERT_EQ(0, LIB(snapmap_clear(self->fd, &vc)));

	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "a", "1", va);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_DEL, "a", "", vd);
	EXPECT_TRUE(c.value == NULL);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_TXN, "", "", vt);
	EXPECT_EQ(2, c.count);
	EXPECT_TRUE(c.key == NULL);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "b", "2", vt);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_DEL, "old", "", vt);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_CLEAR, "", "", vc);

	wfd = snapmap_watch_fd(w);
	ASSERT_LE(0, wfd);
	EXPECT_TRUE(lib_cloexec(wfd));
	ASSERT_EQ(0, fcntl(wfd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, LIB(snapmap_watch_next(w, &c)));
	snapmap_watch_close(w);
	snapmap_watch_close(NULL);
}

/* From an older version, and for a prefix. */
TEST_F(watch, since_and_prefix)
{
	SNAPMAP_OPTS(snapmap_watch_opts, opts);
	struct snapmap_watch *first = NULL, *w = NULL;
	struct snapmap_change_entry c;
	__u64 v1, v2;

	/* The map's version is above 0: one below the watch's is a version. */
	put_str(_metadata, self->fd, "before", "0");
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, NULL, &first)));
	v1 = put_str(_metadata, self->fd, "p/1", "1");
	put_str(_metadata, self->fd, "q/1", "1");
	v2 = put_str(_metadata, self->fd, "p/2", "2");

	opts.flags = SNAPMAP_WATCH_SINCE;
	opts.since = snapmap_watch_version(first);
	opts.prefix = "p/";
	opts.prefix_len = 2;
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	EXPECT_EQ(opts.since, snapmap_watch_version(w));
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "p/1", "1", v1);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "p/2", "2", v2);
	snapmap_watch_close(w);

	/* Before the first watch, the map kept nothing. */
	opts.since--;
	EXPECT_EQ(-ESTALE, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	EXPECT_TRUE(w == NULL);
	snapmap_watch_close(first);
}

/*
 * A record larger than the read buffer grows it; a watch that fell behind
 * gets ESTALE, and a snapshot and watch of one call bring the copy back.
 */
TEST_F(watch, big_records_then_resync)
{
	SNAPMAP_OPTS(snapmap_watch_opts, opts,
		     .buf_size = 64,
		     .buffer_bytes = SNAPMAP_WATCH_MIN_BUFFER);
	struct snapmap_change_entry c;
	struct snapmap_snapshot *snap = NULL;
	struct snapmap_watch *w = NULL;
	struct snapmap_entry e;
	static char big[5000];
	char value[8192];
	__u32 len;
	__u64 v;
	int i, n;

	memset(big, 'x', sizeof(big) - 1);
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	v = put_str(_metadata, self->fd, "big", big);
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "big", big, v);

	/* Ten more of them: over the 4 KiB the module keeps for it. */
	for (i = 0; i < 10; i++)
		put_str(_metadata, self->fd, "big", big);
	EXPECT_EQ(-ESTALE, LIB(snapmap_watch_next(w, &c)));
	snapmap_watch_close(w);

	ASSERT_EQ(0, LIB(snapmap_watch_snapshot(self->fd, &opts, &w, &snap)));
	EXPECT_EQ(snapmap_watch_version(w), snapmap_snapshot_version(snap));
	n = 0;
	while (LIB(snapmap_snapshot_next(snap, &e)) == 1)
		n++;
	EXPECT_EQ(1, n);
	v = put_str(_metadata, self->fd, "big", "small");
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "big", "small", v);
	len = sizeof(value);
	EXPECT_EQ(0, LIB(snapmap_snapshot_get(snap, "big", 3, value, &len,
					      NULL)));
	EXPECT_EQ(strlen(big), len);
	snapmap_snapshot_close(snap);
	snapmap_watch_close(w);

	/* A snapshot of its own is snapmap_watch_snapshot()'s to give. */
	opts.flags = SNAPMAP_WATCH_SNAPSHOT;
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	opts.flags = SNAPMAP_WATCH_SINCE;
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_snapshot(self->fd, &opts, &w,
						      &snap)));
	EXPECT_TRUE(w == NULL);
	EXPECT_TRUE(snap == NULL);
}

/* Whether @fd polls readable within @ms milliseconds. */
static bool readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* The number on the line @key of @fd's fdinfo; ~0ULL without one. */
static unsigned long long fdinfo_num(int fd, const char *key)
{
	unsigned long long v = ~0ULL;
	size_t len = strlen(key);
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = strtoull(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

#define WAKEUP 4096

/*
 * With wakeup_bytes, the watch fd polls readable only once records of
 * that many bytes are ready; a non-blocking read takes the records there
 * are, and a blocking one returns once there are enough.
 */
TEST_F(watch, wakeup_bytes)
{
	SNAPMAP_OPTS(snapmap_watch_opts, opts,
		     .buffer_bytes = 2 * WAKEUP,
		     .wakeup_bytes = WAKEUP);
	struct snapmap_change_entry c;
	struct snapmap_watch *w = NULL;
	static char value[1001];
	__u64 v, vs[4];
	int wfd, i;

	memset(value, 'v', sizeof(value) - 1);
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	wfd = snapmap_watch_fd(w);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(WAKEUP, fdinfo_num(wfd, "watch_wakeup"));
	EXPECT_EQ(2 * WAKEUP, fdinfo_num(wfd, "watch_buffer"));

	/* One small record wakes nobody, but a non-blocking read takes it. */
	v = put_str(_metadata, self->fd, "a", "1");
	EXPECT_FALSE(readable(wfd, 100));
	ASSERT_EQ(0, fcntl(wfd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
	EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "a", "1", v);
	EXPECT_EQ(-EAGAIN, LIB(snapmap_watch_next(w, &c)));

	/*
	 * The module counts a record as the bytes read(2) gives of it,
	 * SNAPMAP_CHANGE_SIZE(1, 1000) = 1032 here, and a header of its own
	 * of a few dozen bytes: three are short of WAKEUP, four are not.
	 */
	for (i = 0; i < 4; i++) {
		EXPECT_FALSE(readable(wfd, 0)) {
			TH_LOG("readable after %d records of %llu bytes", i,
			       (unsigned long long)SNAPMAP_CHANGE_SIZE(1, 1000));
		}
		vs[i] = put_str(_metadata, self->fd, "b", value);
	}
	EXPECT_TRUE(readable(wfd, 0));

	/* A blocking read returns at once, with all four. */
	ASSERT_EQ(0, fcntl(wfd, F_SETFL, 0));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, LIB(snapmap_watch_next(w, &c)));
		EXPECT_CHANGE(c, SNAPMAP_CHANGE_PUT, "b", value, vs[i]);
	}
	EXPECT_FALSE(readable(wfd, 0));
	snapmap_watch_close(w);
}

/*
 * wakeup_bytes is at most half the watch's buffer, the module's default
 * one for a buffer_bytes of 0; a caller built before it passes none.
 */
TEST_F(watch, wakeup_bytes_bounds)
{
	SNAPMAP_OPTS(snapmap_watch_opts, opts,
		     .buffer_bytes = 2 * WAKEUP,
		     .wakeup_bytes = WAKEUP + 1);
	struct snapmap_watch_opts old;
	struct snapmap_snapshot *snap;
	struct snapmap_watch *w = NULL;
	unsigned long long def = 0;

	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	EXPECT_TRUE(w == NULL);
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_snapshot(self->fd, &opts, &w,
						      &snap)));
	EXPECT_TRUE(w == NULL);
	EXPECT_TRUE(snap == NULL);
	opts.wakeup_bytes = WAKEUP;
	ASSERT_EQ(0, LIB(snapmap_watch_snapshot(self->fd, &opts, &w, &snap)));
	EXPECT_EQ(WAKEUP, fdinfo_num(snapmap_watch_fd(w), "watch_wakeup"));
	snapmap_snapshot_close(snap);
	snapmap_watch_close(w);

	ASSERT_EQ(0, sm_param("watch_buffer_bytes", &def));
	if (def < SNAPMAP_WATCH_MIN_BUFFER)
		def = SNAPMAP_WATCH_MIN_BUFFER;
	opts.buffer_bytes = 0;
	opts.wakeup_bytes = def / 2 + 1;
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	opts.wakeup_bytes = def / 2;
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	EXPECT_EQ(def, fdinfo_num(snapmap_watch_fd(w), "watch_buffer"));
	EXPECT_EQ(def / 2, fdinfo_num(snapmap_watch_fd(w), "watch_wakeup"));
	snapmap_watch_close(w);

	/* What lies past an older caller's structure is not read. */
	memset(&old, 0, sizeof(old));
	old.sz = offsetofend(struct snapmap_watch_opts, buf_size);
	old.wakeup_bytes = ~0ULL;
	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, &old, &w)));
	EXPECT_EQ(0, fdinfo_num(snapmap_watch_fd(w), "watch_wakeup"));
	snapmap_watch_close(w);
}

/* The errors of the calls themselves. */
TEST_F(watch, errors)
{
	struct {
		struct snapmap_watch_opts opts;
		__u64 tail;
	} big = { .opts.sz = sizeof(big), .tail = 1 };
	SNAPMAP_OPTS(snapmap_watch_opts, opts);
	struct snapmap_snapshot *snap;
	struct snapmap_change_entry c;
	struct snapmap_watch *w;

	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_open(self->fd, NULL, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_snapshot(self->fd, NULL, &w,
						      NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_snapshot(self->fd, NULL, NULL,
						      &snap)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_next(NULL, &c)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_fd(NULL)));
	EXPECT_EQ(0, snapmap_watch_version(NULL));
	/* A newer caller's options, asking for what this library lacks. */
	EXPECT_EQ(-E2BIG, LIB(snapmap_watch_open(self->fd, &big.opts, &w)));
	EXPECT_EQ(-EBADF, LIB(snapmap_watch_open(-1, NULL, &w)));
	opts.prefix_len = 65;
	opts.prefix = "p";
	EXPECT_EQ(-EMSGSIZE, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	opts.prefix_len = 0;
	opts.buffer_bytes = 1;
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_open(self->fd, &opts, &w)));
	/* A control fd takes no WATCH. */
	EXPECT_EQ(-ENOTTY, LIB(snapmap_watch_open(self->ctl, NULL, &w)));

	ASSERT_EQ(0, LIB(snapmap_watch_open(self->fd, NULL, &w)));
	ASSERT_EQ(0, fcntl(snapmap_watch_fd(w), F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EINVAL, LIB(snapmap_watch_next(w, NULL)));
	EXPECT_EQ(-EAGAIN, LIB(snapmap_watch_next(w, &c)));
	snapmap_watch_close(w);
}

TEST_HARNESS_MAIN
