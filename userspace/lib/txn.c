// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: transactions: helpers that fill in conditions and writes,
 * and the call that checks the ones and makes the others at one version.
 */

#include <errno.h>
#include <string.h>

#include "internal.h"

static void txn_cond(struct snapmap_txn_cond *c, __u32 kind, const void *key,
		     __u32 key_len)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->key_len = key_len;
	c->key = SNAPMAP_PTR(key);
}

void snapmap_txn_if_version(struct snapmap_txn_cond *c, const void *key,
			    __u32 key_len, __u64 version)
{
	txn_cond(c, SNAPMAP_TXN_IF_VERSION, key, key_len);
	c->version = version;
}

void snapmap_txn_if_present(struct snapmap_txn_cond *c, const void *key,
			    __u32 key_len)
{
	txn_cond(c, SNAPMAP_TXN_IF_PRESENT, key, key_len);
}

void snapmap_txn_if_absent(struct snapmap_txn_cond *c, const void *key,
			   __u32 key_len)
{
	txn_cond(c, SNAPMAP_TXN_IF_ABSENT, key, key_len);
}

void snapmap_txn_if_value(struct snapmap_txn_cond *c, const void *key,
			  __u32 key_len, const void *value, __u32 value_len)
{
	txn_cond(c, SNAPMAP_TXN_IF_VALUE, key, key_len);
	c->value_len = value_len;
	c->value = SNAPMAP_PTR(value);
}

void snapmap_txn_put(struct snapmap_txn_op *op, const void *key,
		     __u32 key_len, const void *value, __u32 value_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_TXN_PUT;
	op->key_len = key_len;
	op->value_len = value_len;
	op->key = SNAPMAP_PTR(key);
	op->value = SNAPMAP_PTR(value);
}

void snapmap_txn_del(struct snapmap_txn_op *op, const void *key,
		     __u32 key_len)
{
	memset(op, 0, sizeof(*op));
	op->opcode = SNAPMAP_TXN_DEL;
	op->key_len = key_len;
	op->key = SNAPMAP_PTR(key);
}

/*
 * The counts go to the module as they are: it knows the caps
 * (SNAPMAP_TXN_MAX_CONDS, _OPS, _BYTES) and names the entry past them.
 */
static int txn(int map_fd, const struct snapmap_txn_cond *conds,
	       __u32 cond_count, const struct snapmap_txn_op *ops,
	       __u32 op_count, __u64 *version, __u32 *failed)
{
	struct snapmap_txn arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.cond_count = cond_count;
	arg.cond_size = sizeof(*conds);
	arg.op_count = op_count;
	arg.op_size = sizeof(*ops);
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

int snapmap_txn(int map_fd, const struct snapmap_txn_cond *conds,
		__u32 cond_count, const struct snapmap_txn_op *ops,
		__u32 op_count, __u64 *version, __u32 *failed)
{
	int saved_errno = errno;

	return libsnapmap_ret(saved_errno,
			      txn(map_fd, conds, cond_count, ops, op_count,
				  version, failed));
}
