// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: a soak of everything at once, from several processes.
 *
 * - Writers (processes) each own 16 keys of a shared named map and write
 *   them round after round, in order, a PUT or now and then a DEL, each
 *   logging what it wrote and the version it got, in shared memory.
 * - Readers (processes) GET random keys, take ATOMIC snapshots (reading
 *   some at once, holding others while the writers go on), WEAK snapshots
 *   and clones, and check every read against the writers' logs:
 *   - a GET returns a whole value of that key, with the version its
 *     writer logged for it, and one reader never sees a key's version go
 *     back;
 *   - an ATOMIC snapshot of version V (and a clone made from one) holds,
 *     for every writer, exactly what that writer's last write of each key
 *     below V left: values, versions, and no other key.  Writes are made
 *     in order, so this is one instant of all writers at once;
 *   - a WEAK snapshot holds whole values their writers really wrote;
 *   - the map's byte limit is small: held snapshots go stale (ESTALE)
 *     while writers never fail.
 * - A CLEAR process empties a map of its own while a thread of it writes:
 *   a snapshot taken after CLEAR returns holds only keys written after it
 *   started.
 * - A names process creates named maps, opens them again read-write and
 *   read-only, snapshots and clones them, and closes the five fds in every
 *   order in turn: a name stays openable exactly while something holds
 *   its map, and is free once all are closed.
 * - An rmmod process tries, over and over, to unload snapmap and the
 *   sample module while both are busy: each try must fail cleanly.
 * - A memory process fills maps in a small memory cgroup until ENOMEM,
 *   empties them and starts again; it is never killed and its cgroup's
 *   OOM killer never wakes.
 *
 * - Beside the readers' check of ATOMIC snapshots runs its control: a
 *   reader that GETs the keys one by one, letting writes happen between
 *   two GETs, whose walks the same check must find to be no instant of
 *   the map, at least once.
 *
 * Once all are done: every process exited cleanly, the map holds what the
 * writers' last writes left, its PUT and DEL counters add up to the
 * writes logged, and no map is left.  Every part got somewhere: each
 * counter of the soak is non-zero, and a table of what each command gave
 * (success or errno), filled by every ioctl the soak makes, holds each of
 * a chosen set, must_cover[].
 *
 * Bounded by time and by count; SNAPMAP_SOAK_SECONDS (default 30) and
 * SNAPMAP_SOAK_OPS (writes per writer, default 1000000) change them.  On
 * a slow kernel the soak goes on past its time until it has covered what
 * it must, up to ten times its time.
 */

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

/*
 * Every ioctl of the soak, the helpers' included, goes through
 * soak_ioctl(), which counts what each command gave: the coverage table.
 */
static int soak_ioctl(int fd, unsigned long cmd, void *arg);
#define ioctl(fd, cmd, arg) soak_ioctl(fd, cmd, arg)

#include "snapmap_test.h"

#define WRITERS 2
#define READERS 2
#define NKEYS 16		/* per writer */
#define RING (1 << 16)		/* writes a writer's log keeps */
#define KEY_MAX 32
#define VAL_MAX 256
/* Room for the live entries (at most 14 KiB), and little for snapshots. */
#define MAP_BYTES (20 << 10)
#define HELD 3			/* snapshots a reader holds */
#define NAMED "soak_test.main"
#define CGROUP_DIR "/sys/fs/cgroup/snapmap-soak"
#define SOAK_TIMEOUT 86400
#define NMSG 8

/* The head of every value; the rest is bytes derived from it. */
struct val_hdr {
	__u32 writer;
	__u32 key;
	__u64 seq;
	__u32 len;	/* of the whole value */
	__u32 sum;	/* of the whole value, with this member 0 */
};

struct wentry {
	__u64 version;
	__u64 seq;
	__u32 key;
	__u32 del;
};

/* A writer's log: entry seq - 1 of the ring is its write of seq. */
struct wlog {
	unsigned long long n;	/* writes logged; stored last */
	int done;
	struct wentry ring[RING];
};

enum counter {
	C_PUTS, C_DELS, C_GETS, C_SNAPSHOTS, C_RECORDS, C_STALE, C_HELD,
	C_WEAK, C_CLONES, C_CLEARS, C_NAMED, C_ORDERS, C_RMMOD, C_FILLS,
	C_ENOMEM, C_CONTROL, C_CONTROL_IMPOSSIBLE, C_COUNTERS
};

static const char *const counter_names[C_COUNTERS] = {
	"puts", "dels", "gets", "ATOMIC snapshots checked", "records checked",
	"stale", "held snapshots", "WEAK snapshots", "clones checked",
	"clears", "named-map rounds", "close orders", "rmmod refused",
	"cgroup fills", "ENOMEM in the cgroup", "control walks",
	"control walks no instant",
};

struct shared {
	struct wlog w[WRITERS];
	unsigned long long counter[C_COUNTERS];
	/*
	 * Coverage: per command number of snapmap's type, what it gave (0:
	 * success, or the errno).
	 */
	unsigned long long cover[SM_COVER_CMDS][256];
	unsigned long long ops;		/* writes per writer */
	struct timespec deadline;
	struct timespec last_chance;	/* if not covered by the deadline */
	int stop;
	unsigned int failures;
	char msg[NMSG][256];
};

static struct shared *sh;

static void count(enum counter c, unsigned long long n)
{
	__atomic_fetch_add(&sh->counter[c], n, __ATOMIC_RELAXED);
}

#undef ioctl
static int soak_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg), err = errno;

	if (sh && _IOC_TYPE(cmd) == SNAPMAP_IOC_TYPE &&
	    _IOC_NR(cmd) < SM_COVER_CMDS)
		__atomic_fetch_add(&sh->cover[_IOC_NR(cmd)]
				   [ret < 0 ? err & 0xff : 0], 1,
				   __ATOMIC_RELAXED);
	errno = err;
	return ret;
}

static void fail(const char *fmt, ...)
{
	unsigned int n = __atomic_fetch_add(&sh->failures, 1,
					    __ATOMIC_RELAXED);
	va_list ap;

	if (n >= NMSG)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->msg[n], sizeof(sh->msg[n]), fmt, ap);
	va_end(ap);
}

/*
 * What a soak must have reached, at least once: each command it uses
 * working, and the error paths it drives on purpose.  ESTALE (snapshots
 * invalidated under the byte limit) and the refused unloads are counters
 * of their own.
 */
static const struct {
	unsigned int nr;
	int err;
} must_cover[] = {
	{ SNAPMAP_CMD_CREATE, 0 }, { SNAPMAP_CMD_OPEN, 0 },
	{ SNAPMAP_CMD_OPEN, ENOENT }, { SNAPMAP_CMD_GET, 0 },
	{ SNAPMAP_CMD_GET, ENOENT }, { SNAPMAP_CMD_PUT, 0 },
	{ SNAPMAP_CMD_PUT, ENOMEM }, { SNAPMAP_CMD_DEL, 0 },
	{ SNAPMAP_CMD_CLEAR, 0 }, { SNAPMAP_CMD_INFO, 0 },
	{ SNAPMAP_CMD_SNAPSHOT, 0 }, { SNAPMAP_CMD_CLONE, 0 },
};

/* Every counter and every entry of must_cover[] is non-zero. */
static bool covered(void)
{
	unsigned int i;

	for (i = 0; i < C_COUNTERS; i++)
		if (!__atomic_load_n(&sh->counter[i], __ATOMIC_RELAXED))
			return false;
	for (i = 0; i < sizeof(must_cover) / sizeof(must_cover[0]); i++)
		if (!__atomic_load_n(&sh->cover[must_cover[i].nr]
				     [must_cover[i].err], __ATOMIC_RELAXED))
			return false;
	return true;
}

static bool past(const struct timespec *now, const struct timespec *t)
{
	return now->tv_sec > t->tv_sec ||
	       (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

/*
 * The soak's time is up, and it has covered what it must; or, if it has
 * not (a slow kernel), ten times its time is up.
 */
static bool time_up(void)
{
	struct timespec now;

	if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (past(&now, &sh->last_chance))
		return true;
	return past(&now, &sh->deadline) && covered();
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

static unsigned int key_name(char *buf, unsigned int writer,
			     unsigned int key)
{
	return snprintf(buf, KEY_MAX, "w%u-k%u", writer, key);
}

static __u32 make_value(unsigned char *buf, unsigned int writer,
			unsigned int key, __u64 seq)
{
	struct val_hdr h = {
		.writer = writer, .key = key, .seq = seq,
		.len = sizeof(h) + (seq * 7 + key) % (VAL_MAX - sizeof(h)),
	};
	__u32 i;

	for (i = sizeof(h); i < h.len; i++)
		buf[i] = seq * 31 + i;
	memcpy(buf, &h, sizeof(h));
	h.sum = sm_fnv1a(buf, h.len);
	memcpy(buf, &h, sizeof(h));
	return h.len;
}

/* Whether @buf is a whole value; its header in @h. */
static bool value_ok(const unsigned char *buf, __u32 len, struct val_hdr *h)
{
	unsigned char copy[VAL_MAX];
	__u32 sum;

	if (len < sizeof(*h) || len > VAL_MAX)
		return false;
	memcpy(h, buf, sizeof(*h));
	if (h->len != len || h->writer >= WRITERS || h->key >= NKEYS)
		return false;
	memcpy(copy, buf, len);
	sum = h->sum;
	((struct val_hdr *)copy)->sum = 0;
	return sm_fnv1a(copy, len) == sum;
}

/* Parse "w<writer>-k<key>". */
static bool key_parse(const unsigned char *key, __u32 len,
		      unsigned int *writer, unsigned int *k)
{
	char buf[KEY_MAX + 1];
	int end = 0;

	if (!len || len > KEY_MAX)
		return false;
	memcpy(buf, key, len);
	buf[len] = '\0';
	return sscanf(buf, "w%u-k%u%n", writer, k, &end) == 2 &&
	       end == (int)len && *writer < WRITERS && *k < NKEYS;
}

/* Writers. */

/* The write of round @seq / NKEYS: every third round deletes even keys. */
static bool is_del(__u64 seq)
{
	return (seq / NKEYS) % 3 == 2 && !((seq % NKEYS) & 1);
}

static int writer(unsigned int id)
{
	struct wlog *log = &sh->w[id];
	unsigned char value[VAL_MAX];
	char key[KEY_MAX];
	unsigned int k;
	__u64 seq, version;
	__u32 len;
	int ctl, fd, err;

	ctl = snapmap_open_ctl();
	fd = sm_open(ctl, NAMED, 0);
	if (fd < 0) {
		fail("writer %u: open: %d", id, fd);
		return 1;
	}
	for (seq = 1; seq <= sh->ops && !time_up(); seq++) {
		k = seq % NKEYS;
		len = key_name(key, id, k);
		if (is_del(seq)) {
			err = sm_del(fd, 0, key, len, 0, &version);
			count(C_DELS, 1);
		} else {
			err = sm_put(fd, 0, key, len, value,
				     make_value(value, id, k, seq), 0,
				     &version);
			count(C_PUTS, 1);
		}
		/* A writer never fails, open snapshots or not. */
		if (err) {
			fail("writer %u: write %llu: %d", id,
			     (unsigned long long)seq, err);
			break;
		}
		log->ring[(seq - 1) % RING] = (struct wentry){
			.version = version, .seq = seq, .key = k,
			.del = is_del(seq),
		};
		__atomic_store_n(&log->n, seq, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&log->done, 1, __ATOMIC_RELEASE);
	close(fd);
	close(ctl);
	return 0;
}

/*
 * Wait until writer @w's log holds every write below version @v: a
 * write above it is logged, or the writer is done.  Returns the number
 * of writes logged, or 0 if that took too long.
 */
static unsigned long long log_upto(unsigned int w, __u64 v)
{
	struct wlog *log = &sh->w[w];
	unsigned long long n, spins;

	for (spins = 0; spins < 100000000ULL; spins++) {
		n = __atomic_load_n(&log->n, __ATOMIC_ACQUIRE);
		if ((n && log->ring[(n - 1) % RING].version > v) ||
		    __atomic_load_n(&log->done, __ATOMIC_ACQUIRE))
			return __atomic_load_n(&log->n, __ATOMIC_ACQUIRE) ?: 1;
		sched_yield();
	}
	return 0;
}

/* What writer @w's last write of each key below version @v left. */
struct expect {
	bool written;	/* a write below @v exists */
	struct wentry e;
	bool seen;
};

static bool expected_at(unsigned int w, __u64 v, struct expect *x)
{
	struct wlog *log = &sh->w[w];
	unsigned long long n = log_upto(w, v), lo, hi, mid, first, i;

	memset(x, 0, NKEYS * sizeof(*x));
	if (!n)
		return false;
	n = __atomic_load_n(&log->n, __ATOMIC_ACQUIRE);
	first = n > RING ? n - RING : 0;
	/* The last write below @v: versions increase along the log. */
	lo = first;
	hi = n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (log->ring[mid % RING].version < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == first && first)
		return false;	/* older than the log keeps */
	/* Keys are written in turn: NKEYS writes back cover them all. */
	for (i = lo; i > first && i + NKEYS > lo; i--) {
		const struct wentry *e = &log->ring[(i - 1) % RING];

		if (!x[e->key].written) {
			x[e->key].written = true;
			x[e->key].e = *e;
		}
	}
	return true;
}

/*
 * Check records read from an ATOMIC snapshot of version @v (or a clone
 * made from one) against every writer's log.  A @what of NULL checks the
 * control's walks: the same check, but a mismatch is only returned.
 */
/* A failure of the check, unless it checks the control. */
#define check_fail(...)							\
	do {								\
		if (what)						\
			fail(__VA_ARGS__);				\
	} while (0)

static bool check_atomic(const void *buf, size_t len, __u64 v,
			 const char *what)
{
	struct expect x[WRITERS][NKEYS];
	struct sm_record rec;
	struct val_hdr h;
	unsigned int w, k;
	size_t off = 0, size;
	unsigned long long records = 0;

	for (w = 0; w < WRITERS; w++)
		if (!expected_at(w, v, x[w])) {
			check_fail("%s %llu: writer %u's log does not reach it",
			     what, (unsigned long long)v, w);
			/* Not a walk the control can count either way. */
			return !what;
		}
	while (off < len) {
		size = sm_record_parse((const char *)buf + off, len - off,
				       &rec);
		if (!size) {
			check_fail("%s %llu: a record is not whole", what,
			     (unsigned long long)v);
			return false;
		}
		off += size;
		records++;
		if (!key_parse(rec.key, rec.key_len, &w, &k)) {
			check_fail("%s %llu: a key no writer wrote", what,
			     (unsigned long long)v);
			return false;
		}
		if (rec.version >= v || !x[w][k].written || x[w][k].e.del ||
		    x[w][k].seen || x[w][k].e.version != rec.version ||
		    !value_ok(rec.value, rec.value_len, &h) ||
		    h.seq != x[w][k].e.seq || h.writer != w || h.key != k) {
			check_fail("%s %llu: w%u-k%u at %llu, expected %s at %llu",
			     what, (unsigned long long)v, w, k,
			     (unsigned long long)rec.version,
			     !x[w][k].written ? "nothing" :
			     x[w][k].e.del ? "a deletion" :
			     x[w][k].seen ? "one record" : "its write",
			     (unsigned long long)x[w][k].e.version);
			return false;
		}
		x[w][k].seen = true;
	}
	for (w = 0; w < WRITERS; w++)
		for (k = 0; k < NKEYS; k++)
			if (x[w][k].written && !x[w][k].e.del &&
			    !x[w][k].seen) {
				check_fail("%s %llu: w%u-k%u, written at %llu, is missing",
				     what, (unsigned long long)v, w, k,
				     (unsigned long long)x[w][k].e.version);
				return false;
			}
	if (what)
		count(C_RECORDS, records);
	return true;
}
#undef check_fail

/* Whether the log of the write of @seq, if it is still kept, says @v. */
static bool logged_as(unsigned int w, __u64 seq, __u64 v)
{
	struct wlog *log = &sh->w[w];
	unsigned long long n = __atomic_load_n(&log->n, __ATOMIC_ACQUIRE);
	const struct wentry *e = &log->ring[(seq - 1) % RING];

	if (!seq || seq > n || seq + RING <= n)
		return true;	/* not logged yet, or no longer */
	return e->seq == seq && e->version == v && !e->del;
}

/* Readers. */

struct reader {
	__u64 rng;
	__u64 last[WRITERS][NKEYS];	/* the newest version seen */
	int held[HELD];
	__u64 held_v[HELD];
	void *buf;
};

static void reader_get(struct reader *r, int fd)
{
	unsigned int w = rng_next(&r->rng) % WRITERS;
	unsigned int k = rng_next(&r->rng) % NKEYS;
	unsigned char value[VAL_MAX];
	char key[KEY_MAX];
	struct val_hdr h;
	__u32 len;
	__u64 v;
	int err;

	err = sm_get(fd, key, key_name(key, w, k), value, sizeof(value),
		     &len, &v);
	count(C_GETS, 1);
	if (err == -ENOENT)
		return;
	if (err) {
		fail("GET w%u-k%u: %d", w, k, err);
		return;
	}
	if (!value_ok(value, len, &h) || h.writer != w || h.key != k)
		fail("GET w%u-k%u: not a whole value of that key", w, k);
	else if (v < r->last[w][k])
		fail("GET w%u-k%u: version %llu after %llu", w, k,
		     (unsigned long long)v,
		     (unsigned long long)r->last[w][k]);
	else if (!logged_as(w, h.seq, v))
		fail("GET w%u-k%u: version %llu is not the one logged", w, k,
		     (unsigned long long)v);
	if (v > r->last[w][k])
		r->last[w][k] = v;
}

/* Read all of @sfd in chunks of random sizes; -errno or the length. */
static ssize_t read_chunks(struct reader *r, int sfd, void **out)
{
	static const size_t chunks[] = { 300, 1000, 4096, 65536 };

	return sm_read_all(sfd, chunks[rng_next(&r->rng) % 4], out);
}

static void reader_snapshot(struct reader *r, int fd)
{
	unsigned int slot = rng_next(&r->rng) % HELD;
	ssize_t len;
	void *buf;
	__u64 v;
	int sfd;

	if (r->held[slot] < 0) {
		/* Take one now, read it later. */
		r->held[slot] = sm_snapshot(fd, 0, &r->held_v[slot]);
		if (r->held[slot] < 0)
			fail("SNAPSHOT: %d", r->held[slot]);
		return;
	}
	if (rng_next(&r->rng) & 1) {
		sfd = r->held[slot];
		v = r->held_v[slot];
		r->held[slot] = -1;
		count(C_HELD, 1);
	} else {
		sfd = sm_snapshot(fd, 0, &v);
		if (sfd < 0) {
			fail("SNAPSHOT: %d", sfd);
			return;
		}
	}
	len = read_chunks(r, sfd, &buf);
	if (len == -ESTALE) {
		count(C_STALE, 1);
	} else if (len < 0) {
		fail("snapshot %llu: read: %zd", (unsigned long long)v, len);
	} else {
		check_atomic(buf, len, v, "snapshot");
		count(C_SNAPSHOTS, 1);
	}
	free(buf);
	close(sfd);
}

static void reader_weak(struct reader *r, int fd)
{
	struct sm_record rec;
	struct val_hdr h;
	unsigned int w, k;
	size_t off = 0, size;
	ssize_t len;
	void *buf;
	int sfd;

	sfd = sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	if (sfd < 0) {
		fail("WEAK SNAPSHOT: %d", sfd);
		return;
	}
	len = read_chunks(r, sfd, &buf);
	close(sfd);
	if (len < 0) {
		fail("WEAK snapshot: read: %zd", len);
		return;
	}
	/* Each record, a value its key really held. */
	while (off < (size_t)len) {
		size = sm_record_parse((char *)buf + off, len - off, &rec);
		if (!size || !key_parse(rec.key, rec.key_len, &w, &k) ||
		    !value_ok(rec.value, rec.value_len, &h) ||
		    h.writer != w || h.key != k ||
		    !logged_as(w, h.seq, rec.version)) {
			fail("WEAK snapshot: a record no writer wrote");
			break;
		}
		off += size;
	}
	free(buf);
	count(C_WEAK, 1);
}

/*
 * Wait until a writer has logged a write after those @n[] counted (or
 * all are done); sched_yield() hands the CPU to them.
 */
static void wait_writes(const unsigned long long *n)
{
	unsigned int w;

	for (;;) {
		for (w = 0; w < WRITERS; w++)
			if (__atomic_load_n(&sh->w[w].n, __ATOMIC_ACQUIRE) !=
			    n[w] ||
			    __atomic_load_n(&sh->w[w].done, __ATOMIC_ACQUIRE))
				return;
		sched_yield();
	}
}

/*
 * The control beside check_atomic(): a reader that GETs the keys one by
 * one, letting a write happen between two GETs, and checks what it read,
 * as records, with the check of ATOMIC snapshots at the version INFO gave
 * before it started.  Writers write their keys in turn, so such a walk
 * soon holds keys of two rounds in an order no instant of the map has:
 * the soak asserts that the check caught at least one.
 */
static void reader_control(struct reader *r, int fd)
{
	unsigned char buf[WRITERS * NKEYS * SNAPMAP_RECORD_SIZE(KEY_MAX,
								VAL_MAX)];
	unsigned char value[VAL_MAX], *p;
	unsigned long long n[WRITERS];
	struct snapmap_record rec;
	struct snapmap_info info;
	char key[KEY_MAX];
	unsigned int w, k;
	size_t len = 0;
	__u32 klen, vlen;
	__u64 v;
	int err;

	err = sm_info(fd, &info);
	if (err) {
		fail("control: INFO: %d", err);
		return;
	}
	for (w = 0; w < WRITERS; w++) {
		for (k = 0; k < NKEYS; k++) {
			for (err = 0; err < WRITERS; err++)
				n[err] = __atomic_load_n(&sh->w[err].n,
							 __ATOMIC_ACQUIRE);
			wait_writes(n);
			klen = key_name(key, w, k);
			err = sm_get(fd, key, klen, value, sizeof(value),
				     &vlen, &v);
			if (err == -ENOENT)
				continue;
			if (err) {
				fail("control: GET: %d", err);
				return;
			}
			rec = (struct snapmap_record){
				.key_len = klen, .value_len = vlen,
				.version = v,
			};
			p = buf + len;
			memcpy(p, &rec, sizeof(rec));
			memcpy(p + sizeof(rec), key, klen);
			memcpy(p + sizeof(rec) + klen, value, vlen);
			memset(p + sizeof(rec) + klen + vlen, 0,
			       SNAPMAP_RECORD_SIZE(klen, vlen) - sizeof(rec) -
			       klen - vlen);
			len += SNAPMAP_RECORD_SIZE(klen, vlen);
		}
	}
	count(C_CONTROL, 1);
	if (!check_atomic(buf, len, info.out_version + 1, NULL))
		count(C_CONTROL_IMPOSSIBLE, 1);
}

static void reader_clone(struct reader *r, int fd)
{
	__u64 v, own = 0;
	ssize_t len;
	void *buf;
	int cfd, sfd;

	cfd = sm_clone(fd, NULL, 0600, &v);
	if (cfd == -ESTALE || cfd == -ENOSPC)
		return;
	if (cfd < 0) {
		fail("CLONE: %d", cfd);
		return;
	}
	sfd = sm_snapshot(cfd, 0, NULL);
	len = sfd < 0 ? sfd : read_chunks(r, sfd, &buf);
	if (len >= 0) {
		check_atomic(buf, len, v, "clone");
		free(buf);
	} else {
		fail("clone %llu: read: %zd", (unsigned long long)v, len);
	}
	if (sfd >= 0)
		close(sfd);
	/* The clone is a map of its own, its versions after the copy's. */
	if (sm_put_str(cfd, "w0-k0", "clone's own", &own) || own <= v)
		fail("clone %llu: own write got %llu", (unsigned long long)v,
		     (unsigned long long)own);
	close(cfd);
	count(C_CLONES, 1);
}

static int reader(unsigned int id)
{
	struct reader r = { .rng = 0x9e3779b97f4a7c15ULL * (id + 7) };
	unsigned int i, what;
	int ctl, fd;

	for (i = 0; i < HELD; i++)
		r.held[i] = -1;
	ctl = snapmap_open_ctl();
	/* Readers open the map read-only: every command they need works. */
	fd = sm_open(ctl, NAMED, SNAPMAP_OPEN_RDONLY);
	if (fd < 0) {
		fail("reader %u: open: %d", id, fd);
		return 1;
	}
	while (!time_up()) {
		what = rng_next(&r.rng) % 100;
		if (what < 60)
			reader_get(&r, fd);
		else if (what < 90)
			reader_snapshot(&r, fd);
		else if (what < 94)
			reader_weak(&r, fd);
		else if (what < 96)
			reader_control(&r, fd);
		else
			reader_clone(&r, fd);
		if (__atomic_load_n(&sh->w[0].done, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&sh->w[1].done, __ATOMIC_ACQUIRE))
			break;
	}
	for (i = 0; i < HELD; i++)
		if (r.held[i] >= 0)
			close(r.held[i]);
	close(fd);
	close(ctl);
	return 0;
}

/* CLEAR. */

struct clear_writer {
	int fd;
	int stop;
	unsigned long long writes;
};

static void *clear_writer_thread(void *arg)
{
	struct clear_writer *cw = arg;
	char key[16];
	unsigned int i = 0;

	while (!__atomic_load_n(&cw->stop, __ATOMIC_RELAXED)) {
		snprintf(key, sizeof(key), "c-%u", i++ % 64);
		if (sm_put_str(cw->fd, key, "some value", NULL)) {
			fail("CLEAR's writer: PUT failed");
			break;
		}
		cw->writes++;
	}
	return NULL;
}

static int clearer(void)
{
	struct clear_writer cw = {};
	struct snapmap_info info;
	struct sm_record rec = {};
	size_t off, size;
	pthread_t tid;
	ssize_t len;
	void *buf;
	int ctl, sfd;

	ctl = snapmap_open_ctl();
	cw.fd = sm_create(ctl, KEY_MAX, VAL_MAX, 128, 0, 0600, NULL);
	if (cw.fd < 0 || pthread_create(&tid, NULL, clear_writer_thread, &cw))
		return 1;
	while (!time_up()) {
		/* Everything written before CLEAR started is gone after. */
		if (sm_info(cw.fd, &info) || sm_clear(cw.fd, NULL)) {
			fail("CLEAR failed");
			break;
		}
		count(C_CLEARS, 1);
		sfd = sm_snapshot(cw.fd, 0, NULL);
		len = sfd < 0 ? sfd : sm_read_all(sfd, 65536, &buf);
		if (sfd >= 0)
			close(sfd);
		if (len < 0) {
			fail("CLEAR: snapshot read: %zd", len);
			break;
		}
		for (off = 0; off < (size_t)len; off += size) {
			size = sm_record_parse((char *)buf + off, len - off,
					       &rec);
			if (!size || rec.version <= info.out_version) {
				fail("CLEAR from %llu left a key at %llu",
				     (unsigned long long)info.out_version,
				     (unsigned long long)rec.version);
				break;
			}
		}
		free(buf);
	}
	__atomic_store_n(&cw.stop, 1, __ATOMIC_RELAXED);
	pthread_join(tid, NULL);
	close(cw.fd);
	close(ctl);
	return 0;
}

/* Named maps, and fds closed in every order. */

enum { H_CTL, H_MAP, H_MAP2, H_SNAP, H_CLONE, NHANDLES };

/* The @n-th permutation of NHANDLES handles, in @order. */
static void permutation(unsigned int n, unsigned int *order)
{
	unsigned int avail[NHANDLES], i, j, left = NHANDLES;

	for (i = 0; i < NHANDLES; i++)
		avail[i] = i;
	for (i = 0; i < NHANDLES; i++) {
		j = n % left;
		n /= left;
		order[i] = avail[j];
		memmove(&avail[j], &avail[j + 1],
			(left - j - 1) * sizeof(avail[0]));
		left--;
	}
}

static int names(void)
{
	unsigned int round, i, order[NHANDLES];
	char name[SNAPMAP_NAME_LEN], value[16];
	int h[NHANDLES], ctl, fd, err;
	bool open_now;

	ctl = snapmap_open_ctl();
	for (round = 0; !time_up(); round++) {
		snprintf(name, sizeof(name), "soak_test.tmp-%u", round % 4);
		h[H_CTL] = snapmap_open_ctl();
		h[H_MAP] = sm_create(h[H_CTL], KEY_MAX, VAL_MAX, 16, 0, 0644,
				     name);
		h[H_MAP2] = sm_open(ctl, name, 0);
		if (h[H_CTL] < 0 || h[H_MAP] < 0 || h[H_MAP2] < 0) {
			fail("names: %s: %d %d %d", name, h[H_CTL], h[H_MAP],
			     h[H_MAP2]);
			return 1;
		}
		/* One map through two fds; a read-only third refuses writes. */
		if (sm_put_str(h[H_MAP2], "k", "v", NULL) ||
		    sm_get(h[H_MAP], "k", 1, value, sizeof(value), NULL, NULL))
			fail("names: %s: PUT and GET through two fds", name);
		fd = sm_open(ctl, name, SNAPMAP_OPEN_RDONLY);
		err = fd < 0 ? fd : sm_put_str(fd, "k", "w", NULL);
		if (err != -EBADF)
			fail("names: %s: read-only fd wrote: %d", name, err);
		if (fd >= 0)
			close(fd);
		h[H_SNAP] = sm_snapshot(h[H_MAP], 0, NULL);
		h[H_CLONE] = sm_clone(h[H_MAP2], NULL, 0600, NULL);
		if (h[H_SNAP] < 0 || h[H_CLONE] < 0) {
			fail("names: snapshot %d, clone %d", h[H_SNAP],
			     h[H_CLONE]);
			return 1;
		}
		/* Close the five in the round's order. */
		permutation(round % 120, order);
		for (i = 0; i < NHANDLES; i++) {
			close(h[order[i]]);
			h[order[i]] = -1;
			/* The snapshot holds the map too. */
			open_now = h[H_MAP] >= 0 || h[H_MAP2] >= 0 ||
				   h[H_SNAP] >= 0;
			fd = sm_open(ctl, name, SNAPMAP_OPEN_RDONLY);
			if ((fd >= 0) != open_now)
				fail("names: %s: open gave %d with map %d, map2 %d, snapshot %d",
				     name, fd, h[H_MAP], h[H_MAP2], h[H_SNAP]);
			if (fd >= 0)
				close(fd);
		}
		count(C_NAMED, 1);
		count(C_ORDERS, 1);
	}
	close(ctl);
	return 0;
}

/* rmmod while busy. */

static int try_unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? errno : 0;
}

static int unloader(void)
{
	int ctl = snapmap_open_ctl(), sample, err;
	struct stat st;

	/* Hold the sample module: rmmod would otherwise just work. */
	sample = open("/sys/kernel/debug/snapmap_sample/find", O_RDONLY);
	while (!time_up()) {
		err = try_unload("snapmap");
		if (err != EWOULDBLOCK && err != EBUSY)
			fail("rmmod snapmap while busy: %d", err);
		if (sample >= 0) {
			err = try_unload("snapmap_sample");
			if (err != EWOULDBLOCK && err != EBUSY)
				fail("rmmod snapmap_sample while busy: %d",
				     err);
		}
		count(C_RMMOD, 1);
		if (stat("/sys/module/snapmap", &st))
			fail("snapmap is gone");
		sched_yield();
	}
	if (sample >= 0)
		close(sample);
	close(ctl);
	return 0;
}

/* A small memory cgroup, filled on purpose. */

static bool cgroup_setup(void)
{
	return !sm_memcg_create(CGROUP_DIR, "3M");
}

static long long cg_oom_events(void)
{
	char line[128];
	long long val = -1;
	FILE *f = fopen(CGROUP_DIR "/memory.events", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "oom ", 4))
			val = strtoll(line + 4, NULL, 10);
	fclose(f);
	return val;
}

/*
 * Fill one map until the cgroup is full, then delete half, then CLEAR,
 * and again.  The map and its fd are made once, while there is room: a
 * new fd in a full cgroup is the VFS's struct file, whose charge wakes
 * the cgroup's OOM killer like any open(2) would.
 */
static int filler(void)
{
	char key[32], value[1000], pid[32];
	unsigned int i, n;
	int ctl, fd, err;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (sm_write_file(CGROUP_DIR "/cgroup.procs", pid))
		return 1;
	memset(value, 'f', sizeof(value));
	ctl = snapmap_open_ctl();
	fd = sm_create(ctl, 0, 0, 0, 0, 0600, NULL);
	if (fd < 0) {
		fail("filler: CREATE: %d", fd);
		return 1;
	}
	while (!time_up()) {
		for (n = 0; !time_up(); n++) {
			snprintf(key, sizeof(key), "fill-%u", n);
			err = sm_put(fd, 0, key, strlen(key), value,
				     sizeof(value), 0, NULL);
			if (err == -ENOMEM) {
				count(C_ENOMEM, 1);
				break;
			}
			if (err) {
				fail("filler: PUT: %d", err);
				break;
			}
		}
		/*
		 * Full: reads work or want memory for their buffer; deletions
		 * always work.
		 */
		for (i = 0; i < n; i += 2) {
			snprintf(key, sizeof(key), "fill-%u", i);
			err = sm_get(fd, key, strlen(key), value,
				     sizeof(value), NULL, NULL);
			if ((err && err != -ENOMEM) ||
			    sm_del(fd, 0, key, strlen(key), 0, NULL))
				fail("filler: GET or DEL of %s failed", key);
		}
		if (sm_clear(fd, NULL))
			fail("filler: CLEAR failed");
		count(C_FILLS, 1);
	}
	close(fd);
	close(ctl);
	return 0;
}

static unsigned long long env_num(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

FIXTURE(soak) {
	int ctl;
	int fd;
};

FIXTURE_SETUP(soak)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	/* Readers and the other processes open it by name. */
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 1024, MAP_BYTES,
			     0644, NAMED);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(soak)
{
	if (self->fd >= 0)
		close(self->fd);
	close(self->ctl);
	munmap(sh, sizeof(*sh));
}

TEST_F_TIMEOUT(soak, run, SOAK_TIMEOUT)
{
	unsigned long long seconds = env_num("SNAPMAP_SOAK_SECONDS", 30);
	struct timespec start, end;
	pid_t pids[16];
	unsigned int n = 0, i;
	unsigned long long writes = 0;
	struct snapmap_info info;
	int status, maps;
	bool cgroup;
	ssize_t len;
	void *buf;
	int sfd;
	__u64 v;

	sh->ops = env_num("SNAPMAP_SOAK_OPS", 1000000);
	clock_gettime(CLOCK_MONOTONIC, &start);
	sh->deadline = start;
	sh->deadline.tv_sec += seconds;
	sh->last_chance = start;
	sh->last_chance.tv_sec += 10 * seconds;
	maps = SM_COUNT_MAPS();
	cgroup = cgroup_setup();
	fflush(stdout);

#define SPAWN(call)							\
	do {								\
		pids[n] = fork();					\
		ASSERT_LE(0, pids[n]);					\
		if (!pids[n])						\
			_exit(call);					\
		n++;							\
	} while (0)

	for (i = 0; i < WRITERS; i++)
		SPAWN(writer(i));
	for (i = 0; i < READERS; i++)
		SPAWN(reader(i));
	SPAWN(clearer());
	SPAWN(names());
	SPAWN(unloader());
	if (cgroup)
		SPAWN(filler());

	for (i = 0; i < n; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		/* The writers done, the rest stop too. */
		if (i == WRITERS - 1)
			__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
			TH_LOG("process %u: status %#x", i, status);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (cgroup) {
		/* Filled, yet the cgroup's OOM killer never woke. */
		EXPECT_EQ(0, cg_oom_events());
		rmdir(CGROUP_DIR);
	}

	/* The map holds what the writers' last writes left. */
	sfd = sm_snapshot(self->fd, 0, &v);
	ASSERT_LE(0, sfd);
	len = sm_read_all(sfd, 65536, &buf);
	close(sfd);
	ASSERT_LE(0, len);
	EXPECT_TRUE(check_atomic(buf, len, v, "final snapshot"));
	free(buf);
	/* Its counters add up to the writes logged. */
	ASSERT_EQ(0, sm_info(self->fd, &info));
	for (i = 0; i < WRITERS; i++)
		writes += sh->w[i].n;
	EXPECT_EQ(writes, info.out_puts + info.out_dels);

	printf("# %.1f s, %u processes:",
	       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9,
	       n);
	for (i = 0; i < C_COUNTERS; i++)
		printf("%s %llu %s", i ? "," : "", sh->counter[i],
		       counter_names[i]);
	printf("\n");
	fflush(stdout);
	sm_cover_print(sh->cover);
	fflush(stdout);
	for (i = 0; i < sh->failures && i < NMSG; i++)
		TH_LOG("%s", sh->msg[i]);
	EXPECT_EQ(0, sh->failures);
	/*
	 * Every part of the soak got somewhere: each counter, the filler's
	 * cgroup included, and each command and error path listed.
	 */
	EXPECT_TRUE(cgroup);
	/* Braces: EXPECT_*() { ... } is two statements. */
	for (i = 0; i < C_COUNTERS; i++) {
		EXPECT_LT(0, sh->counter[i]) {
			TH_LOG("never happened: %s", counter_names[i]);
		}
	}
	for (i = 0; i < sizeof(must_cover) / sizeof(must_cover[0]); i++) {
		EXPECT_LT(0, sh->cover[must_cover[i].nr][must_cover[i].err]) {
			TH_LOG("never reached: command %#x giving %s",
			       must_cover[i].nr, must_cover[i].err ?
			       strerrorname_np(must_cover[i].err) : "success");
		}
	}
	/* The check can fail: the control beside it made it. */
	EXPECT_LT(0, sh->counter[C_CONTROL_IMPOSSIBLE]);

	close(self->fd);
	self->fd = -1;
	/* Every map of the soak died with its last fd. */
	EXPECT_EQ(maps - 1, SM_COUNT_MAPS());
}

TEST_HARNESS_MAIN
