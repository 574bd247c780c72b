/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - what differs between the kernels snapmap builds for
 *
 * Each shim here names the release that changed the interface it covers;
 * the rest of the module uses the interface of the newest kernel and no
 * version check of its own.
 */

#ifndef _SNAPMAP_COMPAT_H
#define _SNAPMAP_COMPAT_H

/*
 * Linux 6.12 moved <asm/unaligned.h> to <linux/unaligned.h> and removed the
 * old name.  Kbuild says which one the kernel has (Debian 12's sparse
 * knows no __has_include()).
 */
#ifdef SNAPMAP_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#endif /* _SNAPMAP_COMPAT_H */
