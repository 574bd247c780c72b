// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap_kapi_fail - every entry point of snapmap's kernel API with its
 * 1st, 2nd, ... nth fault point made to fail in turn
 *
 * A test-only module, never part of snapmap.ko.  fail_nth_test drives it
 * through /sys/kernel/debug/snapmap_kapi_fail/:
 *
 * - calls: the names of the calls it sweeps, one per line;
 * - sweep: writing a name sweeps that call, in the writer's task; reading
 *   gives the last sweep's report on this open file: "points N", "failed
 *   N" and "coped N" lines, then a line per check that did not hold.
 *
 * A sweep sets current->fail_nth, as /proc/thread-self/fail-nth does, so
 * that the call's nth fault point fails, for n = 1, 2, ... until the call
 * runs through without reaching it.  The kernel API copies nothing from
 * or to user memory: its fault points are allocations.  Each call starts
 * from a map built afresh, so that a clean call is deterministic down to
 * the versions.  After a failed call:
 *
 * - it returned -ENOMEM;
 * - the map's counters (entries, bytes, version, puts, dels) and a digest
 *   of every record of an ATOMIC snapshot of it, versions included, are as
 *   before (a failed clone may have taken its snapshot, which advances the
 *   version by one);
 * - a name the call asked for is still free.
 *
 * A call that succeeded although a point failed (one that copes) must
 * leave what a clean call leaves.  A call whose answer is known (a
 * transaction, a lookup in a snapshot) has it checked after its clean run
 * and after the run that reached no failed point; a failed transaction
 * must name no entry.  Each point counts only if the call consumed the
 * fail-nth counter (the nth point was reached), and a call that allocates
 * must reach at least one point and fail at one.  kmemleak, scanned at
 * the end of the run, finds what a failed call leaked.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/jhash.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <snapmap/snapmap.h>

#define KF_NAME		"snapmap_kapi_fail"
#define KF_NEW_NAME	"snapmap_kapi_fail.new"
#define KF_KEYS		8
#define KF_MAX_KEY	64
#define KF_MAX_VALUE	4096
#define KF_BIG_VALUE	3000
/* More points than any call has: a sweep that gets here is broken. */
#define KF_NTH_MAX	2000
#define KF_REPORT	4096

/**
 * struct kf_ctx - the state one call starts from, and what it made
 * @map: the map
 * @pin: an ATOMIC snapshot held across the call, or NULL
 * @snap: a snapshot the call works on, or NULL
 * @made_map: the map the call made, or NULL
 * @made_snap: the snapshot the call made, or NULL
 * @version: the version of each key as first written
 * @out_version: the version a transaction, or a lookup, answered
 * @out_failed: the entry a transaction named
 * @out_len: the length of the value a lookup answered
 * @value: a buffer for values and records
 * @expected: a buffer for the value a check expects
 */
struct kf_ctx {
	struct snapmap *map;
	struct snapmap_snapshot *pin;
	struct snapmap_snapshot *snap;
	struct snapmap *made_map;
	struct snapmap_snapshot *made_snap;
	u64 version[KF_KEYS];
	u64 out_version;
	unsigned int out_failed;
	u32 out_len;
	u8 value[KF_MAX_VALUE + 64];
	u8 expected[KF_MAX_VALUE];
};

/**
 * struct kf_call - one call to sweep
 * @name: its name in the calls file
 * @call: makes the call; returns 0 or the call's negative errno
 * @check: checks the answer of a call that ran through, given what it
 *         returned; returns NULL or what is wrong.  NULL: no check
 * @named: the map has a name
 * @pinned: a snapshot pins old versions during the call
 * @snap: the call works on a snapshot, of these flags + 1 (0: none)
 * @clone: the call clones the map, or takes a snapshot of its own
 * @allocates: the call has fault points
 * @background: the call frees memory in the background (a CLEAR): how
 *              far that went is no part of its answer, so the map's bytes
 *              after it are not compared; the rest of the map is
 */
struct kf_call {
	const char *name;
	int (*call)(struct kf_ctx *ctx);
	const char *(*check)(struct kf_ctx *ctx, int ret);
	bool named;
	bool pinned;
	int snap;
	bool clone;
	bool allocates;
	bool background;
};

/**
 * struct kf_state - what a map looks like, to compare before and after
 * @info: its counters
 * @records: records of an ATOMIC snapshot of it
 * @digest: the sum of a hash of each one's key, value and version: the
 *          order of a snapshot's records follows the map's random hash
 *          seed, so differs between the maps built afresh for each call
 */
struct kf_state {
	struct snapmap_info info;
	u64 records;
	u64 digest;
};

/**
 * struct kf_file - one open sweep file
 * @lock: serialises the callers sharing the file; protects @report
 * @len: length of @report
 * @report: the last sweep's report
 */
struct kf_file {
	struct mutex lock;	/* protects the members below */
	size_t len;
	char report[KF_REPORT];
};

static struct dentry *kf_dir;

static void kf_key(unsigned int i, char *key, u32 *len)
{
	*len = scnprintf(key, KF_MAX_KEY, "key-%u", i);
}

static void kf_value(unsigned int i, u8 *value, u32 *len)
{
	u32 n = i == 6 ? KF_BIG_VALUE : 10 + 7 * i, j;

	for (j = 0; j < n; j++)
		value[j] = 'a' + (i + j) % 26;
	*len = n;
}

static int kf_digest_record(const void *key, u32 key_len, const void *value,
			    u32 value_len, u64 version, void *arg)
{
	struct kf_state *s = arg;
	u32 hash;

	hash = jhash(key, key_len, 0);
	hash = jhash(value, value_len, hash);
	hash = jhash(&version, sizeof(version), hash);
	s->digest += hash;
	s->records++;
	return 0;
}

/*
 * Every record of an ATOMIC snapshot of @map, then its counters: which
 * count the snapshot's version.
 */
static int kf_state_take(struct snapmap *map, struct kf_state *s)
{
	struct snapmap_snapshot *snap;
	int err;

	memset(s, 0, sizeof(*s));
	snap = snapmap_snapshot_open(map, 0);
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	err = snapmap_snapshot_next(snap, kf_digest_record, s);
	snapmap_snapshot_close(snap);
	if (err)
		return err;
	snapmap_get_info(map, &s->info);
	return 0;
}

static bool kf_same_info(const struct snapmap_info *a,
			 const struct snapmap_info *b)
{
	return a->out_entries == b->out_entries &&
	       a->out_bytes == b->out_bytes &&
	       a->out_version == b->out_version &&
	       a->out_puts == b->out_puts && a->out_dels == b->out_dels;
}

static bool kf_same_state(const struct kf_state *a, const struct kf_state *b)
{
	return kf_same_info(&a->info, &b->info) && a->records == b->records &&
	       a->digest == b->digest;
}

/* Build the map every call starts from. */
static int kf_setup(struct kf_ctx *ctx, const struct kf_call *c)
{
	const struct snapmap_attr attr = {
		.max_key_len = KF_MAX_KEY,
		.max_value_len = KF_MAX_VALUE,
		.max_entries = 64,
		.mode = 0600,
		.name = c->named ? KF_NAME : NULL,
	};
	char key[KF_MAX_KEY];
	u32 key_len, len;
	unsigned int i;
	u64 version;
	int err;

	memset(ctx, 0, sizeof(*ctx));
	ctx->map = snapmap_create(&attr);
	if (IS_ERR(ctx->map)) {
		err = PTR_ERR(ctx->map);
		ctx->map = NULL;
		return err;
	}
	for (i = 0; i < KF_KEYS; i++) {
		kf_key(i, key, &key_len);
		kf_value(i, ctx->value, &len);
		err = snapmap_update(ctx->map, key, key_len, ctx->value, len,
				     0, 0, &ctx->version[i]);
		if (err)
			return err;
	}
	if (c->pinned) {
		ctx->pin = snapmap_snapshot_open(ctx->map, 0);
		if (IS_ERR(ctx->pin)) {
			err = PTR_ERR(ctx->pin);
			ctx->pin = NULL;
			return err;
		}
		/* Versions only the snapshot needs now. */
		err = snapmap_update(ctx->map, "key-0", 5, "replaced", 8, 0, 0,
				     &version) ?:
		      snapmap_delete(ctx->map, "key-1", 5, 0, 0, &version);
		if (err)
			return err;
	}
	if (c->snap) {
		ctx->snap = snapmap_snapshot_open(ctx->map, c->snap - 1);
		if (IS_ERR(ctx->snap)) {
			err = PTR_ERR(ctx->snap);
			ctx->snap = NULL;
			return err;
		}
	}
	return 0;
}

static void kf_teardown(struct kf_ctx *ctx)
{
	if (ctx->made_snap)
		snapmap_snapshot_close(ctx->made_snap);
	if (ctx->made_map)
		snapmap_put(ctx->made_map);
	if (ctx->snap)
		snapmap_snapshot_close(ctx->snap);
	if (ctx->pin)
		snapmap_snapshot_close(ctx->pin);
	if (ctx->map)
		snapmap_put(ctx->map);
}

/* The calls. */

static int kf_made_map(struct kf_ctx *ctx, struct snapmap *map)
{
	if (IS_ERR(map))
		return PTR_ERR(map);
	ctx->made_map = map;
	return 0;
}

static int kf_create(struct kf_ctx *ctx)
{
	const struct snapmap_attr attr = { .max_key_len = 32 };

	return kf_made_map(ctx, snapmap_create(&attr));
}

static int kf_create_named(struct kf_ctx *ctx)
{
	const struct snapmap_attr attr = { .mode = 0644, .name = KF_NEW_NAME };

	return kf_made_map(ctx, snapmap_create(&attr));
}

static int kf_find(struct kf_ctx *ctx)
{
	return kf_made_map(ctx, snapmap_find(KF_NAME));
}

static int kf_lookup(struct kf_ctx *ctx)
{
	u32 len;
	u64 version;

	return snapmap_lookup(ctx->map, "key-6", 5, ctx->value,
			      sizeof(ctx->value), &len, &version);
}

static int kf_copy_rcu(const void *value, u32 value_len, u64 version,
		       void *arg)
{
	memcpy(arg, value, min_t(u32, value_len, 64));
	return 0;
}

static int kf_lookup_rcu(struct kf_ctx *ctx)
{
	return snapmap_lookup_rcu(ctx->map, "key-2", 5, kf_copy_rcu,
				  ctx->value);
}

static int kf_update_new(struct kf_ctx *ctx)
{
	u64 version;

	return snapmap_update(ctx->map, "new-key", 7, "new value", 9, 0, 0,
			      &version);
}

static int kf_update_big(struct kf_ctx *ctx)
{
	u64 version;

	memset(ctx->value, 'v', KF_MAX_VALUE);
	return snapmap_update(ctx->map, "new-key", 7, ctx->value,
			      KF_MAX_VALUE, SNAPMAP_PUT_NOEXIST, 0, &version);
}

static int kf_update_replace(struct kf_ctx *ctx)
{
	u64 version;

	return snapmap_update(ctx->map, "key-2", 5, "a new value", 11,
			      SNAPMAP_PUT_EXIST, 0, &version);
}

static int kf_cas(struct kf_ctx *ctx)
{
	u64 version;

	return snapmap_cas(ctx->map, "key-3", 5, "cas", 3, ctx->version[3],
			   &version);
}

static int kf_delete(struct kf_ctx *ctx)
{
	u64 version;

	return snapmap_delete(ctx->map, "key-4", 5, 0, 0, &version);
}

static int kf_delete_cas(struct kf_ctx *ctx)
{
	u64 version;

	return snapmap_delete(ctx->map, "key-4", 5, SNAPMAP_DEL_IF_VERSION,
			      ctx->version[4], &version);
}

static int kf_clear(struct kf_ctx *ctx)
{
	u64 version;

	return snapmap_clear(ctx->map, &version);
}

static int kf_get_info(struct kf_ctx *ctx)
{
	struct snapmap_info info = {};

	snapmap_get_info(ctx->map, &info);
	return 0;
}

static int kf_made_snap(struct kf_ctx *ctx, struct snapmap_snapshot *snap)
{
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	ctx->made_snap = snap;
	return 0;
}

static int kf_snapshot_open(struct kf_ctx *ctx)
{
	return kf_made_snap(ctx, snapmap_snapshot_open(ctx->map, 0));
}

static int kf_snapshot_open_weak(struct kf_ctx *ctx)
{
	return kf_made_snap(ctx, snapmap_snapshot_open(ctx->map,
						       SNAPMAP_SNAPSHOT_WEAK));
}

static int kf_count_record(const void *key, u32 key_len, const void *value,
			   u32 value_len, u64 version, void *arg)
{
	(*(u64 *)arg)++;
	return 0;
}

static int kf_snapshot_next(struct kf_ctx *ctx)
{
	u64 n = 0;

	return snapmap_snapshot_next(ctx->snap, kf_count_record, &n);
}

static int kf_snapshot_read(struct kf_ctx *ctx)
{
	ssize_t len = snapmap_snapshot_read(ctx->snap, ctx->value,
					    sizeof(ctx->value));

	return len < 0 ? len : 0;
}

static int kf_snapshot_rewind(struct kf_ctx *ctx)
{
	snapmap_snapshot_rewind(ctx->snap);
	return 0;
}

static int kf_snapshot_get_info(struct kf_ctx *ctx)
{
	struct snapmap_snapshot_info info = {};

	return snapmap_snapshot_get_info(ctx->snap, &info);
}

static int kf_snapshot_version(struct kf_ctx *ctx)
{
	u64 version;

	snapmap_snapshot_version(ctx->snap, &version);
	return 0;
}

static int kf_snapshot_close(struct kf_ctx *ctx)
{
	snapmap_snapshot_close(ctx->snap);
	ctx->snap = NULL;
	return 0;
}

static int kf_get_put(struct kf_ctx *ctx)
{
	snapmap_get(ctx->map);
	snapmap_put(ctx->map);
	return 0;
}

static int kf_clone(struct kf_ctx *ctx)
{
	const struct snapmap_attr attr = {};
	u64 version;

	return kf_made_map(ctx, snapmap_clone(ctx->map, &attr, &version));
}

static int kf_clone_named(struct kf_ctx *ctx)
{
	const struct snapmap_attr attr = { .mode = 0600, .name = KF_NEW_NAME };
	u64 version;

	return kf_made_map(ctx, snapmap_clone(ctx->map, &attr, &version));
}

static int kf_count_change(const struct snapmap_change *change,
			   const void *key, const void *value, void *arg)
{
	(*(u64 *)arg)++;
	return 0;
}

/*
 * A watch's whole life: opened (with a snapshot of its own with
 * SNAPMAP_WATCH_SNAPSHOT), nothing to read yet, closed.  -EPROTO if it
 * had something to read.
 */
static int kf_watch_life(struct kf_ctx *ctx, u32 flags)
{
	const struct snapmap_watch_attr attr = {
		.flags = flags,
		.prefix = "key-",
		.prefix_len = 4,
	};
	struct snapmap_snapshot *snap = NULL;
	struct snapmap_watch *watch;
	u64 version, n = 0;
	int ret;

	watch = snapmap_watch_open(ctx->map, &attr, &version,
				   flags & SNAPMAP_WATCH_SNAPSHOT ? &snap : NULL);
	if (IS_ERR(watch))
		return PTR_ERR(watch);
	ret = snapmap_watch_next(watch, kf_count_change, &n);
	if (!ret && (n || snapmap_watch_ready(watch)))
		ret = -EPROTO;
	snapmap_watch_close(watch);
	if (snap)
		snapmap_snapshot_close(snap);
	return ret;
}

static int kf_watch_open(struct kf_ctx *ctx)
{
	return kf_watch_life(ctx, 0);
}

static int kf_watch_open_snapshot(struct kf_ctx *ctx)
{
	return kf_watch_life(ctx, SNAPMAP_WATCH_SNAPSHOT);
}

/* The conditions of the transactions, and their writes. */
enum { KF_IF_VALUE, KF_IF_VERSION, KF_IF_ABSENT, KF_IF_PRESENT, KF_CHECKS };
enum { KF_PUT_NEW, KF_PUT_REPLACE, KF_PUT_BIG, KF_DEL, KF_GONE, KF_WRITES };

#define KF_NEW_VALUE "new value"
#define KF_REPLACED "replaced by the transaction"

/*
 * Conditions on key-3's value, key-5's version, a key absent that nothing
 * writes, and key-6 present; a PUT of a new key, of an existing one, of a
 * new key with a value too long for its node, a DEL of a present key and
 * one of an absent key.  With @cancel the condition on the version asks
 * for another one: it does not hold.
 */
static int kf_txn_run(struct kf_ctx *ctx, bool cancel)
{
	struct snapmap_txn_check checks[KF_CHECKS] = {
		[KF_IF_VALUE] = {
			.kind = SNAPMAP_TXN_IF_VALUE, .key_len = 5,
			.key = "key-3", .value = ctx->expected,
		},
		[KF_IF_VERSION] = {
			.kind = SNAPMAP_TXN_IF_VERSION, .key_len = 5,
			.key = "key-5", .version = ctx->version[5] + cancel,
		},
		[KF_IF_ABSENT] = {
			.kind = SNAPMAP_TXN_IF_ABSENT, .key_len = 8,
			.key = "t-absent",
		},
		[KF_IF_PRESENT] = {
			.kind = SNAPMAP_TXN_IF_PRESENT, .key_len = 5,
			.key = "key-6",
		},
	};
	struct snapmap_txn_write writes[KF_WRITES] = {
		[KF_PUT_NEW] = {
			.opcode = SNAPMAP_TXN_PUT, .key_len = 5,
			.value_len = strlen(KF_NEW_VALUE), .key = "t-new",
			.value = KF_NEW_VALUE,
		},
		[KF_PUT_REPLACE] = {
			.opcode = SNAPMAP_TXN_PUT, .key_len = 5,
			.value_len = strlen(KF_REPLACED), .key = "key-2",
			.value = KF_REPLACED,
		},
		[KF_PUT_BIG] = {
			.opcode = SNAPMAP_TXN_PUT, .key_len = 5,
			.value_len = KF_MAX_VALUE, .key = "t-big",
			.value = ctx->value,
		},
		[KF_DEL] = {
			.opcode = SNAPMAP_TXN_DEL, .key_len = 5, .key = "key-4",
		},
		[KF_GONE] = {
			.opcode = SNAPMAP_TXN_DEL, .key_len = 6, .key = "t-gone",
		},
	};

	kf_value(3, ctx->expected, &checks[KF_IF_VALUE].value_len);
	memset(ctx->value, 'T', KF_MAX_VALUE);
	return snapmap_txn(ctx->map, checks, KF_CHECKS, writes, KF_WRITES,
			   &ctx->out_version, &ctx->out_failed);
}

static int kf_txn(struct kf_ctx *ctx)
{
	return kf_txn_run(ctx, false);
}

static int kf_txn_cancel(struct kf_ctx *ctx)
{
	return kf_txn_run(ctx, true);
}

/* @key has the @len bytes at @value at @version in @ctx's map. */
static bool kf_holds(struct kf_ctx *ctx, const char *key, const void *value,
		     u32 len, u64 version)
{
	u64 got_version;
	u32 got_len;

	return !snapmap_lookup(ctx->map, key, strlen(key), ctx->value,
			       sizeof(ctx->value), &got_len, &got_version) &&
	       got_len == len && !memcmp(ctx->value, value, len) &&
	       got_version == version;
}

/* Key @i has its first value and version in @ctx's map. */
static bool kf_holds_first(struct kf_ctx *ctx, unsigned int i)
{
	char key[KF_MAX_KEY];
	u32 key_len, len;

	kf_key(i, key, &key_len);
	kf_value(i, ctx->expected, &len);
	return kf_holds(ctx, key, ctx->expected, len, ctx->version[i]);
}

static bool kf_absent(struct kf_ctx *ctx, const char *key)
{
	u64 version;
	u32 len;

	return snapmap_lookup(ctx->map, key, strlen(key), ctx->value,
			      sizeof(ctx->value), &len, &version) == -ENOENT;
}

/* Every write at one version, the map's last; nothing else written. */
static const char *kf_check_txn(struct kf_ctx *ctx, int ret)
{
	struct snapmap_info info = {};

	snapmap_get_info(ctx->map, &info);
	if (ret)
		return "returned an error";
	if (ctx->out_failed != SNAPMAP_TXN_NONE)
		return "named an entry";
	if (!ctx->out_version || ctx->out_version != info.out_version)
		return "its version is not the map's last";
	memset(ctx->expected, 'T', KF_MAX_VALUE);
	if (!kf_holds(ctx, "t-new", KF_NEW_VALUE, strlen(KF_NEW_VALUE),
		      ctx->out_version) ||
	    !kf_holds(ctx, "key-2", KF_REPLACED, strlen(KF_REPLACED),
		      ctx->out_version) ||
	    !kf_holds(ctx, "t-big", ctx->expected, KF_MAX_VALUE,
		      ctx->out_version))
		return "a PUT did not take effect at its version";
	if (!kf_absent(ctx, "key-4") || !kf_absent(ctx, "t-gone") ||
	    !kf_absent(ctx, "t-absent"))
		return "a deleted key, or one only a condition named, is there";
	if (!kf_holds_first(ctx, 3) || !kf_holds_first(ctx, 5))
		return "a key only a condition named changed";
	return NULL;
}

/* The condition on the version named; nothing written. */
static const char *kf_check_txn_cancel(struct kf_ctx *ctx, int ret)
{
	if (ret != -ECANCELED)
		return "did not return -ECANCELED";
	if (ctx->out_failed != KF_IF_VERSION)
		return "did not name the condition on the version";
	if (ctx->out_version)
		return "gave a version";
	if (!kf_absent(ctx, "t-new") || !kf_absent(ctx, "t-absent") ||
	    !kf_holds_first(ctx, 2) || !kf_holds_first(ctx, 4))
		return "wrote";
	return NULL;
}

/* Key @i of the snapshot @snap, into @ctx. */
static int kf_snapshot_lookup_key(struct kf_ctx *ctx,
				  struct snapmap_snapshot *snap,
				  unsigned int i)
{
	char key[KF_MAX_KEY];
	u32 key_len;

	kf_key(i, key, &key_len);
	return snapmap_snapshot_lookup(snap, key, key_len, ctx->value,
				       sizeof(ctx->value), &ctx->out_len,
				       &ctx->out_version);
}

static int kf_snapshot_lookup(struct kf_ctx *ctx)
{
	return kf_snapshot_lookup_key(ctx, ctx->snap, 6);
}

/* key-1 from the pinning snapshot: deleted since. */
static int kf_snapshot_lookup_pinned(struct kf_ctx *ctx)
{
	return kf_snapshot_lookup_key(ctx, ctx->pin, 1);
}

static int kf_snapshot_lookup_weak(struct kf_ctx *ctx)
{
	return kf_snapshot_lookup_key(ctx, ctx->snap, 2);
}

static int kf_snapshot_copy_rcu(const void *value, u32 value_len,
				u64 version, void *arg)
{
	struct kf_ctx *ctx = arg;

	if (value_len > sizeof(ctx->value))
		return -ERANGE;
	memcpy(ctx->value, value, value_len);
	ctx->out_len = value_len;
	ctx->out_version = version;
	return 0;
}

static int kf_snapshot_lookup_rcu(struct kf_ctx *ctx)
{
	return snapmap_snapshot_lookup_rcu(ctx->snap, "key-6", 5,
					   kf_snapshot_copy_rcu, ctx);
}

/* The answer of a lookup in a snapshot is key @i's first value. */
static const char *kf_check_first(struct kf_ctx *ctx, int ret, unsigned int i)
{
	u32 len;

	if (ret)
		return "returned an error";
	kf_value(i, ctx->expected, &len);
	if (ctx->out_len != len || memcmp(ctx->value, ctx->expected, len) ||
	    ctx->out_version != ctx->version[i])
		return "not the value and version the snapshot holds";
	return NULL;
}

static const char *kf_check_key6(struct kf_ctx *ctx, int ret)
{
	return kf_check_first(ctx, ret, 6);
}

static const char *kf_check_key2(struct kf_ctx *ctx, int ret)
{
	return kf_check_first(ctx, ret, 2);
}

static const char *kf_check_key1(struct kf_ctx *ctx, int ret)
{
	if (!kf_absent(ctx, "key-1"))
		return "key-1 is in the map";
	return kf_check_first(ctx, ret, 1);
}

#define KF_ATOMIC 1
#define KF_WEAK (SNAPMAP_SNAPSHOT_WEAK + 1)

static const struct kf_call kf_calls[] = {
	{ "create", kf_create, .allocates = true },
	{ "create_named", kf_create_named, .allocates = true },
	{ "find", kf_find, .named = true },
	{ "get_put", kf_get_put },
	{ "lookup", kf_lookup },
	{ "lookup_rcu", kf_lookup_rcu },
	{ "update_new", kf_update_new, .allocates = true },
	{ "update_new_pinned", kf_update_new, .pinned = true,
	  .allocates = true },
	{ "update_big", kf_update_big, .allocates = true },
	{ "update_replace", kf_update_replace, .allocates = true },
	{ "update_replace_pinned", kf_update_replace, .pinned = true,
	  .allocates = true },
	{ "cas", kf_cas, .allocates = true },
	{ "delete", kf_delete },
	{ "delete_pinned", kf_delete, .pinned = true },
	{ "delete_cas", kf_delete_cas },
	{ "clear", kf_clear, .allocates = true, .background = true },
	{ "clear_pinned", kf_clear, .pinned = true, .allocates = true,
	  .background = true },
	{ "get_info", kf_get_info },
	{ "snapshot_open", kf_snapshot_open, .allocates = true },
	{ "snapshot_open_weak", kf_snapshot_open_weak, .allocates = true },
	{ "snapshot_open_pinned", kf_snapshot_open, .pinned = true,
	  .allocates = true },
	{ "snapshot_next", kf_snapshot_next, .snap = KF_ATOMIC },
	{ "snapshot_next_weak", kf_snapshot_next, .snap = KF_WEAK },
	{ "snapshot_read", kf_snapshot_read, .snap = KF_ATOMIC },
	{ "snapshot_read_pinned", kf_snapshot_read, .snap = KF_ATOMIC,
	  .pinned = true },
	{ "snapshot_rewind", kf_snapshot_rewind, .snap = KF_ATOMIC },
	{ "snapshot_get_info", kf_snapshot_get_info, .snap = KF_ATOMIC },
	{ "snapshot_version", kf_snapshot_version, .snap = KF_ATOMIC },
	{ "snapshot_close", kf_snapshot_close, .snap = KF_ATOMIC },
	{ "snapshot_close_weak", kf_snapshot_close, .snap = KF_WEAK },
	{ "clone", kf_clone, .clone = true, .allocates = true },
	{ "clone_named", kf_clone_named, .clone = true, .allocates = true },
	{ "clone_pinned", kf_clone, .pinned = true, .clone = true,
	  .allocates = true },
	{ "txn", kf_txn, .check = kf_check_txn, .allocates = true },
	{ "txn_pinned", kf_txn, .check = kf_check_txn, .pinned = true,
	  .allocates = true },
	{ "txn_cancel", kf_txn_cancel, .check = kf_check_txn_cancel,
	  .allocates = true },
	{ "snapshot_lookup", kf_snapshot_lookup, .check = kf_check_key6,
	  .snap = KF_ATOMIC },
	{ "snapshot_lookup_pinned", kf_snapshot_lookup_pinned,
	  .check = kf_check_key1, .pinned = true },
	{ "snapshot_lookup_weak", kf_snapshot_lookup_weak,
	  .check = kf_check_key2, .snap = KF_WEAK },
	{ "snapshot_lookup_rcu", kf_snapshot_lookup_rcu,
	  .check = kf_check_key6, .snap = KF_ATOMIC },
	{ "watch_open", kf_watch_open, .allocates = true },
	/* It takes a snapshot, as a clone does. */
	{ "watch_open_snapshot", kf_watch_open_snapshot, .clone = true,
	  .allocates = true },
};

static __printf(2, 3) void kf_log(struct kf_file *kf, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	kf->len += vscnprintf(kf->report + kf->len, sizeof(kf->report) -
			      kf->len, fmt, args);
	va_end(args);
}

/* The calling task's fail-nth, without which a sweep cannot run. */
#ifdef CONFIG_FAULT_INJECTION
static void kf_set_fail_nth(unsigned int nth)
{
	current->fail_nth = nth;
}

static unsigned int kf_fail_nth(void)
{
	return current->fail_nth;
}
#else
static void kf_set_fail_nth(unsigned int nth)
{
}

static unsigned int kf_fail_nth(void)
{
	return 0;
}
#endif

/* Make the call with its @nth fault point failing; whether one failed. */
static bool kf_call_nth(struct kf_ctx *ctx, const struct kf_call *c,
			unsigned int nth, int *ret)
{
	bool failed;

	kf_set_fail_nth(nth);
	*ret = c->call(ctx);
	failed = nth && !kf_fail_nth();
	kf_set_fail_nth(0);
	return failed;
}

/* What a call that ran through, with its @nth point not reached, did. */
static void kf_check(struct kf_file *kf, const struct kf_call *c,
		     struct kf_ctx *ctx, unsigned int nth, int ret)
{
	const char *wrong = c->check ? c->check(ctx, ret) : NULL;

	if (wrong)
		kf_log(kf, "point %u not reached: the call %s (%d)\n", nth,
		       wrong, ret);
}

/*
 * A failed call changed nothing; a transaction named no entry and gave no
 * version.
 */
static void kf_check_failed(struct kf_file *kf, const struct kf_call *c,
			    struct kf_ctx *ctx, unsigned int nth, int ret,
			    struct kf_state *before,
			    const struct kf_state *after)
{
	struct snapmap *map;

	if (ret != -ENOMEM)
		kf_log(kf, "point %u: returned %d, not -ENOMEM\n", nth, ret);
	/* The snapshot that took @before's digest took a version. */
	before->info.out_version++;
	if (c->clone &&
	    after->info.out_version == before->info.out_version + 1)
		before->info.out_version++;
	if (!kf_same_state(before, after))
		kf_log(kf, "point %u: the map changed: version %llu -> %llu\n",
		       nth, before->info.out_version, after->info.out_version);
	if ((c->call == kf_txn || c->call == kf_txn_cancel) &&
	    (ctx->out_failed != SNAPMAP_TXN_NONE || ctx->out_version))
		kf_log(kf, "point %u: the transaction named %u, version %llu\n",
		       nth, ctx->out_failed, ctx->out_version);
	if (c->call == kf_create_named || c->call == kf_clone_named) {
		map = snapmap_find(KF_NEW_NAME);
		if (!IS_ERR(map)) {
			kf_log(kf, "point %u: the new name was taken\n", nth);
			snapmap_put(map);
		}
	}
}

static int kf_sweep(struct kf_file *kf, const struct kf_call *c)
{
	struct kf_state ref, before, after;
	unsigned int nth, failed = 0, coped = 0;
	struct kf_ctx *ctx;
	int ret, ref_ret, err;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		return -EOPNOTSUPP;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	kf->len = 0;

	/* The clean call. */
	err = kf_setup(ctx, c) ?: kf_state_take(ctx->map, &before);
	if (!err) {
		kf_call_nth(ctx, c, 0, &ref_ret);
		kf_check(kf, c, ctx, 0, ref_ret);
		err = kf_state_take(ctx->map, &ref);
	}
	kf_teardown(ctx);
	if (err)
		goto out;

	for (nth = 1; nth < KF_NTH_MAX; nth++) {
		err = kf_setup(ctx, c) ?: kf_state_take(ctx->map, &before);
		if (err) {
			kf_teardown(ctx);
			goto out;
		}
		if (!kf_call_nth(ctx, c, nth, &ret)) {
			/* The call ran through: the sweep is over. */
			if (ret != ref_ret)
				kf_log(kf, "clean call returned %d, then %d\n",
				       ref_ret, ret);
			kf_check(kf, c, ctx, nth, ret);
			kf_teardown(ctx);
			break;
		}
		err = kf_state_take(ctx->map, &after);
		if (err) {
			kf_teardown(ctx);
			goto out;
		}
		if (ret == ref_ret) {
			/* The failed point was one that copes. */
			coped++;
			if (c->background)
				after.info.out_bytes = ref.info.out_bytes;
			if (!kf_same_state(&ref, &after))
				kf_log(kf, "point %u: coped, but differs\n",
				       nth);
		} else {
			failed++;
			kf_check_failed(kf, c, ctx, nth, ret, &before,
					&after);
		}
		kf_teardown(ctx);
		if (kf->len > KF_REPORT / 2)
			break;
	}
	if (nth == KF_NTH_MAX)
		kf_log(kf, "no end after %u points\n", nth);
	/*
	 * A call that allocates reaches a fault point, and at least one of
	 * them makes it fail: a sweep that never fired, or whose every
	 * failure was coped with, injected nothing the call had to undo.
	 */
	if (c->allocates && nth == 1)
		kf_log(kf, "no fault point in a call that allocates\n");
	else if (c->allocates && !failed)
		kf_log(kf, "all %u fault points coped with\n", coped);
	/* The report: its counts first, then what went wrong. */
	ret = scnprintf(ctx->value, sizeof(ctx->value),
			"points %u\nfailed %u\ncoped %u\n", nth - 1, failed,
			coped);
	if (kf->len + ret >= sizeof(kf->report))
		kf->len = sizeof(kf->report) - ret - 1;
	memmove(kf->report + ret, kf->report, kf->len);
	memcpy(kf->report, ctx->value, ret);
	kf->len += ret;
	err = 0;
out:
	kfree(ctx);
	return err;
}

static int kf_open(struct inode *inode, struct file *file)
{
	struct kf_file *kf;

	kf = kzalloc(sizeof(*kf), GFP_KERNEL);
	if (!kf)
		return -ENOMEM;
	mutex_init(&kf->lock);
	file->private_data = kf;
	return 0;
}

static int kf_release(struct inode *inode, struct file *file)
{
	struct kf_file *kf = file->private_data;

	mutex_destroy(&kf->lock);
	kfree(kf);
	return 0;
}

static ssize_t kf_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct kf_file *kf = file->private_data;
	char name[32];
	size_t len = count;
	unsigned int i;
	int err;

	if (count >= sizeof(name))
		return -EINVAL;
	if (copy_from_user(name, buf, count))
		return -EFAULT;
	if (len && name[len - 1] == '\n')
		len--;
	name[len] = '\0';
	for (i = 0; i < ARRAY_SIZE(kf_calls); i++)
		if (!strcmp(name, kf_calls[i].name))
			break;
	if (i == ARRAY_SIZE(kf_calls))
		return -ENOENT;

	mutex_lock(&kf->lock);
	err = kf_sweep(kf, &kf_calls[i]);
	mutex_unlock(&kf->lock);
	return err ?: count;
}

static ssize_t kf_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct kf_file *kf = file->private_data;
	ssize_t ret;

	mutex_lock(&kf->lock);
	ret = simple_read_from_buffer(buf, count, ppos, kf->report, kf->len);
	mutex_unlock(&kf->lock);
	return ret;
}

static const struct file_operations kf_sweep_fops = {
	.owner = THIS_MODULE,
	.open = kf_open,
	.release = kf_release,
	.read = kf_read,
	.write = kf_write,
	.llseek = default_llseek,
};

static ssize_t kf_calls_read(struct file *file, char __user *buf,
			     size_t count, loff_t *ppos)
{
	char *text;
	size_t len = 0;
	unsigned int i;
	ssize_t ret;

	text = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!text)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(kf_calls); i++)
		len += scnprintf(text + len, PAGE_SIZE - len, "%s\n",
				 kf_calls[i].name);
	ret = simple_read_from_buffer(buf, count, ppos, text, len);
	kfree(text);
	return ret;
}

static const struct file_operations kf_calls_fops = {
	.owner = THIS_MODULE,
	.read = kf_calls_read,
	.llseek = default_llseek,
};

static int __init kf_init(void)
{
	kf_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("calls", 0400, kf_dir, NULL, &kf_calls_fops);
	debugfs_create_file("sweep", 0600, kf_dir, NULL, &kf_sweep_fops);
	return 0;
}

static void __exit kf_exit(void)
{
	debugfs_remove_recursive(kf_dir);
}

module_init(kf_init);
module_exit(kf_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The snapmap developers");
MODULE_DESCRIPTION("Test-only: the snapmap kernel API under failing allocations");
