// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot_bench - what ATOMIC snapshots cost, measured side by side
 *
 * 1. Creation time of an ATOMIC snapshot (the SNAPMAP_IOC_SNAPSHOT ioctl
 *    alone, then close) on maps of 1k and 1M entries: the median of many
 *    creations on each, and their ratio.
 * 2. Writer throughput (PUTs replacing existing keys, one writer thread)
 *    on the 1M-entry map with no snapshot, then while the main thread
 *    reads a whole ATOMIC snapshot of it, then while it reads a WEAK one;
 *    as ratios to the first.
 *
 * Only ratios between figures of one run mean anything under emulation.
 *
 * usage: snapshot_bench [LARGE_ENTRIES]
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/snapmap.h>

#define KEY_LEN 16
#define VALUE_LEN 16
#define BATCH 1024
#define CREATIONS 2001

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_key(char *key, uint64_t i)
{
	snprintf(key, KEY_LEN + 1, "key-%012llu",
		 (unsigned long long)(i % 1000000000000ULL));
}

/* Fill @fd with keys 0 .. @n - 1, BATCH PUTs at a time. */
static void fill(int fd, uint64_t n)
{
	static struct snapmap_batch_op ops[BATCH];
	static char keys[BATCH][KEY_LEN + 1];
	struct snapmap_batch batch = {
		.size = sizeof(batch),
		.op_size = sizeof(ops[0]),
		.ops = (uintptr_t)ops,
	};
	uint64_t i = 0;
	unsigned int j;

	while (i < n) {
		for (j = 0; j < BATCH && i < n; j++, i++) {
			make_key(keys[j], i);
			ops[j] = (struct snapmap_batch_op){
				.opcode = SNAPMAP_BATCH_PUT,
				.key_len = KEY_LEN,
				.value_len = VALUE_LEN,
				.key = (uintptr_t)keys[j],
				.value = (uintptr_t)keys[j],
			};
		}
		batch.count = j;
		if (ioctl(fd, SNAPMAP_IOC_BATCH, &batch) ||
		    batch.out_done != j)
			die("BATCH");
		for (j = 0; j < batch.count; j++)
			if (ops[j].out_result)
				die("BATCH PUT");
	}
}

static int new_map(int ctl, uint64_t entries)
{
	struct snapmap_create create = { .size = sizeof(create) };
	int fd = ioctl(ctl, SNAPMAP_IOC_CREATE, &create);

	if (fd < 0)
		die("CREATE");
	fill(fd, entries);
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median time of SNAPMAP_IOC_SNAPSHOT on @fd, in microseconds. */
static double creation_us(int fd)
{
	static double t[CREATIONS];
	struct snapmap_snapshot_arg arg = { .size = sizeof(arg) };
	double start;
	int i, sfd;

	for (i = 0; i < CREATIONS; i++) {
		start = now();
		sfd = ioctl(fd, SNAPMAP_IOC_SNAPSHOT, &arg);
		t[i] = now() - start;
		if (sfd < 0)
			die("SNAPSHOT");
		close(sfd);
	}
	qsort(t, CREATIONS, sizeof(t[0]), cmp_double);
	return t[CREATIONS / 2] * 1e6;
}

struct writer {
	int fd;
	uint64_t keys;
	atomic_bool stop;
	atomic_ullong puts;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	char key[KEY_LEN + 1];
	struct snapmap_put put = {
		.size = sizeof(put),
		.key_len = KEY_LEN,
		.value_len = VALUE_LEN,
		.key = (uintptr_t)key,
		.value = (uintptr_t)"0123456789abcdef",
	};
	uint64_t i = 0;

	while (!atomic_load(&w->stop)) {
		make_key(key, (i++ * 7919) % w->keys);
		if (ioctl(w->fd, SNAPMAP_IOC_PUT, &put))
			die("PUT");
		atomic_fetch_add(&w->puts, 1);
	}
	return NULL;
}

/* Read a whole snapshot of @fd; returns the records read. */
static uint64_t read_snapshot(int fd, uint32_t flags)
{
	struct snapmap_snapshot_arg arg = { .size = sizeof(arg),
					    .flags = flags };
	static char buf[256 * 1024];
	uint64_t records = 0;
	ssize_t len, off;
	int sfd;

	sfd = ioctl(fd, SNAPMAP_IOC_SNAPSHOT, &arg);
	if (sfd < 0)
		die("SNAPSHOT");
	while ((len = read(sfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < len; records++) {
			const struct snapmap_record *rec = (void *)(buf + off);

			off += SNAPMAP_RECORD_SIZE(rec->key_len,
						   rec->value_len);
		}
	}
	if (len < 0)
		die("read");
	close(sfd);
	return records;
}

/*
 * Writer throughput, in PUTs per second, over the time the main thread
 * takes to read one snapshot of kind @flags, or over @seconds with no
 * snapshot (@flags < 0).
 */
static double writer_rate(int fd, uint64_t keys, int flags, double seconds,
			  uint64_t *records)
{
	struct writer w = { .fd = fd, .keys = keys };
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	unsigned long long puts;
	double start, elapsed;
	pthread_t tid;

	if (pthread_create(&tid, NULL, writer_thread, &w))
		die("pthread_create");
	/* Let the writer get going before counting. */
	while (atomic_load(&w.puts) < 1000)
		nanosleep(&pause, NULL);

	puts = atomic_load(&w.puts);
	start = now();
	if (flags < 0) {
		while (now() - start < seconds)
			nanosleep(&pause, NULL);
	} else {
		*records = read_snapshot(fd, flags);
	}
	elapsed = now() - start;
	puts = atomic_load(&w.puts) - puts;

	atomic_store(&w.stop, true);
	pthread_join(tid, NULL);
	return puts / elapsed;
}

int main(int argc, char **argv)
{
	uint64_t large = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	uint64_t small = 1000, records_atomic = 0, records_weak = 0;
	double small_us, large_us, base, during_atomic, during_weak;
	double t_atomic, t_weak;
	int ctl, fd_small, fd_large;

	ctl = open("/dev/snapmap", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/snapmap");
	fd_small = new_map(ctl, small);
	fd_large = new_map(ctl, large);

	small_us = creation_us(fd_small);
	large_us = creation_us(fd_large);
	printf("snapshot creation, median of %d: %llu entries %.1f us, %llu entries %.1f us, ratio %.2f\n",
	       CREATIONS, (unsigned long long)small, small_us,
	       (unsigned long long)large, large_us, large_us / small_us);

	t_atomic = now();
	during_atomic = writer_rate(fd_large, large, 0, 0, &records_atomic);
	t_atomic = now() - t_atomic;
	t_weak = now();
	during_weak = writer_rate(fd_large, large, SNAPMAP_SNAPSHOT_WEAK, 0,
				  &records_weak);
	t_weak = now() - t_weak;
	base = writer_rate(fd_large, large, -1, t_atomic, NULL);

	printf("writer, no snapshot:            %.0f PUT/s\n", base);
	printf("writer, reading ATOMIC snapshot: %.0f PUT/s, ratio %.2f (%llu records in %.1f s)\n",
	       during_atomic, during_atomic / base,
	       (unsigned long long)records_atomic, t_atomic);
	printf("writer, reading WEAK walk:       %.0f PUT/s, ratio %.2f (%llu records in %.1f s)\n",
	       during_weak, during_weak / base,
	       (unsigned long long)records_weak, t_weak);

	close(fd_small);
	close(fd_large);
	close(ctl);
	if (records_atomic != large)
		fprintf(stderr, "ATOMIC snapshot held %llu records, not %llu\n",
			(unsigned long long)records_atomic,
			(unsigned long long)large);
	return records_atomic != large;
}
