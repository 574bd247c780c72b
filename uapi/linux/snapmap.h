/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * snapmap - concurrent key/value map with point-in-time snapshots
 *
 * User space API of the /dev/snapmap character device.
 */

#ifndef _UAPI_LINUX_SNAPMAP_H
#define _UAPI_LINUX_SNAPMAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * DOC: ABI conventions
 *
 * Every ioctl takes a pointer to a structure whose first member is
 * ``__u32 size``, the size of the structure as the caller knows it.
 * Structures only ever grow at their end:
 *
 * - a caller built against an older header passes a smaller @size and the
 *   module treats the missing members as zero;
 * - a caller built against a newer header passes a larger @size and the
 *   module accepts it as long as every byte it does not know is zero.
 *
 * Members named ``out_*`` are written by the module, at most @size bytes of
 * the structure are written back.  Members named ``__reserved*`` must be
 * zero.  User pointers travel as ``__aligned_u64``.  Every structure has the
 * same layout for 32-bit and 64-bit callers.
 *
 * The size encoded in an ioctl command number is informational: the module
 * dispatches on the command's type and number and trusts the ``size``
 * member, so a structure can grow without a new command number.
 */

/**
 * DOC: errno values
 *
 * Errors common to every ioctl:
 *
 * ======== ==============================================================
 * ENOTTY   the command is not known on this kind of file descriptor
 * EFAULT   an argument pointer, or a pointer inside an argument, is not
 *          accessible
 * EINVAL   ``size`` is smaller than the smallest structure the command has
 *          ever accepted, an unknown flag is set, or a ``__reserved``
 *          member is not zero
 * E2BIG    ``size`` is larger than the module knows and a byte beyond the
 *          module's structure is not zero
 * ENOMEM   the module could not allocate memory; nothing was changed
 * ======== ==============================================================
 *
 * When several arguments are wrong, ``size`` is checked first (EINVAL
 * before E2BIG), then flags, then reserved members.
 */

/**
 * SNAPMAP_ABI_VERSION - version of this interface
 *
 * Raised whenever a command, flag or feature is added; reported by
 * %SNAPMAP_IOC_API.
 */
#define SNAPMAP_ABI_VERSION 1

/* The ioctl type byte of every snapmap command. */
#define SNAPMAP_IOC_TYPE 0xB7

/**
 * enum snapmap_cmd - snapmap command numbers
 * @SNAPMAP_CMD_API: handshake, on the control fd (ABI version 1)
 *
 * The bit ``1 << cmd`` of &snapmap_api.out_ioctls is set for every command
 * the running module implements.
 */
enum snapmap_cmd {
	SNAPMAP_CMD_API = 0x00
};

/**
 * struct snapmap_api - API handshake
 * @size: sizeof(struct snapmap_api)
 * @flags: must be zero
 * @out_abi_version: the module's %SNAPMAP_ABI_VERSION
 * @__reserved: must be zero
 * @out_features: bitmask of ``SNAPMAP_FEATURE_*`` the module supports
 * @out_ioctls: bitmask of supported commands, bit ``1 << SNAPMAP_CMD_*``
 *
 * Issued on the control fd (an open /dev/snapmap) before anything else, in
 * the manner of ``UFFDIO_API``, so that a program built against a newer
 * header can tell what the loaded module offers and degrade gracefully.
 */
struct snapmap_api {
	__u32 size;
	__u32 flags;
	__u32 out_abi_version;
	__u32 __reserved;
	__aligned_u64 out_features;
	__aligned_u64 out_ioctls;
};

#define SNAPMAP_IOC_API _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_API, \
			      struct snapmap_api)

#endif /* _UAPI_LINUX_SNAPMAP_H */
