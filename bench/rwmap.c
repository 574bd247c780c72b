// SPDX-License-Identifier: GPL-2.0
/*
 * The "RWMutex + copy" baseline: a chained hash table of fixed-size keys
 * and values under one pthread rwlock.  Lookups take the read lock,
 * writes the write lock, and a snapshot is a deep copy of every node made
 * under the read lock (as a Go program copies a map under RLock).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rwmap.h"

static uint64_t rwmap_hash(const void *key)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ULL;
	unsigned int i;

	for (i = 0; i < KEY_LEN; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static struct rwmap *rwmap_alloc(uint64_t nbuckets)
{
	struct rwmap *map = calloc(1, sizeof(*map));

	if (!map)
		die("calloc");
	map->buckets = calloc(nbuckets, sizeof(map->buckets[0]));
	if (!map->buckets)
		die("calloc");
	map->mask = nbuckets - 1;
	pthread_rwlock_init(&map->lock, NULL);
	return map;
}

/* A map sized for @capacity keys: one bucket per key, a power of two. */
struct rwmap *rwmap_new(uint64_t capacity)
{
	uint64_t n = 1;

	while (n < capacity)
		n <<= 1;
	return rwmap_alloc(n);
}

void rwmap_free(struct rwmap *map)
{
	struct rwmap_node *node, *next;
	uint64_t i;

	for (i = 0; i <= map->mask; i++) {
		for (node = map->buckets[i]; node; node = next) {
			next = node->next;
			free(node);
		}
	}
	pthread_rwlock_destroy(&map->lock);
	free(map->buckets);
	free(map);
}

static struct rwmap_node **rwmap_find(struct rwmap *map, const void *key)
{
	struct rwmap_node **link = &map->buckets[rwmap_hash(key) & map->mask];

	for (; *link; link = &(*link)->next)
		if (!memcmp((*link)->key, key, KEY_LEN))
			break;
	return link;
}

int rwmap_get(struct rwmap *map, const void *key, void *value)
{
	struct rwmap_node *node;

	pthread_rwlock_rdlock(&map->lock);
	node = *rwmap_find(map, key);
	if (node)
		memcpy(value, node->value, VALUE_LEN);
	pthread_rwlock_unlock(&map->lock);
	return node ? 0 : -ENOENT;
}

int rwmap_put(struct rwmap *map, const void *key, const void *value)
{
	struct rwmap_node **link, *node;

	pthread_rwlock_wrlock(&map->lock);
	link = rwmap_find(map, key);
	node = *link;
	if (!node) {
		node = malloc(sizeof(*node));
		if (!node)
			die("malloc");
		node->next = NULL;
		memcpy(node->key, key, KEY_LEN);
		*link = node;
		map->entries++;
	}
	memcpy(node->value, value, VALUE_LEN);
	pthread_rwlock_unlock(&map->lock);
	return 0;
}

int rwmap_del(struct rwmap *map, const void *key)
{
	struct rwmap_node **link, *node;

	pthread_rwlock_wrlock(&map->lock);
	link = rwmap_find(map, key);
	node = *link;
	if (node) {
		*link = node->next;
		map->entries--;
	}
	pthread_rwlock_unlock(&map->lock);
	free(node);
	return node ? 0 : -ENOENT;
}

/* A deep copy, made under the read lock: the snapshot of this baseline. */
struct rwmap *rwmap_copy(struct rwmap *map)
{
	struct rwmap_node *node, *copy;
	struct rwmap *dst;
	uint64_t i;

	pthread_rwlock_rdlock(&map->lock);
	dst = rwmap_alloc(map->mask + 1);
	for (i = 0; i <= map->mask; i++) {
		for (node = map->buckets[i]; node; node = node->next) {
			copy = malloc(sizeof(*copy));
			if (!copy)
				die("malloc");
			memcpy(copy, node, sizeof(*copy));
			copy->next = dst->buckets[i];
			dst->buckets[i] = copy;
		}
	}
	dst->entries = map->entries;
	pthread_rwlock_unlock(&map->lock);
	return dst;
}

/*
 * Read every entry of a map no one else holds (a copy): the sum of the
 * first byte of each key and of each value, so that every node is
 * touched as a reader of the copy would.
 */
uint64_t rwmap_touch(const struct rwmap *map)
{
	const struct rwmap_node *node;
	uint64_t i, sum = 0;

	for (i = 0; i <= map->mask; i++)
		for (node = map->buckets[i]; node; node = node->next)
			sum += node->key[0] + node->value[0];
	return sum;
}
