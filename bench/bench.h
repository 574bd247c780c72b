/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap benchmarks: what the programs of bench/ share.
 *
 * Keys and values are 16 bytes everywhere, for snapmap and for every
 * baseline, so that the same bytes move through each.
 */

#ifndef _SNAPMAP_BENCH_H
#define _SNAPMAP_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define KEY_LEN 16
#define VALUE_LEN 16

/* Seconds on the monotonic clock. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Key number @i: "k-" and 14 digits, exactly KEY_LEN bytes, no NUL. */
static inline void make_key(void *key, uint64_t i)
{
	char buf[KEY_LEN + 1];

	snprintf(buf, sizeof(buf), "k-%014llu",
		 (unsigned long long)(i % 100000000000000ULL));
	memcpy(key, buf, KEY_LEN);
}

/* Value @i of a key: "v-" and 14 digits. */
static inline void make_value(void *value, uint64_t i)
{
	char buf[VALUE_LEN + 1];

	snprintf(buf, sizeof(buf), "v-%014llu",
		 (unsigned long long)(i % 100000000000000ULL));
	memcpy(value, buf, VALUE_LEN);
}

/* A cheap, deterministic stream of pseudo-random numbers. */
static inline uint64_t next_rand(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

/**
 * struct spread - the median of repeated measurements and their range
 * @med: median
 * @lo: smallest
 * @hi: largest
 */
struct spread {
	double med;
	double lo;
	double hi;
};

struct spread spread_of(double *samples, unsigned int n);
void die(const char *what);

#endif /* _SNAPMAP_BENCH_H */
