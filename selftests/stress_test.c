// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: concurrent readers and writers on overlapping keys.
 *
 * Every value a writer stores encodes who wrote it, for which key, with
 * which sequence number, its length and a checksum, so that a reader can
 * tell that what it read was written, for that key, whole.  Every thread
 * keeps a record of what it did; once they are done the records are
 * checked against each other and against the map: each write took its own
 * version, each read returned the write of that version, one reader never
 * sees a key's version go back, and the map ends as the last write to each
 * key left it.  Counters of SNAPMAP_IOC_INFO must add up to the calls made.
 * Beside the check of reads against writes runs its control: the same
 * reads torn (each read's version paired with the value of the next read
 * of that key), which the same check must find wrong at least once.
 *
 * The threads start together at a barrier and run a bounded number of
 * operations; nothing waits on time.  SNAPMAP_STRESS_OPS in the
 * environment changes the number of operations per thread.
 */

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapmap_test.h"

#define WRITERS 2
#define READERS 2
#define NKEYS 64
#define DEFAULT_OPS 20000
#define KEY_MAX 16
#define VAL_MAX 200
#define BATCH_OPS 8
#define STRESS_TIMEOUT 300

/* The head of every value; the rest is bytes derived from it. */
struct val_hdr {
	__u32 writer;
	__u32 key;
	__u64 seq;
	__u32 len;	/* of the whole value */
	__u32 sum;	/* of the whole value, with this member 0 */
};

/* One write or read, as the thread that made it saw it. */
struct record {
	__u64 version;
	__u64 seq;
	__u32 key;
	__u8 writer;
	__u8 del;
};

struct thread {
	pthread_t tid;
	pthread_barrier_t *start;
	int fd;
	unsigned int id;
	unsigned int ops;
	bool batch;
	__u64 rng;
	/* What it did. */
	struct record *recs;
	unsigned int nrecs;
	__u64 gets, puts, dels;
	__u64 misses;		/* GETs and DELs that found no key */
	__u64 lost;		/* conditional PUTs that lost a race */
	/* What went wrong: a count and the first message. */
	unsigned int failures;
	char msg[256];
};

static unsigned int stress_ops(void)
{
	const char *env = getenv("SNAPMAP_STRESS_OPS");
	long n = env ? strtol(env, NULL, 0) : 0;

	return n > 0 ? n : DEFAULT_OPS;
}

static __u64 rng_next(__u64 *state)
{
	__u64 x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static unsigned int key_name(char *buf, __u32 key)
{
	return snprintf(buf, KEY_MAX, "key-%u", key);
}

/* The value @writer stores in @key as its @seq-th write; returns its length. */
static __u32 make_value(unsigned char *buf, __u32 writer, __u32 key,
			__u64 seq)
{
	__u64 seed = mix(((__u64)writer << 56) ^ ((__u64)key << 40) ^ seq);
	struct val_hdr hdr = {
		.writer = writer,
		.key = key,
		.seq = seq,
	};
	__u32 i;

	hdr.len = sizeof(hdr) + seed % (VAL_MAX - sizeof(hdr) + 1);
	for (i = sizeof(hdr); i < hdr.len; i++)
		buf[i] = mix(seed + i) >> 24;
	memcpy(buf, &hdr, sizeof(hdr));
	hdr.sum = sm_fnv1a(buf, hdr.len);
	memcpy(buf, &hdr, sizeof(hdr));
	return hdr.len;
}

/*
 * Check that the @len bytes at @buf, read for @key, are a value some
 * writer made, whole.  Returns NULL or what is wrong.
 */
static const char *check_value(const unsigned char *buf, __u32 len, __u32 key,
			       struct val_hdr *hdr)
{
	unsigned char expect[VAL_MAX];

	if (len < sizeof(*hdr) || len > VAL_MAX)
		return "impossible length";
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->len != len)
		return "length differs from the encoded one";
	if (hdr->writer >= WRITERS)
		return "no such writer";
	if (hdr->key != key)
		return "value of another key";
	if (make_value(expect, hdr->writer, hdr->key, hdr->seq) != len ||
	    memcmp(expect, buf, len))
		return "torn or corrupt value";
	return NULL;
}

static void fail(struct thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct thread *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->failures++) {
		va_start(ap, fmt);
		vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
		va_end(ap);
	}
}

static void record(struct thread *t, __u64 version, __u32 key, __u32 writer,
		   __u64 seq, bool del)
{
	struct record *r = &t->recs[t->nrecs++];

	r->version = version;
	r->key = key;
	r->writer = writer;
	r->seq = seq;
	r->del = del;
}

/* Per-reader state: the last version and write seen of every key. */
struct seen {
	__u64 version;
	__u64 seq;
	__u32 writer;
};

/* Check one successful read of @key and keep it. */
static void saw(struct thread *t, struct seen *seen, __u32 key,
		const unsigned char *buf, __u32 len, __u64 version)
{
	struct val_hdr hdr;
	const char *what;

	what = check_value(buf, len, key, &hdr);
	if (what) {
		fail(t, "reader %u, key %u, version %llu: %s", t->id, key,
		     (unsigned long long)version, what);
		return;
	}
	if (version < seen[key].version)
		fail(t, "reader %u, key %u: version %llu after %llu", t->id,
		     key, (unsigned long long)version,
		     (unsigned long long)seen[key].version);
	else if (version == seen[key].version &&
		 (hdr.writer != seen[key].writer || hdr.seq != seen[key].seq))
		fail(t, "reader %u, key %u: version %llu for two values",
		     t->id, key, (unsigned long long)version);
	seen[key].version = version;
	seen[key].writer = hdr.writer;
	seen[key].seq = hdr.seq;
	record(t, version, key, hdr.writer, hdr.seq, false);
}

static void *reader_main(void *arg)
{
	struct thread *t = arg;
	struct snapmap_batch_op ops[BATCH_OPS];
	unsigned char bufs[BATCH_OPS][VAL_MAX];
	char keys[BATCH_OPS][KEY_MAX];
	struct seen seen[NKEYS];
	unsigned int i, j, n;
	__u32 len = 0, done = 0;
	__u64 version;
	int ret;

	memset(seen, 0, sizeof(seen));
	pthread_barrier_wait(t->start);
	for (i = 0; i < t->ops; i += n) {
		__u32 key = rng_next(&t->rng) % NKEYS;

		if (!t->batch) {
			n = 1;
			ret = sm_get(t->fd, keys[0], key_name(keys[0], key),
				     bufs[0], VAL_MAX, &len, &version);
			t->gets++;
			if (ret == -ENOENT) {
				t->misses++;
				continue;
			}
			if (ret) {
				fail(t, "reader %u: GET: %d", t->id, ret);
				continue;
			}
			saw(t, seen, key, bufs[0], len, version);
			continue;
		}

		/* A batch of GETs of consecutive keys. */
		n = BATCH_OPS;
		memset(ops, 0, sizeof(ops));
		for (j = 0; j < n; j++) {
			ops[j].opcode = SNAPMAP_BATCH_GET;
			ops[j].key = SM_PTR(keys[j]);
			ops[j].key_len = key_name(keys[j], (key + j) % NKEYS);
			ops[j].value = SM_PTR(bufs[j]);
			ops[j].value_len = VAL_MAX;
		}
		ret = sm_batch(t->fd, 0, ops, n, &done);
		if (ret || done != n) {
			fail(t, "reader %u: BATCH: %d, %u done", t->id, ret,
			     done);
			continue;
		}
		t->gets += n;
		for (j = 0; j < n; j++) {
			if (ops[j].out_result == -ENOENT) {
				t->misses++;
				continue;
			}
			if (ops[j].out_result) {
				fail(t, "reader %u: batch GET: %d", t->id,
				     ops[j].out_result);
				continue;
			}
			saw(t, seen, (key + j) % NKEYS, bufs[j],
			    ops[j].out_value_len, ops[j].out_version);
		}
	}
	return NULL;
}

/* A writer's check of a write it made: versions only go up. */
static void wrote(struct thread *t, __u64 *last, __u64 version, __u32 key,
		  __u64 seq, bool del)
{
	if (version <= *last)
		fail(t, "writer %u: version %llu after %llu", t->id,
		     (unsigned long long)version, (unsigned long long)*last);
	*last = version;
	record(t, version, key, t->id, seq, del);
	if (del)
		t->dels++;
	else
		t->puts++;
}

/* Batches of PUTs and DELs. */
static void writer_batch(struct thread *t, __u64 *last, __u64 *seq)
{
	struct snapmap_batch_op ops[BATCH_OPS];
	unsigned char vals[BATCH_OPS][VAL_MAX];
	char keys[BATCH_OPS][KEY_MAX];
	__u64 seqs[BATCH_OPS];
	__u32 keyidx[BATCH_OPS];
	unsigned int j;
	__u32 done = 0;
	int ret;

	memset(ops, 0, sizeof(ops));
	for (j = 0; j < BATCH_OPS; j++) {
		__u64 r = rng_next(&t->rng);

		keyidx[j] = r % NKEYS;
		seqs[j] = ++*seq;
		ops[j].key = SM_PTR(keys[j]);
		ops[j].key_len = key_name(keys[j], keyidx[j]);
		if ((r >> 32) % 8 == 0) {
			ops[j].opcode = SNAPMAP_BATCH_DEL;
			continue;
		}
		ops[j].opcode = SNAPMAP_BATCH_PUT;
		ops[j].value = SM_PTR(vals[j]);
		ops[j].value_len = make_value(vals[j], t->id, keyidx[j],
					      seqs[j]);
	}
	ret = sm_batch(t->fd, 0, ops, BATCH_OPS, &done);
	if (ret || done != BATCH_OPS) {
		fail(t, "writer %u: BATCH: %d, %u done", t->id, ret, done);
		return;
	}
	for (j = 0; j < BATCH_OPS; j++) {
		bool del = ops[j].opcode == SNAPMAP_BATCH_DEL;

		if (del && ops[j].out_result == -ENOENT) {
			t->misses++;
			continue;
		}
		if (ops[j].out_result) {
			fail(t, "writer %u: batch op: %d", t->id,
			     ops[j].out_result);
			continue;
		}
		wrote(t, last, ops[j].out_version, keyidx[j], seqs[j], del);
	}
}

static void *writer_main(void *arg)
{
	struct thread *t = arg;
	unsigned char val[VAL_MAX], buf[VAL_MAX];
	__u64 last = 0, seq = 0, version, v;
	struct val_hdr hdr;
	char key[KEY_MAX];
	unsigned int i, kl;
	const char *what;
	__u32 len;
	int ret;

	pthread_barrier_wait(t->start);
	for (i = 0; i < t->ops; i++) {
		__u64 r = rng_next(&t->rng);
		__u32 k = r % NKEYS;
		unsigned int op = (r >> 32) % 16;

		if (t->batch) {
			writer_batch(t, &last, &seq);
			i += BATCH_OPS - 1;
			continue;
		}
		kl = key_name(key, k);
		seq++;
		if (op < 2) {
			ret = sm_del(t->fd, 0, key, kl, 0, &version);
			if (ret == -ENOENT) {
				t->misses++;
				continue;
			}
			if (ret) {
				fail(t, "writer %u: DEL: %d", t->id, ret);
				continue;
			}
			wrote(t, &last, version, k, seq, true);
			continue;
		}
		if (op < 4) {
			/* Read, then swap on the version read. */
			ret = sm_get(t->fd, key, kl, buf, sizeof(buf), &len,
				     &v);
			t->gets++;
			len = make_value(val, t->id, k, seq);
			if (ret == -ENOENT) {
				ret = sm_put(t->fd, SNAPMAP_PUT_NOEXIST, key,
					     kl, val, len, 0, &version);
				if (ret == -EEXIST) {
					t->lost++;
					continue;
				}
			} else if (ret) {
				fail(t, "writer %u: GET: %d", t->id, ret);
				continue;
			} else {
				if (!v)
					fail(t, "writer %u: version 0", t->id);
				ret = sm_put(t->fd, SNAPMAP_PUT_IF_VERSION,
					     key, kl, val, len, v, &version);
				if (ret == -ECANCELED) {
					t->lost++;
					continue;
				}
				if (!ret && version <= v)
					fail(t, "writer %u: swap of %llu gave %llu",
					     t->id, (unsigned long long)v,
					     (unsigned long long)version);
			}
			if (ret) {
				fail(t, "writer %u: conditional PUT: %d",
				     t->id, ret);
				continue;
			}
			wrote(t, &last, version, k, seq, false);
			continue;
		}

		len = make_value(val, t->id, k, seq);
		ret = sm_put(t->fd, 0, key, kl, val, len, 0, &version);
		if (ret) {
			fail(t, "writer %u: PUT: %d", t->id, ret);
			continue;
		}
		wrote(t, &last, version, k, seq, false);
		if (op != 15)
			continue;

		/* Read back: this write or a later one, never an earlier. */
		ret = sm_get(t->fd, key, kl, buf, sizeof(buf), &len, &v);
		t->gets++;
		if (ret == -ENOENT)
			continue;
		if (ret) {
			fail(t, "writer %u: GET: %d", t->id, ret);
			continue;
		}
		what = check_value(buf, len, k, &hdr);
		if (what)
			fail(t, "writer %u, key %u: %s", t->id, k, what);
		else if (v < version)
			fail(t, "writer %u, key %u: read %llu after writing %llu",
			     t->id, k, (unsigned long long)v,
			     (unsigned long long)version);
		else if (v == version && (hdr.writer != t->id ||
					  hdr.seq != seq))
			fail(t, "writer %u, key %u: version %llu is not mine",
			     t->id, k, (unsigned long long)v);
	}
	return NULL;
}

static int cmp_record(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* Find the write of @version among @n writes sorted by version. */
static const struct record *find_write(const struct record *w, size_t n,
				       __u64 version)
{
	struct record key = { .version = version };

	return bsearch(&key, w, n, sizeof(*w), cmp_record);
}

/*
 * The reads of @n records at @r that are not the write of the version
 * they reported (same key, writer and sequence number): returns their
 * count and the first in *@bad.
 */
static size_t unmatched_reads(const struct record *writes, size_t nwrites,
			      const struct record *r, size_t n,
			      const struct record **bad)
{
	const struct record *w;
	size_t j, count = 0;

	*bad = NULL;
	for (j = 0; j < n; j++, r++) {
		w = find_write(writes, nwrites, r->version);
		if (w && !w->del && w->key == r->key &&
		    w->writer == r->writer && w->seq == r->seq)
			continue;
		if (!count++)
			*bad = r;
	}
	return count;
}

/*
 * The control of that check: the same reads, torn, each the version of
 * one read with the value of the next read of the same key, as a reader
 * that took a value and its version in two steps would report them.
 * Returns how many the check finds wrong; a key read twice at the same
 * version gives a torn read that is right, so only some are.
 */
static size_t torn_reads_caught(const struct record *writes, size_t nwrites,
				const struct record *r, size_t n)
{
	const struct record *bad;
	struct record *torn;
	size_t j, k, m = 0, count;

	torn = calloc(n ? n : 1, sizeof(*torn));
	if (!torn)
		return 0;
	for (j = 0; j < n; j++) {
		for (k = j + 1; k < n && r[k].key != r[j].key; k++)
			;
		if (k == n)
			continue;
		torn[m] = r[k];
		torn[m].version = r[j].version;
		m++;
	}
	count = unmatched_reads(writes, nwrites, torn, m, &bad);
	free(torn);
	return count;
}

FIXTURE(stress) {
	int ctl;
	int fd;
	struct thread threads[WRITERS + READERS];
	pthread_barrier_t start;
};

FIXTURE_VARIANT(stress) {
	bool batch;
};

FIXTURE_VARIANT_ADD(stress, single) {
	.batch = false,
};

FIXTURE_VARIANT_ADD(stress, batch) {
	.batch = true,
};

FIXTURE_SETUP(stress)
{
	unsigned int i, ops = stress_ops();

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, NKEYS, 0, 0, NULL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pthread_barrier_init(&self->start, NULL,
					  WRITERS + READERS));
	for (i = 0; i < WRITERS + READERS; i++) {
		struct thread *t = &self->threads[i];

		t->start = &self->start;
		t->fd = self->fd;
		t->id = i < WRITERS ? i : i - WRITERS;
		t->ops = ops;
		t->batch = variant->batch;
		t->rng = mix(0x5eed0000 + i) | 1;
		t->recs = calloc(ops + BATCH_OPS, sizeof(*t->recs));
		ASSERT_TRUE(t->recs != NULL);
	}
}

FIXTURE_TEARDOWN(stress)
{
	unsigned int i;

	for (i = 0; i < WRITERS + READERS; i++)
		free(self->threads[i].recs);
	pthread_barrier_destroy(&self->start);
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/*
 * Run the threads and check what they did.  Out of line: the harness's
 * setjmp() and a function of this size do not mix well.
 */
static void __attribute__((noinline))
run_and_check(struct __test_metadata *_metadata, FIXTURE_DATA(stress) *self)
{
	struct thread *threads = self->threads;
	struct record *writes, *last_write;
	__u64 gets = 0, puts = 0, dels = 0, misses = 0, lost = 0;
	unsigned char buf[VAL_MAX];
	struct snapmap_info info;
	size_t nwrites = 0, i, j;
	unsigned int present = 0;
	__u64 version = 0;
	__u32 len = 0;
	int ret;

	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i].tid, NULL, writer_main,
					    &threads[i]));
	for (i = WRITERS; i < WRITERS + READERS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i].tid, NULL, reader_main,
					    &threads[i]));
	for (i = 0; i < WRITERS + READERS; i++) {
		ASSERT_EQ(0, pthread_join(threads[i].tid, NULL));
		EXPECT_EQ(0, threads[i].failures) {
			TH_LOG("%s", threads[i].msg);
		}
		gets += threads[i].gets;
		puts += threads[i].puts;
		dels += threads[i].dels;
		misses += threads[i].misses;
		lost += threads[i].lost;
	}
	TH_LOG("%llu puts, %llu dels, %llu gets, %llu misses, %llu lost races",
	       (unsigned long long)puts, (unsigned long long)dels,
	       (unsigned long long)gets, (unsigned long long)misses,
	       (unsigned long long)lost);

	/* Every write took a version of its own. */
	for (i = 0; i < WRITERS; i++)
		nwrites += threads[i].nrecs;
	writes = calloc(nwrites, sizeof(*writes));
	ASSERT_TRUE(writes != NULL);
	for (i = 0, j = 0; i < WRITERS; i++) {
		memcpy(writes + j, threads[i].recs,
		       threads[i].nrecs * sizeof(*writes));
		j += threads[i].nrecs;
	}
	qsort(writes, nwrites, sizeof(*writes), cmp_record);
	for (i = 1; i < nwrites; i++) {
		if (writes[i].version == writes[i - 1].version)
			break;
	}
	EXPECT_EQ(nwrites, i) {
		TH_LOG("two writes of version %llu",
		       (unsigned long long)writes[i].version);
	}
	ASSERT_LT(0, nwrites);
	EXPECT_LT(0, writes[0].version);

	/*
	 * Every read returned the write of the version it reported; the
	 * same reads torn apart, the control beside the check, do not.
	 */
	for (i = WRITERS; i < WRITERS + READERS; i++) {
		const struct record *r;
		size_t torn;

		EXPECT_EQ(0, unmatched_reads(writes, nwrites,
					     threads[i].recs,
					     threads[i].nrecs, &r)) {
			TH_LOG("reader %zu, key %u, version %llu: no such write (writer %u, seq %llu)",
			       i - WRITERS, r->key,
			       (unsigned long long)r->version, r->writer,
			       (unsigned long long)r->seq);
		}
		EXPECT_LT(0, threads[i].nrecs);
		torn = torn_reads_caught(writes, nwrites, threads[i].recs,
					 threads[i].nrecs);
		TH_LOG("reader %zu: %u reads; control: %zu of them torn caught by the check",
		       i - WRITERS, threads[i].nrecs, torn);
		EXPECT_LT(0, torn);
	}

	/* The map holds, for each key, the last write to it. */
	last_write = calloc(NKEYS, sizeof(*last_write));
	ASSERT_TRUE(last_write != NULL);
	for (i = 0; i < nwrites; i++)
		last_write[writes[i].key] = writes[i];
	for (i = 0; i < NKEYS; i++) {
		char key[KEY_MAX];
		struct val_hdr hdr;

		ret = sm_get(self->fd, key, key_name(key, i), buf, sizeof(buf),
			     &len, &version);
		gets++;
		if (!last_write[i].version) {
			EXPECT_EQ(-ENOENT, ret);
			continue;
		}
		if (last_write[i].del) {
			EXPECT_EQ(-ENOENT, ret) {
				TH_LOG("key %zu deleted at version %llu", i,
				       (unsigned long long)last_write[i].version);
			}
			continue;
		}
		ASSERT_EQ(0, ret);
		present++;
		EXPECT_EQ(last_write[i].version, version);
		memcpy(&hdr, buf, sizeof(hdr));
		EXPECT_EQ(last_write[i].writer, hdr.writer);
		EXPECT_EQ(last_write[i].seq, hdr.seq);
	}

	/* The counters add up. */
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(present, info.out_entries);
	EXPECT_EQ(puts, info.out_puts);
	EXPECT_EQ(dels, info.out_dels);
	EXPECT_EQ(gets, info.out_gets);
	EXPECT_EQ(writes[nwrites - 1].version, info.out_version);
	free(last_write);
	free(writes);
}

TEST_F_TIMEOUT(stress, readers_and_writers, STRESS_TIMEOUT)
{
	run_and_check(_metadata, self);
}

/*
 * Compare-and-swap as a counter: no increment is lost, and a reader sees
 * the counter and its version only go up.
 */
struct counter {
	pthread_t tid;
	pthread_barrier_t *start;
	int fd;
	unsigned int id;
	unsigned int increments;
	bool reader;
	bool *stop;
	__u64 retries;
	__u64 reads;
	unsigned int failures;
	char msg[256];
};

static void counter_fail(struct counter *c, const char *what, int ret)
{
	if (!c->failures++)
		snprintf(c->msg, sizeof(c->msg), "thread %u: %s: %d", c->id,
			 what, ret);
}

static void *counter_thread(void *arg)
{
	struct counter *c = arg;
	__u64 value, next, version, last_value = 0, last_version = 0;
	unsigned int i;
	__u32 len;
	int ret;

	pthread_barrier_wait(c->start);
	if (c->reader) {
		while (!__atomic_load_n(c->stop, __ATOMIC_RELAXED)) {
			ret = sm_get(c->fd, "counter", 7, &value,
				     sizeof(value), &len, &version);
			c->reads++;
			if (ret || len != sizeof(value)) {
				counter_fail(c, "GET", ret);
				break;
			}
			if (value < last_value || version < last_version ||
			    (version == last_version && value != last_value))
				counter_fail(c, "went back", 0);
			last_value = value;
			last_version = version;
		}
		return NULL;
	}
	for (i = 0; i < c->increments; i++) {
		for (;;) {
			ret = sm_get(c->fd, "counter", 7, &value,
				     sizeof(value), &len, &version);
			if (ret || len != sizeof(value)) {
				counter_fail(c, "GET", ret);
				return NULL;
			}
			next = value + 1;
			ret = sm_put(c->fd, SNAPMAP_PUT_IF_VERSION, "counter",
				     7, &next, sizeof(next), version, NULL);
			if (!ret)
				break;
			if (ret != -ECANCELED) {
				counter_fail(c, "swap", ret);
				return NULL;
			}
			c->retries++;
		}
	}
	return NULL;
}

#define COUNTERS 3

/* The tests below share a control fd. */
FIXTURE(race) {
	int ctl;
};

FIXTURE_SETUP(race)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN(race)
{
	EXPECT_EQ(0, close(self->ctl));
}

TEST_F_TIMEOUT(race, cas_counter, STRESS_TIMEOUT)
{
	unsigned int i, increments = stress_ops() / 2;
	struct counter c[COUNTERS + 1];
	pthread_barrier_t start;
	bool stop = false;
	struct snapmap_info info;
	__u64 value = 0, version = 0, retries = 0;
	__u32 len = 0;
	int fd;

	fd = sm_create(self->ctl, 8, 8, 1, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put(fd, 0, "counter", 7, &value, sizeof(value), 0,
			    NULL));
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, COUNTERS + 1));
	memset(c, 0, sizeof(c));
	for (i = 0; i <= COUNTERS; i++) {
		c[i].start = &start;
		c[i].fd = fd;
		c[i].id = i;
		c[i].increments = increments;
		c[i].reader = i == COUNTERS;
		c[i].stop = &stop;
		ASSERT_EQ(0, pthread_create(&c[i].tid, NULL, counter_thread,
					    &c[i]));
	}
	for (i = 0; i < COUNTERS; i++) {
		ASSERT_EQ(0, pthread_join(c[i].tid, NULL));
		retries += c[i].retries;
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(c[COUNTERS].tid, NULL));
	for (i = 0; i <= COUNTERS; i++) {
		EXPECT_EQ(0, c[i].failures) {
			TH_LOG("%s", c[i].msg);
		}
	}

	ASSERT_EQ(0, sm_get(fd, "counter", 7, &value, sizeof(value), &len,
			    &version));
	EXPECT_EQ(COUNTERS * increments, value);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(1 + COUNTERS * increments, info.out_puts);
	EXPECT_EQ(version, info.out_version);
	TH_LOG("%u increments, %llu retries, %llu reads",
	       COUNTERS * increments, (unsigned long long)retries,
	       (unsigned long long)c[COUNTERS].reads);
	EXPECT_EQ(0, close(fd));
}

/*
 * Racing inserts and deletes of the same keys, in the same order: each
 * insert and each delete of a key succeeds for exactly one thread.
 */
#define RACERS 2
#define RACE_KEYS 512

struct racer {
	pthread_t tid;
	pthread_barrier_t *phase;
	int fd;
	unsigned int rounds;
	/* Per round and key, how many threads succeeded; shared. */
	unsigned int *inserted;
	unsigned int *deleted;
	unsigned int failures;
	char msg[64];
};

static void *racer_thread(void *arg)
{
	struct racer *r = arg;
	unsigned int round, k;
	char key[KEY_MAX];
	int ret;

	for (round = 0; round < r->rounds; round++) {
		pthread_barrier_wait(r->phase);
		for (k = 0; k < RACE_KEYS; k++) {
			ret = sm_put(r->fd, SNAPMAP_PUT_NOEXIST, key,
				     key_name(key, k), &round, sizeof(round),
				     0, NULL);
			if (!ret)
				__atomic_fetch_add(&r->inserted[round *
								RACE_KEYS + k],
						   1, __ATOMIC_RELAXED);
			else if (ret != -EEXIST && !r->failures++)
				snprintf(r->msg, sizeof(r->msg),
					 "insert: %d", ret);
		}
		pthread_barrier_wait(r->phase);
		for (k = 0; k < RACE_KEYS; k++) {
			ret = sm_del(r->fd, 0, key, key_name(key, k), 0, NULL);
			if (!ret)
				__atomic_fetch_add(&r->deleted[round *
							       RACE_KEYS + k],
						   1, __ATOMIC_RELAXED);
			else if (ret != -ENOENT && !r->failures++)
				snprintf(r->msg, sizeof(r->msg),
					 "delete: %d", ret);
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(race, insert_delete_race, STRESS_TIMEOUT)
{
	unsigned int rounds = stress_ops() / RACE_KEYS, i, n;
	unsigned int *inserted, *deleted;
	struct racer r[RACERS];
	pthread_barrier_t phase;
	struct snapmap_info info;
	int fd;

	if (!rounds)
		rounds = 1;
	fd = sm_create(self->ctl, KEY_MAX, 8, RACE_KEYS, 0, 0, NULL);
	ASSERT_LE(0, fd);
	inserted = calloc(rounds * RACE_KEYS, sizeof(*inserted));
	deleted = calloc(rounds * RACE_KEYS, sizeof(*deleted));
	ASSERT_TRUE(inserted && deleted);
	ASSERT_EQ(0, pthread_barrier_init(&phase, NULL, RACERS));
	memset(r, 0, sizeof(r));
	for (i = 0; i < RACERS; i++) {
		r[i].phase = &phase;
		r[i].fd = fd;
		r[i].rounds = rounds;
		r[i].inserted = inserted;
		r[i].deleted = deleted;
		ASSERT_EQ(0, pthread_create(&r[i].tid, NULL, racer_thread,
					    &r[i]));
	}
	for (i = 0; i < RACERS; i++) {
		ASSERT_EQ(0, pthread_join(r[i].tid, NULL));
		EXPECT_EQ(0, r[i].failures) {
			TH_LOG("racer %u: %s", i, r[i].msg);
		}
	}
	for (n = 0; n < rounds * RACE_KEYS; n++) {
		if (inserted[n] != 1 || deleted[n] != 1)
			break;
	}
	EXPECT_EQ(rounds * RACE_KEYS, n) {
		TH_LOG("round %u, key %u: inserted %u times, deleted %u times",
		       n / RACE_KEYS, n % RACE_KEYS, inserted[n], deleted[n]);
	}
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	EXPECT_EQ(rounds * RACE_KEYS, info.out_puts);
	EXPECT_EQ(rounds * RACE_KEYS, info.out_dels);
	pthread_barrier_destroy(&phase);
	free(inserted);
	free(deleted);
	EXPECT_EQ(0, close(fd));
}

/*
 * Racing inserts of distinct keys into a map that holds fewer: exactly
 * the limit's worth succeed, by entries and by bytes.
 */
#define FILL_KEYS 1000
#define FILL_LIMIT 600
#define FILL_ROUNDS 4

struct filler {
	pthread_t tid;
	pthread_barrier_t *start;
	int fd;
	unsigned int id;
	unsigned int ok;
	unsigned int failures;
	char msg[64];
};

/* "key-<id><nnn>": every filler key is 8 bytes long. */
static unsigned int filler_key(char *buf, unsigned int id, unsigned int i)
{
	return snprintf(buf, KEY_MAX, "key-%u%03u", id + 1, i);
}

static void *filler_thread(void *arg)
{
	struct filler *f = arg;
	char key[KEY_MAX];
	unsigned int i;
	int ret;

	pthread_barrier_wait(f->start);
	for (i = 0; i < FILL_KEYS; i++) {
		ret = sm_put(f->fd, 0, key, filler_key(key, f->id, i), "value",
			     5, 0, NULL);
		if (!ret)
			f->ok++;
		else if (ret != -ENOSPC && !f->failures++)
			snprintf(f->msg, sizeof(f->msg), "PUT: %d", ret);
	}
	return NULL;
}

static void fill_race(struct __test_metadata *_metadata, int fd)
{
	struct filler f[RACERS];
	pthread_barrier_t start;
	unsigned int i, round, ok, left;
	struct snapmap_info info;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, RACERS));
	for (round = 0; round < FILL_ROUNDS; round++) {
		memset(f, 0, sizeof(f));
		for (i = 0; i < RACERS; i++) {
			f[i].start = &start;
			f[i].fd = fd;
			f[i].id = i;
			ASSERT_EQ(0, pthread_create(&f[i].tid, NULL,
						    filler_thread, &f[i]));
		}
		ok = 0;
		for (i = 0; i < RACERS; i++) {
			ASSERT_EQ(0, pthread_join(f[i].tid, NULL));
			EXPECT_EQ(0, f[i].failures) {
				TH_LOG("filler %u: %s", i, f[i].msg);
			}
			ok += f[i].ok;
		}
		EXPECT_EQ(FILL_LIMIT, ok) {
			TH_LOG("round %u", round);
		}
		ASSERT_EQ(0, sm_info(fd, &info));
		EXPECT_EQ(FILL_LIMIT, info.out_entries);
		EXPECT_EQ((round + 1) * FILL_LIMIT, info.out_puts);
		EXPECT_GE(info.out_max_bytes, info.out_bytes);

		/* Whatever the race left, CLEAR empties the map. */
		ASSERT_EQ(0, sm_clear(fd, NULL));
		ASSERT_EQ(0, sm_info(fd, &info));
		EXPECT_EQ(0, info.out_entries) {
			TH_LOG("round %u", round);
		}
		/* Its memory is freed in the background. */
		EXPECT_EQ(0, sm_wait_bytes(fd, 0, &info.out_bytes)) {
			TH_LOG("round %u: %llu bytes left", round,
			       (unsigned long long)info.out_bytes);
		}
		left = 0;
		for (i = 0; i < RACERS * FILL_KEYS; i++) {
			char key[KEY_MAX];

			if (sm_get(fd, key, filler_key(key, i / FILL_KEYS,
							i % FILL_KEYS),
				   NULL, 0, NULL, NULL) != -ENOENT)
				left++;
		}
		EXPECT_EQ(0, left) {
			TH_LOG("round %u", round);
		}
	}
	pthread_barrier_destroy(&start);
}

TEST_F_TIMEOUT(race, entry_limit_race, STRESS_TIMEOUT)
{
	int fd;

	fd = sm_create(self->ctl, KEY_MAX, 8, FILL_LIMIT, 0, 0, NULL);
	ASSERT_LE(0, fd);
	fill_race(_metadata, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F_TIMEOUT(race, byte_limit_race, STRESS_TIMEOUT)
{
	struct snapmap_info info;
	char key[KEY_MAX];
	__u64 cost;
	int fd;

	/* What one entry of the fillers' shape costs. */
	fd = sm_create(self->ctl, KEY_MAX, 8, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put(fd, 0, key, filler_key(key, 0, 0), "value", 5, 0,
			    NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	cost = info.out_bytes;
	ASSERT_LT(0, cost);
	EXPECT_EQ(0, close(fd));

	fd = sm_create(self->ctl, KEY_MAX, 8, 0, FILL_LIMIT * cost, 0, NULL);
	ASSERT_LE(0, fd);
	fill_race(_metadata, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
