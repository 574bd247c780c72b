// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - ioctl dispatch: the only code that touches user memory
 *
 * Every command's argument is a structure that starts with its own size.
 * The dispatcher reads that size, copies the structure into a kernel buffer
 * with copy_struct_from_user() (zero-extending an older caller's structure
 * and refusing a newer caller's non-zero tail), runs the handler on the
 * kernel copy, and the handler writes its ``out_*`` members back with
 * snapmap_respond().
 *
 * Each kind of fd has its own table of commands: the control fd (an open
 * /dev/snapmap), the map fd and the snapshot fd.  A handler checks its
 * arguments in the order of the uapi header's "errno values": flags and
 * reserved members, then the fd's access mode, then lengths, then user
 * memory (writing its answer back as it came in, to learn that it can),
 * then, if it returns a new fd, reserves that, and only then calls the map
 * core, so that bad input changes nothing.  Keys and values are copied
 * between user memory and kernel buffers here, never under RCU or a lock:
 * the core only ever sees kernel memory.
 */

#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/snapmap.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ioctl.h"
#include "limits.h"
#include "map.h"
#include "map_fd.h"
#include "snapshot_fd.h"
#include "watch_fd.h"

/**
 * struct snapmap_ucmd - one ioctl call in flight
 * @file: the file the ioctl was issued on
 * @ubuffer: the caller's argument
 * @user_size: the caller's idea of the argument's size
 * @cmd: kernel copy of the argument, zero-extended to the module's size
 */
struct snapmap_ucmd {
	struct file *file;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/**
 * struct snapmap_ioctl_op - how to run one command
 * @cmd: the full command number as the uapi header spells it
 * @size: size of the module's structure for this command
 * @min_size: smallest size ever accepted: the end of the first version's
 *            last member
 * @execute: the handler; returns 0 (or a new fd) or a negative errno
 */
struct snapmap_ioctl_op {
	unsigned int cmd;
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct snapmap_ucmd *ucmd);
};

/* Big enough for the argument of any command. */
union snapmap_ucmd_buffer {
	struct snapmap_api api;
	struct snapmap_create create;
	struct snapmap_open open;
	struct snapmap_delete delete;
	struct snapmap_list list;
	struct snapmap_get get;
	struct snapmap_put put;
	struct snapmap_del del;
	struct snapmap_batch batch;
	struct snapmap_clear clear;
	struct snapmap_info info;
	struct snapmap_snapshot_arg snapshot;
	struct snapmap_clone clone;
	struct snapmap_txn txn;
	struct snapmap_watch_arg watch;
	struct snapmap_snapshot_info snapshot_info;
};

/* A table is indexed by command number: SNAPMAP_CMD_<name>. */
#define SNAPMAP_IOCTL_OP(_name, _fn, _struct, _last)			\
	[SNAPMAP_CMD_##_name] = {					\
		.cmd = SNAPMAP_IOC_##_name,				\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union snapmap_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.execute = _fn,						\
	}

/*
 * Keys and values up to this size are copied through a buffer on the
 * stack; longer ones through an allocation.
 */
#define SNAPMAP_STACK_BUF_LEN 64

/* The smallest &snapmap_batch.op_size: the first version of an op. */
#define SNAPMAP_BATCH_OP_MIN_SIZE \
	offsetofend(struct snapmap_batch_op, out_version)

/*
 * The members of an op a batch writes back: out_result, out_value_len and
 * out_version, which lie next to each other (snapmap_build_check_abi()
 * proves it).
 */
#define SNAPMAP_BATCH_OUT_START offsetof(struct snapmap_batch_op, out_result)
#define SNAPMAP_BATCH_OUT_LEN \
	(offsetofend(struct snapmap_batch_op, out_version) - \
	 SNAPMAP_BATCH_OUT_START)

/*
 * Write the module's structure back, truncated to what the caller knows.
 * A larger caller structure keeps its tail, which was checked to be zero.
 */
static int snapmap_respond(struct snapmap_ucmd *ucmd, unsigned int ksize)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(unsigned int, ucmd->user_size, ksize)))
		return -EFAULT;
	return 0;
}

/*
 * Before a command looks a key up or changes a map, make sure its answer
 * can be written: write the argument back as it came in.  A read-only
 * argument then fails with EFAULT, whatever the map holds, and nothing
 * changes.  Nothing to do for an op of a batch (@ucmd NULL): the batch
 * checks its whole array, and its own argument, up front.
 */
static int snapmap_probe_answer(struct snapmap_ucmd *ucmd, unsigned int ksize)
{
	return ucmd ? snapmap_respond(ucmd, ksize) : 0;
}

/*
 * Write back the bytes of the command's structure from @start to @end:
 * inline, with offsets known at build time, so that the copy needs no
 * run-time check of the kernel buffer's bounds.
 */
static __always_inline int snapmap_respond_range(struct snapmap_ucmd *ucmd,
						 size_t start, size_t end)
{
	if (copy_to_user(ucmd->ubuffer + start, (u8 *)ucmd->cmd + start,
			 end - start))
		return -EFAULT;
	return 0;
}

/*
 * The answer of a single GET, PUT or DEL: its out_* members alone, which
 * end the first version of each structure, so every caller has them.
 * Written back as they came in before the command looks the key up
 * (nothing to do for an op of a batch, @ucmd NULL), and with the answer
 * after.
 */
static int snapmap_respond_op(struct snapmap_ucmd *ucmd, u32 opcode)
{
	if (!ucmd)
		return 0;
	switch (opcode) {
	case SNAPMAP_BATCH_GET:
		return snapmap_respond_range(ucmd,
				offsetof(struct snapmap_get, out_value_len),
				offsetofend(struct snapmap_get, out_version));
	case SNAPMAP_BATCH_PUT:
		return snapmap_respond_range(ucmd,
				offsetof(struct snapmap_put, out_version),
				offsetofend(struct snapmap_put, out_version));
	default:
		return snapmap_respond_range(ucmd,
				offsetof(struct snapmap_del, out_version),
				offsetofend(struct snapmap_del, out_version));
	}
}

/* The map of a command issued on a map fd. */
static struct snapmap *snapmap_ucmd_map(struct snapmap_ucmd *ucmd)
{
	return snapmap_map_from_file(ucmd->file);
}

/* Whether the map fd a command was issued on was opened for writing. */
static bool snapmap_ucmd_writable(struct snapmap_ucmd *ucmd)
{
	return ucmd->file->f_mode & FMODE_WRITE;
}

/*
 * A buffer of @len bytes: @stack if it is big enough, else an allocation
 * charged to the caller.  NULL if the allocation failed.
 */
static void *snapmap_buf_alloc(u32 len, void *stack, size_t stack_size)
{
	if (len <= stack_size)
		return stack;
	return kvmalloc(len, SNAPMAP_GFP_BUF);
}

/* Free a buffer of snapmap_buf_alloc(). */
static void snapmap_buf_free(void *buf, void *stack)
{
	if (buf != stack)
		kvfree(buf);
}

/*
 * Copy @len bytes at the user pointer @uptr into a buffer of
 * snapmap_buf_alloc(), for the caller to free with snapmap_buf_free().
 * Return: the buffer, ERR_PTR(-ENOMEM) or ERR_PTR(-EFAULT).
 */
static void *snapmap_copy_in(u64 uptr, u32 len, void *stack,
			     size_t stack_size)
{
	void *buf = snapmap_buf_alloc(len, stack, stack_size);

	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(buf, u64_to_user_ptr(uptr), len)) {
		snapmap_buf_free(buf, stack);
		return ERR_PTR(-EFAULT);
	}
	return buf;
}

/*
 * Check a key length and a value length against the map's limits: an empty
 * key is invalid (EINVAL); a key or value over the limit is EMSGSIZE.
 */
static int snapmap_check_lens(struct snapmap *map, u32 key_len, u32 value_len)
{
	if (!key_len)
		return -EINVAL;
	if (key_len > snapmap_max_key_len(map) ||
	    value_len > snapmap_max_value_len(map))
		return -EMSGSIZE;
	return 0;
}

/*
 * GET, PUT and DEL, alone or in a batch, run on a &struct snapmap_batch_op
 * in kernel memory: its input members as the caller gave them, its out_*
 * members filled in.  So an op of a batch returns exactly what the single
 * command would.  A single command checks its own __reserved member before.
 */

/*
 * snapmap_lookup_rcu()'s callback for a GET: the value straight to the
 * caller's buffer, with page faults disabled, since this runs under RCU.
 * -EAGAIN if the buffer could not be written without a fault, or is no
 * user memory: the slow path then says which.
 */
static int snapmap_get_direct(const void *value, u32 value_len, u64 version,
			      void *arg)
{
	struct snapmap_batch_op *op = arg;
	void __user *dest = u64_to_user_ptr(op->value);
	unsigned long left;

	op->out_value_len = value_len;
	op->out_version = version;
	if (value_len > op->value_len)
		return -ERANGE;
	/* The inatomic copy checks nothing: copy_to_user() does. */
	if (!access_ok(dest, value_len))
		return -EAGAIN;
	pagefault_disable();
	left = __copy_to_user_inatomic(dest, value, value_len);
	pagefault_enable();
	return left ? -EAGAIN : 0;
}

/* The GET of @op again, into @value, of @size bytes. */
static int snapmap_get_again(struct snapmap *map, struct snapmap_snapshot *snap,
			     const void *key, struct snapmap_batch_op *op,
			     void *value, u32 size)
{
	if (snap)
		return snapmap_snapshot_lookup(snap, key, op->key_len, value,
					       size, &op->out_value_len,
					       &op->out_version);
	return snapmap_lookup_again(map, key, op->key_len, value, size,
				    &op->out_value_len, &op->out_version);
}

/*
 * Look a key up in @map, or in @snap if it is set, and copy its value to
 * the caller's buffer.  On -ERANGE @op->out_value_len and @op->out_version
 * are set all the same.
 *
 * The value is copied from the map straight to the caller, under RCU with
 * page faults disabled: one copy, whatever its length.  Only if the
 * caller's buffer is not mapped in yet (or is bad) is it copied out of
 * RCU into a buffer on the stack, or, when it is longer, into one
 * allocated for its own length once that is known, and from there to the
 * caller, where a fault can be served (or reported: EFAULT).  The size of
 * the caller's buffer never decides how much is allocated.
 *
 * A single GET (@ucmd set) checks that its answer can be written back
 * before the lookup, as the commands that change the map do, so that a
 * bad argument gets EFAULT whatever the map holds.  The value buffer is
 * only checked by writing the value to it: faulting in a buffer as large
 * as the caller says, on every GET, would cost more than the GET.
 */
static int snapmap_op_get(struct snapmap *map, struct snapmap_snapshot *snap,
			  struct snapmap_batch_op *op,
			  struct snapmap_ucmd *ucmd)
{
	u8 key_stack[SNAPMAP_STACK_BUF_LEN], value_stack[SNAPMAP_STACK_BUF_LEN];
	void *key, *value = value_stack;
	u32 size;
	int err;

	if (op->flags || op->version)
		return -EINVAL;
	err = snapmap_check_lens(map, op->key_len, 0);
	if (err)
		return err;
	key = snapmap_copy_in(op->key, op->key_len, key_stack,
			      sizeof(key_stack));
	if (IS_ERR(key))
		return PTR_ERR(key);

	err = snapmap_respond_op(ucmd, SNAPMAP_BATCH_GET);
	if (!err)
		err = snap ? snapmap_snapshot_lookup_rcu(snap, key, op->key_len,
							 snapmap_get_direct,
							 op) :
			     snapmap_lookup_rcu(map, key, op->key_len,
						snapmap_get_direct, op);
	if (err != -EAGAIN)
		goto out_key;

	/* The same GET, through a buffer. */
	size = min3(op->value_len, snapmap_max_value_len(map),
		    (u32)sizeof(value_stack));
	err = snapmap_get_again(map, snap, key, op, value, size);
	/* Longer than the stack's, and the caller has room: allocate. */
	while (err == -ERANGE && op->out_value_len > size &&
	       op->out_value_len <= op->value_len) {
		snapmap_buf_free(value, value_stack);
		size = op->out_value_len;
		value = kvmalloc(size, SNAPMAP_GFP_BUF);
		if (!value) {
			err = -ENOMEM;
			goto out_key;
		}
		/* The value may have grown meanwhile. */
		err = snapmap_get_again(map, snap, key, op, value, size);
	}
	if (!err && copy_to_user(u64_to_user_ptr(op->value), value,
				 op->out_value_len))
		err = -EFAULT;

	snapmap_buf_free(value, value_stack);
out_key:
	snapmap_buf_free(key, key_stack);
	return err;
}

/* snapmap_update_fill()'s callback: the value from the caller's buffer. */
static int snapmap_fill_from_user(void *arg, void *data, u32 len)
{
	const struct snapmap_batch_op *op = arg;

	return copy_from_user(data, u64_to_user_ptr(op->value), len) ?
	       -EFAULT : 0;
}

/*
 * Insert or replace a key, as its flags say.  A value too long for the
 * stack is copied from the caller straight into its new version.
 */
static int snapmap_op_put(struct snapmap *map, bool writable,
			  struct snapmap_batch_op *op,
			  struct snapmap_ucmd *ucmd)
{
	u8 key_stack[SNAPMAP_STACK_BUF_LEN], value_stack[SNAPMAP_STACK_BUF_LEN];
	void *key, *value;
	int err;

	if (op->flags & ~SNAPMAP_PUT_MASK ||
	    hweight32(op->flags & SNAPMAP_PUT_COND_MASK) > 1)
		return -EINVAL;
	if (op->version && !(op->flags & SNAPMAP_PUT_IF_VERSION))
		return -EINVAL;
	if (!writable)
		return -EBADF;
	err = snapmap_check_lens(map, op->key_len, op->value_len);
	if (err)
		return err;
	key = snapmap_copy_in(op->key, op->key_len, key_stack,
			      sizeof(key_stack));
	if (IS_ERR(key))
		return PTR_ERR(key);
	if (op->value_len > sizeof(value_stack)) {
		err = snapmap_respond_op(ucmd, SNAPMAP_BATCH_PUT) ?:
		      snapmap_update_fill(map, key, op->key_len, op->value_len,
					  snapmap_fill_from_user, op,
					  op->flags, op->version,
					  &op->out_version);
		goto out_key;
	}
	value = snapmap_copy_in(op->value, op->value_len, value_stack,
				sizeof(value_stack));
	if (IS_ERR(value)) {
		err = PTR_ERR(value);
		goto out_key;
	}

	err = snapmap_respond_op(ucmd, SNAPMAP_BATCH_PUT) ?:
	      snapmap_update(map, key, op->key_len, value, op->value_len,
			     op->flags, op->version, &op->out_version);

	snapmap_buf_free(value, value_stack);
out_key:
	snapmap_buf_free(key, key_stack);
	return err;
}

/* Delete a key, as its flags say. */
static int snapmap_op_del(struct snapmap *map, bool writable,
			  struct snapmap_batch_op *op,
			  struct snapmap_ucmd *ucmd)
{
	u8 key_stack[SNAPMAP_STACK_BUF_LEN];
	void *key;
	int err;

	if (op->flags & ~SNAPMAP_DEL_MASK)
		return -EINVAL;
	if (op->version && !(op->flags & SNAPMAP_DEL_IF_VERSION))
		return -EINVAL;
	if (!writable)
		return -EBADF;
	err = snapmap_check_lens(map, op->key_len, 0);
	if (err)
		return err;
	key = snapmap_copy_in(op->key, op->key_len, key_stack,
			      sizeof(key_stack));
	if (IS_ERR(key))
		return PTR_ERR(key);

	err = snapmap_respond_op(ucmd, SNAPMAP_BATCH_DEL) ?:
	      snapmap_delete(map, key, op->key_len, op->flags, op->version,
			     &op->out_version);

	snapmap_buf_free(key, key_stack);
	return err;
}

/*
 * Run one op of a batch.  Its out_value_len and out_version are zero
 * unless the single command would have reported them: on success, and for
 * a GET on -ERANGE.
 */
static int snapmap_op_run(struct snapmap *map, struct snapmap_snapshot *snap,
			  bool writable, struct snapmap_batch_op *op)
{
	int err;

	op->out_value_len = 0;
	op->out_version = 0;
	/* A batch that reads at one version only reads. */
	if (snap && op->opcode != SNAPMAP_BATCH_GET)
		return -EINVAL;
	switch (op->opcode) {
	case SNAPMAP_BATCH_GET:
		err = snapmap_op_get(map, snap, op, NULL);
		break;
	case SNAPMAP_BATCH_PUT:
		err = snapmap_op_put(map, writable, op, NULL);
		break;
	case SNAPMAP_BATCH_DEL:
		err = snapmap_op_del(map, writable, op, NULL);
		break;
	default:
		err = -EINVAL;
		break;
	}
	if (err && err != -ERANGE) {
		op->out_value_len = 0;
		op->out_version = 0;
	}
	return err;
}

/*
 * SNAPMAP_IOC_GET on a map fd, or SNAPMAP_IOC_SNAPSHOT_GET on a snapshot
 * fd (@snap set).  On -ERANGE the value's length and version are written
 * back all the same; on any other error nothing is.
 */
static int snapmap_get_in(struct snapmap_ucmd *ucmd, struct snapmap *map,
			  struct snapmap_snapshot *snap)
{
	struct snapmap_get *cmd = ucmd->cmd;
	struct snapmap_batch_op op = {
		.opcode = SNAPMAP_BATCH_GET,
		.flags = cmd->flags,
		.key_len = cmd->key_len,
		.value_len = cmd->value_buf_len,
		.key = cmd->key,
		.value = cmd->value,
	};
	int err;

	if (cmd->__reserved)
		return -EINVAL;
	err = snapmap_op_get(map, snap, &op, ucmd);
	if (err && err != -ERANGE)
		return err;
	cmd->out_value_len = op.out_value_len;
	cmd->out_version = op.out_version;
	return snapmap_respond_op(ucmd, SNAPMAP_BATCH_GET) ?: err;
}

static int snapmap_get_ioctl(struct snapmap_ucmd *ucmd)
{
	return snapmap_get_in(ucmd, snapmap_ucmd_map(ucmd), NULL);
}

static int snapmap_put_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_put *cmd = ucmd->cmd;
	struct snapmap_batch_op op = {
		.opcode = SNAPMAP_BATCH_PUT,
		.flags = cmd->flags,
		.key_len = cmd->key_len,
		.value_len = cmd->value_len,
		.key = cmd->key,
		.value = cmd->value,
		.version = cmd->version,
	};
	int err;

	err = snapmap_op_put(snapmap_ucmd_map(ucmd),
			     snapmap_ucmd_writable(ucmd), &op, ucmd);
	if (err)
		return err;
	cmd->out_version = op.out_version;
	return snapmap_respond_op(ucmd, SNAPMAP_BATCH_PUT);
}

static int snapmap_del_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_del *cmd = ucmd->cmd;
	struct snapmap_batch_op op = {
		.opcode = SNAPMAP_BATCH_DEL,
		.flags = cmd->flags,
		.key_len = cmd->key_len,
		.key = cmd->key,
		.version = cmd->version,
	};
	int err;

	if (cmd->__reserved)
		return -EINVAL;
	err = snapmap_op_del(snapmap_ucmd_map(ucmd),
			     snapmap_ucmd_writable(ucmd), &op, ucmd);
	if (err)
		return err;
	cmd->out_version = op.out_version;
	return snapmap_respond_op(ucmd, SNAPMAP_BATCH_DEL);
}

/*
 * The caller's arrays of entries (a batch's ops, a transaction's
 * conditions and writes) are read this many bytes at a time, in one copy:
 * not entry by entry, since each copy of a length known only at run time
 * pays for the checks of hardened usercopy.
 */
#define SNAPMAP_READ_AHEAD 448

/*
 * An array of @count entries of @size bytes in the caller's memory, read
 * in order and ahead: the entries from @first, of which @nr were copied
 * whole into @buf.
 */
struct snapmap_array_reader {
	u8 buf[SNAPMAP_READ_AHEAD] __aligned(8);
	const u8 __user *array;
	u32 count;
	u32 size;
	u32 first;
	u32 nr;
};

static void snapmap_array_reader_init(struct snapmap_array_reader *r,
				      u64 array, u32 count, u32 size)
{
	r->array = u64_to_user_ptr(array);
	r->count = count;
	r->size = size;
	r->first = 0;
	r->nr = 0;
}

/*
 * Entry @i of the array, the one after the last read, into @dst of
 * @ksize bytes, as copy_struct_from_user() would read it: a shorter entry
 * is zero-extended, a longer one must have a zero tail (-E2BIG).  Reads
 * ahead as far as the buffer holds, and falls back to one copy per entry
 * for entries too long for it.  -EFAULT if the entry cannot be read; the
 * entries before it were read whole.  Inlined, so that @ksize is known
 * to every copy.
 */
static __always_inline int snapmap_array_read(struct snapmap_array_reader *r,
					      u32 i, void *dst, size_t ksize)
{
	const u8 __user *usrc = r->array + (u64)i * r->size;
	u32 size = r->size, n;
	unsigned long left;
	const u8 *src;

	if (size > sizeof(r->buf))
		return copy_struct_from_user(dst, ksize, usrc, size);
	if (i >= r->first + r->nr) {
		n = min_t(u32, r->count - i, sizeof(r->buf) / size);
		left = copy_from_user(r->buf, usrc, n * size);
		r->first = i;
		r->nr = n - DIV_ROUND_UP(left, size);
		if (!r->nr)
			return -EFAULT;
	}
	src = r->buf + (i - r->first) * size;
	if (size < ksize) {
		memcpy(dst, src, size);
		memset((u8 *)dst + size, 0, ksize - size);
		return 0;
	}
	memcpy(dst, src, ksize);
	if (memchr_inv(src + ksize, 0, size - ksize))
		return -E2BIG;
	return 0;
}

/*
 * SNAPMAP_IOC_BATCH: run the ops in order, each exactly as its single
 * command, and write each op's out_result, out_value_len and out_version
 * back; the caller's other members of the op are never written.
 *
 * Errors of the batch itself fail the ioctl before any op runs: flags,
 * reserved, count, op_size, an op array that wraps around the address
 * space or is not all readable and writable, and an argument that cannot
 * be written back.  Errors of one op, including
 * a non-zero tail beyond the module's op structure (E2BIG), go to its
 * out_result.
 *
 * The ops are read a few at a time, ahead of running them
 * (snapmap_array_read()); each op's key and value are read when it
 * runs.  Only if another thread unmaps the array while the batch runs can
 * a fault come later: the ioctl then fails with -EFAULT after the ops
 * before it have run (and, for a fault on writing back, the op itself),
 * which cannot be undone.  out_done is still written back if it can be,
 * and counts them.
 *
 * With SNAPMAP_BATCH_SNAPSHOT the batch takes an ATOMIC snapshot of its
 * own, in the kernel, once its argument checks out; every GET reads it,
 * and the batch stops at the first GET that finds it stale.
 */
static int snapmap_batch_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_batch *cmd = ucmd->cmd;
	struct snapmap *map = snapmap_ucmd_map(ucmd);
	bool writable = snapmap_ucmd_writable(ucmd);
	u8 __user *uops = u64_to_user_ptr(cmd->ops);
	struct snapmap_array_reader reader;
	struct snapmap_snapshot *snap = NULL;
	struct snapmap_batch_op op;
	u32 done = 0;
	int err = 0;
	u64 end;
	int ret;

	if (cmd->flags & ~SNAPMAP_BATCH_MASK || cmd->__reserved)
		return -EINVAL;
	if (cmd->count > SNAPMAP_BATCH_MAX ||
	    cmd->op_size < SNAPMAP_BATCH_OP_MIN_SIZE)
		return -EINVAL;
	if (check_add_overflow(cmd->ops, (u64)cmd->count * cmd->op_size,
			       &end))
		return -EFAULT;
	/*
	 * Every op's answer, and the batch's own, must be writable before
	 * the first op changes the map; this faults the array in without
	 * changing it.
	 */
	if (fault_in_safe_writeable((const char __user *)uops,
				    (size_t)cmd->count * cmd->op_size))
		return -EFAULT;
	ret = snapmap_probe_answer(ucmd, sizeof(*cmd));
	if (ret)
		return ret;
	cmd->out_version = 0;
	if (cmd->flags & SNAPMAP_BATCH_SNAPSHOT) {
		/* Every GET reads at its version. */
		snap = snapmap_snapshot_open(map, 0);
		if (IS_ERR(snap))
			return PTR_ERR(snap);
		snapmap_snapshot_version(snap, &cmd->out_version);
	}

	snapmap_array_reader_init(&reader, cmd->ops, cmd->count, cmd->op_size);
	while (done < cmd->count) {
		u8 __user *uop = uops + (u64)done * cmd->op_size;

		ret = snapmap_array_read(&reader, done, &op, sizeof(op));
		if (ret == -EFAULT) {
			err = ret;
			break;
		}
		if (ret) {
			/* A tail this module does not know: E2BIG. */
			op.out_result = ret;
			op.out_value_len = 0;
			op.out_version = 0;
		} else {
			op.out_result = snapmap_op_run(map, snap, writable,
						       &op);
		}
		done++;

		if (copy_to_user(uop + SNAPMAP_BATCH_OUT_START,
				 (u8 *)&op + SNAPMAP_BATCH_OUT_START,
				 SNAPMAP_BATCH_OUT_LEN)) {
			err = -EFAULT;
			break;
		}
		/* No GET after it can read at the batch's version. */
		if (op.out_result == -ESTALE) {
			err = -ESTALE;
			break;
		}
		/* Stopping on an op's error is no error of the batch. */
		if (op.out_result && cmd->flags & SNAPMAP_BATCH_STOP_ON_ERROR)
			break;
		cond_resched();
	}
	if (snap)
		snapmap_snapshot_close(snap);

	cmd->out_done = done;
	/* After a fault too: the caller may learn how far the batch went. */
	ret = snapmap_respond(ucmd, sizeof(*cmd));
	return err ?: ret;
}

/* The smallest sizes of a transaction's entries: their first versions. */
#define SNAPMAP_TXN_COND_MIN_SIZE offsetofend(struct snapmap_txn_cond, version)
#define SNAPMAP_TXN_OP_MIN_SIZE offsetofend(struct snapmap_txn_op, value)
/* The largest: room for them to grow. */
#define SNAPMAP_TXN_ENTRY_MAX_SIZE 4096

/*
 * A transaction read from the caller: its conditions and writes, with
 * kernel pointers to their keys and to the conditions' values, all in
 * @bytes, and the user pointers of the writes' values in @values, which
 * the core reads straight into their versions (snapmap_txn_fill_user()).
 * The user pointers of the keys and of the conditions' values follow
 * those, for snapmap_txn_read().
 */
struct snapmap_txn_in {
	struct snapmap_txn_check *checks;
	struct snapmap_txn_write *writes;
	u64 *values;
	u8 *bytes;
};

/* Condition @i of @cmd into @check; its key and value are not read yet. */
static int snapmap_txn_read_cond(struct snapmap *map,
				 struct snapmap_array_reader *r, u32 i,
				 struct snapmap_txn_check *check,
				 u64 *key, u64 *value)
{
	struct snapmap_txn_cond c;
	int err;

	err = snapmap_array_read(r, i, &c, sizeof(c));
	if (err)
		return err;
	if (c.flags || (c.kind != SNAPMAP_TXN_IF_VALUE && c.value) ||
	    (c.kind != SNAPMAP_TXN_IF_VERSION && c.version))
		return -EINVAL;
	*check = (struct snapmap_txn_check) {
		.kind = c.kind,
		.key_len = c.key_len,
		.value_len = c.value_len,
		.version = c.version,
	};
	*key = c.key;
	*value = c.value;
	return snapmap_txn_check_entry(map, check);
}

/* Write @i of @cmd into @write; its key and value are not read yet. */
static int snapmap_txn_read_op(struct snapmap *map,
			       struct snapmap_array_reader *r, u32 i,
			       struct snapmap_txn_write *write,
			       u64 *key, u64 *value)
{
	struct snapmap_txn_op o;
	int err;

	err = snapmap_array_read(r, i, &o, sizeof(o));
	if (err)
		return err;
	if (o.flags || (o.opcode != SNAPMAP_TXN_PUT && o.value))
		return -EINVAL;
	*write = (struct snapmap_txn_write) {
		.opcode = o.opcode,
		.key_len = o.key_len,
		.value_len = o.value_len,
	};
	*key = o.key;
	*value = o.value;
	return snapmap_txn_check_write(map, write);
}

/*
 * Read and check every entry of @cmd in order, conditions first; then
 * read every key, and every condition's value, into @in->bytes.  On an
 * error, *@failed names the entry at fault.
 */
static int snapmap_txn_read(struct snapmap *map, const struct snapmap_txn *cmd,
			    struct snapmap_txn_in *in, unsigned int *failed)
{
	u32 nc = cmd->cond_count, nr = nc + cmd->op_count, i;
	u64 *keys = in->values + cmd->op_count, *cond_values = keys + nr;
	struct snapmap_array_reader r;
	size_t total = 0;
	u8 *pos;
	int err;

	snapmap_array_reader_init(&r, cmd->conds, nc, cmd->cond_size);
	for (i = 0; i < nr; i++) {
		if (i == nc)
			snapmap_array_reader_init(&r, cmd->ops, cmd->op_count,
						  cmd->op_size);
		if (i < nc) {
			err = snapmap_txn_read_cond(map, &r, i, &in->checks[i],
						    &keys[i], &cond_values[i]);
			total += in->checks[i].key_len +
				 in->checks[i].value_len;
		} else {
			err = snapmap_txn_read_op(map, &r, i - nc,
						  &in->writes[i - nc], &keys[i],
						  &in->values[i - nc]);
			total += in->writes[i - nc].key_len;
		}
		if (!err && total > SNAPMAP_TXN_MAX_BYTES)
			err = -EMSGSIZE;
		if (err) {
			*failed = i;
			return err;
		}
	}

	in->bytes = kvmalloc(total ?: 1, SNAPMAP_GFP_BUF);
	if (!in->bytes)
		return -ENOMEM;
	for (i = 0, pos = in->bytes; i < nr; i++) {
		u32 key_len = i < nc ? in->checks[i].key_len :
				       in->writes[i - nc].key_len;

		*failed = i;
		if (copy_from_user(pos, u64_to_user_ptr(keys[i]), key_len))
			return -EFAULT;
		if (i < nc)
			in->checks[i].key = pos;
		else
			in->writes[i - nc].key = pos;
		pos += key_len;
		if (i >= nc)
			continue;
		if (copy_from_user(pos, u64_to_user_ptr(cond_values[i]),
				   in->checks[i].value_len))
			return -EFAULT;
		in->checks[i].value = pos;
		pos += in->checks[i].value_len;
	}
	*failed = SNAPMAP_TXN_NONE;
	return 0;
}

/* snapmap_txn_fill()'s callback: a write's value from the caller. */
static int snapmap_txn_fill_user(void *arg, unsigned int i, void *data,
				 u32 len)
{
	const u64 *values = arg;

	return copy_from_user(data, u64_to_user_ptr(values[i]), len) ?
	       -EFAULT : 0;
}

/*
 * SNAPMAP_IOC_TXN.  Checks the transaction itself first, then reads its
 * entries (snapmap_txn_read()), then lets the core run it, which reads
 * the writes' values.  out_failed and out_version are written back on
 * every error found after the argument itself checked out.
 */
static int snapmap_txn_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_txn *cmd = ucmd->cmd;
	struct snapmap *map = snapmap_ucmd_map(ucmd);
	u32 nr = cmd->cond_count + cmd->op_count;
	struct snapmap_txn_in in = {};
	unsigned int failed = SNAPMAP_TXN_NONE;
	u64 version = 0;
	void *entries;
	int err, ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	if (cmd->cond_count > SNAPMAP_TXN_MAX_CONDS ||
	    cmd->op_count > SNAPMAP_TXN_MAX_OPS ||
	    cmd->cond_size < SNAPMAP_TXN_COND_MIN_SIZE ||
	    cmd->cond_size > SNAPMAP_TXN_ENTRY_MAX_SIZE ||
	    cmd->op_size < SNAPMAP_TXN_OP_MIN_SIZE ||
	    cmd->op_size > SNAPMAP_TXN_ENTRY_MAX_SIZE)
		return -EINVAL;
	if (!snapmap_ucmd_writable(ucmd))
		return -EBADF;
	cmd->out_version = 0;
	cmd->out_failed = SNAPMAP_TXN_NONE;
	ret = snapmap_probe_answer(ucmd, sizeof(*cmd));
	if (ret)
		return ret;

	/*
	 * The entries, then the user pointers of the writes' values, of
	 * every key, and of the conditions' values.
	 */
	entries = kvmalloc(cmd->cond_count * sizeof(*in.checks) +
			   cmd->op_count * sizeof(*in.writes) +
			   2 * nr * sizeof(u64) + 1, SNAPMAP_GFP_BUF);
	if (!entries)
		return -ENOMEM;
	in.checks = entries;
	in.writes = (struct snapmap_txn_write *)(in.checks + cmd->cond_count);
	in.values = (u64 *)(in.writes + cmd->op_count);

	err = snapmap_txn_read(map, cmd, &in, &failed) ?:
	      snapmap_txn_fill(map, in.checks, cmd->cond_count, in.writes,
			       cmd->op_count, snapmap_txn_fill_user, in.values,
			       &version, &failed);
	kvfree(in.bytes);
	kvfree(entries);

	cmd->out_version = version;
	cmd->out_failed = failed;
	ret = snapmap_respond(ucmd, sizeof(*cmd));
	return err ?: ret;
}

static int snapmap_clear_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_clear *cmd = ucmd->cmd;
	int err;

	if (cmd->flags)
		return -EINVAL;
	if (!snapmap_ucmd_writable(ucmd))
		return -EBADF;
	err = snapmap_probe_answer(ucmd, sizeof(*cmd)) ?:
	      snapmap_clear(snapmap_ucmd_map(ucmd), &cmd->out_version);
	if (err)
		return err;
	return snapmap_respond(ucmd, sizeof(*cmd));
}

static int snapmap_info_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_info *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved || cmd->__reserved2)
		return -EINVAL;
	snapmap_get_info(snapmap_ucmd_map(ucmd), cmd);
	return snapmap_respond(ucmd, sizeof(*cmd));
}

/*
 * SNAPMAP_IOC_CREATE: a new map, and a read-write fd for it as the return.
 * The fd and its file come first: once the map is registered nothing can
 * fail, so a failed call never made a map that another process could have
 * opened by its name meanwhile.
 */
static int snapmap_create_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_create *cmd = ucmd->cmd;
	struct snapmap_attr attr = {};
	struct snapmap *map;
	struct file *file;
	int fd;

	/*
	 * The core checks the name and the limits, and that a persistent
	 * map has a name.
	 */
	if (cmd->flags & ~SNAPMAP_CREATE_MASK || cmd->__reserved ||
	    cmd->mode & ~SNAPMAP_MODE_MASK)
		return -EINVAL;
	fd = snapmap_map_fd_reserve(true, &file);
	if (fd < 0)
		return fd;

	attr.max_key_len = cmd->max_key_len;
	attr.max_value_len = cmd->max_value_len;
	attr.max_entries = cmd->max_entries;
	attr.max_bytes = cmd->max_bytes;
	attr.mode = cmd->mode;
	attr.name = cmd->name;
	attr.flags = cmd->flags;
	map = snapmap_create(&attr);
	if (IS_ERR(map)) {
		snapmap_map_fd_cancel(fd, file);
		return PTR_ERR(map);
	}
	snapmap_map_fd_bind(file, map);
	fd_install(fd, file);
	return fd;
}

/* SNAPMAP_IOC_OPEN: a new fd for a named map as the return. */
static int snapmap_open_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_open *cmd = ucmd->cmd;
	bool read_only = cmd->flags & SNAPMAP_OPEN_RDONLY;
	struct snapmap *map;
	struct file *file;
	int fd;

	if (cmd->flags & ~SNAPMAP_OPEN_MASK)
		return -EINVAL;
	/* Before the name, as for every command that returns a new fd. */
	fd = snapmap_map_fd_reserve(!read_only, &file);
	if (fd < 0)
		return fd;

	map = snapmap_open_named(cmd->name, read_only);
	if (IS_ERR(map)) {
		snapmap_map_fd_cancel(fd, file);
		return PTR_ERR(map);
	}
	snapmap_map_fd_bind(file, map);
	fd_install(fd, file);
	return fd;
}

/* SNAPMAP_IOC_DELETE: a name gone, and a persistent map's hold with it. */
static int snapmap_delete_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_delete *cmd = ucmd->cmd;

	if (cmd->flags)
		return -EINVAL;
	return snapmap_delete_named(cmd->name);
}

/*
 * Copy @n descriptions out, @desc_size bytes apart; a caller's larger
 * description gets its tail zeroed, a smaller one (of an older caller)
 * what it has room for.
 */
static int snapmap_copy_descs(u64 uptr, u32 desc_size,
			      const struct snapmap_map_desc *descs, u32 n)
{
	char __user *udesc = u64_to_user_ptr(uptr);
	size_t ksize = min_t(size_t, sizeof(*descs), desc_size);
	u32 i;

	for (i = 0; i < n; i++, udesc += desc_size) {
		if (copy_to_user(udesc, &descs[i], ksize))
			return -EFAULT;
		if (desc_size > ksize &&
		    clear_user(udesc + ksize, desc_size - ksize))
			return -EFAULT;
	}
	return 0;
}

/*
 * SNAPMAP_IOC_LIST: the named maps.  They are described into a kernel
 * buffer under the registry mutex and copied out after it, so that a
 * caller's faulting buffer never holds the mutex.
 */
static int snapmap_list_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_list *cmd = ucmd->cmd;
	bool all = cmd->flags & SNAPMAP_LIST_ALL;
	struct snapmap_map_desc *descs;
	bool admin;
	u32 room;
	int err;

	if (cmd->flags & ~SNAPMAP_LIST_MASK || cmd->__reserved)
		return -EINVAL;
	if (cmd->desc_size < SNAPMAP_MAP_DESC_SIZE_VER0 ||
	    cmd->desc_size > SNAPMAP_MAP_DESC_SIZE_MAX)
		return -EINVAL;
	/*
	 * Asked once, and quietly: lacking it narrows the listing to the
	 * caller's own maps, it refuses nothing.
	 */
	admin = all && ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);

	/*
	 * Maps created between counting and describing may not fit: count
	 * again with more room, so that the caller gets every description
	 * its room allows.
	 */
	room = min(cmd->count, snapmap_describe(NULL, 0, all, admin));
	for (;;) {
		descs = kvcalloc(room, sizeof(*descs), SNAPMAP_GFP_BUF);
		if (!descs && room)
			return -ENOMEM;
		cmd->out_count = snapmap_describe(descs, room, all, admin);
		if (cmd->out_count <= room || room == cmd->count)
			break;
		kvfree(descs);
		room = min(cmd->count, cmd->out_count);
	}
	room = min(room, cmd->out_count);
	err = snapmap_copy_descs(cmd->descs, cmd->desc_size, descs, room) ?:
	      snapmap_respond(ucmd, sizeof(*cmd));
	kvfree(descs);
	return err;
}

/*
 * Answer a command that makes a new file: write the answer, and only then,
 * once nothing can fail any more, install the file in @fd, which the
 * caller reserved.  Consumes @fd and @file.
 */
static int snapmap_respond_file(struct snapmap_ucmd *ucmd, unsigned int ksize,
				int fd, struct file *file)
{
	int err;

	err = snapmap_respond(ucmd, ksize);
	if (err) {
		put_unused_fd(fd);
		fput(file);
		return err;
	}
	fd_install(fd, file);
	return fd;
}

/*
 * SNAPMAP_IOC_SNAPSHOT: a new snapshot fd as the return.  Whatever can fail
 * comes before the snapshot takes its version, so that a failed call
 * leaves the map's version as it was.
 */
static int snapmap_snapshot_map_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_snapshot_arg *cmd = ucmd->cmd;
	struct snapmap_snapshot *snap;
	struct file *file;
	int fd, err;

	if (cmd->flags & ~SNAPMAP_SNAPSHOT_MASK)
		return -EINVAL;
	err = snapmap_probe_answer(ucmd, sizeof(*cmd));
	if (err)
		return err;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	snap = snapmap_snapshot_alloc(snapmap_ucmd_map(ucmd), cmd->flags);
	if (IS_ERR(snap)) {
		err = PTR_ERR(snap);
		goto err_fd;
	}
	file = snapmap_snapshot_file(snap);
	if (IS_ERR(file)) {
		snapmap_snapshot_close(snap);
		err = PTR_ERR(file);
		goto err_fd;
	}
	snapmap_snapshot_start(snap);
	snapmap_snapshot_version(snap, &cmd->out_version);
	return snapmap_respond_file(ucmd, sizeof(*cmd), fd, file);

err_fd:
	put_unused_fd(fd);
	return err;
}

/*
 * SNAPMAP_IOC_CLONE: a new map fd as the return.  Whatever can fail
 * before the copy comes first: the answer's write-back, the fd and its
 * file.  The clone is registered under its name only once it is complete,
 * so the only failure left after that is another thread unmapping the
 * argument meanwhile.
 */
static int snapmap_clone_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_clone *cmd = ucmd->cmd;
	struct snapmap_attr attr = {};
	struct snapmap *clone;
	struct file *file;
	int fd, err;

	if (cmd->flags || cmd->__reserved || cmd->mode & ~SNAPMAP_MODE_MASK)
		return -EINVAL;
	err = snapmap_probe_answer(ucmd, sizeof(*cmd));
	if (err)
		return err;
	fd = snapmap_map_fd_reserve(true, &file);
	if (fd < 0)
		return fd;

	attr.mode = cmd->mode;
	attr.name = cmd->name;
	clone = snapmap_clone(snapmap_ucmd_map(ucmd), &attr, &cmd->out_version);
	if (IS_ERR(clone)) {
		snapmap_map_fd_cancel(fd, file);
		return PTR_ERR(clone);
	}
	snapmap_map_fd_bind(file, clone);
	return snapmap_respond_file(ucmd, sizeof(*cmd), fd, file);
}

/*
 * SNAPMAP_IOC_WATCH: a new watch fd as the return, and with
 * SNAPMAP_WATCH_SNAPSHOT a snapshot fd in the answer.  The prefix, the
 * answer's write-back and the fds come before the watch starts; both fds
 * are installed only once nothing can fail any more.
 */
static int snapmap_watch_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_watch_arg *cmd = ucmd->cmd;
	struct snapmap *map = snapmap_ucmd_map(ucmd);
	bool want_snap = cmd->flags & SNAPMAP_WATCH_SNAPSHOT;
	struct snapmap_watch_attr attr = {
		.flags = cmd->flags,
		.since = cmd->since,
		.prefix_len = cmd->prefix_len,
		.buffer_bytes = cmd->buffer_bytes,
		.wakeup_bytes = cmd->wakeup_bytes,
	};
	struct snapmap_snapshot *snap = NULL;
	struct file *file, *sfile = NULL;
	struct snapmap_watch *watch;
	int fd, sfd = -1, err;
	void *prefix = NULL;

	err = snapmap_watch_check(map, &attr, want_snap);
	if (err)
		return err;
	if (attr.prefix_len) {
		/* Charged to the caller, as every buffer of a caller's. */
		prefix = kvmalloc(attr.prefix_len, SNAPMAP_GFP_BUF);
		if (!prefix)
			return -ENOMEM;
		if (copy_from_user(prefix, u64_to_user_ptr(cmd->prefix),
				   attr.prefix_len)) {
			kvfree(prefix);
			return -EFAULT;
		}
		attr.prefix = prefix;
	}
	cmd->out_snapshot_fd = -1;
	cmd->out_version = 0;
	err = snapmap_probe_answer(ucmd, sizeof(*cmd));
	if (err)
		goto out_prefix;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto out_prefix;
	}
	if (want_snap) {
		sfd = get_unused_fd_flags(O_CLOEXEC);
		if (sfd < 0) {
			err = sfd;
			goto out_fd;
		}
	}

	watch = snapmap_watch_open(map, &attr, &cmd->out_version,
				   want_snap ? &snap : NULL);
	if (IS_ERR(watch)) {
		err = PTR_ERR(watch);
		goto out_fd;
	}
	file = snapmap_watch_file(watch);
	if (IS_ERR(file)) {
		snapmap_watch_close(watch);
		err = PTR_ERR(file);
		goto out_snap;
	}
	if (snap) {
		sfile = snapmap_snapshot_file(snap);
		if (IS_ERR(sfile)) {
			err = PTR_ERR(sfile);
			fput(file);
			goto out_snap;
		}
		cmd->out_snapshot_fd = sfd;
	}
	err = snapmap_respond(ucmd, sizeof(*cmd));
	if (err) {
		fput(file);
		if (sfile)
			fput(sfile);
		goto out_fd;
	}
	if (sfile)
		fd_install(sfd, sfile);
	fd_install(fd, file);
	kvfree(prefix);
	return fd;

out_snap:
	if (snap)
		snapmap_snapshot_close(snap);
out_fd:
	if (sfd >= 0)
		put_unused_fd(sfd);
	put_unused_fd(fd);
out_prefix:
	kvfree(prefix);
	return err;
}

/* SNAPMAP_IOC_SNAPSHOT_INFO, on a snapshot fd. */
static int snapmap_snapshot_info_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_snapshot_info *cmd = ucmd->cmd;
	int err;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	err = snapmap_snapshot_get_info(ucmd->file->private_data, cmd);
	if (err)
		return err;
	return snapmap_respond(ucmd, sizeof(*cmd));
}

/* SNAPMAP_IOC_SNAPSHOT_GET, on a snapshot fd. */
static int snapmap_snapshot_get_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_snapshot *snap = ucmd->file->private_data;

	return snapmap_get_in(ucmd, snapmap_snapshot_map(snap), snap);
}

/* Records of a snapshot copied per read(2), unless one is bigger. */
#define SNAPMAP_READ_BUF (64 * 1024)

/* Where snapmap_snapshot_fd_read() copies records to. */
struct snapmap_read_dest {
	char __user *ubuf;
};

static int snapmap_read_copy(void *arg, const void *buf, size_t len)
{
	struct snapmap_read_dest *dest = arg;

	return copy_to_user(dest->ubuf, buf, len) ? -EFAULT : 0;
}

/**
 * snapmap_snapshot_fd_read() - read(2) on a snapshot fd
 * @file: the snapshot file
 * @ubuf: the caller's buffer
 * @count: its size
 * @ppos: the file position, which counts the bytes read since the last
 *        rewind
 *
 * Whole records only, as many as fit.  Records go through a kernel buffer
 * of %SNAPMAP_READ_BUF bytes, a chunk at a time; a larger one, up to the
 * map's longest record, is allocated only when the next record needs it,
 * so that maps with large limits but short records do not allocate (and
 * vfree(), which flushes every CPU's TLB) a large buffer on every read.
 * Each chunk of the caller's buffer is faulted in before any record is
 * taken for it, so that a bad buffer gets EFAULT; should the copy fail all
 * the same (the buffer was unmapped meanwhile), the chunk's records go
 * back to the snapshot.  A failed read loses no record, and a read that
 * fails after some chunks returns what they hold.
 *
 * Context: process context; may sleep.
 *
 * Return: bytes read; 0 at the end; -EMSGSIZE if @count cannot hold the
 * next record; -ESTALE; -EFAULT; -ENOMEM.  An error after some records
 * were read ends the read with those; the next read reports it.
 */
ssize_t snapmap_snapshot_fd_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct snapmap_snapshot *snap = file->private_data;
	size_t longest = max_t(size_t, SNAPMAP_READ_BUF,
			       snapmap_snapshot_max_record(snap));
	struct snapmap_read_dest dest;
	size_t size = 0, chunk, total = 0;
	void *kbuf = NULL;
	ssize_t len = 0;

	while (total < count) {
		chunk = min_t(size_t, count - total, SNAPMAP_READ_BUF);
		for (;;) {
			if (chunk > size) {
				kvfree(kbuf);
				size = chunk;
				kbuf = kvmalloc(size, SNAPMAP_GFP_BUF);
				if (!kbuf) {
					len = -ENOMEM;
					goto out;
				}
			}
			if (fault_in_safe_writeable(ubuf + total, chunk)) {
				len = -EFAULT;
				goto out;
			}
			dest.ubuf = ubuf + total;
			len = snapmap_snapshot_read_out(snap, kbuf, chunk,
							snapmap_read_copy,
							&dest);
			if (len != -EMSGSIZE || count - total <= chunk)
				break;
			/* The next record is longer: room for the longest. */
			chunk = min(count - total, longest);
		}
		if (len <= 0)
			break;
		total += len;
	}
out:
	kvfree(kbuf);
	if (!total)
		return len;
	*ppos += total;
	return total;
}

/* Where snapmap_watch_fd_read() copies records to, and how much it did. */
struct snapmap_watch_dest {
	char __user *ubuf;
	size_t size;
	size_t done;
};

/*
 * snapmap_watch_next()'s callback: one record, whole, or none.  A record
 * of the feed is laid out as read(2) yields it, padding included (feed.h),
 * and goes out in one copy; a TXN record is a header alone.
 */
static int snapmap_watch_copy(const struct snapmap_change *change,
			      const void *key, const void *value, void *arg)
{
	struct snapmap_watch_dest *dest = arg;
	size_t size = SNAPMAP_CHANGE_SIZE(change->key_len, change->value_len);

	/* Positive: stop, and leave the record for the next read. */
	if (size > dest->size - dest->done)
		return 1;
	if (copy_to_user(dest->ubuf + dest->done, change, size))
		return -EFAULT;
	dest->done += size;
	return 0;
}

/**
 * snapmap_watch_fd_read() - read(2) on a watch fd
 * @file: the watch file
 * @ubuf: the caller's buffer
 * @count: its size
 * @ppos: unused: a watch has no position
 *
 * Whole records only, as many as are ready and fit, copied straight from
 * the feed's records.  Unless the file is non-blocking, first waits until
 * the watch is ready: a record there, or as many as its wakeup_bytes asks
 * for.  A record that cannot be copied whole stays for the next read: a
 * fault loses none.
 *
 * Context: process context; may sleep.
 *
 * Return: bytes read; -EMSGSIZE if @count cannot hold the next record;
 * -EAGAIN; -ESTALE; -EFAULT; -ERESTARTSYS.  An error after some records
 * were read ends the read with those; the next read reports it.
 */
ssize_t snapmap_watch_fd_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct snapmap_watch *watch = snapmap_watch_from_file(file);
	struct snapmap_watch_dest dest = { .ubuf = ubuf, .size = count };
	int ret;

	for (;;) {
		if (!(file->f_flags & O_NONBLOCK)) {
			ret = snapmap_watch_wait(watch);
			if (ret)
				return ret;
		}
		ret = snapmap_watch_next(watch, snapmap_watch_copy, &dest);
		if (dest.done)
			return dest.done;
		if (ret)
			return ret > 0 ? -EMSGSIZE : ret;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
	}
}

static int snapmap_api_ioctl(struct snapmap_ucmd *ucmd);

static const struct snapmap_ioctl_op snapmap_ctl_ops[] = {
	SNAPMAP_IOCTL_OP(API, snapmap_api_ioctl, struct snapmap_api, out_ioctls),
	SNAPMAP_IOCTL_OP(CREATE, snapmap_create_ioctl, struct snapmap_create,
			 name),
	SNAPMAP_IOCTL_OP(OPEN, snapmap_open_ioctl, struct snapmap_open, name),
	SNAPMAP_IOCTL_OP(LIST, snapmap_list_ioctl, struct snapmap_list,
			 __reserved),
	SNAPMAP_IOCTL_OP(DELETE, snapmap_delete_ioctl, struct snapmap_delete,
			 name),
};

static const struct snapmap_ioctl_op snapmap_map_ops[] = {
	SNAPMAP_IOCTL_OP(GET, snapmap_get_ioctl, struct snapmap_get,
			 out_version),
	SNAPMAP_IOCTL_OP(PUT, snapmap_put_ioctl, struct snapmap_put,
			 out_version),
	SNAPMAP_IOCTL_OP(DEL, snapmap_del_ioctl, struct snapmap_del,
			 out_version),
	SNAPMAP_IOCTL_OP(BATCH, snapmap_batch_ioctl, struct snapmap_batch,
			 __reserved),
	SNAPMAP_IOCTL_OP(CLEAR, snapmap_clear_ioctl, struct snapmap_clear,
			 out_version),
	SNAPMAP_IOCTL_OP(INFO, snapmap_info_ioctl, struct snapmap_info,
			 out_name),
	SNAPMAP_IOCTL_OP(SNAPSHOT, snapmap_snapshot_map_ioctl,
			 struct snapmap_snapshot_arg, out_version),
	SNAPMAP_IOCTL_OP(CLONE, snapmap_clone_ioctl, struct snapmap_clone,
			 name),
	SNAPMAP_IOCTL_OP(TXN, snapmap_txn_ioctl, struct snapmap_txn,
			 __reserved),
	SNAPMAP_IOCTL_OP(WATCH, snapmap_watch_ioctl, struct snapmap_watch_arg,
			 out_version),
};

static const struct snapmap_ioctl_op snapmap_snapshot_ops[] = {
	SNAPMAP_IOCTL_OP(SNAPSHOT_INFO, snapmap_snapshot_info_ioctl,
			 struct snapmap_snapshot_info, __reserved),
	SNAPMAP_IOCTL_OP(SNAPSHOT_GET, snapmap_snapshot_get_ioctl,
			 struct snapmap_get, out_version),
};

/* Bit 1 << nr for every command of one table. */
static u64 snapmap_ops_mask(const struct snapmap_ioctl_op *ops,
			    unsigned int nr_ops)
{
	u64 mask = 0;
	unsigned int i;

	for (i = 0; i < nr_ops; i++)
		if (ops[i].execute)
			mask |= BIT_ULL(i);
	return mask;
}

/* Bit 1 << nr for every command any kind of snapmap fd accepts. */
static u64 snapmap_supported_ioctls(void)
{
	return snapmap_ops_mask(snapmap_ctl_ops,
				ARRAY_SIZE(snapmap_ctl_ops)) |
	       snapmap_ops_mask(snapmap_map_ops,
				ARRAY_SIZE(snapmap_map_ops)) |
	       snapmap_ops_mask(snapmap_snapshot_ops,
				ARRAY_SIZE(snapmap_snapshot_ops));
}

static int snapmap_api_ioctl(struct snapmap_ucmd *ucmd)
{
	struct snapmap_api *cmd = ucmd->cmd;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	cmd->out_abi_version = SNAPMAP_ABI_VERSION;
	cmd->out_features = SNAPMAP_FEATURES;
	cmd->out_ioctls = snapmap_supported_ioctls();
	return snapmap_respond(ucmd, sizeof(*cmd));
}

static long snapmap_dispatch(struct file *file, unsigned int cmd,
			     unsigned long arg,
			     const struct snapmap_ioctl_op *ops,
			     unsigned int nr_ops)
{
	const struct snapmap_ioctl_op *op;
	union snapmap_ucmd_buffer buf;
	struct snapmap_ucmd ucmd = {
		.file = file,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	int err;

	if (_IOC_TYPE(cmd) != SNAPMAP_IOC_TYPE || nr >= nr_ops)
		return -ENOIOCTLCMD;
	op = &ops[nr];
	/*
	 * The size bits are informational, the direction bits part of the
	 * number; see "ABI conventions".
	 */
	if (!op->execute || (op->cmd & ~IOCSIZE_MASK) != (cmd & ~IOCSIZE_MASK))
		return -ENOIOCTLCMD;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	err = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (err)
		return err;
	return op->execute(&ucmd);
}

/**
 * snapmap_ctl_ioctl() - ioctl on the control fd (an open /dev/snapmap)
 * @file: the control file
 * @cmd: command number
 * @arg: user pointer to the command's structure
 *
 * Context: process context; may sleep.
 *
 * Return: 0 or, for %SNAPMAP_IOC_CREATE and %SNAPMAP_IOC_OPEN, a new map fd;
 * a negative errno as the uapi header's "errno values" says; -ENOIOCTLCMD
 * (ENOTTY in user space) for a command the control fd does not know.
 */
long snapmap_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return snapmap_dispatch(file, cmd, arg, snapmap_ctl_ops,
				ARRAY_SIZE(snapmap_ctl_ops));
}

/**
 * snapmap_map_ioctl() - ioctl on a map fd
 * @file: the map file
 * @cmd: command number
 * @arg: user pointer to the command's structure
 *
 * Write commands need a map fd opened for writing (FMODE_WRITE).
 *
 * Context: process context; may sleep.
 *
 * Return: 0, or a negative errno as the uapi header's "errno values" says;
 * -ENOIOCTLCMD (ENOTTY in user space) for a command a map fd does not know.
 */
long snapmap_map_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return snapmap_dispatch(file, cmd, arg, snapmap_map_ops,
				ARRAY_SIZE(snapmap_map_ops));
}

/**
 * snapmap_snapshot_ioctl() - ioctl on a snapshot fd
 * @file: the snapshot file
 * @cmd: command number
 * @arg: user pointer to the command's structure
 *
 * Context: process context; may sleep.
 *
 * Return: 0, or a negative errno as the uapi header's "errno values" says;
 * -ENOIOCTLCMD (ENOTTY in user space) for a command a snapshot fd does not
 * know.
 */
long snapmap_snapshot_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	return snapmap_dispatch(file, cmd, arg, snapmap_snapshot_ops,
				ARRAY_SIZE(snapmap_snapshot_ops));
}

/**
 * snapmap_build_check_abi() - prove at build time that no uapi structure
 * has a hole
 *
 * Every member's size is added up by hand: a hole or a trailing pad makes
 * the sum differ from sizeof(), and the build fails.  A hole would leak
 * kernel stack to user space and would differ between 32-bit and 64-bit
 * callers.  The sizes themselves are pinned too: they are the ABI.
 */
void snapmap_build_check_abi(void)
{
	struct snapmap_snapshot_info snapshot_info;
	struct snapmap_snapshot_arg snapshot;
	struct snapmap_batch_op batch_op;
	struct snapmap_txn_cond txn_cond;
	struct snapmap_txn_op txn_op;
	struct snapmap_create create;
	struct snapmap_watch_arg watch;
	struct snapmap_change change;
	struct snapmap_record record;
	struct snapmap_map_desc map_desc;
	struct snapmap_clone clone;
	struct snapmap_batch batch;
	struct snapmap_clear clear;
	struct snapmap_txn txn;
	struct snapmap_delete delete;
	struct snapmap_open open;
	struct snapmap_list list;
	struct snapmap_info info;
	struct snapmap_api api;
	struct snapmap_get get;
	struct snapmap_put put;
	struct snapmap_del del;
	size_t size;

	size = sizeof(api.size) + sizeof(api.flags) +
	       sizeof(api.out_abi_version) + sizeof(api.__reserved) +
	       sizeof(api.out_features) + sizeof(api.out_ioctls);
	BUILD_BUG_ON(sizeof(api) != size);
	BUILD_BUG_ON(sizeof(api) != 32);

	size = sizeof(create.size) + sizeof(create.flags) +
	       sizeof(create.max_key_len) + sizeof(create.max_value_len) +
	       sizeof(create.max_entries) + sizeof(create.max_bytes) +
	       sizeof(create.mode) + sizeof(create.__reserved) +
	       sizeof(create.name);
	BUILD_BUG_ON(sizeof(create) != size);
	BUILD_BUG_ON(sizeof(create) != 104);

	size = sizeof(open.size) + sizeof(open.flags) + sizeof(open.name);
	BUILD_BUG_ON(sizeof(open) != size);
	BUILD_BUG_ON(sizeof(open) != 72);

	size = sizeof(delete.size) + sizeof(delete.flags) +
	       sizeof(delete.name);
	BUILD_BUG_ON(sizeof(delete) != size);
	BUILD_BUG_ON(sizeof(delete) != 72);

	size = sizeof(map_desc.uid) + sizeof(map_desc.gid) +
	       sizeof(map_desc.mode) + sizeof(map_desc.__reserved) +
	       sizeof(map_desc.name) + sizeof(map_desc.id) +
	       sizeof(map_desc.map_flags) + sizeof(map_desc.__reserved2);
	BUILD_BUG_ON(sizeof(map_desc) != size);
	BUILD_BUG_ON(sizeof(map_desc) != 96);
	BUILD_BUG_ON(offsetof(struct snapmap_map_desc, id) !=
		     SNAPMAP_MAP_DESC_SIZE_VER0);

	size = sizeof(list.size) + sizeof(list.flags) + sizeof(list.count) +
	       sizeof(list.desc_size) + sizeof(list.descs) +
	       sizeof(list.out_count) + sizeof(list.__reserved);
	BUILD_BUG_ON(sizeof(list) != size);
	BUILD_BUG_ON(sizeof(list) != 32);

	size = sizeof(get.size) + sizeof(get.flags) + sizeof(get.key_len) +
	       sizeof(get.value_buf_len) + sizeof(get.key) +
	       sizeof(get.value) + sizeof(get.out_value_len) +
	       sizeof(get.__reserved) + sizeof(get.out_version);
	BUILD_BUG_ON(sizeof(get) != size);
	BUILD_BUG_ON(sizeof(get) != 48);

	size = sizeof(put.size) + sizeof(put.flags) + sizeof(put.key_len) +
	       sizeof(put.value_len) + sizeof(put.key) + sizeof(put.value) +
	       sizeof(put.version) + sizeof(put.out_version);
	BUILD_BUG_ON(sizeof(put) != size);
	BUILD_BUG_ON(sizeof(put) != 48);

	size = sizeof(del.size) + sizeof(del.flags) + sizeof(del.key_len) +
	       sizeof(del.__reserved) + sizeof(del.key) + sizeof(del.version) +
	       sizeof(del.out_version);
	BUILD_BUG_ON(sizeof(del) != size);
	BUILD_BUG_ON(sizeof(del) != 40);

	size = sizeof(batch_op.opcode) + sizeof(batch_op.flags) +
	       sizeof(batch_op.key_len) + sizeof(batch_op.value_len) +
	       sizeof(batch_op.key) + sizeof(batch_op.value) +
	       sizeof(batch_op.version) + sizeof(batch_op.out_result) +
	       sizeof(batch_op.out_value_len) + sizeof(batch_op.out_version);
	BUILD_BUG_ON(sizeof(batch_op) != size);
	BUILD_BUG_ON(sizeof(batch_op) != 56);
	/* A batch writes the out_* members of an op back in one piece. */
	BUILD_BUG_ON(SNAPMAP_BATCH_OUT_LEN !=
		     sizeof(batch_op.out_result) +
		     sizeof(batch_op.out_value_len) +
		     sizeof(batch_op.out_version));

	size = sizeof(batch.size) + sizeof(batch.flags) + sizeof(batch.count) +
	       sizeof(batch.op_size) + sizeof(batch.ops) +
	       sizeof(batch.out_done) + sizeof(batch.__reserved) +
	       sizeof(batch.out_version);
	BUILD_BUG_ON(sizeof(batch) != size);
	BUILD_BUG_ON(sizeof(batch) != 40);

	size = sizeof(txn_cond.kind) + sizeof(txn_cond.flags) +
	       sizeof(txn_cond.key_len) + sizeof(txn_cond.value_len) +
	       sizeof(txn_cond.key) + sizeof(txn_cond.value) +
	       sizeof(txn_cond.version);
	BUILD_BUG_ON(sizeof(txn_cond) != size);
	BUILD_BUG_ON(sizeof(txn_cond) != 40);

	size = sizeof(txn_op.opcode) + sizeof(txn_op.flags) +
	       sizeof(txn_op.key_len) + sizeof(txn_op.value_len) +
	       sizeof(txn_op.key) + sizeof(txn_op.value);
	BUILD_BUG_ON(sizeof(txn_op) != size);
	BUILD_BUG_ON(sizeof(txn_op) != 32);

	size = sizeof(txn.size) + sizeof(txn.flags) + sizeof(txn.cond_count) +
	       sizeof(txn.cond_size) + sizeof(txn.op_count) +
	       sizeof(txn.op_size) + sizeof(txn.conds) + sizeof(txn.ops) +
	       sizeof(txn.out_version) + sizeof(txn.out_failed) +
	       sizeof(txn.__reserved);
	BUILD_BUG_ON(sizeof(txn) != size);
	BUILD_BUG_ON(sizeof(txn) != 56);

	size = sizeof(clear.size) + sizeof(clear.flags) +
	       sizeof(clear.out_version);
	BUILD_BUG_ON(sizeof(clear) != size);
	BUILD_BUG_ON(sizeof(clear) != 16);

	size = sizeof(info.size) + sizeof(info.flags) +
	       sizeof(info.out_max_key_len) + sizeof(info.out_max_value_len) +
	       sizeof(info.out_max_entries) + sizeof(info.out_max_bytes) +
	       sizeof(info.out_entries) + sizeof(info.out_bytes) +
	       sizeof(info.out_version) + sizeof(info.out_gets) +
	       sizeof(info.out_puts) + sizeof(info.out_dels) +
	       sizeof(info.out_uid) + sizeof(info.out_gid) +
	       sizeof(info.out_mode) + sizeof(info.__reserved) +
	       sizeof(info.out_name) + sizeof(info.out_id) +
	       sizeof(info.out_snapshots) + sizeof(info.out_stale_snapshots) +
	       sizeof(info.out_invalidated) + sizeof(info.out_pinned_bytes) +
	       sizeof(info.out_map_flags) + sizeof(info.__reserved2);
	BUILD_BUG_ON(sizeof(info) != size);
	BUILD_BUG_ON(sizeof(info) != 200);
	BUILD_BUG_ON(offsetofend(struct snapmap_info, out_name) !=
		     SNAPMAP_INFO_SIZE_VER0);

	size = sizeof(snapshot.size) + sizeof(snapshot.flags) +
	       sizeof(snapshot.out_version);
	BUILD_BUG_ON(sizeof(snapshot) != size);
	BUILD_BUG_ON(sizeof(snapshot) != 16);

	size = sizeof(snapshot_info.size) + sizeof(snapshot_info.flags) +
	       sizeof(snapshot_info.out_version) +
	       sizeof(snapshot_info.out_entries) +
	       sizeof(snapshot_info.out_bytes) +
	       sizeof(snapshot_info.out_snapshot_flags) +
	       sizeof(snapshot_info.__reserved);
	BUILD_BUG_ON(sizeof(snapshot_info) != size);
	BUILD_BUG_ON(sizeof(snapshot_info) != 40);

	size = sizeof(clone.size) + sizeof(clone.flags) + sizeof(clone.mode) +
	       sizeof(clone.__reserved) + sizeof(clone.out_version) +
	       sizeof(clone.name);
	BUILD_BUG_ON(sizeof(clone) != size);
	BUILD_BUG_ON(sizeof(clone) != 88);

	size = sizeof(record.key_len) + sizeof(record.value_len) +
	       sizeof(record.version);
	BUILD_BUG_ON(sizeof(record) != size);
	BUILD_BUG_ON(sizeof(record) != 16);

	size = sizeof(watch.size) + sizeof(watch.flags) + sizeof(watch.since) +
	       sizeof(watch.prefix) + sizeof(watch.prefix_len) +
	       sizeof(watch.out_snapshot_fd) + sizeof(watch.buffer_bytes) +
	       sizeof(watch.out_version) + sizeof(watch.wakeup_bytes);
	BUILD_BUG_ON(sizeof(watch) != size);
	BUILD_BUG_ON(sizeof(watch) != 56);
	BUILD_BUG_ON(offsetofend(struct snapmap_watch_arg, out_version) !=
		     SNAPMAP_WATCH_ARG_SIZE_VER0);

	size = sizeof(change.type) + sizeof(change.key_len) +
	       sizeof(change.value_len) + sizeof(change.count) +
	       sizeof(change.version);
	BUILD_BUG_ON(sizeof(change) != size);
	BUILD_BUG_ON(sizeof(change) != 24);

	/* Every command's bit fits in &snapmap_api.out_ioctls. */
	BUILD_BUG_ON(ARRAY_SIZE(snapmap_ctl_ops) > 64);
	BUILD_BUG_ON(ARRAY_SIZE(snapmap_map_ops) > 64);
	BUILD_BUG_ON(ARRAY_SIZE(snapmap_snapshot_ops) > 64);
}
