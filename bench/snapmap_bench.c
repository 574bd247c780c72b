// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap_bench - snapmap against what users would pick instead, side by
 * side in one run: BPF hash maps through bpf(2), a pthread-rwlock map with
 * deep copy ("RWMutex + copy"), snapmap's own WEAK walk, and (through the
 * snapmap_kbench module) a raw rhashtable.
 *
 * Every figure is measured REPS times, the systems of one figure taking
 * turns within each repetition, and printed as its median and range:
 *
 *   fig FIGURE ROW SYSTEM MEDIAN MIN MAX UNIT
 *   series NAME T VALUE            (a timeline point)
 *   env KEY VALUE
 *
 * Lines starting with '#' are comments.  scripts/bench turns the output
 * into BENCHMARKS.md and plots.  Only ratios between figures of one run
 * mean anything: absolute times depend on the machine and the emulator.
 *
 * usage: snapmap_bench [FIGURE...]   (default: all of them)
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/snapmap.h>

#include "bench.h"
#include "bpf_hash.h"
#include "rwmap.h"

#define REPS 5
#define PTR(p) ((__u64)(uintptr_t)(p))

/* The largest map, and the keys and values every figure draws from. */
#define MAX_KEYS 1000000
uint8_t (*keys)[KEY_LEN];
uint8_t (*vals)[VALUE_LEN];

void die(const char *what)
{
	perror(what);
	exit(1);
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct spread spread_of(double *samples, unsigned int n)
{
	double *s = malloc(n * sizeof(*s));
	struct spread sp;

	if (!s)
		die("malloc");
	memcpy(s, samples, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	sp.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	sp.lo = s[0];
	sp.hi = s[n - 1];
	free(s);
	return sp;
}

void report(const char *fig, const char *row, const char *sys,
	    double *samples, unsigned int n, const char *unit)
{
	struct spread sp = spread_of(samples, n);

	printf("fig %s %s %s %.6g %.6g %.6g %s\n", fig, row, sys, sp.med,
	       sp.lo, sp.hi, unit);
	fflush(stdout);
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* snapmap through its ioctls ------------------------------------------- */

int ctl = -1;

/* A map with the same key and value sizes as the BPF maps. */
int sm_new(void)
{
	struct snapmap_create c = {
		.size = sizeof(c),
		.max_key_len = KEY_LEN,
		.max_value_len = VALUE_LEN,
	};
	int fd = ioctl(ctl, SNAPMAP_IOC_CREATE, &c);

	if (fd < 0)
		die("SNAPMAP_IOC_CREATE");
	return fd;
}

static int sm_get(int fd, const void *key, void *value)
{
	struct snapmap_get g = {
		.size = sizeof(g),
		.key_len = KEY_LEN,
		.value_buf_len = VALUE_LEN,
		.key = PTR(key),
		.value = PTR(value),
	};

	return ioctl(fd, SNAPMAP_IOC_GET, &g) ? -errno : 0;
}

int sm_put(int fd, const void *key, const void *value)
{
	struct snapmap_put p = {
		.size = sizeof(p),
		.key_len = KEY_LEN,
		.value_len = VALUE_LEN,
		.key = PTR(key),
		.value = PTR(value),
	};

	return ioctl(fd, SNAPMAP_IOC_PUT, &p) ? -errno : 0;
}

static int sm_del(int fd, const void *key)
{
	struct snapmap_del d = {
		.size = sizeof(d),
		.key_len = KEY_LEN,
		.key = PTR(key),
	};

	return ioctl(fd, SNAPMAP_IOC_DEL, &d) ? -errno : 0;
}

/* A TXN of one PUT, with no condition. */
static int sm_txn_put(int fd, const void *key, const void *value)
{
	struct snapmap_txn_op op = {
		.opcode = SNAPMAP_TXN_PUT,
		.key_len = KEY_LEN,
		.value_len = VALUE_LEN,
		.key = PTR(key),
		.value = PTR(value),
	};
	struct snapmap_txn t = {
		.size = sizeof(t),
		.cond_size = sizeof(struct snapmap_txn_cond),
		.op_count = 1,
		.op_size = sizeof(op),
		.ops = PTR(&op),
	};

	return ioctl(fd, SNAPMAP_IOC_TXN, &t) ? -errno : 0;
}

/* An ioctl the map fd does not know: the cost of the syscall alone. */
static int sm_null(int fd)
{
	return ioctl(fd, _IO(SNAPMAP_IOC_TYPE, 0x7f), NULL) ? -errno : 0;
}

#define SM_BATCH_MAX 1024
static struct snapmap_batch_op sm_ops[SM_BATCH_MAX];
static uint8_t sm_out[SM_BATCH_MAX][VALUE_LEN];

/* One BATCH of @n ops of @opcode on the keys of numbers @idx. */
static void sm_batch(int fd, uint32_t opcode, const uint32_t *idx,
		     unsigned int n)
{
	struct snapmap_batch b = {
		.size = sizeof(b),
		.count = n,
		.op_size = sizeof(sm_ops[0]),
		.ops = PTR(sm_ops),
	};
	unsigned int i;

	for (i = 0; i < n; i++) {
		sm_ops[i] = (struct snapmap_batch_op){
			.opcode = opcode,
			.key_len = KEY_LEN,
			.value_len = VALUE_LEN,
			.key = PTR(keys[idx[i]]),
			.value = PTR(opcode == SNAPMAP_BATCH_GET ?
				     sm_out[i] : vals[idx[i]]),
		};
	}
	if (ioctl(fd, SNAPMAP_IOC_BATCH, &b) || b.out_done != n)
		die("SNAPMAP_IOC_BATCH");
	for (i = 0; i < n; i++)
		if (sm_ops[i].out_result)
			die("SNAPMAP_IOC_BATCH op");
}

void sm_fill(int fd, uint32_t n)
{
	uint32_t idx[SM_BATCH_MAX], i = 0, j;

	while (i < n) {
		for (j = 0; j < SM_BATCH_MAX && i < n; j++)
			idx[j] = i++;
		sm_batch(fd, SNAPMAP_BATCH_PUT, idx, j);
	}
}

static int sm_snapshot(int fd, uint32_t flags)
{
	struct snapmap_snapshot_arg a = { .size = sizeof(a), .flags = flags };
	int sfd = ioctl(fd, SNAPMAP_IOC_SNAPSHOT, &a);

	if (sfd < 0)
		die("SNAPMAP_IOC_SNAPSHOT");
	return sfd;
}

/* Read a whole snapshot fd; returns the records read. */
static uint64_t sm_read_all(int sfd)
{
	static uint8_t buf[256 * 1024];
	uint64_t records = 0;
	ssize_t len, off;

	while ((len = read(sfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < len; records++) {
			const struct snapmap_record *rec = (void *)(buf + off);

			off += SNAPMAP_RECORD_SIZE(rec->key_len,
						   rec->value_len);
		}
	}
	if (len < 0)
		die("read snapshot");
	return records;
}

/*
 * Read a whole snapshot fd as a user of its data would: the sum of the
 * first byte of each record's key and value; *@records counts them.
 */
static uint64_t sm_touch_all(int sfd, uint64_t *records)
{
	static uint8_t buf[256 * 1024];
	uint64_t sum = 0;
	ssize_t len, off;

	*records = 0;
	while ((len = read(sfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < len; (*records)++) {
			const struct snapmap_record *rec = (void *)(buf + off);
			const uint8_t *key = (const uint8_t *)(rec + 1);

			sum += key[0] + key[rec->key_len];
			off += SNAPMAP_RECORD_SIZE(rec->key_len,
						   rec->value_len);
		}
	}
	if (len < 0)
		die("read snapshot");
	return sum;
}

/* Take and read a whole snapshot of @flags; returns the records. */
static uint64_t sm_dump(int fd, uint32_t flags)
{
	int sfd = sm_snapshot(fd, flags);
	uint64_t records = sm_read_all(sfd);

	close(sfd);
	return records;
}

static uint64_t sm_bytes(int fd)
{
	struct snapmap_info info = { .size = sizeof(info) };

	if (ioctl(fd, SNAPMAP_IOC_INFO, &info))
		die("SNAPMAP_IOC_INFO");
	return info.out_bytes;
}

static uint64_t sm_entries(int fd)
{
	struct snapmap_info info = { .size = sizeof(info) };

	if (ioctl(fd, SNAPMAP_IOC_INFO, &info))
		die("SNAPMAP_IOC_INFO");
	return info.out_entries;
}

/* BPF hash maps --------------------------------------------------------- */

#define BPF_BATCH_MAX 4096
static uint8_t bpf_keys[BPF_BATCH_MAX][KEY_LEN];
static uint8_t bpf_vals[BPF_BATCH_MAX][VALUE_LEN];

static int bpf_new(uint32_t max_entries, uint32_t flags)
{
	int fd = bpf_hash_create(max_entries, flags);

	if (fd < 0) {
		errno = -fd;
		die("BPF_MAP_CREATE");
	}
	return fd;
}

static void bpf_batch_update(int fd, const uint32_t *idx, unsigned int n)
{
	uint32_t count = n;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(bpf_keys[i], keys[idx[i]], KEY_LEN);
		memcpy(bpf_vals[i], vals[idx[i]], VALUE_LEN);
	}
	if (bpf_hash_update_batch(fd, bpf_keys, bpf_vals, &count) ||
	    count != n)
		die("BPF_MAP_UPDATE_BATCH");
}

static void bpf_batch_delete(int fd, const uint32_t *idx, unsigned int n)
{
	uint32_t count = n;
	unsigned int i;

	for (i = 0; i < n; i++)
		memcpy(bpf_keys[i], keys[idx[i]], KEY_LEN);
	if (bpf_hash_delete_batch(fd, bpf_keys, &count) || count != n)
		die("BPF_MAP_DELETE_BATCH");
}

static void bpf_fill(int fd, uint32_t n)
{
	uint32_t idx[BPF_BATCH_MAX], i = 0, j;

	while (i < n) {
		for (j = 0; j < 1024 && i < n; j++)
			idx[j] = i++;
		bpf_batch_update(fd, idx, j);
	}
}

/*
 * Read up to @n entries with BPF_MAP_LOOKUP_BATCH from *@pos (@started
 * false: from the start).  Returns the entries read; *@done is set at the
 * end of the map.
 */
static uint32_t bpf_dump_step(int fd, uint64_t *pos, bool *started,
			      uint32_t n, bool *done)
{
	uint64_t out = 0;
	uint32_t count = n;
	int ret;

	ret = bpf_hash_lookup_batch(fd, *started ? pos : NULL, &out,
				    bpf_keys, bpf_vals, &count);
	if (ret && ret != -ENOENT) {
		errno = -ret;
		die("BPF_MAP_LOOKUP_BATCH");
	}
	*done = ret == -ENOENT;
	*pos = out;
	*started = true;
	return count;
}

/* A whole dump with BPF_MAP_LOOKUP_BATCH; returns the entries read. */
static uint64_t bpf_dump(int fd)
{
	bool started = false, done = false;
	uint64_t pos = 0, entries = 0;

	while (!done)
		entries += bpf_dump_step(fd, &pos, &started, BPF_BATCH_MAX,
					 &done);
	return entries;
}

static void check_records(const char *what, uint64_t got, uint64_t want)
{
	if (got != want) {
		fprintf(stderr, "%s: %llu records, not %llu\n", what,
			(unsigned long long)got, (unsigned long long)want);
		exit(1);
	}
}

/* The rwlock map ------------------------------------------------------- */

static void rw_fill(struct rwmap *map, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		rwmap_put(map, keys[i], vals[i]);
}

/* Figure: per-op cost of single operations ----------------------------- */

#define OP_ENTRIES 10000
#define OP_COUNT 4000

enum op_kind { OP_NULL, OP_GET, OP_UPDATE, OP_DELETE, OP_INSERT, NR_OPS };
static const char *const op_names[NR_OPS] = {
	"null", "lookup", "update", "delete", "insert",
};

enum op_sys { SYS_SNAPMAP, SYS_BPF, SYS_BPF_NOPREALLOC, NR_OP_SYS };
static const char *const op_sys_names[NR_OP_SYS] = {
	"snapmap", "bpf", "bpf-noprealloc",
};

/* Run @count ops of @kind on @fd of @sys; returns ns per op. */
static double run_ops(enum op_sys sys, int fd, enum op_kind kind,
		      const uint32_t *idx, unsigned int count)
{
	uint8_t value[VALUE_LEN];
	unsigned int i;
	double start;
	int ret = 0;

	start = now();
	for (i = 0; i < count && !ret; i++) {
		const void *k = keys[idx[i]];
		const void *v = vals[(idx[i] + 1) % MAX_KEYS];

		switch (kind) {
		case OP_NULL:
			ret = sys == SYS_SNAPMAP ? sm_null(fd) : bpf_bad_cmd();
			ret = ret == -ENOTTY || ret == -EINVAL ? 0 : -1;
			break;
		case OP_GET:
			ret = sys == SYS_SNAPMAP ? sm_get(fd, k, value) :
			      bpf_hash_lookup(fd, k, value);
			break;
		case OP_UPDATE:
			ret = sys == SYS_SNAPMAP ? sm_put(fd, k, v) :
			      bpf_hash_update(fd, k, v, BPF_ANY);
			break;
		case OP_DELETE:
			ret = sys == SYS_SNAPMAP ? sm_del(fd, k) :
			      bpf_hash_delete(fd, k);
			break;
		case OP_INSERT:
			ret = sys == SYS_SNAPMAP ? sm_put(fd, k, v) :
			      bpf_hash_update(fd, k, v, BPF_ANY);
			break;
		default:
			break;
		}
	}
	if (ret) {
		fprintf(stderr, "%s %s: %s\n", op_sys_names[sys],
			op_names[kind], strerror(-ret));
		exit(1);
	}
	return (now() - start) / count * 1e9;
}

static void fig_ops(void)
{
	static double t[NR_OP_SYS][NR_OPS][REPS];
	uint32_t *rnd = malloc(OP_COUNT * sizeof(*rnd));
	uint32_t *seq = malloc(OP_COUNT * sizeof(*seq));
	uint64_t state = 1;
	int fd[NR_OP_SYS];
	unsigned int i, r, s, k;

	if (!rnd || !seq)
		die("malloc");
	/* Random existing keys; and the first OP_COUNT keys, shuffled. */
	for (i = 0; i < OP_COUNT; i++) {
		rnd[i] = next_rand(&state) % OP_ENTRIES;
		seq[i] = i;
	}
	for (i = OP_COUNT - 1; i > 0; i--) {
		uint32_t j = next_rand(&state) % (i + 1), x = seq[i];

		seq[i] = seq[j];
		seq[j] = x;
	}

	fd[SYS_SNAPMAP] = sm_new();
	sm_fill(fd[SYS_SNAPMAP], OP_ENTRIES);
	fd[SYS_BPF] = bpf_new(OP_ENTRIES, 0);
	bpf_fill(fd[SYS_BPF], OP_ENTRIES);
	fd[SYS_BPF_NOPREALLOC] = bpf_new(OP_ENTRIES, BPF_F_NO_PREALLOC);
	bpf_fill(fd[SYS_BPF_NOPREALLOC], OP_ENTRIES);

	printf("# single ops: %u-entry maps, %u ops per measurement\n",
	       OP_ENTRIES, OP_COUNT);
	for (r = 0; r < REPS; r++) {
		for (s = 0; s < NR_OP_SYS; s++) {
			for (k = 0; k < NR_OPS; k++) {
				const uint32_t *idx =
					k == OP_DELETE || k == OP_INSERT ?
					seq : rnd;

				t[s][k][r] = run_ops(s, fd[s], k, idx,
						     OP_COUNT);
			}
		}
	}
	for (k = 0; k < NR_OPS; k++)
		for (s = 0; s < NR_OP_SYS; s++)
			report("op", op_names[k], op_sys_names[s], t[s][k],
			       REPS, "ns");
	for (s = 0; s < NR_OP_SYS; s++)
		close(fd[s]);
	free(rnd);
	free(seq);
}

/*
 * Not figures: the single-op loops of one system alone for a few seconds,
 * for scripts/bench --perf (prof-snapmap, prof-bpf).
 */
static void profile_ops(enum op_sys sys)
{
	uint32_t *seq = malloc(OP_COUNT * sizeof(*seq));
	double start = now();
	unsigned int i, k;
	int fd;

	if (!seq)
		die("malloc");
	for (i = 0; i < OP_COUNT; i++)
		seq[i] = i;
	if (sys == SYS_SNAPMAP) {
		fd = sm_new();
		sm_fill(fd, OP_ENTRIES);
	} else {
		fd = bpf_new(OP_ENTRIES, 0);
		bpf_fill(fd, OP_ENTRIES);
	}
	while (now() - start < 6)
		for (k = OP_GET; k < NR_OPS; k++)
			run_ops(sys, fd, k, seq, OP_COUNT);
	close(fd);
	free(seq);
}

/* Figure: buffer and value sizes ---------------------------------------- */

/*
 * GETs of a 16-byte value into caller buffers of growing size, and PUTs of
 * longer values, on a map with the module's default limits (values up to
 * 1 MiB): what a GET or PUT costs beyond the bytes it moves.
 */
static void fig_bufsize(void)
{
	static const uint32_t bufs[] = { 16, 4096, 65536, 1048576 };
	static const uint32_t puts[] = { 16, 4096, 65536 };
	static double t[7][REPS];
	struct snapmap_create c = { .size = sizeof(c) };
	uint8_t *buf = malloc(1048576);
	uint64_t state = 4;
	unsigned int r, i, k;
	char row[32];
	double start;
	int fd;

	if (!buf)
		die("malloc");
	memset(buf, 'x', 1048576);
	fd = ioctl(ctl, SNAPMAP_IOC_CREATE, &c);
	if (fd < 0)
		die("SNAPMAP_IOC_CREATE");
	sm_fill(fd, OP_ENTRIES);
	for (r = 0; r < REPS; r++) {
		for (k = 0; k < 4; k++) {
			struct snapmap_get g = {
				.size = sizeof(g), .key_len = KEY_LEN,
				.value_buf_len = bufs[k], .value = PTR(buf),
			};

			start = now();
			for (i = 0; i < OP_COUNT; i++) {
				g.key = PTR(keys[next_rand(&state) % OP_ENTRIES]);
				if (ioctl(fd, SNAPMAP_IOC_GET, &g))
					die("SNAPMAP_IOC_GET");
			}
			t[k][r] = (now() - start) / OP_COUNT * 1e9;
		}
		for (k = 0; k < 3; k++) {
			struct snapmap_put p = {
				.size = sizeof(p), .key_len = KEY_LEN,
				.value_len = puts[k], .value = PTR(buf),
			};

			start = now();
			for (i = 0; i < OP_COUNT / 4; i++) {
				/* 256 keys the GETs above never read. */
				p.key = PTR(keys[OP_ENTRIES + i % 256]);
				if (ioctl(fd, SNAPMAP_IOC_PUT, &p))
					die("SNAPMAP_IOC_PUT");
			}
			t[4 + k][r] = (now() - start) / (OP_COUNT / 4) * 1e9;
		}
	}
	for (k = 0; k < 4; k++) {
		snprintf(row, sizeof(row), "get-buf-%u", bufs[k]);
		report("bufsize", row, "snapmap", t[k], REPS, "ns");
	}
	for (k = 0; k < 3; k++) {
		snprintf(row, sizeof(row), "put-value-%u", puts[k]);
		report("bufsize", row, "snapmap", t[4 + k], REPS, "ns");
	}
	close(fd);
	free(buf);
}

/* Figure: large values against a copy of them -------------------------- */

/*
 * Single PUTs and GETs of 1 KiB and 64 KiB values, on a map with the
 * module's default limits (values up to 1 MiB), against their floor: one
 * memcpy() of the value in user space, on the same buffer, plus the same
 * op with a 16-byte value.  Each size has VAL_KEYS keys of its own,
 * filled with values of that size first, so that every timed PUT replaces
 * a value of its own length and every GET finds one.  The memcpy is timed
 * in runs of VAL_COPIES, warm, and its median taken over VAL_COPY_RUNS.
 */
static const uint32_t val_sizes[] = { 16, 1024, 65536 };
#define NR_VAL_SIZES (sizeof(val_sizes) / sizeof(val_sizes[0]))
#define VAL_KEYS 256
#define VAL_OPS 1000
#define VAL_COPIES 32
#define VAL_COPY_RUNS 101
/* The first key of size @k's set: past those of every other figure. */
#define VAL_KEY(k, i) (OP_ENTRIES + 1024 + (k) * VAL_KEYS + (i))

/* Median ns of one memcpy() of @len bytes from @src to @dst. */
static double memcpy_ns(void *dst, const void *src, uint32_t len)
{
	static double t[VAL_COPY_RUNS];
	unsigned int run, i;
	double start;

	for (run = 0; run < VAL_COPY_RUNS; run++) {
		start = now();
		for (i = 0; i < VAL_COPIES; i++) {
			memcpy(dst, src, len);
			/* The copy must happen, every time. */
			__asm__ volatile("" : : "r"(dst), "r"(src) : "memory");
		}
		t[run] = (now() - start) / VAL_COPIES * 1e9;
	}
	return spread_of(t, VAL_COPY_RUNS).med;
}

static void fig_values(void)
{
	static double put[NR_VAL_SIZES][REPS], get[NR_VAL_SIZES][REPS];
	static double copy[NR_VAL_SIZES][REPS];
	struct snapmap_create c = { .size = sizeof(c) };
	uint32_t max = val_sizes[NR_VAL_SIZES - 1];
	uint8_t *buf = malloc(max), *other = malloc(max);
	uint64_t state = 5;
	unsigned int r, i, k;
	char row[32];
	double start;
	int fd;

	if (!buf || !other)
		die("malloc");
	memset(buf, 'x', max);
	memset(other, 'y', max);
	fd = ioctl(ctl, SNAPMAP_IOC_CREATE, &c);
	if (fd < 0)
		die("SNAPMAP_IOC_CREATE");
	for (k = 0; k < NR_VAL_SIZES; k++) {
		struct snapmap_put p = {
			.size = sizeof(p), .key_len = KEY_LEN,
			.value_len = val_sizes[k], .value = PTR(buf),
		};

		for (i = 0; i < VAL_KEYS; i++) {
			p.key = PTR(keys[VAL_KEY(k, i)]);
			if (ioctl(fd, SNAPMAP_IOC_PUT, &p))
				die("SNAPMAP_IOC_PUT");
		}
	}
	printf("# values: single PUTs and GETs of values of each size, %u per measurement, on %u keys per size; memcpy: median of %u runs of %u copies\n",
	       VAL_OPS, VAL_KEYS, VAL_COPY_RUNS, VAL_COPIES);
	for (r = 0; r < REPS; r++) {
		for (k = 0; k < NR_VAL_SIZES; k++) {
			struct snapmap_put p = {
				.size = sizeof(p), .key_len = KEY_LEN,
				.value_len = val_sizes[k], .value = PTR(buf),
			};
			struct snapmap_get g = {
				.size = sizeof(g), .key_len = KEY_LEN,
				.value_buf_len = val_sizes[k],
				.value = PTR(buf),
			};

			start = now();
			for (i = 0; i < VAL_OPS; i++) {
				p.key = PTR(keys[VAL_KEY(k, i % VAL_KEYS)]);
				if (ioctl(fd, SNAPMAP_IOC_PUT, &p))
					die("SNAPMAP_IOC_PUT");
			}
			put[k][r] = (now() - start) / VAL_OPS * 1e9;

			start = now();
			for (i = 0; i < VAL_OPS; i++) {
				g.key = PTR(keys[VAL_KEY(k, next_rand(&state) %
							    VAL_KEYS)]);
				if (ioctl(fd, SNAPMAP_IOC_GET, &g) ||
				    g.out_value_len != val_sizes[k])
					die("SNAPMAP_IOC_GET");
			}
			get[k][r] = (now() - start) / VAL_OPS * 1e9;

			/* The buffer a PUT reads and a GET writes. */
			copy[k][r] = memcpy_ns(other, buf, val_sizes[k]);
		}
	}
	for (k = 0; k < NR_VAL_SIZES; k++) {
		snprintf(row, sizeof(row), "%u", val_sizes[k]);
		report("values", row, "put", put[k], REPS, "ns");
		report("values", row, "get", get[k], REPS, "ns");
		report("values", row, "memcpy", copy[k], REPS, "ns");
	}
	close(fd);
	free(buf);
	free(other);
}

/* Figure: batched operations ------------------------------------------- */

#define BATCH_OPS 256
#define BATCH_ROUNDS 32
/*
 * Deletion batches per measurement: fewer than half the map's keys, so
 * that the measurement times deletions from a map in use, not the
 * resizes of a table that empties (snapmap's rhashtable shrinks below
 * 30% load, and the refill after the window would grow it again; BPF's
 * buckets are fixed at creation).
 */
#define BATCH_DEL_ROUNDS 16

/* Read @n records of snapshot @sfd, @chunk at a time; it must hold them. */
static void sm_scan(int sfd, unsigned int chunk, uint64_t n)
{
	static uint8_t buf[BPF_BATCH_MAX * 48];
	size_t size = (size_t)chunk * SNAPMAP_RECORD_SIZE(KEY_LEN, VALUE_LEN);
	uint64_t got = 0;
	ssize_t len;

	while (got < n) {
		len = read(sfd, buf, size);
		if (len < 0)
			die("read snapshot");
		if (!len) {
			fprintf(stderr, "batch scan: snapshot ended after %llu records\n",
				(unsigned long long)got);
			exit(1);
		}
		got += len / SNAPMAP_RECORD_SIZE(KEY_LEN, VALUE_LEN);
	}
}

enum batch_row { B_GET, B_SCAN, B_UPDATE, B_DELETE, NR_B_ROWS };
static const char *const batch_rows[NR_B_ROWS] = {
	"get", "scan", "update", "delete",
};

/* One batch of updates (@del false) or deletions of the keys @idx. */
static void batch_write(enum op_sys s, int fd, bool del, const uint32_t *idx)
{
	if (s == SYS_SNAPMAP)
		sm_batch(fd, del ? SNAPMAP_BATCH_DEL : SNAPMAP_BATCH_PUT, idx,
			 BATCH_OPS);
	else if (del)
		bpf_batch_delete(fd, idx, BATCH_OPS);
	else
		bpf_batch_update(fd, idx, BATCH_OPS);
}

/*
 * The keys of one round of the batch figure, the same for every system:
 * random present keys to update, and the first BATCH_DEL_ROUNDS batches
 * of keys, in order, to delete.
 */
static void batch_keys(uint32_t upd[BATCH_ROUNDS][BATCH_OPS],
		       uint32_t del[BATCH_DEL_ROUNDS][BATCH_OPS],
		       uint64_t *state)
{
	unsigned int b, i;

	for (b = 0; b < BATCH_ROUNDS; b++)
		for (i = 0; i < BATCH_OPS; i++)
			upd[b][i] = next_rand(state) % OP_ENTRIES;
	for (b = 0; b < BATCH_DEL_ROUNDS; b++)
		for (i = 0; i < BATCH_OPS; i++)
			del[b][i] = b * BATCH_OPS + i;
}

/*
 * The batch figure.  Each system is timed in a window of its own: nothing
 * of another system runs in it, and what is not part of the operation
 * measured (opening the scan's snapshot, putting deleted keys back) runs
 * outside it.  The scan's snapshot is open only around the scan and no
 * write happens while it is, so it pins no version and closing it leaves
 * no sweep to do; the map's byte count, read before and after, checks it.
 * What a system's writes leave to run in the background (RCU callbacks
 * freeing snapmap's old versions, BPF's frees) can still spill into the
 * window that follows: the order of the systems is reversed every other
 * repetition, so that none always follows another.
 */
static void fig_batch(void)
{
	static double t[NR_OP_SYS][NR_B_ROWS][REPS];
	static uint32_t upd[BATCH_ROUNDS][BATCH_OPS];
	static uint32_t del[BATCH_DEL_ROUNDS][BATCH_OPS];
	uint32_t idx[BATCH_OPS];
	uint64_t state = 2, pos, got, before, after;
	unsigned int r, i, b, s, o, pinned = 0;
	int fd[NR_OP_SYS], sfd;
	bool started, done;
	double start;

	fd[SYS_SNAPMAP] = sm_new();
	sm_fill(fd[SYS_SNAPMAP], OP_ENTRIES);
	fd[SYS_BPF] = bpf_new(OP_ENTRIES, 0);
	bpf_fill(fd[SYS_BPF], OP_ENTRIES);
	fd[SYS_BPF_NOPREALLOC] = bpf_new(OP_ENTRIES, BPF_F_NO_PREALLOC);
	bpf_fill(fd[SYS_BPF_NOPREALLOC], OP_ENTRIES);

	printf("# batches: %u-entry maps, %u ops per batch, %u batches per measurement\n",
	       OP_ENTRIES, BATCH_OPS, BATCH_ROUNDS);
	printf("# get: snapmap BATCH of GETs of random keys (BPF has no batch lookup of given keys)\n");
	printf("# scan: the first %u entries: read(2) of an ATOMIC snapshot against BPF_MAP_LOOKUP_BATCH\n",
	       BATCH_OPS * BATCH_ROUNDS);
	printf("# update, delete: one window per system, %u update and %u delete batches; order of the systems reversed every other repetition\n",
	       BATCH_ROUNDS, BATCH_DEL_ROUNDS);
	for (r = 0; r < REPS; r++) {
		/* The same keys for every system. */
		batch_keys(upd, del, &state);

		start = now();
		for (b = 0; b < BATCH_ROUNDS; b++) {
			for (i = 0; i < BATCH_OPS; i++)
				idx[i] = next_rand(&state) % OP_ENTRIES;
			sm_batch(fd[SYS_SNAPMAP], SNAPMAP_BATCH_GET, idx,
				 BATCH_OPS);
		}
		t[SYS_SNAPMAP][B_GET][r] = BATCH_OPS * BATCH_ROUNDS /
					   (now() - start);

		/* scan: a snapshot open only for its reads */
		before = sm_bytes(fd[SYS_SNAPMAP]);
		sfd = sm_snapshot(fd[SYS_SNAPMAP], 0);
		start = now();
		sm_scan(sfd, BATCH_OPS, BATCH_OPS * BATCH_ROUNDS);
		t[SYS_SNAPMAP][B_SCAN][r] = BATCH_OPS * BATCH_ROUNDS /
					    (now() - start);
		close(sfd);
		after = sm_bytes(fd[SYS_SNAPMAP]);
		if (after != before)
			pinned++;
		for (s = SYS_BPF; s < NR_OP_SYS; s++) {
			started = false;
			pos = 0;
			start = now();
			for (got = 0; got < BATCH_OPS * BATCH_ROUNDS;) {
				got += bpf_dump_step(fd[s], &pos, &started,
						     BATCH_OPS, &done);
				if (done)
					die("BPF_MAP_LOOKUP_BATCH: short map");
			}
			t[s][B_SCAN][r] = got / (now() - start);
		}

		for (o = 0; o < NR_OP_SYS; o++) {
			s = r % 2 ? NR_OP_SYS - 1 - o : o;

			/* update: random present keys */
			start = now();
			for (b = 0; b < BATCH_ROUNDS; b++)
				batch_write(s, fd[s], false, upd[b]);
			t[s][B_UPDATE][r] = BATCH_OPS * BATCH_ROUNDS /
					    (now() - start);

			/* delete: distinct present keys; put back after */
			start = now();
			for (b = 0; b < BATCH_DEL_ROUNDS; b++)
				batch_write(s, fd[s], true, del[b]);
			t[s][B_DELETE][r] = BATCH_OPS * BATCH_DEL_ROUNDS /
					    (now() - start);
			for (b = 0; b < BATCH_DEL_ROUNDS; b++)
				batch_write(s, fd[s], false, del[b]);
		}
	}
	for (i = 0; i < NR_B_ROWS; i++)
		for (s = 0; s < NR_OP_SYS; s++)
			if (i != B_GET || s == SYS_SNAPMAP)
				report("batch", batch_rows[i], op_sys_names[s],
				       t[s][i], REPS, "ops/s");
	/* Scans after which the map held more than before: should be none. */
	report("batch", "scan-pinned", "snapmap", (double[]){ pinned }, 1,
	       "repetitions");
	for (s = 0; s < NR_OP_SYS; s++)
		close(fd[s]);
}

/*
 * Not a figure: the batched updates and deletions of one system alone
 * for a few seconds, for the profiles of scripts/bench
 * (prof-batch-snapmap, prof-batch-bpf).
 */
static void profile_batch(enum op_sys s)
{
	static uint32_t upd[BATCH_ROUNDS][BATCH_OPS];
	static uint32_t del[BATCH_DEL_ROUNDS][BATCH_OPS];
	uint64_t state = 6;
	double start = now();
	unsigned int b;
	int fd;

	if (s == SYS_SNAPMAP) {
		fd = sm_new();
		sm_fill(fd, OP_ENTRIES);
	} else {
		fd = bpf_new(OP_ENTRIES, 0);
		bpf_fill(fd, OP_ENTRIES);
	}
	batch_keys(upd, del, &state);
	while (now() - start < 6) {
		for (b = 0; b < BATCH_ROUNDS; b++)
			batch_write(s, fd, false, upd[b]);
		for (b = 0; b < BATCH_DEL_ROUNDS; b++)
			batch_write(s, fd, true, del[b]);
		for (b = 0; b < BATCH_DEL_ROUNDS; b++)
			batch_write(s, fd, false, del[b]);
	}
	close(fd);
}

/* Figure: transactions against batches of the same PUTs -------------- */

static const unsigned int txn_sizes[] = { 1, 4, 16, 64 };
#define NR_TXN_SIZES (sizeof(txn_sizes) / sizeof(txn_sizes[0]))
/* PUTs per measurement, at every size. */
#define TXN_PUTS 4096

enum txn_sys { TX_BATCH, TX_TXN, NR_TX_SYS };
static const char *const tx_sys_names[NR_TX_SYS] = { "batch", "txn" };

/*
 * @n distinct random present keys for each of the @TXN_PUTS / @n rounds:
 * a transaction may write a key once.
 */
static void txn_keys(uint32_t *idx, unsigned int n, uint64_t *state)
{
	unsigned int i, j;

	for (i = 0; i < TXN_PUTS; i++) {
again:
		idx[i] = next_rand(state) % OP_ENTRIES;
		for (j = i - i % n; j < i; j++)
			if (idx[j] == idx[i])
				goto again;
	}
}

/*
 * The same PUTs of present keys, @n at a time, as one BATCH or one TXN
 * (no condition) each: both arrays are built before the window, and only
 * the ioctls are timed; every result is checked after it.
 */
static void fig_txn(void)
{
	static struct snapmap_batch_op bops[TXN_PUTS];
	static struct snapmap_txn_op tops[TXN_PUTS];
	static double t[NR_TX_SYS][NR_TXN_SIZES][REPS];
	static uint32_t idx[TXN_PUTS];
	uint64_t state = 8;
	unsigned int r, k, i, o, s, n, b;
	double start;
	char row[16];
	int fd;

	fd = sm_new();
	sm_fill(fd, OP_ENTRIES);
	printf("# txn: %u-entry map, %u PUTs of random present keys per measurement, n at a time as one BATCH or one TXN without conditions; order of the two reversed every other measurement\n",
	       OP_ENTRIES, TXN_PUTS);
	for (r = 0; r < REPS; r++) {
		for (k = 0; k < NR_TXN_SIZES; k++) {
			n = txn_sizes[k];
			txn_keys(idx, n, &state);
			for (i = 0; i < TXN_PUTS; i++) {
				bops[i] = (struct snapmap_batch_op){
					.opcode = SNAPMAP_BATCH_PUT,
					.key_len = KEY_LEN,
					.value_len = VALUE_LEN,
					.key = PTR(keys[idx[i]]),
					.value = PTR(vals[idx[i]]),
				};
				tops[i] = (struct snapmap_txn_op){
					.opcode = SNAPMAP_TXN_PUT,
					.key_len = KEY_LEN,
					.value_len = VALUE_LEN,
					.key = PTR(keys[idx[i]]),
					.value = PTR(vals[idx[i]]),
				};
			}
			for (o = 0; o < NR_TX_SYS; o++) {
				s = (r + k) % 2 ? NR_TX_SYS - 1 - o : o;
				start = now();
				for (b = 0; b < TXN_PUTS; b += n) {
					struct snapmap_batch ba = {
						.size = sizeof(ba),
						.count = n,
						.op_size = sizeof(bops[0]),
						.ops = PTR(&bops[b]),
					};
					struct snapmap_txn ta = {
						.size = sizeof(ta),
						.cond_size = sizeof(struct snapmap_txn_cond),
						.op_count = n,
						.op_size = sizeof(tops[0]),
						.ops = PTR(&tops[b]),
					};

					if (s == TX_BATCH ?
					    ioctl(fd, SNAPMAP_IOC_BATCH, &ba) ||
					    ba.out_done != n :
					    ioctl(fd, SNAPMAP_IOC_TXN, &ta))
						die(tx_sys_names[s]);
				}
				t[s][k][r] = (now() - start) / TXN_PUTS * 1e9;
			}
			for (i = 0; i < TXN_PUTS; i++)
				if (bops[i].out_result)
					die("SNAPMAP_IOC_BATCH op");
		}
	}
	for (k = 0; k < NR_TXN_SIZES; k++) {
		snprintf(row, sizeof(row), "%u", txn_sizes[k]);
		for (s = 0; s < NR_TX_SYS; s++)
			report("txn", row, tx_sys_names[s], t[s][k], REPS,
			       "ns");
	}
	close(fd);
}

/*
 * Figure: ATOMIC dumps of two 100k-entry maps of 16-byte keys and values,
 * one whose limits are those sizes and one with the module's default
 * limits (4 KiB keys, 1 MiB values): what a map's limits cost a reader.
 */
#define READBUF_ENTRIES 100000

static void fig_readbuf(void)
{
	struct snapmap_create c = { .size = sizeof(c) };
	static double t[2][REPS];
	unsigned int r, m;
	double start;
	int fd[2];

	fd[0] = sm_new();
	fd[1] = ioctl(ctl, SNAPMAP_IOC_CREATE, &c);
	if (fd[1] < 0)
		die("SNAPMAP_IOC_CREATE");
	for (m = 0; m < 2; m++)
		sm_fill(fd[m], READBUF_ENTRIES);
	for (r = 0; r < REPS; r++) {
		for (m = 0; m < 2; m++) {
			start = now();
			check_records("readbuf", sm_dump(fd[m], 0),
				      READBUF_ENTRIES);
			t[m][r] = READBUF_ENTRIES / (now() - start);
		}
	}
	report("readbuf", "100000", "limits-16B", t[0], REPS, "entries/s");
	report("readbuf", "100000", "limits-default", t[1], REPS,
	       "entries/s");
	for (m = 0; m < 2; m++)
		close(fd[m]);
}

/* The large maps: dumps, snapshot creation, writers, clones ------------- */

static const uint32_t sizes[] = { 1000, 10000, 100000, 1000000 };
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))
#define LARGE (NR_SIZES - 1)

static int sm_maps[NR_SIZES];
static struct rwmap *rw_maps[NR_SIZES];

static void large_maps_setup(void)
{
	unsigned int i;
	double start;

	for (i = 0; i < NR_SIZES; i++) {
		start = now();
		sm_maps[i] = sm_new();
		sm_fill(sm_maps[i], sizes[i]);
		printf("# filled a %u-entry snapmap in %.2f s\n", sizes[i],
		       now() - start);
		rw_maps[i] = rwmap_new(sizes[i]);
		rw_fill(rw_maps[i], sizes[i]);
	}
}

static void large_maps_teardown(void)
{
	unsigned int i;

	for (i = 0; i < NR_SIZES; i++) {
		close(sm_maps[i]);
		rwmap_free(rw_maps[i]);
	}
}

/*
 * Figure: what a CLEAR costs its caller, on a map of 1k entries and one
 * of 1M.  Each repetition fills a fresh map of each size (untimed) and
 * times the one ioctl; what the clear deleted is freed in the background
 * after it returns, and closing the map, which frees the rest, is not
 * timed either.  The two sizes alternate in order.
 */
#define CLEAR_REPS 3
static const uint32_t clear_sizes[] = { 1000, 1000000 };
#define NR_CLEAR_SIZES (sizeof(clear_sizes) / sizeof(clear_sizes[0]))

static void fig_clear(void)
{
	static double t[NR_CLEAR_SIZES][CLEAR_REPS];
	struct snapmap_clear c;
	unsigned int r, o, k;
	char row[16];
	double start;
	int fd;

	printf("# clear: a fresh map of each size, filled untimed; the CLEAR ioctl alone is timed\n");
	for (r = 0; r < CLEAR_REPS; r++) {
		for (o = 0; o < NR_CLEAR_SIZES; o++) {
			k = r % 2 ? NR_CLEAR_SIZES - 1 - o : o;
			fd = sm_new();
			sm_fill(fd, clear_sizes[k]);
			c = (struct snapmap_clear){ .size = sizeof(c) };
			start = now();
			if (ioctl(fd, SNAPMAP_IOC_CLEAR, &c))
				die("SNAPMAP_IOC_CLEAR");
			t[k][r] = (now() - start) * 1e6;
			if (sm_entries(fd))
				die("CLEAR left entries");
			close(fd);
		}
	}
	for (k = 0; k < NR_CLEAR_SIZES; k++) {
		snprintf(row, sizeof(row), "%u", clear_sizes[k]);
		report("clear", row, "snapmap", t[k], CLEAR_REPS, "us");
	}
}

/* Full dumps of the largest maps, in entries per second. */
static void fig_dump(void)
{
	static double t[4][REPS];
	static const char *const sys[4] = {
		"snapmap-atomic", "snapmap-weak", "bpf-lookup-batch",
		"rwlock-copy",
	};
	uint32_t n = sizes[LARGE];
	struct rwmap *copy;
	unsigned int r, s;
	double start;
	int bfd;
	char row[32];

	start = now();
	bfd = bpf_new(n, 0);
	bpf_fill(bfd, n);
	printf("# filled a %u-entry BPF hash map in %.2f s\n", n,
	       now() - start);
	for (r = 0; r < REPS; r++) {
		start = now();
		check_records("ATOMIC", sm_dump(sm_maps[LARGE], 0), n);
		t[0][r] = n / (now() - start);
		start = now();
		check_records("WEAK", sm_dump(sm_maps[LARGE],
					      SNAPMAP_SNAPSHOT_WEAK), n);
		t[1][r] = n / (now() - start);
		start = now();
		check_records("BPF", bpf_dump(bfd), n);
		t[2][r] = n / (now() - start);
		start = now();
		copy = rwmap_copy(rw_maps[LARGE]);
		t[3][r] = n / (now() - start);
		rwmap_free(copy);
	}
	snprintf(row, sizeof(row), "%u", n);
	for (s = 0; s < 4; s++)
		report("dump", row, sys[s], t[s], REPS, "entries/s");
	close(bfd);
}

#define CREATIONS 201

/* Median time of one snapshot creation (the ioctl alone), in us. */
static double creation_us(int fd, uint32_t flags)
{
	static double t[CREATIONS];
	int i, sfd;
	double start;

	for (i = 0; i < CREATIONS; i++) {
		start = now();
		sfd = sm_snapshot(fd, flags);
		t[i] = (now() - start) * 1e6;
		close(sfd);
	}
	return spread_of(t, CREATIONS).med;
}

/* Where the sums of the figures' reads go, so that no read is elided. */
static volatile uint64_t sink;

/*
 * What a user who wants the data gets it with: an ATOMIC snapshot taken
 * and read whole, against the rwlock map's deep copy (lock, copy, unlock)
 * and a read of the copy; each read touches every key and value.  Only
 * that is timed: not closing the snapshot, not freeing the copy.  In us.
 */
static double create_read_us(unsigned int i, bool rwlock)
{
	uint64_t records, sum;
	struct rwmap *copy;
	double start, t;
	int sfd;

	if (rwlock) {
		start = now();
		copy = rwmap_copy(rw_maps[i]);
		sum = rwmap_touch(copy);
		t = now() - start;
		records = copy->entries;
		rwmap_free(copy);
	} else {
		start = now();
		sfd = sm_snapshot(sm_maps[i], 0);
		sum = sm_touch_all(sfd, &records);
		t = now() - start;
		close(sfd);
	}
	check_records(rwlock ? "copy+read" : "create+read", records,
		      sizes[i]);
	sink += sum;
	return t * 1e6;
}

static void fig_snapshot_creation(void)
{
	static double t[5][NR_SIZES][REPS];
	static const char *const sys[5] = {
		"snapmap-atomic", "snapmap-weak", "rwlock-copy",
		"snapmap-create-read", "rwlock-copy-read",
	};
	unsigned int r, i, s;
	struct rwmap *copy;
	double start;
	char row[32];

	printf("# snapshot creation: median of %u creations per measurement\n",
	       CREATIONS);
	for (r = 0; r < REPS; r++) {
		for (i = 0; i < NR_SIZES; i++) {
			t[0][i][r] = creation_us(sm_maps[i], 0);
			t[1][i][r] = creation_us(sm_maps[i],
						 SNAPMAP_SNAPSHOT_WEAK);
			start = now();
			copy = rwmap_copy(rw_maps[i]);
			t[2][i][r] = (now() - start) * 1e6;
			rwmap_free(copy);
			/* Each first in turn. */
			t[3 + r % 2][i][r] = create_read_us(i, r % 2);
			t[4 - r % 2][i][r] = create_read_us(i, !(r % 2));
		}
	}
	for (i = 0; i < NR_SIZES; i++) {
		snprintf(row, sizeof(row), "%u", sizes[i]);
		for (s = 0; s < 5; s++)
			report("snapcreate", row, sys[s], t[s][i], REPS, "us");
	}
}

/* Figure: a writer while a snapshot of the largest map is read ---------- */

enum wmode { W_ATOMIC, W_WEAK, W_RWLOCK, NR_WMODES };
static const char *const wmode_names[NR_WMODES] = {
	"snapmap-atomic", "snapmap-weak", "rwlock-copy",
};

#define TL_BIN 0.05
#define TL_BINS 600
#define TL_BEFORE 1.5
#define TL_REPS 3

struct writer {
	enum wmode mode;
	int fd;
	struct rwmap *rw;
	uint32_t keys;
	double t0;
	atomic_bool stop;
	atomic_bool reading;
	atomic_ullong ops;
	double max_gap;
	double busy_start;
	double read_start;
	double read_len;
	unsigned long long bins[TL_BINS];
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	uint64_t state = 3, i;
	double t, last = now();
	unsigned int bin;
	int ret;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		i = next_rand(&state) % w->keys;
		if (w->mode == W_RWLOCK)
			ret = rwmap_put(w->rw, keys[i], vals[(i + 7) % w->keys]);
		else
			ret = sm_put(w->fd, keys[i], vals[(i + 7) % w->keys]);
		if (ret)
			die("writer");
		atomic_fetch_add_explicit(&w->ops, 1, memory_order_relaxed);
		t = now();
		bin = (t - w->t0) / TL_BIN;
		if (bin < TL_BINS)
			w->bins[bin]++;
		if (atomic_load_explicit(&w->reading, memory_order_relaxed) &&
		    t - last > w->max_gap)
			w->max_gap = t - last;
		last = t;
	}
	return NULL;
}

/*
 * How long the sweep that frees what a closed snapshot pinned may take:
 * the versions a writer replaced during a read of the largest map.
 */
#define TL_SETTLE_DEADLINE 30.0

/*
 * Wait until the map's bytes are back to @ref, those of the map with no
 * snapshot: the sweep of the snapshots closed before is over.  With no
 * snapshot open a PUT of a present key with a value of the same length
 * frees what it replaces at once, so a writer running meanwhile does not
 * move the count.  Returns false if that takes over @deadline s.
 */
static bool sm_settle(int fd, uint64_t ref, double deadline)
{
	double start = now();

	while (sm_bytes(fd) > ref) {
		if (now() - start > deadline)
			return false;
		sleep_s(0.01);
	}
	return true;
}

/**
 * struct writer_result - one run of the writer figure
 * @alone: the writer's throughput alone, the other vCPU idle
 * @during: its throughput while the main thread reads a whole snapshot
 * @busy: its throughput while the main thread spins in user space
 * @read_s: how long the read took
 * @sweep_s: from the end of the read to the end of the sweep
 * @stall: the longest time between two writes completing during the read
 * @settled: every sweep waited for ended within TL_SETTLE_DEADLINE
 */
struct writer_result {
	double alone;
	double during;
	double busy;
	double read_s;
	double sweep_s;
	double stall;
	bool settled;
};

/*
 * One run.  First the map's bytes must be back to @ref: no sweep of an
 * earlier run may fall in this one's windows.  Then the writer alone for
 * TL_BEFORE s (its first 0.3 s skipped), the main thread asleep; then
 * while the main thread takes and reads a whole snapshot (or deep-copies
 * the rwlock map) and closes it; then, outside every window, the sweep
 * of what the snapshot pinned, waited for by polling the map's bytes;
 * then while the main thread spins in user space for as long as the read
 * took.
 *
 * The spin tells the cost of a busy second vCPU from that of the read:
 * on a host whose cores are shared with other guests, two busy vCPUs get
 * less of them than one.
 */
static void writer_run(enum wmode mode, struct writer *w, uint64_t ref,
		       struct writer_result *res)
{
	unsigned long long o0, o1, o2, o3, o4;
	double t1, t2, t3, t4, t5;
	volatile unsigned long spin = 0;
	struct rwmap *copy;
	pthread_t tid;

	memset(res, 0, sizeof(*res));
	memset(w, 0, sizeof(*w));
	w->mode = mode;
	w->fd = sm_maps[LARGE];
	w->rw = rw_maps[LARGE];
	w->keys = sizes[LARGE];
	res->settled = sm_settle(w->fd, ref, TL_SETTLE_DEADLINE);
	w->t0 = now();
	if (pthread_create(&tid, NULL, writer_thread, w))
		die("pthread_create");

	/* Skip the writer's first 0.3 s, then measure it alone. */
	sleep_s(0.3);
	t1 = now();
	o0 = atomic_load(&w->ops);
	sleep_s(TL_BEFORE - 0.3);
	t2 = now();
	o1 = atomic_load(&w->ops);

	atomic_store(&w->reading, true);
	if (mode == W_RWLOCK) {
		copy = rwmap_copy(w->rw);
		t3 = now();
		o2 = atomic_load(&w->ops);
		rwmap_free(copy);
	} else {
		check_records("timeline snapshot",
			      sm_dump(w->fd, mode == W_WEAK ?
					     SNAPMAP_SNAPSHOT_WEAK : 0),
			      w->keys);
		t3 = now();
		o2 = atomic_load(&w->ops);
	}
	atomic_store(&w->reading, false);

	if (!sm_settle(w->fd, ref, TL_SETTLE_DEADLINE))
		res->settled = false;
	t4 = now();
	o3 = atomic_load(&w->ops);
	while (now() - t4 < t3 - t2)
		spin++;
	t5 = now();
	o4 = atomic_load(&w->ops);
	atomic_store(&w->stop, true);
	pthread_join(tid, NULL);

	res->alone = (o1 - o0) / (t2 - t1);
	res->during = (o2 - o1) / (t3 - t2);
	res->busy = (o4 - o3) / (t5 - t4);
	res->read_s = t3 - t2;
	res->sweep_s = t4 - t3;
	res->stall = w->max_gap;
	/* Where the read started and how long it took, for the plot. */
	w->read_start = t2 - w->t0;
	w->read_len = t3 - t2;
	w->busy_start = t4 - w->t0;
}

static void fig_writer(void)
{
	static double ratio[NR_WMODES][TL_REPS], base[NR_WMODES][TL_REPS];
	static double during[NR_WMODES][TL_REPS], read_s[NR_WMODES][TL_REPS];
	static double stall[NR_WMODES][TL_REPS], busy[NR_WMODES][TL_REPS];
	static double vsbusy[NR_WMODES][TL_REPS], sweep[NR_WMODES][TL_REPS];
	unsigned int r, m, b, last, unsettled[NR_WMODES] = {};
	static struct writer w;
	struct writer_result res;
	uint64_t ref;

	/* The map with no snapshot: what the sweeps must come back to. */
	ref = sm_bytes(sm_maps[LARGE]);
	printf("# writer: one thread PUTs random keys of the %u-entry map; the main thread reads one whole snapshot\n",
	       sizes[LARGE]);
	for (r = 0; r < TL_REPS; r++) {
		for (m = 0; m < NR_WMODES; m++) {
			writer_run(m, &w, ref, &res);
			base[m][r] = res.alone;
			during[m][r] = res.during;
			busy[m][r] = res.busy;
			read_s[m][r] = res.read_s;
			sweep[m][r] = res.sweep_s;
			stall[m][r] = res.stall * 1e3;
			ratio[m][r] = res.during / res.alone;
			vsbusy[m][r] = res.during / res.busy;
			if (!res.settled)
				unsettled[m]++;
			if (r != TL_REPS - 1)
				continue;
			/* The last repetition is the one plotted. */
			last = (w.busy_start + w.read_len) / TL_BIN;
			for (b = 0; b < last && b < TL_BINS; b++)
				printf("series writer-%s %.3f %.0f\n",
				       wmode_names[m], (b + 0.5) * TL_BIN,
				       w.bins[b] / TL_BIN);
			printf("series read-%s %.3f %.3f\n", wmode_names[m],
			       w.read_start, w.read_start + w.read_len);
			printf("series busy-%s %.3f %.3f\n", wmode_names[m],
			       w.busy_start, w.busy_start + w.read_len);
		}
	}
	for (m = 0; m < NR_WMODES; m++) {
		report("writer", wmode_names[m], "ratio", ratio[m], TL_REPS,
		       "x");
		report("writer", wmode_names[m], "alone", base[m], TL_REPS,
		       "ops/s");
		report("writer", wmode_names[m], "during", during[m], TL_REPS,
		       "ops/s");
		report("writer", wmode_names[m], "busy", busy[m], TL_REPS,
		       "ops/s");
		report("writer", wmode_names[m], "ratio-busy", vsbusy[m],
		       TL_REPS, "x");
		report("writer", wmode_names[m], "read", read_s[m], TL_REPS,
		       "s");
		report("writer", wmode_names[m], "sweep", sweep[m], TL_REPS,
		       "s");
		report("writer", wmode_names[m], "max-stall", stall[m],
		       TL_REPS, "ms");
		if (unsettled[m])
			report("writer", wmode_names[m], "unsettled",
			       (double[]){ unsettled[m] }, 1, "repetitions");
	}
}

/* Figure: clone against a full ATOMIC dump ------------------------------ */

#define CLONE_REPS 3

static void fig_clone(void)
{
	static double t[2][2][CLONE_REPS];
	static const unsigned int which[2] = { 2, LARGE };
	struct snapmap_clone c = { .size = sizeof(c) };
	unsigned int r, i;
	double start;
	int cfd;
	char row[32];

	for (r = 0; r < CLONE_REPS; r++) {
		for (i = 0; i < 2; i++) {
			int fd = sm_maps[which[i]];

			start = now();
			cfd = ioctl(fd, SNAPMAP_IOC_CLONE, &c);
			t[0][i][r] = (now() - start) * 1e3;
			if (cfd < 0)
				die("SNAPMAP_IOC_CLONE");
			close(cfd);
			start = now();
			check_records("clone dump", sm_dump(fd, 0),
				      sizes[which[i]]);
			t[1][i][r] = (now() - start) * 1e3;
		}
	}
	for (i = 0; i < 2; i++) {
		snprintf(row, sizeof(row), "%u", sizes[which[i]]);
		report("clone", row, "clone", t[0][i], CLONE_REPS, "ms");
		report("clone", row, "atomic-dump", t[1][i], CLONE_REPS, "ms");
	}
}

/* Figure: kernel API against a raw rhashtable (snapmap_kbench.ko) ------- */

#define KBENCH_RUN "/sys/kernel/debug/snapmap_kbench/run"

static void fig_kapi(void)
{
	char line[256];
	FILE *f = fopen(KBENCH_RUN, "r");

	if (!f) {
		printf("# kapi: %s: %s (snapmap_kbench.ko not loaded?)\n",
		       KBENCH_RUN, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	if (ferror(f))
		die(KBENCH_RUN);
	fclose(f);
	fflush(stdout);
}

/* Figure: memory per entry, as the memory cgroup sees it ---------------- */

#define CG_ROOT "/sys/fs/cgroup"
#define CG_DIR CG_ROOT "/snapmap-bench"
/* Entries measured per figure: many small maps or one large one. */
#define MEM_TOTAL 100000

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(text);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static long long cg_current(void)
{
	char buf[64];
	long long val = -1;
	FILE *f = fopen(CG_DIR "/memory.current", "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		val = strtoll(buf, NULL, 10);
	fclose(f);
	return val;
}

static const char *cg_setup(void)
{
	struct stat st;

	if (stat(CG_ROOT "/cgroup.controllers", &st) &&
	    mount("none", CG_ROOT, "cgroup2", 0, NULL))
		return "cannot mount cgroup2";
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
		return "no memory controller";
	return NULL;
}

/*
 * What the whole kernel holds in slab, vmalloc and per-CPU memory, in
 * bytes: the second way of measuring, which also sees what is not charged
 * to a memory cgroup.
 */
static long long kernel_bytes(void)
{
	char name[64];
	long long kb, total = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld%*[^\n]\n", name, &kb) == 2)
		if (!strcmp(name, "Slab:") || !strcmp(name, "VmallocUsed:") ||
		    !strcmp(name, "Percpu:"))
			total += kb;
	fclose(f);
	return total * 1024;
}

/*
 * kernel_bytes() once it holds still: frees after grace periods, in
 * workers (BPF frees a map in one) and of rhashtables' old bucket arrays
 * come late.  Still means within 64 KiB over three readings 0.2 s apart;
 * at most 6 s.
 */
static long long settled_kernel_bytes(void)
{
	long long last = kernel_bytes(), cur;
	int still = 0, i;

	for (i = 0; i < 30 && still < 3; i++) {
		sleep_s(0.2);
		cur = kernel_bytes();
		still = llabs(cur - last) < 64 * 1024 ? still + 1 : 0;
		last = cur;
	}
	return last;
}

enum mem_sys {
	MEM_SNAPMAP, MEM_SNAPMAP_SNAP, MEM_BPF_NOPREALLOC, MEM_BPF,
	MEM_RWLOCK, MEM_RWLOCK_COPY, NR_MEM_SYS
};
static const char *const mem_sys_names[NR_MEM_SYS] = {
	"snapmap", "snapmap+snapshot", "bpf-noprealloc", "bpf-prealloc",
	"rwlock", "rwlock+copy",
};

/*
 * In a child in a fresh cgroup: @nmaps maps of @n entries of @sys; the
 * growth of memory.current per entry, and that of the kernel's slab,
 * vmalloc and per-CPU memory, written to @pipefd.
 */
static void mem_child(enum mem_sys sys, uint32_t n, uint32_t nmaps,
		      int pipefd)
{
	static int fds[MEM_TOTAL], sfds[MEM_TOTAL];
	static struct rwmap *rws[MEM_TOTAL], *copies[MEM_TOTAL];
	long long before, after, kbefore, kafter;
	uint32_t m, idx[SM_BATCH_MAX], i, j;
	char pid[32];
	double per[2];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_file(CG_DIR "/cgroup.procs", pid))
		_exit(2);
	/* Fault in what the parent touched, so that it is not counted. */
	memset(sm_ops, 0, sizeof(sm_ops));
	memset(bpf_keys, 0, sizeof(bpf_keys));
	memset(bpf_vals, 0, sizeof(bpf_vals));
	memset(idx, 0, sizeof(idx));
	memset(fds, 0, sizeof(fds));
	memset(sfds, 0, sizeof(sfds));
	memset(rws, 0, sizeof(rws));
	memset(copies, 0, sizeof(copies));

	kbefore = settled_kernel_bytes();
	before = cg_current();
	for (m = 0; m < nmaps; m++) {
		switch (sys) {
		case MEM_SNAPMAP:
		case MEM_SNAPMAP_SNAP:
			fds[m] = sm_new();
			sm_fill(fds[m], n);
			break;
		case MEM_BPF_NOPREALLOC:
		case MEM_BPF:
			fds[m] = bpf_new(n, sys == MEM_BPF ? 0 :
					 BPF_F_NO_PREALLOC);
			bpf_fill(fds[m], n);
			break;
		case MEM_RWLOCK:
		case MEM_RWLOCK_COPY:
			rws[m] = rwmap_new(n);
			rw_fill(rws[m], n);
			break;
		default:
			break;
		}
	}
	/* A snapshot (or copy) of each map, then every key rewritten. */
	for (m = 0; m < nmaps; m++) {
		if (sys == MEM_SNAPMAP_SNAP) {
			sfds[m] = sm_snapshot(fds[m], 0);
			for (i = 0; i < n;) {
				for (j = 0; j < SM_BATCH_MAX && i < n; j++)
					idx[j] = i++;
				sm_batch(fds[m], SNAPMAP_BATCH_PUT, idx, j);
			}
		} else if (sys == MEM_RWLOCK_COPY) {
			copies[m] = rwmap_copy(rws[m]);
		}
	}
	after = cg_current();
	kafter = settled_kernel_bytes();
	per[0] = (double)(after - before) / ((double)n * nmaps);
	per[1] = (double)(kafter - kbefore) / ((double)n * nmaps);
	if (write(pipefd, per, sizeof(per)) != sizeof(per))
		_exit(3);
	_exit(before < 0 || after < 0 || kbefore < 0 || kafter < 0 ? 4 : 0);
}

/*
 * How long the kernel may take to free a measured child's maps once it
 * has exited: BPF frees a map in a worker, after RCU barriers (of
 * tasks-trace RCU too, for the allocator of maps without prealloc), and
 * snapmap frees its entries after a grace period.  Until they are freed,
 * the next measurement would see them go as a shrinking kernel.
 */
#define MEM_FREE_DEADLINE 20.0
/* Measurements after which the kernel did not give the memory back. */
static unsigned int mem_unfreed[NR_MEM_SYS][NR_SIZES];

/*
 * Wait until the kernel's slab, vmalloc and per-CPU memory is back to
 * @k0 (what it held before the child), but for @slack bytes that caches
 * may keep; bounded by MEM_FREE_DEADLINE.  Returns false if it is not.
 */
static bool mem_wait_freed(long long k0, long long slack)
{
	double start = now();

	while (kernel_bytes() > k0 + slack) {
		if (now() - start > MEM_FREE_DEADLINE)
			return false;
		sleep_s(0.1);
	}
	return true;
}

/* Bytes per entry by memory.current, and by the kernel's totals (@kper). */
static double mem_measure(enum mem_sys sys, uint32_t n, unsigned int size,
			  double *kper)
{
	uint32_t nmaps = n < MEM_TOTAL ? MEM_TOTAL / n : 1;
	double per[2] = { -1, -1 }, grown;
	long long k0 = kernel_bytes();
	int p[2], status;
	pid_t pid;

	if (mkdir(CG_DIR, 0755) && errno != EEXIST)
		die("mkdir cgroup");
	if (pipe(p))
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(p[0]);
		mem_child(sys, n, nmaps, p[1]);
	}
	close(p[1]);
	if (read(p[0], per, sizeof(per)) != sizeof(per))
		per[0] = per[1] = -1;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		per[0] = per[1] = -1;
	/* The maps die with the child; the cgroup once they are freed. */
	for (int i = 0; i < 100 && rmdir(CG_DIR) && errno == EBUSY; i++)
		sleep_s(0.05);
	/* None of them may still be going when the next one is measured. */
	grown = per[1] > 0 ? per[1] * n * nmaps : 0;
	if (k0 >= 0 &&
	    !mem_wait_freed(k0, 2 * 1024 * 1024 + (long long)(grown / 50))) {
		printf("# memory: %s, %u entries: the kernel still held %lld bytes more than before it after %.0f s\n",
		       mem_sys_names[sys], n, kernel_bytes() - k0,
		       MEM_FREE_DEADLINE);
		mem_unfreed[sys][size]++;
	}
	*kper = per[1];
	return per[0];
}

/*
 * Two repetitions: memory.current counts pages exactly and the kernel-wide
 * count varies little between them, so a third would lengthen the run,
 * where it is one of the longest figures, without telling more.
 */
#define MEM_REPS 2

static void fig_memory(void)
{
	static double t[NR_MEM_SYS][NR_SIZES][MEM_REPS];
	static double k[NR_MEM_SYS][NR_SIZES][MEM_REPS];
	const char *why = cg_setup();
	unsigned int r, i, s;
	char row[32];

	if (why) {
		printf("# memory: %s\n", why);
		return;
	}
	printf("# memory: growth of memory.current per entry; maps smaller than %u entries are measured %u at a time\n",
	       MEM_TOTAL, MEM_TOTAL);
	for (r = 0; r < MEM_REPS; r++)
		for (i = 0; i < NR_SIZES; i++)
			for (s = 0; s < NR_MEM_SYS; s++)
				t[s][i][r] = mem_measure(s, sizes[i], i,
							 &k[s][i][r]);
	for (i = 0; i < NR_SIZES; i++) {
		snprintf(row, sizeof(row), "%u", sizes[i]);
		for (s = 0; s < NR_MEM_SYS; s++)
			report("mem", row, mem_sys_names[s], t[s][i],
			       MEM_REPS, "B");
		/* User-space maps take no kernel memory. */
		for (s = 0; s < MEM_RWLOCK; s++)
			report("memk", row, mem_sys_names[s], k[s][i],
			       MEM_REPS, "B");
		for (s = 0; s < NR_MEM_SYS; s++)
			if (mem_unfreed[s][i])
				report("memfree", row, mem_sys_names[s],
				       (double[]){ mem_unfreed[s][i] }, 1,
				       "repetitions");
	}
}

/* Figure: scaling with readers and writers ------------------------------ */

#define SCALE_ENTRIES 100000
#define SCALE_SECONDS 0.5
#define SCALE_REPS 3

enum scale_sys { SC_SNAPMAP, SC_BPF, SC_RWLOCK, NR_SC_SYS };
static const char *const sc_sys_names[NR_SC_SYS] = {
	"snapmap", "bpf", "rwlock",
};

struct scaler {
	enum scale_sys sys;
	int fd;
	struct rwmap *rw;
	bool writer;
	bool txn;
	unsigned int seed;
	unsigned int slot;
	unsigned int stride;
	atomic_bool *go;
	atomic_bool *stop;
	unsigned long long ops;
};

static void *scale_thread(void *arg)
{
	struct scaler *s = arg;
	uint64_t state = s->seed, i;
	uint8_t value[VALUE_LEN];
	unsigned long long ops = 0;
	int ret = 0;

	while (!atomic_load(s->go))
		;
	while (!atomic_load_explicit(s->stop, memory_order_relaxed)) {
		/* Keys whose number is @slot modulo @stride. */
		i = next_rand(&state) % (SCALE_ENTRIES / s->stride) *
		    s->stride + s->slot;
		switch (s->sys) {
		case SC_SNAPMAP:
			if (s->txn)
				ret = sm_txn_put(s->fd, keys[i], vals[i]);
			else if (s->writer)
				ret = sm_put(s->fd, keys[i], vals[i]);
			else
				ret = sm_get(s->fd, keys[i], value);
			break;
		case SC_BPF:
			ret = s->writer ?
			      bpf_hash_update(s->fd, keys[i], vals[i], 0) :
			      bpf_hash_lookup(s->fd, keys[i], value);
			break;
		default:
			ret = s->writer ? rwmap_put(s->rw, keys[i], vals[i]) :
			      rwmap_get(s->rw, keys[i], value);
			break;
		}
		if (ret)
			die("scale op");
		ops++;
	}
	s->ops = ops;
	return NULL;
}

/*
 * Threads of each kind; @disjoint: writer i of n writes only the keys
 * whose number is i modulo n, so that writers never write the same key;
 * @txn: each write is a TXN of one PUT, snapmap only.
 */
static const struct {
	const char *name;
	unsigned int readers;
	unsigned int writers;
	bool disjoint;
	bool txn;
} scale_cfgs[] = {
	{ "1r", 1, 0, false, false }, { "2r", 2, 0, false, false },
	{ "1w", 0, 1, false, false }, { "2w", 0, 2, false, false },
	{ "2w-disjoint", 0, 2, true, false }, { "1r1w", 1, 1, false, false },
	{ "1w-txn", 0, 1, false, true },
	{ "2w-disjoint-txn", 0, 2, true, true },
};
#define NR_SCALE_CFGS (sizeof(scale_cfgs) / sizeof(scale_cfgs[0]))

static double scale_run(enum scale_sys sys, int fd, struct rwmap *rw,
			unsigned int cfg)
{
	struct scaler s[4];
	pthread_t tid[4];
	atomic_bool go = false, stop = false;
	unsigned int n = scale_cfgs[cfg].readers + scale_cfgs[cfg].writers;
	unsigned long long ops = 0;
	unsigned int i;
	double start;

	for (i = 0; i < n; i++) {
		bool writer = i >= scale_cfgs[cfg].readers;

		s[i] = (struct scaler){
			.sys = sys, .fd = fd, .rw = rw, .writer = writer,
			.txn = writer && scale_cfgs[cfg].txn,
			.seed = 10 + i, .slot = 0, .stride = 1,
			.go = &go, .stop = &stop,
		};
		if (writer && scale_cfgs[cfg].disjoint) {
			s[i].slot = i - scale_cfgs[cfg].readers;
			s[i].stride = scale_cfgs[cfg].writers;
		}
		if (pthread_create(&tid[i], NULL, scale_thread, &s[i]))
			die("pthread_create");
	}
	start = now();
	atomic_store(&go, true);
	sleep_s(SCALE_SECONDS);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		ops += s[i].ops;
	}
	return ops / (now() - start);
}

static void fig_scale(void)
{
	static double t[NR_SC_SYS][NR_SCALE_CFGS][SCALE_REPS];
	struct rwmap *rw;
	unsigned int r, c, s;
	int smfd, bfd;

	smfd = sm_new();
	sm_fill(smfd, SCALE_ENTRIES);
	bfd = bpf_new(SCALE_ENTRIES, 0);
	bpf_fill(bfd, SCALE_ENTRIES);
	rw = rwmap_new(SCALE_ENTRIES);
	rw_fill(rw, SCALE_ENTRIES);

	printf("# scaling: %u-entry maps, random keys, %.1f s per measurement, aggregate ops/s; 2w-disjoint: writer i of n writes the keys i modulo n\n",
	       SCALE_ENTRIES, SCALE_SECONDS);
	for (r = 0; r < SCALE_REPS; r++)
		for (c = 0; c < NR_SCALE_CFGS; c++)
			for (s = 0; s < NR_SC_SYS; s++)
				if (s == SC_SNAPMAP || !scale_cfgs[c].txn)
					t[s][c][r] = scale_run(s,
							       s == SC_SNAPMAP ?
							       smfd : bfd,
							       rw, c);
	for (c = 0; c < NR_SCALE_CFGS; c++)
		for (s = 0; s < NR_SC_SYS; s++)
			if (s == SC_SNAPMAP || !scale_cfgs[c].txn)
				report("scale", scale_cfgs[c].name,
				       sc_sys_names[s], t[s][c], SCALE_REPS,
				       "ops/s");
	close(smfd);
	close(bfd);
	rwmap_free(rw);
}

/* Figure: one PUT against snapshots pinning versions of its key --------- */

/*
 * S ATOMIC snapshots, each taken right after a PUT of one key k, so that
 * each pins a different version of k: what one more PUT of k costs.  A
 * write trims its key's chain of the versions no open snapshot needs,
 * which must cost at most linearly in S.
 *
 * For each S, a fresh map: S times { PUT k; SNAPSHOT, its fd kept open },
 * two untimed PUTs of k, then PUTs of k timed one by one.  Each timed PUT
 * finds the same chain: the S pinned versions under a head no snapshot
 * pins, which the PUT replaces and frees; so each faces S pinning
 * snapshots and S + 1 versions.  Only those PUT ioctls are timed: not the
 * setup, not the closing of the snapshots, not the sweep that frees their
 * versions, which the figure waits for (the map's bytes back to those of
 * the same map with no snapshot) before it closes the map and goes on.
 * The map's fd is closed last: dropping the map's last reference waits
 * for its sweep, so none is still running when the next S is measured.
 */
static const uint32_t pin_counts[] = { 0, 1, 10, 100, 1000, 10000 };
#define NR_PIN_COUNTS (sizeof(pin_counts) / sizeof(pin_counts[0]))
#define PIN_MAX 10000
#define PIN_REPS 3
/* Timed PUTs per repetition: PIN_PUTS, or fewer once they took 2 s. */
#define PIN_PUTS 51
#define PIN_PUTS_MIN 3
#define PIN_PUT_BUDGET 2.0
/*
 * Where one PUT costs O(S^2), taking S snapshots this way costs O(S^3):
 * the setup stops after PIN_SETUP_BUDGET s, and the median of its last
 * PIN_TAIL PUTs, which each faced almost S snapshots, bounds the cost of
 * a PUT at S from below.  Linear PUTs set up S = 10000 in a few seconds.
 */
#define PIN_SETUP_BUDGET 60.0
#define PIN_TAIL 5
/*
 * How long the map may take to free what its closed snapshots pinned:
 * one key's chain, a few milliseconds.
 */
#define PIN_SETTLE_DEADLINE 10.0
/* Descriptors beyond the snapshots' that the program may hold. */
#define PIN_SPARE_FDS 64

/* The module's caps on open snapshots, where it has them. */
static const char *const pin_params[] = {
	"/sys/module/snapmap/parameters/max_snapshots_per_map",
	"/sys/module/snapmap/parameters/max_snapshots_per_user",
};
#define NR_PIN_PARAMS (sizeof(pin_params) / sizeof(pin_params[0]))
static char pin_param_old[NR_PIN_PARAMS][32];

static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, size, f))
		ret = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

/*
 * Raise each cap to twice the most snapshots the figure holds, so that
 * neither those of this figure nor any still being freed reach it; what
 * was raised is put back by pin_params_restore().
 */
static void pin_params_raise(void)
{
	unsigned long long want = 2ULL * PIN_MAX;
	char text[32];
	unsigned int i;
	int ret;

	snprintf(text, sizeof(text), "%llu", want);
	for (i = 0; i < NR_PIN_PARAMS; i++) {
		char *old = pin_param_old[i];

		ret = read_line(pin_params[i], old, sizeof(pin_param_old[i]));
		if (ret) {
			printf("# pinned: %s: %s\n", pin_params[i],
			       strerror(-ret));
			old[0] = '\0';
			continue;
		}
		/* 0 may mean "no cap": a cap of 2 * PIN_MAX suits too. */
		if (strtoull(old, NULL, 10) >= want) {
			old[0] = '\0';
			continue;
		}
		ret = write_file(pin_params[i], text);
		if (ret) {
			printf("# pinned: cannot raise %s from %s: %s\n",
			       pin_params[i], old, strerror(-ret));
			old[0] = '\0';
			continue;
		}
		printf("# pinned: %s raised from %s to %s\n", pin_params[i],
		       old, text);
	}
}

static void pin_params_restore(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NR_PIN_PARAMS; i++) {
		if (!pin_param_old[i][0])
			continue;
		ret = write_file(pin_params[i], pin_param_old[i]);
		if (ret)
			printf("# pinned: cannot restore %s to %s: %s\n",
			       pin_params[i], pin_param_old[i], strerror(-ret));
	}
}


/* Snapshot @sfd must hold one record: value @i of the key. */
static void pin_check(int sfd, uint32_t i)
{
	uint8_t buf[256];
	const struct snapmap_record *rec = (const void *)buf;
	ssize_t len;

	/* From its start: with S = 1 the oldest is also the newest. */
	if (lseek(sfd, 0, SEEK_SET))
		die("pinned: rewind snapshot");
	len = read(sfd, buf, sizeof(buf));
	if (len < 0)
		die("pinned: read snapshot");
	if (len != (ssize_t)SNAPMAP_RECORD_SIZE(KEY_LEN, VALUE_LEN) ||
	    rec->key_len != KEY_LEN || rec->value_len != VALUE_LEN ||
	    memcmp(buf + sizeof(*rec) + KEY_LEN, vals[i], VALUE_LEN)) {
		fprintf(stderr, "pinned: snapshot %u does not hold the version written before it (%zd bytes read: \"%.*s\")\n",
			i, len, len >= 48 ? VALUE_LEN : 0,
			(const char *)buf + sizeof(*rec) + KEY_LEN);
		exit(1);
	}
}

/**
 * struct pin_result - one repetition of the figure at one S
 * @reached: snapshots taken: S, unless the setup stopped short
 * @err: the errno of a snapshot that could not be taken, or 0
 * @tail_us: median of the last setup PUTs, when the setup stopped short
 * @put_us: median of the timed PUTs
 * @puts: PUTs timed
 * @setup_s: the setup
 * @down_s: closing the snapshots, the sweep, closing the map
 * @pinned_b: bytes the map held over those of a map with no snapshot, per
 *            snapshot, before the snapshots were closed
 * @settled: the map freed what the snapshots pinned within
 *            PIN_SETTLE_DEADLINE of their closing
 */
struct pin_result {
	uint32_t reached;
	int err;
	double tail_us;
	double put_us;
	unsigned int puts;
	double setup_s;
	double down_s;
	double pinned_b;
	bool settled;
};

/*
 * Close the snapshots, wait until the sweep has freed what they pinned
 * (the map's bytes back to @ref, a map with no snapshot), close the map:
 * its last reference, whose release waits for a sweep still running.
 */
static void pin_teardown(int fd, int *sfds, uint32_t n, uint64_t ref,
			 struct pin_result *res)
{
	double start = now();
	uint32_t i;

	for (i = 0; i < n; i++)
		close(sfds[i]);
	while (!(res->settled = sm_bytes(fd) <= ref) &&
	       now() - start < PIN_SETTLE_DEADLINE)
		sleep_s(0.01);
	close(fd);
	res->down_s = now() - start;
}

/* One repetition at @s snapshots; a map with none sets *@ref. */
static void pin_run(uint32_t s, int *sfds, uint64_t *ref,
		    struct pin_result *res)
{
	static double t[PIN_PUTS];
	struct snapmap_snapshot_arg a = { .size = sizeof(a) };
	double tail[PIN_TAIL], start, total;
	const uint8_t *k = keys[0];
	uint32_t i, puts = 0;
	uint64_t bytes;
	int fd = sm_new(), ret;
	unsigned int n;

	memset(res, 0, sizeof(*res));
	start = now();
	for (i = 0; i < s && now() - start < PIN_SETUP_BUDGET; i++) {
		double t0 = now();

		ret = sm_put(fd, k, vals[i]);
		tail[puts++ % PIN_TAIL] = (now() - t0) * 1e6;
		if (ret) {
			errno = -ret;
			die("pinned: PUT");
		}
		sfds[i] = ioctl(fd, SNAPMAP_IOC_SNAPSHOT, &a);
		if (sfds[i] < 0) {
			res->err = errno;
			break;
		}
	}
	res->reached = i;
	res->setup_s = now() - start;
	if (i < s) {
		n = puts < PIN_TAIL ? puts : PIN_TAIL;
		res->tail_us = n ? spread_of(tail, n).med : 0;
		pin_teardown(fd, sfds, i, *ref, res);
		return;
	}

	/* The head every timed PUT replaces, pinned by no snapshot. */
	for (i = 0; i < 2; i++)
		if (sm_put(fd, k, vals[PIN_MAX + i]))
			die("pinned: PUT");
	total = 0;
	for (n = 0; n < PIN_PUTS &&
	     (n < PIN_PUTS_MIN || total < PIN_PUT_BUDGET); n++) {
		start = now();
		ret = sm_put(fd, k, vals[PIN_MAX + 2 + n]);
		t[n] = now() - start;
		if (ret) {
			errno = -ret;
			die("pinned: PUT");
		}
		total += t[n];
	}
	res->puts = n;
	res->put_us = spread_of(t, n).med * 1e6;

	/* The snapshots still hold their versions: the oldest, the newest. */
	bytes = sm_bytes(fd);
	if (!s) {
		*ref = bytes;
	} else {
		res->pinned_b = ((double)bytes - (double)*ref) / s;
		pin_check(sfds[0], 0);
		pin_check(sfds[s - 1], s - 1);
	}
	pin_teardown(fd, sfds, s, *ref, res);
}

static void fig_pinned(void)
{
	static double put[NR_PIN_COUNTS][PIN_REPS];
	static double nputs[NR_PIN_COUNTS][PIN_REPS];
	static double setup[NR_PIN_COUNTS][PIN_REPS];
	static double down[NR_PIN_COUNTS][PIN_REPS];
	static double pinned[NR_PIN_COUNTS][PIN_REPS];
	static int sfds[PIN_MAX];
	unsigned int done[NR_PIN_COUNTS] = {}, r, c, stop = NR_PIN_COUNTS;
	unsigned int unswept[NR_PIN_COUNTS] = {};
	uint32_t max_s = PIN_MAX;
	struct rlimit old, want;
	struct pin_result res;
	uint64_t ref = 0;
	char row[32];

	/* A descriptor per snapshot. */
	if (getrlimit(RLIMIT_NOFILE, &old))
		die("getrlimit");
	want = old;
	if (want.rlim_cur < PIN_MAX + PIN_SPARE_FDS) {
		want.rlim_cur = PIN_MAX + PIN_SPARE_FDS;
		if (want.rlim_max < want.rlim_cur)
			want.rlim_max = want.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &want)) {
			printf("# pinned: RLIMIT_NOFILE stays at %llu: %s\n",
			       (unsigned long long)old.rlim_cur,
			       strerror(errno));
			max_s = old.rlim_cur > PIN_SPARE_FDS ?
				old.rlim_cur - PIN_SPARE_FDS : 0;
		}
	}
	pin_params_raise();

	printf("# pinned: for each S, a fresh map; S times { PUT k; ATOMIC snapshot, kept open }; 2 untimed PUTs of k; then up to %u PUTs of k timed one by one (at least %u, fewer once they took %.0f s); the median per repetition\n",
	       PIN_PUTS, PIN_PUTS_MIN, PIN_PUT_BUDGET);
	for (r = 0; r < PIN_REPS; r++) {
		for (c = 0; c < stop; c++) {
			uint32_t s = pin_counts[c];

			if (s > max_s) {
				printf("# pinned: S=%u not measured: too few descriptors\n",
				       s);
				stop = c;
				break;
			}
			pin_run(s, sfds, &ref, &res);
			if (!res.settled) {
				printf("# pinned: S=%u: the map still held pinned versions %.0f s after its snapshots were closed\n",
				       s, PIN_SETTLE_DEADLINE);
				unswept[c]++;
			}
			if (res.reached < s) {
				if (res.err)
					printf("# pinned: S=%u: snapshot %u failed: %s\n",
					       s, res.reached + 1,
					       strerror(res.err));
				else
					printf("# pinned: S=%u: setup stopped at %u snapshots after %.0f s\n",
					       s, res.reached, res.setup_s);
				snprintf(row, sizeof(row), "%u", s);
				report("pinned", row, "reached",
				       (double[]){ res.reached }, 1,
				       "snapshots");
				report("pinned", row, "put-bound",
				       (double[]){ res.tail_us }, 1, "us");
				report("pinned", row, "setup-stopped",
				       (double[]){ res.setup_s }, 1, "s");
				/* Larger S would take longer still. */
				stop = c;
				break;
			}
			put[c][done[c]] = res.put_us;
			nputs[c][done[c]] = res.puts;
			setup[c][done[c]] = res.setup_s;
			down[c][done[c]] = res.down_s;
			pinned[c][done[c]] = res.pinned_b;
			done[c]++;
		}
	}
	for (c = 0; c < NR_PIN_COUNTS; c++) {
		if (!done[c])
			continue;
		snprintf(row, sizeof(row), "%u", pin_counts[c]);
		report("pinned", row, "put", put[c], done[c], "us");
		report("pinned", row, "puts", nputs[c], done[c], "PUTs");
		report("pinned", row, "setup", setup[c], done[c], "s");
		report("pinned", row, "teardown", down[c], done[c], "s");
		if (pin_counts[c])
			report("pinned", row, "pinned-bytes", pinned[c],
			       done[c], "B");
	}
	/* Repetitions whose snapshots' versions outlived them. */
	for (c = 0; c < NR_PIN_COUNTS; c++) {
		if (!unswept[c])
			continue;
		snprintf(row, sizeof(row), "%u", pin_counts[c]);
		report("pinned", row, "unswept", (double[]){ unswept[c] }, 1,
		       "repetitions");
	}

	pin_params_restore();
	if (setrlimit(RLIMIT_NOFILE, &old))
		die("setrlimit");
}

/* main ----------------------------------------------------------------- */

static bool wanted(int argc, char **argv, const char *fig)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], fig))
			return true;
	return false;
}

/* Run one figure and say how long it took, for whoever trims the suite. */
static void run_fig(const char *name, void (*fig)(void))
{
	double start = now();

	fig();
	printf("# %s: %.0f s\n", name, now() - start);
}

int main(int argc, char **argv)
{
	bool large = wanted(argc, argv, "dump") ||
		     wanted(argc, argv, "snapcreate") ||
		     wanted(argc, argv, "writer") ||
		     wanted(argc, argv, "clone");
	/*
	 * The profiles use the keys of a 10k-entry map: making all of them
	 * would fill their profiles with this loop.
	 */
	bool prof = argc > 1 && !strncmp(argv[1], "prof-", 5);
	uint32_t i, nkeys = prof ? 2 * OP_ENTRIES : MAX_KEYS;
	double start = now();
	struct utsname u;

	setvbuf(stdout, NULL, _IOLBF, 0);
	keys = calloc(MAX_KEYS, KEY_LEN);
	vals = calloc(MAX_KEYS, VALUE_LEN);
	if (!keys || !vals)
		die("calloc");
	for (i = 0; i < nkeys; i++) {
		make_key(keys[i], i);
		make_value(vals[i], i);
	}
	ctl = open("/dev/snapmap", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/snapmap");

	uname(&u);
	printf("env kernel %s\n", u.release);
	printf("env vcpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("env guest_memory_mib %ld\n",
	       sysconf(_SC_PHYS_PAGES) / 1024 * sysconf(_SC_PAGESIZE) / 1024);

	/* First, while the heap holds nothing a child could reuse. */
	if (wanted(argc, argv, "mem"))
		run_fig("mem", fig_memory);
	if (wanted(argc, argv, "op"))
		run_fig("op", fig_ops);
	if (argc > 1 && !strcmp(argv[1], "prof-snapmap"))
		profile_ops(SYS_SNAPMAP);
	if (argc > 1 && !strcmp(argv[1], "prof-bpf"))
		profile_ops(SYS_BPF);
	if (argc > 1 && !strcmp(argv[1], "prof-batch-snapmap"))
		profile_batch(SYS_SNAPMAP);
	if (argc > 1 && !strcmp(argv[1], "prof-batch-bpf"))
		profile_batch(SYS_BPF);
	if (wanted(argc, argv, "bufsize"))
		run_fig("bufsize", fig_bufsize);
	if (wanted(argc, argv, "values"))
		run_fig("values", fig_values);
	if (wanted(argc, argv, "batch"))
		run_fig("batch", fig_batch);
	if (wanted(argc, argv, "txn"))
		run_fig("txn", fig_txn);
	if (wanted(argc, argv, "readbuf"))
		run_fig("readbuf", fig_readbuf);
	if (wanted(argc, argv, "kapi"))
		run_fig("kapi", fig_kapi);
	if (wanted(argc, argv, "scale"))
		run_fig("scale", fig_scale);
	if (wanted(argc, argv, "pinned"))
		run_fig("pinned", fig_pinned);
	if (large) {
		large_maps_setup();
		if (wanted(argc, argv, "snapcreate"))
			run_fig("snapcreate", fig_snapshot_creation);
		if (wanted(argc, argv, "dump"))
			run_fig("dump", fig_dump);
		if (wanted(argc, argv, "writer"))
			run_fig("writer", fig_writer);
		if (wanted(argc, argv, "clone"))
			run_fig("clone", fig_clone);
		large_maps_teardown();
	}
	/* Maps of its own, after the large ones are gone. */
	if (wanted(argc, argv, "clear"))
		run_fig("clear", fig_clear);
	if (wanted(argc, argv, "watch"))
		run_fig("watch", fig_watch);
	printf("env guest_seconds %.0f\n", now() - start);
	close(ctl);
	return 0;
}
