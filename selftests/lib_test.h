/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the libsnapmap selftests (lib_*_test.c), which call
 * the library against the real module and check what it does with the
 * raw ioctls of snapmap_test.h.
 */

#ifndef _LIB_TEST_H
#define _LIB_TEST_H

#include <stddef.h>

#include <libsnapmap.h>

#include "snapmap_test.h"

/*
 * errno as a test sets it before a library call: no call of the library
 * ever sets it to this, so a success that left it changed shows.
 */
#define LIB_ERRNO_MARK 7777

/*
 * LIB() - call the library and check what it did with errno
 * @call: a call of a libsnapmap function returning int or long
 *
 * Evaluates to @call's result.  Every library call of the tests goes
 * through it, so that each success of every function is also a check
 * that errno was left as it was, and each failure a check that errno is
 * the error returned.
 */
#define LIB(call) ({							\
	long __lib_ret;							\
	errno = LIB_ERRNO_MARK;						\
	__lib_ret = (call);						\
	if (__lib_ret >= 0) {						\
		EXPECT_EQ(LIB_ERRNO_MARK, errno) {			\
			TH_LOG("%s changed errno on success", #call);	\
		}							\
	} else {							\
		EXPECT_EQ(-__lib_ret, errno) {				\
			TH_LOG("%s returned %ld, errno %d", #call,	\
			       __lib_ret, errno);			\
		}							\
	}								\
	__lib_ret;							\
})

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* Flags and counters shared between the threads of a test. */
#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

/* A map name no other test or process uses: "lib-<tag>-<pid>". */
static inline char *lib_name(char *buf, const char *tag)
{
	snprintf(buf, SNAPMAP_NAME_LEN, "lib-%s-%d", tag, (int)getpid());
	return buf;
}

/* Whether @fd is open and close-on-exec. */
static inline int lib_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC);
}

/*
 * Options structures as a program built against a newer header would
 * pass them: @sz bytes, with bytes past what this library knows.  Room
 * for any options structure of the library and 16 bytes more.
 */
union lib_big_opts {
	struct snapmap_create_opts create;
	struct snapmap_clone_opts clone;
	struct snapmap_snapshot_opts snapshot;
	unsigned char bytes[sizeof(struct snapmap_create_opts) + 16];
};

#endif /* _LIB_TEST_H */
