/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - limits and masks derived from the uapi header
 *
 * Each mask is derived from the last flag of its family, so that adding a
 * flag to the uapi header means updating one line here.
 */

#ifndef _SNAPMAP_LIMITS_H
#define _SNAPMAP_LIMITS_H

#include <linux/snapmap.h>

/* Every SNAPMAP_FEATURE_* this module implements. */
#define SNAPMAP_FEATURES \
	(SNAPMAP_FEATURE_NAMED_MAPS | SNAPMAP_FEATURE_VERSIONS | \
	 SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS | SNAPMAP_FEATURE_CLONE | \
	 SNAPMAP_FEATURE_TXN | SNAPMAP_FEATURE_WATCH)

/* Permission bits of a map, as given to SNAPMAP_IOC_CREATE. */
#define SNAPMAP_MODE_MASK 0777

#define SNAPMAP_OPEN_LAST SNAPMAP_OPEN_RDONLY
#define SNAPMAP_OPEN_MASK ((SNAPMAP_OPEN_LAST << 1) - 1)

#define SNAPMAP_PUT_LAST SNAPMAP_PUT_IF_VERSION
#define SNAPMAP_PUT_MASK ((SNAPMAP_PUT_LAST << 1) - 1)
/* The PUT flags that make it conditional, of which at most one is set. */
#define SNAPMAP_PUT_COND_MASK \
	(SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST | SNAPMAP_PUT_IF_VERSION)

#define SNAPMAP_DEL_LAST SNAPMAP_DEL_IF_VERSION
#define SNAPMAP_DEL_MASK ((SNAPMAP_DEL_LAST << 1) - 1)

#define SNAPMAP_BATCH_LAST SNAPMAP_BATCH_SNAPSHOT
#define SNAPMAP_BATCH_MASK ((SNAPMAP_BATCH_LAST << 1) - 1)

#define SNAPMAP_SNAPSHOT_LAST SNAPMAP_SNAPSHOT_WEAK
#define SNAPMAP_SNAPSHOT_MASK ((SNAPMAP_SNAPSHOT_LAST << 1) - 1)

#define SNAPMAP_WATCH_LAST SNAPMAP_WATCH_SNAPSHOT
#define SNAPMAP_WATCH_MASK ((SNAPMAP_WATCH_LAST << 1) - 1)

#endif /* _SNAPMAP_LIMITS_H */
