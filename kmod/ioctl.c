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
 */

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/snapmap.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "ioctl.h"
#include "limits.h"

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
 * @execute: the handler; returns 0 or a negative errno
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
};

/* The table is indexed by command number: SNAPMAP_CMD_<name>. */
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

static int snapmap_api_ioctl(struct snapmap_ucmd *ucmd);

static const struct snapmap_ioctl_op snapmap_ctl_ops[] = {
	SNAPMAP_IOCTL_OP(API, snapmap_api_ioctl, struct snapmap_api, out_ioctls),
};

/* Bit 1 << nr for every command any kind of snapmap fd accepts. */
static u64 snapmap_supported_ioctls(void)
{
	u64 mask = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(snapmap_ctl_ops); i++)
		if (snapmap_ctl_ops[i].execute)
			mask |= BIT_ULL(i);
	return mask;
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

	if (nr >= nr_ops)
		return -ENOIOCTLCMD;
	op = &ops[nr];
	/* The size bits are informational; see "ABI conventions". */
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
 * Return: 0 or a negative errno; -ENOIOCTLCMD (ENOTTY in user space) for a
 * command the control fd does not know.
 */
long snapmap_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (_IOC_TYPE(cmd) != SNAPMAP_IOC_TYPE)
		return -ENOIOCTLCMD;
	return snapmap_dispatch(file, cmd, arg, snapmap_ctl_ops,
				ARRAY_SIZE(snapmap_ctl_ops));
}

/**
 * snapmap_build_check_abi() - prove at build time that no uapi structure
 * has a hole
 *
 * Every member's size is added up by hand: a hole or a trailing pad makes
 * the sum differ from sizeof(), and the build fails.  A hole would leak
 * kernel stack to user space and would differ between 32-bit and 64-bit
 * callers.
 */
void snapmap_build_check_abi(void)
{
	struct snapmap_api api;
	size_t size;

	size = sizeof(api.size) + sizeof(api.flags) +
	       sizeof(api.out_abi_version) + sizeof(api.__reserved) +
	       sizeof(api.out_features) + sizeof(api.out_ioctls);
	BUILD_BUG_ON(sizeof(api) != size);
	BUILD_BUG_ON(sizeof(api) != 32);
}
