// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: batches of any length sent SNAPMAP_BATCH_MAX operations at a
 * time, and GETs at one version (SNAPMAP_BATCH_SNAPSHOT), which go in one
 * call.  The operations are the caller's, of the caller's size: the
 * helpers that fill them in are inline in the header.
 */

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "internal.h"

/*
 * The caller's size of an operation: at least the first version's, whose
 * out_result this file reads; what lies beyond is the module's to check.
 */
static bool op_size_ok(size_t op_size)
{
	return op_size >= LIBSNAPMAP_BATCH_OP_SIZE0 && op_size <= UINT32_MAX;
}

/*
 * One BATCH of the @count (at most SNAPMAP_BATCH_MAX) operations of
 * @op_size bytes from @first on.  The address is computed as the module
 * sees it, so that @ops may be NULL for an empty batch.  @version, if not
 * NULL, gets the version a SNAPMAP_BATCH_SNAPSHOT batch read the map at.
 */
static int batch_ioctl(int map_fd, struct snapmap_batch_op *ops,
		       size_t op_size, __u32 first, __u32 count, __u32 flags,
		       __u32 *done, __u64 *version)
{
	struct snapmap_batch arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.count = count;
	arg.op_size = op_size;
	arg.ops = SNAPMAP_PTR(ops) + (__u64)first * op_size;
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_BATCH, &arg);
	if (!ret) {
		*done = arg.out_done;
		if (version)
			*version = arg.out_version;
	}
	return ret;
}

static int batch(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		 __u32 flags, size_t op_size)
{
	const struct snapmap_batch_op *last;
	__u32 done = 0, chunk, ran;
	int ret;

	/* The count run is returned as an int. */
	if (count > INT_MAX || !op_size_ok(op_size))
		return -EINVAL;
	/*
	 * Even an empty batch is sent, so that its flags and fd are
	 * checked as for any other.
	 */
	do {
		chunk = count - done < SNAPMAP_BATCH_MAX ?
			count - done : SNAPMAP_BATCH_MAX;
		ret = batch_ioctl(map_fd, ops, op_size, done, chunk, flags,
				  &ran, NULL);
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
		if (!(flags & SNAPMAP_BATCH_STOP_ON_ERROR) || !ran)
			continue;
		/* Stopped by the last operation of a call: stop the rest. */
		last = (const void *)((const unsigned char *)ops +
				      (size_t)(done - 1) * op_size);
		if (last->out_result)
			break;
	} while (done < count);
	return done;
}

int snapmap_batch_sz(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		     __u32 flags, size_t op_size)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      batch(map_fd, ops, count, flags, op_size));
}

static int mget(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		__u64 *version, size_t op_size)
{
	__u32 done;
	int ret;

	/* All at one version means all in one call: it cannot be split. */
	if (count > SNAPMAP_BATCH_MAX || !op_size_ok(op_size))
		return -EINVAL;
	ret = batch_ioctl(map_fd, ops, op_size, 0, count,
			  SNAPMAP_BATCH_SNAPSHOT, &done, version);
	/* A module older than the flag refuses it as any unknown flag. */
	if (ret == -EINVAL && libsnapmap_lacks_feature(SNAPMAP_FEATURE_TXN))
		return -EOPNOTSUPP;
	return ret ? ret : (int)done;
}

int snapmap_mget_sz(int map_fd, struct snapmap_batch_op *ops, __u32 count,
		    __u64 *version, size_t op_size)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      mget(map_fd, ops, count, version, op_size));
}
