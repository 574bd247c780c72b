// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * cas_counter - a shared counter kept exact with compare-and-swap
 *
 * Several threads increment one key's value, a decimal number, at once.
 * Each increment is a read-modify-write: read the value and its version,
 * compute the next value, and write it only if the entry still has that
 * version (snapmap_cas(), SNAPMAP_PUT_IF_VERSION).  When another thread
 * wrote in between, the write fails with ECANCELED and changes nothing;
 * the thread reads again and retries.  So no increment is lost, and the
 * total at the end is exact.  (A plain snapmap_put() in the same loop
 * loses increments whenever two threads read the same value.)
 *
 *   cc cas_counter.c -o cas_counter -pthread \
 *      $(pkg-config --cflags --libs libsnapmap)
 *
 * usage: cas_counter [-t THREADS] [-n INCREMENTS]
 *   -t  threads (1 to 64, default 4)
 *   -n  increments per thread (default 1000)
 *
 * Exit status: 0 when the counter ends at THREADS * INCREMENTS, 1 when it
 * does not or on an error, 2 for a bad argument.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsnapmap.h>

#define KEY "counter"
#define MAX_THREADS 64

struct worker {
	pthread_t tid;
	int map;
	unsigned long increments;
	unsigned long retries;	/* CAS that lost to another thread */
	int err;		/* 0, or the negative errno that stopped it */
};

/* Read the counter: its value and the version of the write that made it. */
static int counter_read(int map, uint64_t *value, __u64 *version)
{
	char buf[24];
	__u32 len = sizeof(buf) - 1;
	int ret;

	ret = snapmap_get(map, KEY, strlen(KEY), buf, &len, version);
	if (ret)
		return ret;
	buf[len] = '\0';
	*value = strtoull(buf, NULL, 10);
	return 0;
}

/* One increment: read, compute, compare-and-swap, until the CAS wins. */
static int counter_increment(struct worker *w)
{
	char buf[24];
	uint64_t value;
	__u64 version;
	int ret;

	for (;;) {
		ret = counter_read(w->map, &value, &version);
		if (ret)
			return ret;
		snprintf(buf, sizeof(buf), "%" PRIu64, value + 1);
		/* Only if nobody wrote the key since we read it. */
		ret = snapmap_cas(w->map, KEY, strlen(KEY), buf, strlen(buf),
				  version, NULL);
		if (ret != -ECANCELED)
			return ret;
		w->retries++;
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	unsigned long i;

	for (i = 0; i < w->increments && !w->err; i++)
		w->err = counter_increment(w);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker workers[MAX_THREADS];
	unsigned long threads = 4, increments = 1000, retries = 0;
	uint64_t total, expected;
	__u64 version;
	int map, ret, opt, bad = 0;
	unsigned long i;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		switch (opt) {
		case 't':
			threads = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			increments = strtoul(optarg, NULL, 10);
			break;
		default:
			threads = 0;
			break;
		}
	}
	if (optind != argc || threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr,
			"usage: cas_counter [-t THREADS] [-n INCREMENTS]\n");
		return 2;
	}

	map = snapmap_create(-1, NULL);
	if (map < 0) {
		fprintf(stderr, "cas_counter: create: %s\n", strerror(-map));
		return 1;
	}
	/* The counter starts at 0; a CAS needs an entry to compare with. */
	ret = snapmap_put(map, KEY, strlen(KEY), "0", 1, SNAPMAP_PUT_NOEXIST,
			  NULL);
	if (ret) {
		fprintf(stderr, "cas_counter: put: %s\n", strerror(-ret));
		return 1;
	}

	/* Several threads may share one map fd. */
	for (i = 0; i < threads; i++) {
		workers[i] = (struct worker){ .map = map,
					      .increments = increments };
		ret = pthread_create(&workers[i].tid, NULL, worker_run,
				     &workers[i]);
		if (ret) {
			fprintf(stderr, "cas_counter: thread: %s\n",
				strerror(ret));
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(workers[i].tid, NULL);
		retries += workers[i].retries;
		if (workers[i].err) {
			fprintf(stderr, "cas_counter: thread %lu: %s\n", i,
				strerror(-workers[i].err));
			bad = 1;
		}
	}

	ret = counter_read(map, &total, &version);
	if (ret) {
		fprintf(stderr, "cas_counter: get: %s\n", strerror(-ret));
		return 1;
	}
	expected = (uint64_t)threads * increments;
	printf("%lu threads, %lu increments each, %lu retries\n", threads,
	       increments, retries);
	printf("counter = %" PRIu64 " (expected %" PRIu64 ") at version %llu\n",
	       total, expected, (unsigned long long)version);
	close(map);
	if (total != expected) {
		fprintf(stderr, "cas_counter: %" PRIu64 " increments lost\n",
			expected - total);
		bad = 1;
	}
	return bad;
}
