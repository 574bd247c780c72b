/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap - limits and masks derived from the uapi header
 */

#ifndef _SNAPMAP_LIMITS_H
#define _SNAPMAP_LIMITS_H

#include <linux/snapmap.h>

/* Every SNAPMAP_FEATURE_* this module implements. */
#define SNAPMAP_FEATURES 0ULL

#endif /* _SNAPMAP_LIMITS_H */
