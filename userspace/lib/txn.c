// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: transactions: the call that checks conditions and makes
 * writes at one version.  The conditions and writes are the caller's, of
 * the caller's sizes: the helpers that fill them in are inline in the
 * header.
 */

#include <errno.h>
#include <string.h>

#include "internal.h"

/*
 * The counts and the caller's sizes of an entry go to the module as they
 * are: it knows the caps (SNAPMAP_TXN_MAX_CONDS, _OPS, _BYTES) and the
 * bounds of the sizes, and names the entry past them.  This file reads
 * no entry.
 */
static int txn(int map_fd, const struct snapmap_txn_cond *conds,
	       __u32 cond_count, const struct snapmap_txn_op *ops,
	       __u32 op_count, __u64 *version, __u32 *failed,
	       size_t cond_size, size_t op_size)
{
	struct snapmap_txn arg;
	int ret;

	if (cond_size > UINT32_MAX || op_size > UINT32_MAX) {
		if (failed)
			*failed = SNAPMAP_TXN_NONE;
		return -EINVAL;
	}

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.cond_count = cond_count;
	arg.cond_size = cond_size;
	arg.op_count = op_count;
	arg.op_size = op_size;
	arg.conds = SNAPMAP_PTR(conds);
	arg.ops = SNAPMAP_PTR(ops);
	/*
	 * Output members are no input: this stays when the module writes
	 * nothing back (an fd of the wrong kind, an older module, an
	 * argument it cannot read).
	 */
	arg.out_failed = SNAPMAP_TXN_NONE;
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_TXN, &arg);
	if (failed)
		*failed = ret ? arg.out_failed : SNAPMAP_TXN_NONE;
	if (!ret && version)
		*version = arg.out_version;
	return ret;
}

int snapmap_txn_sz(int map_fd, const struct snapmap_txn_cond *conds,
		   __u32 cond_count, const struct snapmap_txn_op *ops,
		   __u32 op_count, __u64 *version, __u32 *failed,
		   size_t cond_size, size_t op_size)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      txn(map_fd, conds, cond_count, ops, op_count,
				  version, failed, cond_size, op_size));
}
