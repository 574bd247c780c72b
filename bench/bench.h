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

/* @prefix and @i in 14 decimal digits: exactly 16 bytes, no NUL. */
static inline void make_name(void *buf, char prefix, uint64_t i)
{
	char *p = buf;
	int d;

	p[0] = prefix;
	p[1] = '-';
	for (d = 15; d >= 2; d--, i /= 10)
		p[d] = '0' + i % 10;
}

/* Key number @i: "k-" and 14 digits, exactly KEY_LEN bytes. */
static inline void make_key(void *key, uint64_t i)
{
	make_name(key, 'k', i);
}

/* Value @i of a key: "v-" and 14 digits, exactly VALUE_LEN bytes. */
static inline void make_value(void *value, uint64_t i)
{
	make_name(value, 'v', i);
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

/* For qsort(3) of doubles, smallest first. */
int cmp_double(const void *a, const void *b);
struct spread spread_of(double *samples, unsigned int n);
void die(const char *what);

/*
 * snapmap_bench.c: the keys and values every figure draws from, the
 * control fd, maps of 16-byte keys and values, and the output lines.
 */
extern uint8_t (*keys)[KEY_LEN];
extern uint8_t (*vals)[VALUE_LEN];
extern int ctl;
int sm_new(void);
void sm_fill(int fd, uint32_t n);
int sm_put(int fd, const void *key, const void *value);
void report(const char *fig, const char *row, const char *sys,
	    double *samples, unsigned int n, const char *unit);

/* watch_bench.c */
void fig_watch(void);

#endif /* _SNAPMAP_BENCH_H */
