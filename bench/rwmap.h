/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The classic "RWMutex + copy" map in user space: a chained hash table
 * under one pthread rwlock; a snapshot is a deep copy made under the read
 * lock, so every writer waits for the whole copy.
 */

#ifndef _SNAPMAP_BENCH_RWMAP_H
#define _SNAPMAP_BENCH_RWMAP_H

#include <pthread.h>
#include <stdint.h>

#include "bench.h"

struct rwmap_node {
	struct rwmap_node *next;
	uint8_t key[KEY_LEN];
	uint8_t value[VALUE_LEN];
};

struct rwmap {
	pthread_rwlock_t lock;
	struct rwmap_node **buckets;
	uint64_t mask;
	uint64_t entries;
};

struct rwmap *rwmap_new(uint64_t capacity);
void rwmap_free(struct rwmap *map);
int rwmap_get(struct rwmap *map, const void *key, void *value);
int rwmap_put(struct rwmap *map, const void *key, const void *value);
int rwmap_del(struct rwmap *map, const void *key);
struct rwmap *rwmap_copy(struct rwmap *map);
uint64_t rwmap_touch(const struct rwmap *map);

#endif /* _SNAPMAP_BENCH_RWMAP_H */
