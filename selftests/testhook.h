/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmap selftests: the rig's test-only hooks (kmod/testhook.h), driven
 * through /sys/kernel/debug/snapmap/test/: pause points that stop a task
 * inside the module, and work counters.
 */

#ifndef _SNAPMAP_TESTHOOK_TEST_H
#define _SNAPMAP_TESTHOOK_TEST_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "snapmap_test.h"

#define HOOK_DIR "/sys/kernel/debug/snapmap/test/"
#define HOOK_PAUSE HOOK_DIR "pause"
#define HOOK_COUNTERS HOOK_DIR "counters"

/* The work counter @name, or -1 if it cannot be read. */
static inline long long counter(const char *name)
{
	char buf[256], *p;

	if (sm_read_file(HOOK_COUNTERS, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, name);
	if (!p || p[strlen(name)] != ' ')
		return -1;
	return strtoll(p + strlen(name) + 1, NULL, 10);
}

/* Wait until the armed pause point holds a task: 0, or -ETIMEDOUT. */
static inline int wait_paused(void)
{
	double deadline = sm_now() + SM_WAIT_SECONDS;
	char buf[64];

	while (sm_now() < deadline) {
		if (!sm_read_file(HOOK_PAUSE, buf, sizeof(buf)) &&
		    strstr(buf, " paused"))
			return 0;
		sched_yield();
	}
	return -ETIMEDOUT;
}

/* Arm the pause point @point for the task @tid (0: any task). */
static inline int arm(const char *point, pid_t tid)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "%s %d", point, tid);
	return sm_write_file(HOOK_PAUSE, cmd);
}

#endif /* _SNAPMAP_TESTHOOK_TEST_H */
