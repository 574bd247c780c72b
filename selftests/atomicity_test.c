// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: an ATOMIC snapshot, and a clone, is the map at one
 * instant while writers keep running.
 *
 * - The moving-key check: writers walk keys along chains, each loop
 *   `put(k + 1); del(k)`, so any instant of the map holds one or two
 *   consecutive keys of each chain.  ATOMIC snapshots must never show
 *   anything else; WEAK snapshots, a walk of the live map, are shown to
 *   fail this check, which proves that the check can fail.
 * - The history check: writers record every write with the version the
 *   module reported; each snapshot of version V must be exactly the replay
 *   of the writes below V, versions included, and must respect real time
 *   (writes done before the snapshot was asked for are in it, writes
 *   started after it returned are not).
 * - The same history check for clones, read through a snapshot of the
 *   clone.
 * - The resize check: snapshots read slowly while the map's table grows
 *   and shrinks must still show each key once, and an instant of the map.
 *
 * A snapshot read before any writer step (or write) completed since it
 * was taken may show the live map, which proves little: at least one in
 * MOVED_SHARE is read after one (waiting for it when too few were), and
 * the test asserts it.
 *
 * Beside each moving-key and history check runs its control: a reader of
 * the same map under the same writers, deliberately not atomic (a WEAK
 * walk read one record per read(2), with a writer step between two
 * reads), checked by the same code.  The test asserts that the control
 * saw at least one impossible state: the check, on this very load, can
 * fail.
 *
 * Threads never use EXPECT or ASSERT: they report to a struct failures,
 * checked by the test's own thread.  Each check runs until a number of
 * snapshots or a time bound, and prints what it did.
 */

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "snapmap_test.h"

/*
 * Shared flags, counters and versions: versions published by one thread
 * order what it did before, so every load acquires and every store releases.
 */
#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_add_fetch(p, v, __ATOMIC_RELAXED)

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double secs_since(__u64 start)
{
	return (now_ns() - start) / 1e9;
}

/* What the threads of a check found wrong: a count and the first few. */
#define FAILURES_KEPT 4

struct failures {
	pthread_mutex_t lock;
	unsigned long count;
	char msg[FAILURES_KEPT][256];
};

static void failures_init(struct failures *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
}

static void __attribute__((format(printf, 2, 3)))
fail(struct failures *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->lock);
	if (f->count < FAILURES_KEPT) {
		va_start(ap, fmt);
		vsnprintf(f->msg[f->count], sizeof(f->msg[0]), fmt, ap);
		va_end(ap);
	}
	f->count++;
	pthread_mutex_unlock(&f->lock);
}

/* Expect no failure, and log those kept. */
#define EXPECT_NO_FAILURES(f)						\
	do {								\
		unsigned long __i;					\
		for (__i = 0; __i < (f)->count &&			\
			      __i < FAILURES_KEPT; __i++)		\
			TH_LOG("%s", (f)->msg[__i]);			\
		EXPECT_EQ(0, (f)->count);				\
	} while (0)

/* Parse the decimal number of @len bytes at @p; -1 if it is not one. */
static long long parse_num(const unsigned char *p, size_t len)
{
	long long n = 0;
	size_t i;

	if (!len || len > 15)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	return n;
}

static __u64 get_u64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * How long a check runs: until it has taken @min snapshots and run for
 * @seconds, or until it has taken @max or run for @max_seconds.
 */
struct budget {
	unsigned long min;
	unsigned long max;
	unsigned int seconds;
	unsigned int max_seconds;
};

/*
 * At least one snapshot in MOVED_SHARE is read after a writer step (or
 * write) completed since it was taken: when too few were, the next one is
 * read again after waiting for one.  A snapshot read before anything
 * changed may show the live map, which proves little; waiting for every
 * one would leave the CPUs to the writers most of the time.
 */
#define MOVED_SHARE 8

static int budget_spent(const struct budget *b, __u64 start,
			unsigned long done)
{
	__u64 elapsed = now_ns() - start;

	if (done >= b->max || elapsed >= b->max_seconds * 1000000000ULL)
		return 1;
	return done >= b->min && elapsed >= b->seconds * 1000000000ULL;
}

FIXTURE(atom) {
	int ctl;
};

FIXTURE_SETUP(atom)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN(atom)
{
	EXPECT_EQ(0, close(self->ctl));
}

/*
 * The moving-key check.  Chain c holds keys "c<c>-<j>"; its writer walks
 * k = 0, 1, 2, ... with `put(key(k + 1)); del(key(k))`, each value being
 * k as 8 bytes.  key(k) is "c<c>-<k>", or "c<c>-<k mod ring>" on a ring
 * of @ring keys, where each key comes back every @ring steps.
 */
#define MV_MAX_CHAINS 32
#define MV_MAX_SNAPSHOTTERS 4
/* Bounds the writers when nothing else stops them. */
#define MV_MAX_STEPS 100000000UL

struct mv_cfg {
	const char *name;
	unsigned int chains;
	unsigned int ring;
	unsigned int snapshotters;
	__u32 flags;
	size_t chunk;
	struct budget budget;
};

struct mv_result {
	unsigned long snapshots;
	unsigned long impossible;
	unsigned long zero;
	unsigned long many;
	unsigned long apart;
	unsigned long steps;
	double seconds;
	char example[256];
};

struct mv {
	const struct mv_cfg *cfg;
	int fd;
	pthread_barrier_t start;
	int stop;
	__u64 t0;
	unsigned long snapshots;
	unsigned long impossible;
	unsigned long zero;
	unsigned long many;
	unsigned long apart;
	unsigned long steps;
	/* Steps of all writers so far, counted as they go. */
	unsigned long progress;
	/* Snapshots read only after the writers had moved on. */
	unsigned long moved;
	pthread_mutex_t example_lock;
	char example[256];
	/* The control beside an ATOMIC run: WEAK walks, slowly read. */
	unsigned long control_walks;
	unsigned long control_impossible;
	unsigned long control_steps;
	char control_example[256];
	struct failures f;
};

struct mv_writer {
	struct mv *mv;
	unsigned int chain;
	pthread_t thread;
};

struct mv_snapshotter {
	struct mv *mv;
	unsigned int id;
	pthread_t thread;
};

static int mv_key(const struct mv_cfg *cfg, char *buf, unsigned int chain,
		  unsigned long k)
{
	return snprintf(buf, 32, "c%u-%lu", chain,
			cfg->ring ? k % cfg->ring : k);
}

static int mv_put(struct mv *mv, unsigned int chain, unsigned long k,
		  __u64 *version)
{
	char key[32];
	__u64 value = k;
	int len = mv_key(mv->cfg, key, chain, k);

	return sm_put(mv->fd, 0, key, len, &value, sizeof(value), 0,
		      version);
}

static void *mv_writer_fn(void *arg)
{
	struct mv_writer *w = arg;
	struct mv *mv = w->mv;
	__u64 put_v = 0, del_v = 0, prev = 0;
	unsigned long k, n = 0;
	char key[32];
	int ret, len;

	pthread_barrier_wait(&mv->start);
	for (k = 0; k < MV_MAX_STEPS && !LOAD(&mv->stop); k++) {
		ret = mv_put(mv, w->chain, k + 1, &put_v);
		if (ret) {
			fail(&mv->f, "chain %u: put of step %lu: %s", w->chain,
			     k + 1, strerror(-ret));
			break;
		}
		len = mv_key(mv->cfg, key, w->chain, k);
		ret = sm_del(mv->fd, 0, key, len, 0, &del_v);
		if (ret) {
			fail(&mv->f, "chain %u: del of step %lu: %s", w->chain,
			     k, strerror(-ret));
			break;
		}
		/* One writer's writes are in its program order. */
		if (!(prev < put_v && put_v < del_v))
			fail(&mv->f, "chain %u: versions %llu, %llu, %llu out of order",
			     w->chain, (unsigned long long)prev,
			     (unsigned long long)put_v,
			     (unsigned long long)del_v);
		prev = del_v;
		n++;
		ADD(&mv->progress, 1);
	}
	ADD(&mv->steps, n);
	return NULL;
}

/* Per chain, the distinct steps a snapshot holds (a third means "many"). */
struct mv_seen {
	unsigned int n;
	unsigned long k[3];
};

/*
 * Check one snapshot's @len bytes of records, taken with the ATOMIC
 * promise if @atomic; returns 1 if it shows an impossible state, described
 * in @desc (256 bytes).
 */
static int mv_check_one(struct mv *mv, struct mv_snapshotter *s, int atomic,
			const unsigned char *buf, size_t len, __u64 version,
			unsigned long *last_min, char *desc, int *kinds)
{
	const struct mv_cfg *cfg = mv->cfg;
	struct mv_seen seen[MV_MAX_CHAINS];
	int impossible = 0, zero = 0, many = 0, apart = 0;
	unsigned int c, i, dash;
	struct sm_record rec;
	size_t off = 0, size;
	long long chain, j;
	unsigned long k, lo, hi;

	desc[0] = '\0';
	*kinds = 0;

	memset(seen, 0, sizeof(seen));
	while (off < len) {
		size = sm_record_parse(buf + off, len - off, &rec);
		if (!size) {
			fail(&mv->f, "malformed record at offset %zu", off);
			return 0;
		}
		off += size;
		for (dash = 1; dash < rec.key_len && rec.key[dash] != '-';
		     dash++)
			;
		chain = parse_num(rec.key + 1, dash - 1);
		j = dash < rec.key_len ?
		    parse_num(rec.key + dash + 1, rec.key_len - dash - 1) : -1;
		if (rec.key_len < 4 || rec.key[0] != 'c' || chain < 0 ||
		    chain >= cfg->chains || j < 0 || rec.value_len != 8) {
			fail(&mv->f, "unexpected record \"%.*s\" of %u bytes",
			     (int)rec.key_len, rec.key, rec.value_len);
			continue;
		}
		k = get_u64(rec.value);
		/* The value is the step that wrote the key. */
		if ((unsigned long)j != (cfg->ring ? k % cfg->ring : k))
			fail(&mv->f, "key \"%.*s\" with the value of step %lu",
			     (int)rec.key_len, rec.key, k);
		if (atomic && rec.version >= version)
			fail(&mv->f, "record \"%.*s\" of version %llu in snapshot %llu",
			     (int)rec.key_len, rec.key,
			     (unsigned long long)rec.version,
			     (unsigned long long)version);
		/* Only the first three are kept: a third already is too many. */
		for (i = 0; i < seen[chain].n && i < 3; i++)
			if (seen[chain].k[i] == k)
				break;
		if (i < seen[chain].n && i < 3) {
			/* A WEAK walk may repeat a key; an ATOMIC one not. */
			if (atomic)
				fail(&mv->f, "key \"%.*s\" twice in snapshot %llu",
				     (int)rec.key_len, rec.key,
				     (unsigned long long)version);
			continue;
		}
		if (seen[chain].n < 3)
			seen[chain].k[seen[chain].n] = k;
		seen[chain].n++;
	}

	for (c = 0; c < cfg->chains; c++) {
		struct mv_seen *sc = &seen[c];

		if (!sc->n) {
			zero++;
			if (!desc[0])
				snprintf(desc, 256, "chain %u: no key", c);
			continue;
		}
		if (sc->n > 2) {
			many++;
			if (!desc[0])
				snprintf(desc, 256,
					 "chain %u: %u keys (steps %lu, %lu, %lu, ...)",
					 c, sc->n, sc->k[0], sc->k[1],
					 sc->k[2]);
			continue;
		}
		lo = sc->k[0];
		hi = sc->n == 2 ? sc->k[1] : lo;
		if (lo > hi) {
			k = lo;
			lo = hi;
			hi = k;
		}
		if (sc->n == 2 && hi != lo + 1) {
			apart++;
			if (!desc[0])
				snprintf(desc, 256,
					 "chain %u: steps %lu and %lu", c, lo,
					 hi);
			continue;
		}
		/* A later snapshot never shows an earlier step. */
		if (atomic && last_min) {
			if (lo < last_min[c])
				fail(&mv->f, "snapshotter %u, chain %u: step %lu after step %lu",
				     s->id, c, lo, last_min[c]);
			last_min[c] = lo;
		}
	}
	impossible = zero || many || apart;
	*kinds = (zero ? 1 : 0) | (many ? 2 : 0) | (apart ? 4 : 0);
	if (impossible && atomic)
		fail(&mv->f, "ATOMIC snapshot %llu: %s", (unsigned long long)version,
		     desc);
	return impossible;
}

/* Check a snapshot of the run's own kind, and count what it showed. */
static int mv_check(struct mv *mv, struct mv_snapshotter *s,
		    const unsigned char *buf, size_t len, __u64 version,
		    unsigned long *last_min)
{
	int atomic = !(mv->cfg->flags & SNAPMAP_SNAPSHOT_WEAK), kinds;
	char desc[256];

	if (!mv_check_one(mv, s, atomic, buf, len, version, last_min, desc,
			  &kinds))
		return 0;
	if (kinds & 1)
		ADD(&mv->zero, 1);
	if (kinds & 2)
		ADD(&mv->many, 1);
	if (kinds & 4)
		ADD(&mv->apart, 1);
	pthread_mutex_lock(&mv->example_lock);
	if (!mv->example[0])
		snprintf(mv->example, sizeof(mv->example), "%s", desc);
	pthread_mutex_unlock(&mv->example_lock);
	return 1;
}

/*
 * Wait until the writers have made @n more steps than @from, or were
 * stopped: whether they made them.  sched_yield() hands the CPU to them.
 */
static int mv_wait_progress(struct mv *mv, unsigned long from,
			    unsigned long n)
{
	while (LOAD(&mv->progress) - from < n) {
		if (LOAD(&mv->stop))
			return LOAD(&mv->progress) - from >= n;
		sched_yield();
	}
	return 1;
}

/* Read what is left of @sfd into @buf (@cap bytes): its length, or -1. */
static ssize_t mv_read(struct mv *mv, int sfd, __u64 version,
		       unsigned char *buf, size_t cap)
{
	size_t len = 0, chunk = mv->cfg->chunk;
	ssize_t n = 0;
	int reads;

	for (reads = 0; reads < 100000 && cap - len >= 256; reads++) {
		n = read(sfd, buf + len, chunk < cap - len ? chunk : cap - len);
		if (n <= 0)
			break;
		if (!sm_records_whole(buf + len, n)) {
			fail(&mv->f, "a read of %zd bytes split a record", n);
			return -1;
		}
		len += n;
	}
	if (n) {
		fail(&mv->f, "reading snapshot %llu: %s",
		     (unsigned long long)version,
		     n < 0 ? strerror(errno) : "too many records");
		return -1;
	}
	return len;
}

static void *mv_snapshotter_fn(void *arg)
{
	struct mv_snapshotter *s = arg;
	struct mv *mv = s->mv;
	const struct mv_cfg *cfg = mv->cfg;
	unsigned long last_min[MV_MAX_CHAINS] = { 0 }, from;
	const size_t cap = 1 << 16;
	__u64 version = 0, prev = 0;
	unsigned char *buf;
	ssize_t len;
	int sfd;

	pthread_barrier_wait(&mv->start);
	buf = malloc(cap);
	if (!buf) {
		fail(&mv->f, "out of memory");
		return NULL;
	}
	while (!LOAD(&mv->stop) &&
	       !budget_spent(&cfg->budget, mv->t0, LOAD(&mv->snapshots))) {
		sfd = sm_snapshot(mv->fd, cfg->flags, &version);
		from = LOAD(&mv->progress);
		if (sfd < 0) {
			fail(&mv->f, "snapshot: %s", strerror(-sfd));
			break;
		}
		if (!(cfg->flags & SNAPMAP_SNAPSHOT_WEAK)) {
			if (version <= prev)
				fail(&mv->f, "snapshot version %llu after %llu",
				     (unsigned long long)version,
				     (unsigned long long)prev);
			prev = version;
		}
		len = mv_read(mv, sfd, version, buf, cap);
		/*
		 * Too few so far read after the map moved on: wait for a
		 * writer step, then read this one again.
		 */
		if (len >= 0 && LOAD(&mv->progress) == from &&
		    LOAD(&mv->moved) * MOVED_SHARE <= LOAD(&mv->snapshots)) {
			if (!mv_wait_progress(mv, from, 1)) {
				/* The run is over: this one proves nothing. */
				close(sfd);
				break;
			}
			if (lseek(sfd, 0, SEEK_SET)) {
				fail(&mv->f, "rewind: %s", strerror(errno));
				len = -1;
			} else {
				len = mv_read(mv, sfd, version, buf, cap);
			}
		}
		if (len < 0) {
			close(sfd);
			break;
		}
		if (close(sfd))
			fail(&mv->f, "close: %s", strerror(errno));
		if (mv_check(mv, s, buf, len, version, last_min))
			ADD(&mv->impossible, 1);
		/*
		 * Only a snapshot read after a writer step completed since
		 * it was taken shows a map that is gone: those count.
		 */
		if (LOAD(&mv->progress) != from)
			ADD(&mv->moved, 1);
		ADD(&mv->snapshots, 1);
		/*
		 * A WEAK run has made its point at the first miss, once it
		 * has taken enough snapshots to tell how often it misses.
		 */
		if ((cfg->flags & SNAPMAP_SNAPSHOT_WEAK) &&
		    LOAD(&mv->impossible) &&
		    LOAD(&mv->snapshots) >= cfg->budget.min)
			break;
	}
	free(buf);
	STORE(&mv->stop, 1);
	return NULL;
}

/*
 * The control beside an ATOMIC run: the same check on WEAK walks of the
 * same map under the same writers, read one record per read(2) with at
 * least one writer step between two reads.  Such a walk is no instant of
 * the map, and the check must say so: the run asserts that the control
 * saw at least one impossible state, which proves that this check, on
 * this load, can fail.
 */
#define MV_CONTROL_CHUNK (2 * SNAPMAP_RECORD_SIZE(4, 8) - 1)
/* Enough to have made the point: the CPUs go back to the check. */
#define MV_CONTROL_ENOUGH 16

static void *mv_control_fn(void *arg)
{
	struct mv *mv = arg;
	const size_t cap = 1 << 16;
	unsigned long start, from;
	unsigned char *buf;
	int sfd, kinds, whole;
	char desc[256];
	size_t len;
	ssize_t n;

	pthread_barrier_wait(&mv->start);
	buf = malloc(cap);
	if (!buf) {
		fail(&mv->f, "out of memory");
		return NULL;
	}
	while (!LOAD(&mv->stop) &&
	       LOAD(&mv->control_impossible) < MV_CONTROL_ENOUGH) {
		sfd = sm_snapshot(mv->fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
		if (sfd < 0) {
			fail(&mv->f, "control: WEAK snapshot: %s",
			     strerror(-sfd));
			break;
		}
		start = LOAD(&mv->progress);
		len = 0;
		whole = 0;
		for (;;) {
			/* Cut short by the end of the run: not a whole walk. */
			from = LOAD(&mv->progress);
			if (!mv_wait_progress(mv, from, 1))
				break;
			/*
			 * A walk the table's resizing sent round and round:
			 * what it read already repeats keys.
			 */
			if (cap - len < MV_CONTROL_CHUNK) {
				whole = 1;
				break;
			}
			n = read(sfd, buf + len, MV_CONTROL_CHUNK);
			if (n < 0) {
				fail(&mv->f, "control: read: %s",
				     strerror(errno));
				break;
			}
			if (!n) {
				whole = 1;
				break;
			}
			if (!sm_records_whole(buf + len, n)) {
				fail(&mv->f, "control: a read split a record");
				break;
			}
			len += n;
		}
		close(sfd);
		if (!whole)
			break;
		ADD(&mv->control_steps, LOAD(&mv->progress) - start);
		ADD(&mv->control_walks, 1);
		if (mv_check_one(mv, NULL, 0, buf, len, 0, NULL, desc,
				 &kinds) &&
		    ADD(&mv->control_impossible, 1) == 1)
			memcpy(mv->control_example, desc, sizeof(desc));
	}
	free(buf);
	return NULL;
}

static void mv_run(struct __test_metadata *_metadata, int ctl,
		   const struct mv_cfg *cfg, struct mv_result *res)
{
	struct mv_snapshotter snapshotters[MV_MAX_SNAPSHOTTERS];
	struct mv_writer writers[MV_MAX_CHAINS];
	int control = !(cfg->flags & SNAPMAP_SNAPSHOT_WEAK);
	pthread_t control_thread;
	unsigned int i;
	__u64 start;
	struct mv *mv;
	int fd;

	ASSERT_GE(MV_MAX_CHAINS, cfg->chains);
	ASSERT_GE(MV_MAX_SNAPSHOTTERS, cfg->snapshotters);
	mv = calloc(1, sizeof(*mv));
	ASSERT_TRUE(mv != NULL);
	mv->cfg = cfg;
	failures_init(&mv->f);
	pthread_mutex_init(&mv->example_lock, NULL);
	fd = sm_create(ctl, 32, 8, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	mv->fd = fd;
	for (i = 0; i < cfg->chains; i++)
		ASSERT_EQ(0, mv_put(mv, i, 0, NULL));
	ASSERT_EQ(0, pthread_barrier_init(&mv->start, NULL,
					  cfg->chains + cfg->snapshotters +
					  control + 1));
	if (control)
		ASSERT_EQ(0, pthread_create(&control_thread, NULL,
					    mv_control_fn, mv));
	for (i = 0; i < cfg->chains; i++) {
		writers[i].mv = mv;
		writers[i].chain = i;
		ASSERT_EQ(0, pthread_create(&writers[i].thread, NULL,
					    mv_writer_fn, &writers[i]));
	}
	for (i = 0; i < cfg->snapshotters; i++) {
		snapshotters[i].mv = mv;
		snapshotters[i].id = i;
		ASSERT_EQ(0, pthread_create(&snapshotters[i].thread, NULL,
					    mv_snapshotter_fn,
					    &snapshotters[i]));
	}
	start = now_ns();
	mv->t0 = start;
	pthread_barrier_wait(&mv->start);
	for (i = 0; i < cfg->snapshotters; i++)
		pthread_join(snapshotters[i].thread, NULL);
	STORE(&mv->stop, 1);
	if (control)
		pthread_join(control_thread, NULL);
	for (i = 0; i < cfg->chains; i++)
		pthread_join(writers[i].thread, NULL);

	res->seconds = secs_since(start);
	res->snapshots = mv->snapshots;
	res->impossible = mv->impossible;
	res->zero = mv->zero;
	res->many = mv->many;
	res->apart = mv->apart;
	res->steps = mv->steps;
	memcpy(res->example, mv->example, sizeof(res->example));
	ksft_print_msg("%s: %lu %s snapshots (%lu read after a writer step) of %u chains in %.1f s, %lu steps; %lu impossible (%lu with a chain of no key, %lu of more than two, %lu of keys apart)%s%s\n",
		       cfg->name, res->snapshots,
		       cfg->flags & SNAPMAP_SNAPSHOT_WEAK ? "WEAK" : "ATOMIC",
		       mv->moved,
		       cfg->chains, res->seconds, res->steps, res->impossible,
		       res->zero, res->many, res->apart,
		       res->example[0] ? "; first: " : "", res->example);
	if (control)
		ksft_print_msg("%s: control beside it: %lu WEAK walks read across %lu writer steps; %lu impossible%s%s\n",
			       cfg->name, mv->control_walks,
			       mv->control_steps, mv->control_impossible,
			       mv->control_impossible ? "; first: " : "",
			       mv->control_example);
	/* The harness ends the test with _exit(): flush it now. */
	fflush(stdout);
	EXPECT_NO_FAILURES(&mv->f);
	/* Enough snapshots were read after the writers had moved on. */
	EXPECT_LE(mv->snapshots, mv->moved * MOVED_SHARE);
	/* The check can fail: beside it, the control did. */
	if (control) {
		EXPECT_LT(0, mv->control_impossible) {
			TH_LOG("%lu WEAK walks beside the check, not one impossible state",
			       mv->control_walks);
		}
	}

	/* Quiet now: each chain holds its writer's last key alone. */
	if (!mv->f.count) {
		struct snapmap_snapshot_info info;
		void *all;
		ssize_t total;
		int sfd;

		sfd = sm_snapshot(fd, 0, NULL);
		ASSERT_LE(0, sfd);
		ASSERT_EQ(0, sm_snapshot_info(sfd, &info));
		EXPECT_EQ(cfg->chains, info.out_entries);
		total = sm_read_all(sfd, 4096, &all);
		ASSERT_LE(0, total);
		EXPECT_EQ(info.out_bytes, total);
		EXPECT_EQ(0, mv_check(mv, NULL, all, total, ~0ULL, NULL));
		EXPECT_NO_FAILURES(&mv->f);
		free(all);
		EXPECT_EQ(0, close(sfd));
	}
	pthread_barrier_destroy(&mv->start);
	EXPECT_EQ(0, close(fd));
	free(mv);
}

/*
 * Each ATOMIC check runs for ATOMIC_SECONDS and at least until it has
 * taken ATOMIC_MIN snapshots, but no longer than its ceiling: the three
 * checks that count (two moving-key variants and the history) take at
 * least 3 * 3500 = 10500 ATOMIC snapshots in each run of this program.
 * The ceilings fit the whole program, at worst, within the rig's 600 s:
 * 2 * 140 s for the moving keys, whose writers are slowest (the ring's
 * took 95 s for 3500 snapshots on arm64 under TCG on a busy host), 3 *
 * 60 s for the others and 6 * 20 s for the WEAK control.
 */
#define ATOMIC_MIN 3500
#define ATOMIC_SECONDS 10
#define MOVING_MAX_SECONDS 140
#define ATOMIC_MAX_SECONDS 60
#define ATOMIC_BUDGET {							\
	.min = ATOMIC_MIN,						\
	.max = ~0UL,							\
	.seconds = ATOMIC_SECONDS,					\
	.max_seconds = MOVING_MAX_SECONDS,				\
}

TEST_F_TIMEOUT(atom, moving_key, MOVING_MAX_SECONDS + 30)
{
	const struct mv_cfg cfg = {
		.name = "moving key, put(k + 1); del(k)",
		.chains = 4,
		.snapshotters = 2,
		.chunk = 65536,
		.budget = ATOMIC_BUDGET,
	};
	struct mv_result res;

	mv_run(_metadata, self->ctl, &cfg, &res);
	EXPECT_EQ(0, res.impossible);
	EXPECT_LE(ATOMIC_MIN, res.snapshots);
}

/*
 * The same walk on a ring of 4 keys per chain, `put(k); del(k - 1)`: each
 * key is deleted and comes back every 4 steps, so snapshots meet keys
 * whose entries were removed and made again.
 */
TEST_F_TIMEOUT(atom, moving_key_ring, MOVING_MAX_SECONDS + 30)
{
	const struct mv_cfg cfg = {
		.name = "moving key on a ring of 4 keys, put(k); del(k - 1)",
		.chains = 4,
		.ring = 4,
		.snapshotters = 2,
		.chunk = 65536,
		.budget = ATOMIC_BUDGET,
	};
	struct mv_result res;

	mv_run(_metadata, self->ctl, &cfg, &res);
	EXPECT_EQ(0, res.impossible);
	EXPECT_LE(ATOMIC_MIN, res.snapshots);
}

/* Rounds of WEAK snapshots moving_key_weak_fails takes at most. */
#define WEAK_ROUNDS 6
#define WEAK_MAX_SECONDS 20

/*
 * The check has teeth: WEAK snapshots, read one record per read(2) while
 * 16 writers move their keys, show states the map was never in.  A round
 * can end before the writers moved much (its 300 snapshots may take half
 * a second), so rounds go on until one shows an impossible state.
 */
TEST_F_TIMEOUT(atom, moving_key_weak_fails,
	       WEAK_MAX_SECONDS * WEAK_ROUNDS + 30)
{
	const struct mv_cfg cfg = {
		.name = "moving key, WEAK",
		.chains = 16,
		.snapshotters = 2,
		.flags = SNAPMAP_SNAPSHOT_WEAK,
		/* One record per read: two take at least 64 bytes. */
		.chunk = 2 * SNAPMAP_RECORD_SIZE(4, 8) - 1,
		/* At least 300 snapshots, to tell how often it misses. */
		.budget = {
			.min = 300,
			.max = 100000,
			.max_seconds = WEAK_MAX_SECONDS,
		},
	};
	unsigned long snapshots = 0;
	struct mv_result res = {};
	int round;

	for (round = 0; round < WEAK_ROUNDS && !res.impossible; round++) {
		mv_run(_metadata, self->ctl, &cfg, &res);
		snapshots += res.snapshots;
	}
	EXPECT_LT(0, res.impossible) {
		TH_LOG("%lu WEAK snapshots in %d rounds, not one impossible state",
		       snapshots, round);
	}
}

/*
 * The history check.  HIST_WRITERS writers do random PUT and DEL on
 * HIST_KEYS keys "h<j>" and record each write that succeeded with its
 * version; values are unique: 8 bytes of writer and sequence number, then
 * 0 to 8 bytes derived from them.
 */
#define HIST_KEYS 16
#define HIST_WRITERS 3
#define HIST_MAX_SNAPSHOTTERS 2
#define HIST_VALUE_MAX 16
#define HIST_MAX_OPS 2000000UL
#define HIST_DEL 0xffffffffU

struct hist_op {
	__u64 version;
	__u64 value;
	__u32 key;
	__u32 len;		/* HIST_DEL for a deletion */
};

struct hist_entry {
	__u64 value;
	__u64 version;
	__u32 len;		/* HIST_DEL when absent */
	__u32 __pad;
};

/* One snapshot (or clone) and what it held. */
struct hist_snap {
	__u64 version;
	struct hist_entry ent[HIST_KEYS];
};

/*
 * One WEAK walk of the control, and the map's versions (INFO) before it
 * was asked for and after it was read: the instants it may show.
 */
struct hist_view {
	__u64 lo;
	__u64 hi;
	int dup;		/* it met a key twice */
	struct hist_snap snap;
};

/* Walks the control makes: enough to see, and leaves the CPUs to the check. */
#define HIST_MAX_VIEWS 100
/* One record per read(2): a record of the history takes 32 to 40 bytes. */
#define HIST_CONTROL_CHUNK (2 * SNAPMAP_RECORD_SIZE(2, 8) - 1)

struct hist;

struct hist_writer {
	struct hist *h;
	unsigned int id;
	pthread_t thread;
	struct hist_op *ops;
	unsigned long n;
	__u64 last;		/* version of its last write, for readers */
};

struct hist_snapshotter {
	struct hist *h;
	unsigned int id;
	pthread_t thread;
};

struct hist {
	int fd;
	int clones;
	const struct budget *budget;
	__u64 t0;
	pthread_barrier_t start;
	int stop;
	struct hist_writer w[HIST_WRITERS];
	struct hist_snap *snaps;
	unsigned long nsnaps;
	unsigned long taken;
	__u64 last_snap;	/* highest version a snapshot returned */
	/* Writes of all writers so far, counted as they go. */
	unsigned long writes;
	/* Snapshots read only after the writers had moved on. */
	unsigned long moved;
	/* The control beside the check: WEAK walks, slowly read. */
	struct hist_view *views;
	unsigned long nviews;
	struct failures f;
};

static unsigned int xorshift(unsigned int *s)
{
	unsigned int x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* The value of write @seq of writer @id. */
static __u32 hist_value(unsigned int id, unsigned long seq,
			unsigned char *buf, __u64 *value)
{
	__u32 len = 8 + seq % 9, i;

	*value = ((__u64)(id + 1) << 40) | seq;
	memcpy(buf, value, 8);
	for (i = 8; i < len; i++)
		buf[i] = (unsigned char)(seq * 31 + id + i);
	return len;
}

/* Whether the bytes of a record's value are a value hist_value() made. */
static int hist_value_ok(const unsigned char *buf, __u32 len)
{
	unsigned char expect[HIST_VALUE_MAX];
	__u64 value, again;

	if (len < 8 || len > HIST_VALUE_MAX)
		return 0;
	value = get_u64(buf);
	if (!(value >> 40) || (value >> 40) > HIST_WRITERS)
		return 0;
	if (len != hist_value((value >> 40) - 1, value & ((1ULL << 40) - 1),
			      expect, &again))
		return 0;
	return !memcmp(buf, expect, len);
}

static void *hist_writer_fn(void *arg)
{
	struct hist_writer *w = arg;
	struct hist *h = w->h;
	unsigned char buf[HIST_VALUE_MAX];
	unsigned int seed = 0x9e3779b9U * (w->id + 1), r, j;
	__u64 value, version, before, prev = 0;
	struct hist_op *op;
	unsigned long seq;
	char key[8];
	int ret, len;

	pthread_barrier_wait(&h->start);
	for (seq = 0; seq < HIST_MAX_OPS && !LOAD(&h->stop); seq++) {
		r = xorshift(&seed);
		j = r % HIST_KEYS;
		len = snprintf(key, sizeof(key), "h%u", j);
		op = &w->ops[w->n];
		/* A snapshot that returned before this write cannot hold it. */
		before = LOAD(&h->last_snap);
		version = 0;
		if ((r >> 8) % 8 < 5) {
			__u32 vlen = hist_value(w->id, seq, buf, &value);

			/* Now and then only if absent: a failure is no write. */
			ret = sm_put(h->fd, (r >> 12) % 4 ? 0 :
				     SNAPMAP_PUT_NOEXIST, key, len, buf, vlen,
				     0, &version);
			if (ret == -EEXIST)
				continue;
			op->value = value;
			op->len = vlen;
		} else {
			ret = sm_del(h->fd, 0, key, len, 0, &version);
			if (ret == -ENOENT)
				continue;
			op->value = 0;
			op->len = HIST_DEL;
		}
		if (ret) {
			fail(&h->f, "writer %u: write %lu: %s", w->id, seq,
			     strerror(-ret));
			break;
		}
		if (version <= before)
			fail(&h->f, "writer %u: write of version %llu began after snapshot %llu returned",
			     w->id, (unsigned long long)version,
			     (unsigned long long)before);
		if (version <= prev)
			fail(&h->f, "writer %u: version %llu after %llu",
			     w->id, (unsigned long long)version,
			     (unsigned long long)prev);
		prev = version;
		op->version = version;
		op->key = j;
		w->n++;
		STORE(&w->last, version);
		ADD(&h->writes, 1);
	}
	return NULL;
}

/* As mv_wait_progress(), for the writes of a history check. */
static int hist_wait_progress(struct hist *h, unsigned long from,
			      unsigned long n)
{
	while (LOAD(&h->writes) - from < n) {
		if (LOAD(&h->stop))
			return LOAD(&h->writes) - from >= n;
		sched_yield();
	}
	return 1;
}

/*
 * Parse a snapshot of the history map into @snap.  A key met twice fails
 * the check, or for a WEAK walk (@dup not NULL) sets *@dup.
 */
static void hist_parse(struct hist *h, const unsigned char *buf, size_t len,
		       struct hist_snap *snap, int *dup)
{
	struct sm_record rec;
	size_t off = 0, size;
	long long j;
	unsigned int i;

	for (i = 0; i < HIST_KEYS; i++)
		snap->ent[i].len = HIST_DEL;
	while (off < len) {
		size = sm_record_parse(buf + off, len - off, &rec);
		if (!size) {
			fail(&h->f, "malformed record at offset %zu", off);
			return;
		}
		off += size;
		j = rec.key_len > 1 && rec.key[0] == 'h' ?
		    parse_num(rec.key + 1, rec.key_len - 1) : -1;
		if (j < 0 || j >= HIST_KEYS) {
			fail(&h->f, "unexpected key \"%.*s\"",
			     (int)rec.key_len, rec.key);
			continue;
		}
		if (snap->ent[j].len != HIST_DEL) {
			if (dup)
				*dup = 1;
			else
				fail(&h->f, "key h%lld twice in snapshot %llu",
				     j, (unsigned long long)snap->version);
			continue;
		}
		if (!hist_value_ok(rec.value, rec.value_len)) {
			fail(&h->f, "key h%lld: a value no writer wrote (%u bytes)",
			     j, rec.value_len);
			continue;
		}
		snap->ent[j].value = get_u64(rec.value);
		snap->ent[j].len = rec.value_len;
		snap->ent[j].version = rec.version;
	}
}

/* Read what is left of @sfd into @buf (@cap bytes): its length, or -1. */
static ssize_t hist_read(struct hist *h, int sfd, __u64 v,
			 unsigned char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n = 0;
	int reads;

	for (reads = 0; reads < 1000 && len < cap; reads++) {
		n = read(sfd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += n;
	}
	if (n) {
		fail(&h->f, "reading snapshot %llu: %s", (unsigned long long)v,
		     n < 0 ? strerror(errno) : "too big");
		return -1;
	}
	return len;
}

static void *hist_snapshotter_fn(void *arg)
{
	struct hist_snapshotter *s = arg;
	struct hist *h = s->h;
	unsigned char buf[4096];
	__u64 floor, v, prev = 0, cur;
	unsigned long idx, from = 0;
	unsigned int i;
	ssize_t len;
	int fd, sfd;

	pthread_barrier_wait(&h->start);
	while (!LOAD(&h->stop) &&
	       !budget_spent(h->budget, h->t0, LOAD(&h->nsnaps))) {
		idx = ADD(&h->taken, 1) - 1;
		if (idx >= h->budget->max)
			break;
		/* Writes that returned before the snapshot was asked for. */
		floor = 0;
		for (i = 0; i < HIST_WRITERS; i++) {
			v = LOAD(&h->w[i].last);
			if (v > floor)
				floor = v;
		}
		fd = -1;
		if (h->clones) {
			fd = sm_clone(h->fd, NULL, 0, &v);
			from = LOAD(&h->writes);
			if (fd < 0) {
				fail(&h->f, "clone: %s", strerror(-fd));
				break;
			}
			sfd = sm_snapshot(fd, 0, NULL);
		} else {
			sfd = sm_snapshot(h->fd, 0, &v);
			from = LOAD(&h->writes);
		}
		if (sfd < 0) {
			fail(&h->f, "snapshot: %s", strerror(-sfd));
			if (fd >= 0)
				close(fd);
			break;
		}
		cur = LOAD(&h->last_snap);
		while (cur < v &&
		       !__atomic_compare_exchange_n(&h->last_snap, &cur, v, 0,
						    __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE))
			;
		if (v <= floor)
			fail(&h->f, "%s %llu taken after write %llu returned",
			     h->clones ? "clone" : "snapshot",
			     (unsigned long long)v,
			     (unsigned long long)floor);
		if (v <= prev)
			fail(&h->f, "version %llu after %llu",
			     (unsigned long long)v,
			     (unsigned long long)prev);
		prev = v;

		len = hist_read(h, sfd, v, buf, sizeof(buf));
		/*
		 * Too few so far read after the map moved on: wait for a
		 * write, then read this one again.
		 */
		if (len >= 0 && LOAD(&h->writes) == from &&
		    LOAD(&h->moved) * MOVED_SHARE <= LOAD(&h->nsnaps)) {
			if (!hist_wait_progress(h, from, 1)) {
				/* The run is over: this one proves nothing. */
				close(sfd);
				if (fd >= 0)
					close(fd);
				break;
			}
			if (lseek(sfd, 0, SEEK_SET)) {
				fail(&h->f, "rewind: %s", strerror(errno));
				len = -1;
			} else {
				len = hist_read(h, sfd, v, buf, sizeof(buf));
			}
		}
		if (len < 0) {
			close(sfd);
			if (fd >= 0)
				close(fd);
			break;
		}
		close(sfd);
		if (fd >= 0)
			close(fd);
		h->snaps[idx].version = v;
		hist_parse(h, buf, len, &h->snaps[idx], NULL);
		/*
		 * Only a snapshot read after a write completed since it
		 * (or the clone) was taken shows a map that is gone.
		 */
		if (LOAD(&h->writes) != from)
			ADD(&h->moved, 1);
		ADD(&h->nsnaps, 1);
	}
	STORE(&h->stop, 1);
	return NULL;
}

/*
 * The control beside the check: WEAK walks of the same map under the same
 * writers, one record per read(2) with at least one write between two
 * reads.  hist_verify_views() must find at least one of them that is no
 * state the map was in between the two INFO versions around it.
 */
static void *hist_control_fn(void *arg)
{
	struct hist *h = arg;
	unsigned char buf[4096];
	struct snapmap_info info;
	struct hist_view *view;
	unsigned long from;
	int sfd, whole, err;
	size_t len;
	ssize_t n;

	pthread_barrier_wait(&h->start);
	while (!LOAD(&h->stop) && h->nviews < HIST_MAX_VIEWS) {
		view = &h->views[h->nviews];
		err = sm_info(h->fd, &info);
		if (err) {
			fail(&h->f, "control: INFO: %s", strerror(-err));
			break;
		}
		view->lo = info.out_version;
		sfd = sm_snapshot(h->fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
		if (sfd < 0) {
			fail(&h->f, "control: WEAK snapshot: %s",
			     strerror(-sfd));
			break;
		}
		len = 0;
		whole = 0;
		for (;;) {
			/* Cut short by the end of the run: not a whole walk. */
			from = LOAD(&h->writes);
			if (!hist_wait_progress(h, from, 1))
				break;
			/*
			 * A walk the table's resizing sent round and round:
			 * 16 keys never fill the buffer without repeats.
			 */
			if (sizeof(buf) - len < HIST_CONTROL_CHUNK) {
				whole = 2;
				break;
			}
			n = read(sfd, buf + len, HIST_CONTROL_CHUNK);
			if (n < 0) {
				fail(&h->f, "control: read: %s",
				     strerror(errno));
				break;
			}
			if (!n) {
				whole = 1;
				break;
			}
			len += n;
		}
		close(sfd);
		if (!whole)
			break;
		err = sm_info(h->fd, &info);
		if (err) {
			fail(&h->f, "control: INFO: %s", strerror(-err));
			break;
		}
		view->hi = info.out_version;
		view->snap.version = view->lo;
		view->dup = whole == 2;
		hist_parse(h, buf, len, &view->snap, &view->dup);
		h->nviews++;
	}
	return NULL;
}

static int cmp_op(const void *a, const void *b)
{
	const struct hist_op *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct hist_snap *x = a, *y = b;

	if (!x->version || !y->version)	/* never filled: last */
		return !x->version - !y->version;
	return x->version < y->version ? -1 : x->version > y->version;
}

static int hist_same(const struct hist_entry *e, const struct hist_entry *g)
{
	if (e->len == HIST_DEL || g->len == HIST_DEL)
		return e->len == g->len;
	return e->len == g->len && e->value == g->value &&
	       e->version == g->version;
}

/*
 * The control's walks against the same replay: a walk is possible if the
 * state after some write of version lo to hi (the INFO versions around
 * it) equals it, key by key.  Returns the walks that are no such state
 * (and those that met a key twice, which no state of a map does).
 */
static unsigned long hist_verify_views(const struct hist *h,
				       const struct hist_op *ops,
				       unsigned long total)
{
	struct hist_entry state[HIST_KEYS], old;
	unsigned long v, i = 0, impossible = 0;
	unsigned int j, diff;
	int possible;

	for (j = 0; j < HIST_KEYS; j++)
		state[j].len = HIST_DEL;
	for (v = 0; v < h->nviews; v++) {
		const struct hist_view *view = &h->views[v];
		const struct hist_entry *g = view->snap.ent;

		for (; i < total && ops[i].version <= view->lo; i++) {
			state[ops[i].key].len = ops[i].len;
			state[ops[i].key].value = ops[i].value;
			state[ops[i].key].version = ops[i].version;
		}
		for (diff = 0, j = 0; j < HIST_KEYS; j++)
			diff += !hist_same(&state[j], &g[j]);
		possible = !diff;
		for (; i < total && ops[i].version <= view->hi; i++) {
			j = ops[i].key;
			old = state[j];
			state[j].len = ops[i].len;
			state[j].value = ops[i].value;
			state[j].version = ops[i].version;
			diff += hist_same(&old, &g[j]) -
				hist_same(&state[j], &g[j]);
			if (!diff)
				possible = 1;
		}
		if (!possible || view->dup)
			impossible++;
	}
	return impossible;
}

/*
 * Replay the writes in version order and compare each snapshot with the
 * state made by the writes below its version.  Returns the mismatches;
 * *@impossible_views as hist_verify_views() counts them.
 */
static unsigned long hist_verify(struct __test_metadata *_metadata,
				 struct hist *h, unsigned long *nops,
				 unsigned long *impossible_views)
{
	struct hist_entry state[HIST_KEYS];
	unsigned long total = 0, i, s, mismatches = 0, logged = 0;
	struct hist_op *ops;
	unsigned int w, j;

	for (w = 0; w < HIST_WRITERS; w++)
		total += h->w[w].n;
	*nops = total;
	ops = malloc((total + 1) * sizeof(*ops));
	if (!ops)
		return ~0UL;
	for (w = 0, i = 0; w < HIST_WRITERS; w++) {
		memcpy(ops + i, h->w[w].ops, h->w[w].n * sizeof(*ops));
		i += h->w[w].n;
	}
	qsort(ops, total, sizeof(*ops), cmp_op);
	for (i = 1; i < total; i++) {
		if (ops[i].version == ops[i - 1].version) {
			if (logged++ < 5)
				TH_LOG("two writes of version %llu",
				       (unsigned long long)ops[i].version);
			mismatches++;
		}
	}
	/* Slots taken but never filled (a thread that failed) sort last. */
	qsort(h->snaps, h->taken < h->budget->max ? h->taken : h->budget->max,
	      sizeof(*h->snaps), cmp_snap);

	for (j = 0; j < HIST_KEYS; j++)
		state[j].len = HIST_DEL;
	for (s = 0, i = 0; s < h->nsnaps; s++) {
		const struct hist_snap *snap = &h->snaps[s];

		for (; i < total && ops[i].version < snap->version; i++) {
			state[ops[i].key].len = ops[i].len;
			state[ops[i].key].value = ops[i].value;
			state[ops[i].key].version = ops[i].version;
		}
		for (j = 0; j < HIST_KEYS; j++) {
			const struct hist_entry *e = &state[j];
			const struct hist_entry *g = &snap->ent[j];

			if (e->len == HIST_DEL && g->len == HIST_DEL)
				continue;
			if (e->len == g->len && e->value == g->value &&
			    e->version == g->version)
				continue;
			mismatches++;
			if (logged++ >= 5)
				continue;
			if (e->len == HIST_DEL)
				TH_LOG("version %llu: h%u: expected absent, got value %#llx of version %llu",
				       (unsigned long long)snap->version, j,
				       (unsigned long long)g->value,
				       (unsigned long long)g->version);
			else if (g->len == HIST_DEL)
				TH_LOG("version %llu: h%u: expected value %#llx of version %llu, got absent",
				       (unsigned long long)snap->version, j,
				       (unsigned long long)e->value,
				       (unsigned long long)e->version);
			else
				TH_LOG("version %llu: h%u: expected value %#llx of version %llu, got %#llx of version %llu",
				       (unsigned long long)snap->version, j,
				       (unsigned long long)e->value,
				       (unsigned long long)e->version,
				       (unsigned long long)g->value,
				       (unsigned long long)g->version);
		}
	}
	*impossible_views = hist_verify_views(h, ops, total);
	free(ops);
	return mismatches;
}

static void hist_run(struct __test_metadata *_metadata, int ctl, int clones,
		     unsigned int snapshotters, const struct budget *budget,
		     unsigned long *done)
{
	struct hist_snapshotter s[HIST_MAX_SNAPSHOTTERS];
	unsigned long nops = 0, mismatches, impossible = 0;
	pthread_t control;
	struct hist *h;
	unsigned int i;
	__u64 start;

	ASSERT_GE(HIST_MAX_SNAPSHOTTERS, snapshotters);
	h = calloc(1, sizeof(*h));
	ASSERT_TRUE(h != NULL);
	failures_init(&h->f);
	h->clones = clones;
	h->budget = budget;
	h->snaps = calloc(budget->max, sizeof(*h->snaps));
	ASSERT_TRUE(h->snaps != NULL);
	h->views = calloc(HIST_MAX_VIEWS, sizeof(*h->views));
	ASSERT_TRUE(h->views != NULL);
	h->fd = sm_create(ctl, 8, HIST_VALUE_MAX, 0, 0, 0, NULL);
	ASSERT_LE(0, h->fd);
	for (i = 0; i < HIST_WRITERS; i++) {
		h->w[i].h = h;
		h->w[i].id = i;
		h->w[i].ops = malloc(HIST_MAX_OPS * sizeof(struct hist_op));
		ASSERT_TRUE(h->w[i].ops != NULL);
	}
	ASSERT_EQ(0, pthread_barrier_init(&h->start, NULL,
					  HIST_WRITERS + snapshotters + 2));
	ASSERT_EQ(0, pthread_create(&control, NULL, hist_control_fn, h));
	for (i = 0; i < HIST_WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&h->w[i].thread, NULL,
					    hist_writer_fn, &h->w[i]));
	for (i = 0; i < snapshotters; i++) {
		s[i].h = h;
		s[i].id = i;
		ASSERT_EQ(0, pthread_create(&s[i].thread, NULL,
					    hist_snapshotter_fn, &s[i]));
	}
	start = now_ns();
	h->t0 = start;
	pthread_barrier_wait(&h->start);
	for (i = 0; i < snapshotters; i++)
		pthread_join(s[i].thread, NULL);
	STORE(&h->stop, 1);
	pthread_join(control, NULL);
	for (i = 0; i < HIST_WRITERS; i++)
		pthread_join(h->w[i].thread, NULL);

	EXPECT_NO_FAILURES(&h->f);
	mismatches = hist_verify(_metadata, h, &nops, &impossible);
	ksft_print_msg("history%s: %lu ATOMIC %s (%lu read after a write) of a map of %u keys in %.1f s, with %lu writes by %u writers; %lu mismatches\n",
		       clones ? " of clones" : "", h->nsnaps,
		       clones ? "clones" : "snapshots", h->moved, HIST_KEYS,
		       secs_since(start), nops, HIST_WRITERS, mismatches);
	ksft_print_msg("history%s: control beside it: %lu WEAK walks, %lu of them no state of the map\n",
		       clones ? " of clones" : "", h->nviews, impossible);
	fflush(stdout);
	EXPECT_EQ(0, mismatches);
	/* Enough snapshots were read after the writers had moved on. */
	EXPECT_LE(h->nsnaps, h->moved * MOVED_SHARE);
	/* The replay can fail: beside the check, the control's did. */
	EXPECT_LT(0, impossible) {
		TH_LOG("%lu WEAK walks beside the check, each a state of the map",
		       h->nviews);
	}
	*done = h->nsnaps;

	pthread_barrier_destroy(&h->start);
	EXPECT_EQ(0, close(h->fd));
	for (i = 0; i < HIST_WRITERS; i++)
		free(h->w[i].ops);
	free(h->snaps);
	free(h->views);
	free(h);
}

/* The snapshots a history check keeps, 392 bytes each. */
#define HIST_MAX_SNAPS 40000

TEST_F_TIMEOUT(atom, history, ATOMIC_MAX_SECONDS + 30)
{
	const struct budget budget = {
		.min = ATOMIC_MIN,
		.max = HIST_MAX_SNAPS,
		.seconds = ATOMIC_SECONDS,
		.max_seconds = ATOMIC_MAX_SECONDS,
	};
	unsigned long done = 0;

	hist_run(_metadata, self->ctl, 0, 2, &budget, &done);
	EXPECT_LE(ATOMIC_MIN, done);
}

/* Clones, each followed by a snapshot of the clone. */
#define CLONE_MIN 300

TEST_F_TIMEOUT(atom, clone_history, ATOMIC_MAX_SECONDS + 30)
{
	const struct budget budget = {
		.min = CLONE_MIN,
		.max = HIST_MAX_SNAPS,
		.seconds = ATOMIC_SECONDS,
		.max_seconds = ATOMIC_MAX_SECONDS,
	};
	unsigned long done = 0;

	hist_run(_metadata, self->ctl, 1, 1, &budget, &done);
	EXPECT_LE(CLONE_MIN, done);
}

/*
 * The resize check.  One writer puts keys "r0" to "r<RS_KEYS - 1>" in
 * order, each with the round number as its value, then deletes them in the
 * same order, round after round: the map's table grows and shrinks under
 * the snapshots being read, slowly (one record per read) or fast.  At any
 * instant the map holds, all with the same round, the keys of a prefix
 * [0, j) (while putting) or of a suffix [j, RS_KEYS) (while deleting).
 */
#define RS_KEYS 2000
#define RS_SNAPSHOTTERS 2

struct rs {
	int fd;
	int stop;
	__u64 t0;
	pthread_barrier_t start;
	const struct budget *budget;
	unsigned long snapshots;
	unsigned long rounds;
	struct failures f;
};

struct rs_snapshotter {
	struct rs *rs;
	size_t chunk;
	pthread_t thread;
};

static void *rs_writer_fn(void *arg)
{
	struct rs *rs = arg;
	unsigned long round;
	unsigned int i;
	char key[16];
	int ret = 0, len;

	pthread_barrier_wait(&rs->start);
	for (round = 1; round < 1000000 && !LOAD(&rs->stop); round++) {
		__u64 value = round;

		for (i = 0; i < RS_KEYS && !ret; i++) {
			len = snprintf(key, sizeof(key), "r%u", i);
			ret = sm_put(rs->fd, 0, key, len, &value,
				     sizeof(value), 0, NULL);
		}
		for (i = 0; i < RS_KEYS && !ret; i++) {
			len = snprintf(key, sizeof(key), "r%u", i);
			ret = sm_del(rs->fd, 0, key, len, 0, NULL);
		}
		if (ret) {
			fail(&rs->f, "writer: round %lu, key %u: %s", round,
			     i - 1, strerror(-ret));
			break;
		}
		ADD(&rs->rounds, 1);
	}
	return NULL;
}

static void rs_check(struct rs *rs, const unsigned char *buf, size_t len,
		     __u64 version, unsigned char *seen)
{
	unsigned long count = 0, lo = RS_KEYS, hi = 0;
	__u64 round = 0, value;
	struct sm_record rec;
	size_t off = 0, size;
	long long i;

	memset(seen, 0, RS_KEYS);
	while (off < len) {
		size = sm_record_parse(buf + off, len - off, &rec);
		if (!size) {
			fail(&rs->f, "malformed record at offset %zu", off);
			return;
		}
		off += size;
		i = rec.key_len > 1 && rec.key[0] == 'r' ?
		    parse_num(rec.key + 1, rec.key_len - 1) : -1;
		if (i < 0 || i >= RS_KEYS || rec.value_len != 8) {
			fail(&rs->f, "unexpected record \"%.*s\"",
			     (int)rec.key_len, rec.key);
			return;
		}
		if (seen[i]++) {
			fail(&rs->f, "snapshot %llu: key r%lld twice",
			     (unsigned long long)version, i);
			return;
		}
		if (rec.version >= version) {
			fail(&rs->f, "snapshot %llu: r%lld of version %llu",
			     (unsigned long long)version, i,
			     (unsigned long long)rec.version);
			return;
		}
		value = get_u64(rec.value);
		if (round && value != round) {
			fail(&rs->f, "snapshot %llu: keys of rounds %llu and %llu",
			     (unsigned long long)version,
			     (unsigned long long)round,
			     (unsigned long long)value);
			return;
		}
		round = value;
		count++;
		if (i < lo)
			lo = i;
		if (i > hi)
			hi = i;
	}
	if (count && !(lo == 0 && hi == count - 1) &&
	    !(hi == RS_KEYS - 1 && lo == RS_KEYS - count))
		fail(&rs->f, "snapshot %llu: %lu keys from r%lu to r%lu, neither a prefix nor a suffix",
		     (unsigned long long)version, count, lo, hi);
}

/*
 * The budget is spent and the table went through its sizes at least
 * twice, or the time is up.
 */
static int rs_done(struct rs *rs)
{
	if (now_ns() - rs->t0 >= rs->budget->max_seconds * 1000000000ULL)
		return 1;
	return budget_spent(rs->budget, rs->t0, LOAD(&rs->snapshots)) &&
	       LOAD(&rs->rounds) >= 2;
}

static void *rs_snapshotter_fn(void *arg)
{
	struct rs_snapshotter *s = arg;
	struct rs *rs = s->rs;
	/* Room for every key, and for the read that returns 0. */
	const size_t cap = RS_KEYS * SNAPMAP_RECORD_SIZE(8, 8) + 4096;
	unsigned char *buf, seen[RS_KEYS];
	__u64 version;
	size_t len;
	ssize_t n;
	int sfd, reads;

	buf = malloc(cap);
	if (!buf) {
		fail(&rs->f, "out of memory");
		return NULL;
	}
	pthread_barrier_wait(&rs->start);
	while (!LOAD(&rs->stop) && !rs_done(rs)) {
		sfd = sm_snapshot(rs->fd, 0, &version);
		if (sfd < 0) {
			fail(&rs->f, "snapshot: %s", strerror(-sfd));
			break;
		}
		len = 0;
		n = 0;
		for (reads = 0; reads <= RS_KEYS + 1 && len < cap; reads++) {
			n = read(sfd, buf + len, s->chunk < cap - len ?
				 s->chunk : cap - len);
			if (n <= 0)
				break;
			len += n;
		}
		if (n) {
			fail(&rs->f, "reading snapshot %llu: %s",
			     (unsigned long long)version,
			     n < 0 ? strerror(errno) : "too many records");
			close(sfd);
			break;
		}
		close(sfd);
		rs_check(rs, buf, len, version, seen);
		ADD(&rs->snapshots, 1);
	}
	free(buf);
	STORE(&rs->stop, 1);
	return NULL;
}

TEST_F_TIMEOUT(atom, resize, ATOMIC_MAX_SECONDS + 30)
{
	const struct budget budget = {
		.min = 100,
		.max = ~0UL,
		.seconds = ATOMIC_SECONDS,
		.max_seconds = ATOMIC_MAX_SECONDS,
	};
	struct rs_snapshotter s[RS_SNAPSHOTTERS] = {
		/* One record per read, and many. */
		{ .chunk = 2 * SNAPMAP_RECORD_SIZE(2, 8) - 1 },
		{ .chunk = 4096 },
	};
	pthread_t writer;
	struct rs *rs;
	unsigned int i;

	rs = calloc(1, sizeof(*rs));
	ASSERT_TRUE(rs != NULL);
	failures_init(&rs->f);
	rs->budget = &budget;
	rs->fd = sm_create(self->ctl, 8, 8, 0, 0, 0, NULL);
	ASSERT_LE(0, rs->fd);
	ASSERT_EQ(0, pthread_barrier_init(&rs->start, NULL,
					  RS_SNAPSHOTTERS + 2));
	ASSERT_EQ(0, pthread_create(&writer, NULL, rs_writer_fn, rs));
	for (i = 0; i < RS_SNAPSHOTTERS; i++) {
		s[i].rs = rs;
		ASSERT_EQ(0, pthread_create(&s[i].thread, NULL,
					    rs_snapshotter_fn, &s[i]));
	}
	rs->t0 = now_ns();
	pthread_barrier_wait(&rs->start);
	for (i = 0; i < RS_SNAPSHOTTERS; i++)
		pthread_join(s[i].thread, NULL);
	STORE(&rs->stop, 1);
	pthread_join(writer, NULL);

	ksft_print_msg("resize: %lu ATOMIC snapshots in %.1f s of a map growing to %u keys and shrinking back, %lu times\n",
		       rs->snapshots, secs_since(rs->t0), RS_KEYS,
		       rs->rounds);
	fflush(stdout);
	EXPECT_NO_FAILURES(&rs->f);
	EXPECT_LE(budget.min, rs->snapshots);
	/* The table went through many sizes while snapshots were read. */
	EXPECT_LE(2, rs->rounds);
	pthread_barrier_destroy(&rs->start);
	EXPECT_EQ(0, close(rs->fd));
	free(rs);
}

TEST_HARNESS_MAIN
