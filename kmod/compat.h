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

/*
 * Linux 6.8 added page_frag_cache_drain(); before, the cache's page was
 * given back with __page_frag_cache_drain() and the cache's own count.
 */
#ifndef SNAPMAP_HAVE_PAGE_FRAG_CACHE_DRAIN
#include <linux/gfp.h>
#include <linux/mm.h>

static inline void page_frag_cache_drain(struct page_frag_cache *nc)
{
	if (!nc->va)
		return;
	__page_frag_cache_drain(virt_to_head_page(nc->va), nc->pagecnt_bias);
	nc->va = NULL;
}
#endif

#endif /* _SNAPMAP_COMPAT_H */
