/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the snapmap selftests.
 */

#ifndef _SNAPMAP_TEST_H
#define _SNAPMAP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/snapmap.h>

#include "kselftest_harness.h"

#define SNAPMAP_DEV "/dev/snapmap"

/* Expect @call to fail with errno @expected. */
#define EXPECT_ERRNO(expected, call)					\
	do {								\
		errno = 0;						\
		EXPECT_EQ(-1, call);					\
		EXPECT_EQ(expected, errno);				\
	} while (0)

#define ASSERT_ERRNO(expected, call)					\
	do {								\
		errno = 0;						\
		ASSERT_EQ(-1, call);					\
		ASSERT_EQ(expected, errno);				\
	} while (0)

static inline int snapmap_open_ctl(void)
{
	return open(SNAPMAP_DEV, O_RDWR | O_CLOEXEC);
}

#endif /* _SNAPMAP_TEST_H */
