/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF_MAP_TYPE_HASH through raw bpf(2) calls: the baseline of what a user
 * would pick instead of snapmap for a key/value map in the kernel.
 * Every function returns 0 or -errno.
 */

#ifndef _SNAPMAP_BENCH_BPF_HASH_H
#define _SNAPMAP_BENCH_BPF_HASH_H

#include <stdint.h>

int bpf_hash_create(uint32_t max_entries, uint32_t map_flags);
int bpf_hash_lookup(int fd, const void *key, void *value);
int bpf_hash_update(int fd, const void *key, const void *value,
		    uint64_t flags);
int bpf_hash_delete(int fd, const void *key);
int bpf_hash_update_batch(int fd, const void *keys, const void *values,
			  uint32_t *count);
int bpf_hash_delete_batch(int fd, const void *keys, uint32_t *count);
int bpf_hash_lookup_batch(int fd, void *in_batch, void *out_batch,
			  void *keys, void *values, uint32_t *count);
int bpf_bad_cmd(void);

#endif /* _SNAPMAP_BENCH_BPF_HASH_H */
