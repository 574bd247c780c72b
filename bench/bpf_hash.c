// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_MAP_TYPE_HASH through raw bpf(2) calls, no libbpf: one syscall per
 * call, as snapmap's ioctls are.
 */

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "bench.h"
#include "bpf_hash.h"

#define PTR(p) ((__u64)(uintptr_t)(p))

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long ret = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return ret < 0 ? -errno : (int)ret;
}

int bpf_hash_create(uint32_t max_entries, uint32_t map_flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_HASH;
	attr.key_size = KEY_LEN;
	attr.value_size = VALUE_LEN;
	attr.max_entries = max_entries;
	attr.map_flags = map_flags;
	return sys_bpf(BPF_MAP_CREATE, &attr);
}

int bpf_hash_lookup(int fd, const void *key, void *value)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = PTR(key);
	attr.value = PTR(value);
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
}

int bpf_hash_update(int fd, const void *key, const void *value,
		    uint64_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = PTR(key);
	attr.value = PTR(value);
	attr.flags = flags;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

int bpf_hash_delete(int fd, const void *key)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = PTR(key);
	return sys_bpf(BPF_MAP_DELETE_ELEM, &attr);
}

int bpf_hash_update_batch(int fd, const void *keys, const void *values,
			  uint32_t *count)
{
	union bpf_attr attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = fd;
	attr.batch.keys = PTR(keys);
	attr.batch.values = PTR(values);
	attr.batch.count = *count;
	ret = sys_bpf(BPF_MAP_UPDATE_BATCH, &attr);
	*count = attr.batch.count;
	return ret;
}

int bpf_hash_delete_batch(int fd, const void *keys, uint32_t *count)
{
	union bpf_attr attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = fd;
	attr.batch.keys = PTR(keys);
	attr.batch.count = *count;
	ret = sys_bpf(BPF_MAP_DELETE_BATCH, &attr);
	*count = attr.batch.count;
	return ret;
}

/*
 * The next *@count entries after the position @in_batch (NULL: from the
 * start); @out_batch receives the position to go on from.  -ENOENT with
 * *@count set to what was read means the map is done.
 */
int bpf_hash_lookup_batch(int fd, void *in_batch, void *out_batch,
			  void *keys, void *values, uint32_t *count)
{
	union bpf_attr attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = fd;
	attr.batch.in_batch = PTR(in_batch);
	attr.batch.out_batch = PTR(out_batch);
	attr.batch.keys = PTR(keys);
	attr.batch.values = PTR(values);
	attr.batch.count = *count;
	ret = sys_bpf(BPF_MAP_LOOKUP_BATCH, &attr);
	*count = attr.batch.count;
	return ret;
}

/* A bpf(2) call that does nothing: the cost of the syscall alone. */
int bpf_bad_cmd(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	return sys_bpf(-1, &attr);
}
