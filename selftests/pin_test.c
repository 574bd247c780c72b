// SPDX-License-Identifier: GPL-2.0
/*
 * What snapshots pin, and what that costs the map's writers: the work of
 * one write against the number of open snapshots, the versions freed when
 * snapshots close, the map's limits at every instant a snapshot can see,
 * the caps on open snapshots, and the module parameters' ceilings.
 *
 * Several tests stop a task at a point inside the module with the rig's
 * test-only hooks (kmod/testhook.h, /sys/kernel/debug/snapmap/test/), to
 * reach on every run an interleaving that timing alone reaches once in
 * millions; and count the module's work instead of timing it.  The rig's
 * snapmap.ko always has the hooks: their absence is a failure here.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "snapmap_test.h"
#include "testhook.h"

static __u64 map_bytes(int fd)
{
	struct snapmap_info info;

	return sm_info(fd, &info) ? (__u64)-1 : info.out_bytes;
}

/* Records in the snapshot fd @sfd, or -errno. */
static long count_records(int sfd)
{
	struct snapmap_snapshot_info info;
	int ret = sm_snapshot_info(sfd, &info);

	return ret ? ret : (long)info.out_entries;
}

static int put_u32(int fd, __u32 key, const void *value, __u32 len,
		   __u64 *version)
{
	return sm_put(fd, 0, &key, sizeof(key), value, len, 0, version);
}

FIXTURE(pin) {
	int ctl;
	unsigned long long per_map, per_user;
};

FIXTURE_SETUP(pin)
{
	char buf[64];

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	/* The rig's module has the hooks; without them nothing here runs. */
	ASSERT_EQ(0, sm_read_file(HOOK_PAUSE, buf, sizeof(buf)));
	ASSERT_NE(-1, counter("trim_steps"));
	ASSERT_EQ(0, sm_param("max_snapshots_per_map", &self->per_map));
	ASSERT_EQ(0, sm_param("max_snapshots_per_user", &self->per_user));
}

FIXTURE_TEARDOWN(pin)
{
	EXPECT_EQ(0, sm_set_param("max_snapshots_per_map", self->per_map));
	EXPECT_EQ(0, sm_set_param("max_snapshots_per_user", self->per_user));
	close(self->ctl);
}

/*
 * One write of a key that S snapshots each pin at a different version
 * looks at the newest snapshot and the newest pinned version, and stops
 * there: its work is the same for every S.  (It was S * S / 2 once, every
 * version walking the whole snapshot list under the key's spinlock, then
 * S, one merge of the chain and the list.)
 */
TEST_F_TIMEOUT(pin, write_work_flat_in_snapshots, 300)
{
	static const unsigned int counts[] = { 16, 128, 1000 };
	long long steps, first = -1;
	__u32 key = 7, value;
	unsigned int c, i, s;
	__u64 version;
	int fd, *snaps;

	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		s = counts[c];
		snaps = calloc(s, sizeof(*snaps));
		ASSERT_TRUE(snaps != NULL);
		fd = sm_create_default(self->ctl);
		ASSERT_LE(0, fd);
		for (i = 0; i < s; i++) {
			value = i;
			ASSERT_EQ(0, put_u32(fd, key, &value, sizeof(value),
					     NULL));
			snaps[i] = sm_snapshot(fd, 0, NULL);
			ASSERT_LE(0, snaps[i]);
		}

		ASSERT_EQ(0, sm_write_file(HOOK_COUNTERS, "0"));
		value = s;
		ASSERT_EQ(0, put_u32(fd, key, &value, sizeof(value),
				     &version));
		steps = counter("trim_steps");
		TH_LOG("%u snapshots: %lld trim steps for one write", s,
		       steps);
		/* The newest snapshot, and the version it pins, kept. */
		EXPECT_LE(2, steps);
		EXPECT_GE(4, steps);
		if (first < 0)
			first = steps;
		EXPECT_EQ(first, steps);

		/* Every snapshot still sees the version it pinned. */
		for (i = 0; i < s; i += s / 4) {
			__u32 got = ~0U;
			void *buf;
			struct sm_record rec;

			ASSERT_EQ(SNAPMAP_RECORD_SIZE(sizeof(key),
						      sizeof(value)),
				  sm_read_all(snaps[i], 4096, &buf));
			ASSERT_NE(0, sm_record_parse(buf, 4096, &rec));
			memcpy(&got, rec.value, sizeof(got));
			EXPECT_EQ(i, got);
			free(buf);
		}
		for (i = 0; i < s; i++)
			close(snaps[i]);
		free(snaps);
		close(fd);
	}
}

/* The one value of key 1 that the snapshot fd @sfd holds, or ~0U. */
static __u32 snapshot_value(int sfd)
{
	struct sm_record rec;
	__u32 got = ~0U;
	void *buf;

	if (sm_read_all(sfd, 4096, &buf) != SNAPMAP_RECORD_SIZE(4, 4))
		return got;
	if (sm_record_parse(buf, 4096, &rec) && rec.value_len == sizeof(got))
		memcpy(&got, rec.value, sizeof(got));
	free(buf);
	return got;
}

/* An ATOMIC snapshot that the hook holds before it takes its V. */
struct held_snapshot {
	int fd;
	pid_t tid;
	int ret;	/* the snapshot fd, or -errno */
};

static void *held_snapshot_run(void *arg)
{
	struct held_snapshot *h = arg;

	h->tid = syscall(SYS_gettid);
	h->ret = arm("snapshot_pending", h->tid) ?: sm_snapshot(h->fd, 0, NULL);
	return NULL;
}

/*
 * A write that finds a snapshot still taking its V waits for that V, and
 * then trims what no snapshot needs: keeping every version instead would
 * leave a needless one below a needed one, for no sweep to find.  Key 1
 * goes through values 0 to 2; snapshot A sees 0, B sees 2, and no
 * snapshot needs 1.  The hook holds B before its V with the map's
 * snap_lock held, which the write then waits for: with two CPUs, one
 * spinning in the hook and one in the write, no task is left to release
 * B, and the hook lets it go at its deadline.  So the write returns only
 * after B has its V, and "release" then finds nothing paused.
 */
TEST_F_TIMEOUT(pin, write_during_snapshot_start_waits_and_trims, 300)
{
	struct held_snapshot b = {};
	pthread_t thread;
	__u64 one, bytes0;
	__u32 value;
	int a;

	b.fd = sm_create_default(self->ctl);
	ASSERT_LE(0, b.fd);
	value = 0;
	ASSERT_EQ(0, put_u32(b.fd, 1, &value, sizeof(value), NULL));
	bytes0 = map_bytes(b.fd);
	a = sm_snapshot(b.fd, 0, NULL);
	ASSERT_LE(0, a);
	value = 1;
	ASSERT_EQ(0, put_u32(b.fd, 1, &value, sizeof(value), NULL));
	/* What one more version of the key costs: A pins 0. */
	one = map_bytes(b.fd) - bytes0;
	ASSERT_LT(0, one);

	ASSERT_EQ(0, pthread_create(&thread, NULL, held_snapshot_run, &b));
	ASSERT_EQ(0, wait_paused());
	value = 2;
	EXPECT_EQ(0, put_u32(b.fd, 1, &value, sizeof(value), NULL));
	/* The write came back after B took its V: B is no longer held. */
	EXPECT_EQ(-ESRCH, sm_write_file(HOOK_PAUSE, "release"));
	pthread_join(thread, NULL);
	ASSERT_LE(0, b.ret);

	/* 2 for B and 0 for A: 1 is gone with no snapshot closed. */
	EXPECT_EQ(bytes0 + one, map_bytes(b.fd));
	EXPECT_EQ(0, snapshot_value(a));
	EXPECT_EQ(2, snapshot_value(b.ret));

	close(b.ret);
	close(a);
	close(b.fd);
}

/* More keys than a sweep trims in one batch. */
#define SWEEP_KEYS 2000

/* Write @value to every one of SWEEP_KEYS keys: 0, or -errno. */
static int put_all(int fd, __u32 value)
{
	__u32 key;
	int ret;

	for (key = 0; key < SWEEP_KEYS; key++) {
		ret = put_u32(fd, key, &value, sizeof(value), NULL);
		if (ret)
			return ret;
	}
	return 0;
}

/* A map whose keys two open snapshots pin at two older versions. */
struct pinned {
	int fd;
	int a;		/* sees the first generation of values */
	int b;		/* sees the second */
	__u64 bytes[3];	/* the map's bytes after each generation */
};

/*
 * Write every key three times over, with a snapshot taken after the first
 * and after the second generation of values: 0, or -errno.
 */
static int pin_two_generations(int ctl, struct pinned *p)
{
	int ret;

	p->fd = sm_create_default(ctl);
	if (p->fd < 0)
		return p->fd;
	ret = put_all(p->fd, 0);
	p->bytes[0] = map_bytes(p->fd);
	p->a = ret ?: sm_snapshot(p->fd, 0, NULL);
	if (p->a < 0)
		return p->a;
	ret = put_all(p->fd, 1);
	p->bytes[1] = map_bytes(p->fd);
	p->b = ret ?: sm_snapshot(p->fd, 0, NULL);
	if (p->b < 0)
		return p->b;
	ret = put_all(p->fd, 2);
	p->bytes[2] = map_bytes(p->fd);
	return ret;
}

/*
 * A snapshot closed while a sweep for another one is under way still gets
 * what only it pinned freed: the sweep that passed those nodes already
 * runs once more.  The hook holds the first sweep after its first batch
 * of nodes while the second snapshot closes.
 */
TEST_F_TIMEOUT(pin, close_during_sweep_frees_all, 300)
{
	struct pinned p;
	__u64 got;

	ASSERT_EQ(0, pin_two_generations(self->ctl, &p));
	ASSERT_LT(p.bytes[0], p.bytes[2]);

	ASSERT_EQ(0, arm("sweep", 0));
	close(p.a);
	ASSERT_EQ(0, wait_paused());
	close(p.b);
	ASSERT_EQ(0, sm_write_file(HOOK_PAUSE, "release"));

	EXPECT_EQ(0, sm_wait_bytes(p.fd, p.bytes[0], &got));
	EXPECT_EQ(p.bytes[0], got);
	close(p.fd);
}

/*
 * Closing a snapshot frees exactly the versions only it pinned: with an
 * older snapshot still open, the versions the older one sees stay.
 */
TEST_F_TIMEOUT(pin, close_frees_what_only_it_pinned, 300)
{
	struct pinned p;
	__u64 one, got;

	ASSERT_EQ(0, pin_two_generations(self->ctl, &p));
	/* What one generation of versions costs. */
	one = p.bytes[1] - p.bytes[0];
	ASSERT_LT(0, one);
	ASSERT_EQ(p.bytes[0] + 2 * one, p.bytes[2]);

	close(p.b);
	EXPECT_EQ(0, sm_wait_bytes(p.fd, p.bytes[0] + one, &got));
	EXPECT_EQ(p.bytes[0] + one, got);
	EXPECT_EQ(SWEEP_KEYS, count_records(p.a));
	close(p.a);
	EXPECT_EQ(0, sm_wait_bytes(p.fd, p.bytes[0], &got));
	EXPECT_EQ(p.bytes[0], got);
	close(p.fd);
}

/* A write that the hook holds between publishing and stamping. */
struct held_write {
	int fd;
	__u32 key;
	const void *value;
	__u32 len;		/* HELD_DEL: a DEL */
	pid_t tid;
	int ret;
	__u64 version;
};

#define HELD_DEL (~0U)

static void *held_write_run(void *arg)
{
	struct held_write *w = arg;

	w->tid = syscall(SYS_gettid);
	if (arm("before_stamp", w->tid)) {
		w->ret = -EIO;
		return NULL;
	}
	if (w->len == HELD_DEL)
		w->ret = sm_del(w->fd, 0, &w->key, sizeof(w->key), 0,
				&w->version);
	else
		w->ret = put_u32(w->fd, w->key, w->value, w->len, &w->version);
	return NULL;
}

/*
 * Start @w in a thread of its own and wait until the hook holds it in its
 * write, after it published its version and before that version is
 * stamped: 0, or -errno.
 */
static int hold(struct held_write *w, pthread_t *thread)
{
	int err = pthread_create(thread, NULL, held_write_run, w);

	return err ? -err : wait_paused();
}

/* Let the write held by hold() go and wait for it: 0, or -errno. */
static int let_go(struct held_write *w, pthread_t thread)
{
	int err = sm_write_file(HOOK_PAUSE, "release");

	pthread_join(thread, NULL);
	return err ?: w->ret;
}

/*
 * The entry limit holds at every instant a snapshot can see: a deletion
 * gives its entry back only once it is stamped, so a key inserted
 * meanwhile finds the map full, and no snapshot or clone ever holds more
 * than max_entries keys.
 */
TEST_F(pin, entry_limit_holds_in_snapshots)
{
	struct held_write del = { .key = 1, .len = HELD_DEL };
	struct snapmap_info info;
	int fd, clone, put;
	pthread_t thread;
	__u32 y = 2;

	fd = sm_create(self->ctl, 0, 0, 1, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put_u32(fd, del.key, "x", 1, NULL));
	del.fd = fd;

	ASSERT_EQ(0, hold(&del, &thread));
	put = put_u32(fd, y, "y", 1, NULL);
	clone = sm_clone(fd, NULL, 0, NULL);
	ASSERT_EQ(0, let_go(&del, thread));
	EXPECT_EQ(-ENOSPC, put);
	ASSERT_LE(0, clone);
	ASSERT_EQ(0, sm_info(clone, &info));
	EXPECT_GE(1, info.out_entries);
	close(clone);

	/* Once the deletion is done, its entry is free. */
	EXPECT_EQ(0, put_u32(fd, y, "y", 1, NULL));
	close(fd);
}

/*
 * Likewise the byte limit: a write that shrinks its key's value gives the
 * bytes back only once it is stamped.
 */
TEST_F(pin, byte_limit_holds_in_snapshots)
{
	struct held_write shrink = { .key = 1, .len = 1 };
	char big[200] = { 'b' };
	__u64 c_big, c_small;
	struct snapmap_info info;
	int fd, clone, put;
	pthread_t thread;
	__u32 y = 2;

	/* What a key costs with each value, on this kernel. */
	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put_u32(fd, 1, big, sizeof(big), NULL));
	c_big = map_bytes(fd);
	close(fd);
	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put_u32(fd, 1, "s", 1, NULL));
	c_small = map_bytes(fd);
	close(fd);
	ASSERT_LT(c_small, c_big);

	/* Room for one big value and one small, not for two big ones. */
	fd = sm_create(self->ctl, 0, 0, 0, c_big + c_small, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put_u32(fd, shrink.key, big, sizeof(big), NULL));
	shrink.fd = fd;
	shrink.value = "s";

	ASSERT_EQ(0, hold(&shrink, &thread));
	put = put_u32(fd, y, big, sizeof(big), NULL);
	clone = sm_clone(fd, NULL, 0, NULL);
	ASSERT_EQ(0, let_go(&shrink, thread));
	EXPECT_EQ(-ENOSPC, put);
	ASSERT_LE(0, clone);
	ASSERT_EQ(0, sm_info(clone, &info));
	EXPECT_GE(c_big + c_small, info.out_bytes);
	close(clone);

	EXPECT_EQ(0, put_u32(fd, y, big, sizeof(big), NULL));
	close(fd);
}

/*
 * Taking a snapshot touches no node and waits for no writer: it succeeds
 * while a writer is held inside its write with the key's lock, and it
 * walks nothing however big the map is.  (Reading it walks every node: the
 * counter that shows no walk can show one.)
 */
TEST_F_TIMEOUT(pin, snapshot_creation_walks_and_waits_for_nothing, 300)
{
	struct held_write w = { .key = 1, .value = "new", .len = 3 };
	__u64 version = 0;
	pthread_t thread;
	int fd, snap;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, put_all(fd, 0));
	w.fd = fd;
	ASSERT_EQ(0, sm_write_file(HOOK_COUNTERS, "0"));

	ASSERT_EQ(0, hold(&w, &thread));
	snap = sm_snapshot(fd, 0, &version);
	ASSERT_EQ(0, let_go(&w, thread));
	ASSERT_LE(0, snap);
	EXPECT_EQ(0, counter("nodes_walked"));
	/* The held write comes after the snapshot, which does not see it. */
	EXPECT_LT(version, w.version);

	EXPECT_EQ(SWEEP_KEYS, count_records(snap));
	EXPECT_LE(SWEEP_KEYS, counter("nodes_walked"));
	close(snap);
	close(fd);
}

/*
 * Open snapshots are capped per map (ENOSPC) and per user (EDQUOT), WEAK
 * ones too; a refused call changes nothing, and closing one makes room.
 */
TEST_F(pin, snapshot_caps)
{
	struct snapmap_info before, after;
	int fd, other, s[4], clone;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	other = sm_create_default(self->ctl);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, put_u32(fd, 1, "v", 1, NULL));

	ASSERT_EQ(0, sm_set_param("max_snapshots_per_map", 2));
	s[0] = sm_snapshot(fd, 0, NULL);
	s[1] = sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, s[0]);
	ASSERT_LE(0, s[1]);
	ASSERT_EQ(0, sm_info(fd, &before));
	EXPECT_EQ(-ENOSPC, sm_snapshot(fd, 0, NULL));
	EXPECT_EQ(-ENOSPC, sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL));
	EXPECT_EQ(-ENOSPC, sm_clone(fd, NULL, 0, NULL));
	ASSERT_EQ(0, sm_info(fd, &after));
	EXPECT_EQ(before.out_version, after.out_version);
	/* Another map has its own count. */
	s[2] = sm_snapshot(other, 0, NULL);
	ASSERT_LE(0, s[2]);
	close(s[1]);
	s[1] = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, s[1]);

	/* Three open; the user may have three. */
	ASSERT_EQ(0, sm_set_param("max_snapshots_per_map", 100));
	ASSERT_EQ(0, sm_set_param("max_snapshots_per_user", 3));
	EXPECT_EQ(-EDQUOT, sm_snapshot(other, 0, NULL));
	EXPECT_EQ(-EDQUOT, sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL));
	EXPECT_EQ(-EDQUOT, sm_clone(fd, NULL, 0, NULL));
	ASSERT_EQ(0, sm_info(fd, &after));
	EXPECT_EQ(before.out_version, after.out_version - 1);
	close(s[2]);
	s[3] = sm_snapshot(other, 0, NULL);
	ASSERT_LE(0, s[3]);
	close(s[3]);
	/* A clone's own snapshot is gone when the clone returns. */
	clone = sm_clone(fd, NULL, 0, NULL);
	ASSERT_LE(0, clone);
	close(clone);
	s[3] = sm_snapshot(other, 0, NULL);
	ASSERT_LE(0, s[3]);

	close(s[0]);
	close(s[1]);
	close(s[3]);
	close(other);
	close(fd);
}

/*
 * The module's caps have ceilings: no length can reach the tombstone
 * marker or overflow an alignment, and a refused write leaves the cap.
 */
TEST_F(pin, param_ceilings)
{
	static const struct {
		const char *name;
		unsigned long long ceiling;
		int is_len;
	} caps[] = {
		{ "max_key_len", 65536, 1 },
		{ "max_value_len", 1ULL << 30, 1 },
		{ "max_entries", 1ULL << 30, 0 },
		{ "max_bytes", 1ULL << 46, 0 },
		{ "watch_coalesce_us", 10000, 0 },
	};
	unsigned long long saved, val;
	unsigned int i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		ASSERT_EQ(0, sm_param(caps[i].name, &saved));
		EXPECT_EQ(-EINVAL, sm_set_param(caps[i].name,
						caps[i].ceiling + 1));
		/* SNAPMAP_TOMBSTONE is U32_MAX. */
		if (caps[i].is_len)
			EXPECT_EQ(-EINVAL, sm_set_param(caps[i].name,
							0xffffffffULL));
		ASSERT_EQ(0, sm_param(caps[i].name, &val));
		EXPECT_EQ(saved, val);
		EXPECT_EQ(0, sm_set_param(caps[i].name, caps[i].ceiling));
		/* A key of no byte is no key; an empty value is a value. */
		EXPECT_EQ(strcmp(caps[i].name, "max_key_len") ? 0 : -EINVAL,
			  sm_set_param(caps[i].name, 0));
		EXPECT_EQ(0, sm_set_param(caps[i].name, saved));
	}
}

TEST_HARNESS_MAIN
