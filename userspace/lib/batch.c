// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: batches: helpers that fill in operations, batches of any
 * length sent SNAPMAP_BATCH_MAX operations at a time, and GETs at one
 * version (SNAPMAP_BATCH_SNAPSHOT), which go in one call.
 */

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "internal.h"

void snapmap_batch_get(struct snapmap_batch_op *op, const void *key,
		       __u32 key_len, void *value, __u32 value_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_GET;
	op->key_len = key_len;
	op->value_len = value_len;
	op->key = SNAPMAP_PTR(key);
	op->value = SNAPMAP_PTR(value);
}

void snapmap_batch_put(struct snapmap_batch_op *op, const void *key,
		       __u32 key_len, const void *value, __u32 value_len,
		       __u32 flags)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_PUT;
	op->flags = flags;
	op->key_len = key_len;
	op->value_len = value_len;
	op->key = SNAPMAP_PTR(key);
	op->value = SNAPMAP_PTR(value);
}

void snapmap_batch_del(struct snapmap_batch_op *op, const void *key,
		       __u32 key_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_BATCH_DEL;
	op->key_len = key_len;
	op->key = SNAPMAP_PTR(key);
}

/*
 * One BATCH of the @count (at most SNAPMAP_BATCH_MAX) operations from
 * @first on.  The address is computed as the module sees it, so that
 * @ops may be NULL for an empty batch.  @version, if not NULL, gets the
 * version a SNAPMAP_BATCH_SNAPSHOT batch read the map at.
 */
static int batch_ioctl(int map_fd, struct snapmap_batch_op *ops, __u32 first,
		       __u32 count, __u32 flags, __u32 *done, __u64 *version)
{
	struct snapmap_batch arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.count = count;
	arg.op_size = sizeof(*ops);
	arg.ops = SNAPMAP_PTR(ops) + (__u64)first * sizeof(*ops);
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_BATCH, &arg);
	if (!ret) {
		*done = arg.out_done;
		if (version)
			*version = arg.out_version;
	}
	return ret;
}

static int batch(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		 __u32 flags)
{
	__u32 done = 0, chunk, ran;
	int ret;

	/* The count run is returned as an int. */
	if (count > INT_MAX)
		return -EINVAL;
	/*
	 * Even an empty batch is sent, so that its flags and fd are
	 * checked as for any other.
	 */
	do {
		chunk = count - done < SNAPMAP_BATCH_MAX ?
			count - done : SNAPMAP_BATCH_MAX;
		ret = batch_ioctl(map_fd, ops, done, chunk, flags, &ran, NULL);
		if (ret)
			return ret;
		done += ran;
		/*
		 * A call stops early only on a failed operation with
		 * STOP_ON_ERROR; the module never leaves operations out
		 * otherwise, but a short answer must not loop forever.
		 */
		if (ran < chunk)
			break;
		/* Stopped by the last operation of a call: stop the rest. */
		if ((flags & SNAPMAP_BATCH_STOP_ON_ERROR) && ran &&
		    ops[done - 1].out_result)
			break;
	} while (done < count);
	return done;
}

int snapmap_batch(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		  __u32 flags)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno, batch(map_fd, ops, count, flags));
}

static int mget(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		__u64 *version)
{
	__u32 done;
	int ret;

	/* All at one version means all in one call: it cannot be split. */
	if (count > SNAPMAP_BATCH_MAX)
		return -EINVAL;
	ret = batch_ioctl(map_fd, ops, 0, count, SNAPMAP_BATCH_SNAPSHOT, &done,
			  version);
	/* A module older than the flag refuses it as any unknown flag. */
	if (ret == -EINVAL && libsnapmap_lacks_feature(SNAPMAP_FEATURE_TXN))
		return -EOPNOTSUPP;
	return ret ? ret : (int)done;
}

int snapmap_mget(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		 __u64 *version)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno, mget(map_fd, ops, count, version));
}
