/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the snapmap selftests.
 *
 * Writing n to /proc/thread-self/fail-nth makes the nth fault point the
 * calling thread reaches fail, whatever its kind: a slab allocation
 * (failslab), a page allocation (fail_page_alloc) or a copy from or to user
 * memory (fail_usercopy).  Whichever kind it was, that kind's debugfs
 * "times" counter drops by one, which tells the kinds apart.
 *
 * fault_setup() sets the debugfs knobs this needs and fault_teardown()
 * puts them back:
 *
 * - ignore-gfp-wait N: snapmap allocates with __GFP_DIRECT_RECLAIM, which
 *   failslab and fail_page_alloc leave alone by default;
 * - verbose 0: no message and no stack dump for an injected failure, which
 *   the test runner would take for a kernel splat;
 * - times high, to count with;
 * - the probabilities stay 0: nothing fails but the nth point.
 *
 * fail_page_alloc keeps its default min-order of 1 and ignore-gfp-highmem:
 * order-0 pages include user memory and its page tables, whose failure
 * would be the test program's own page fault rather than snapmap's.
 */

#ifndef _SNAPMAP_FAULT_H
#define _SNAPMAP_FAULT_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAULT_DEBUGFS "/sys/kernel/debug/"
#define FAULT_NTH "/proc/thread-self/fail-nth"
#define FAULT_TIMES 1000000000

enum fault_kind {
	FAULT_NONE,
	FAULT_SLAB,
	FAULT_PAGE,
	FAULT_USERCOPY,
	FAULT_OTHER,
	FAULT_KINDS
};

static const char *const fault_kind_names[FAULT_KINDS] = {
	[FAULT_NONE] = "none",
	[FAULT_SLAB] = "slab",
	[FAULT_PAGE] = "page",
	[FAULT_USERCOPY] = "usercopy",
	[FAULT_OTHER] = "other",
};

/* The debugfs directory of each kind of fault point. */
static const char *const fault_dirs[FAULT_KINDS] = {
	[FAULT_SLAB] = "failslab",
	[FAULT_PAGE] = "fail_page_alloc",
	[FAULT_USERCOPY] = "fail_usercopy",
};

struct fault_knob {
	char path[128];
	char saved[32];
};

struct fault {
	int nth;		/* /proc/thread-self/fail-nth */
	unsigned int nknobs;
	struct fault_knob knobs[16];
	long long times[FAULT_KINDS];
};

static inline int fault_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static inline int fault_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(value), n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	close(fd);
	return n == len ? 0 : -EIO;
}

/* Set the knob KIND's directory/@name to @value, remembering the old one. */
static inline int fault_set(struct fault *f, enum fault_kind kind,
			    const char *name, const char *value)
{
	struct fault_knob *k = &f->knobs[f->nknobs];

	if (f->nknobs == sizeof(f->knobs) / sizeof(f->knobs[0]))
		return -ENOSPC;
	snprintf(k->path, sizeof(k->path), FAULT_DEBUGFS "%s/%s",
		 fault_dirs[kind], name);
	if (fault_read(k->path, k->saved, sizeof(k->saved)))
		return -ENOENT;
	if (fault_write(k->path, value))
		return -EIO;
	f->nknobs++;
	return 0;
}

static inline void fault_teardown(struct fault *f)
{
	while (f->nknobs) {
		f->nknobs--;
		fault_write(f->knobs[f->nknobs].path, f->knobs[f->nknobs].saved);
	}
	if (f->nth >= 0)
		close(f->nth);
	f->nth = -1;
}

/*
 * Get fault injection ready for the calling thread.  Returns NULL, or why
 * the kernel cannot do it (a reason to skip).
 */
static inline const char *fault_setup(struct fault *f)
{
	char times[16];
	int kind;

	memset(f, 0, sizeof(*f));
	f->nth = open(FAULT_NTH, O_RDWR | O_CLOEXEC);
	if (f->nth < 0)
		return "no " FAULT_NTH " (CONFIG_FAULT_INJECTION)";
	snprintf(times, sizeof(times), "%d", FAULT_TIMES);
	for (kind = FAULT_SLAB; kind <= FAULT_USERCOPY; kind++) {
		if ((kind != FAULT_USERCOPY &&
		     fault_set(f, kind, "ignore-gfp-wait", "N")) ||
		    fault_set(f, kind, "verbose", "0") ||
		    fault_set(f, kind, "times", times)) {
			fault_teardown(f);
			return "no failslab, fail_page_alloc or fail_usercopy in debugfs";
		}
	}
	return NULL;
}

static inline long long fault_times(enum fault_kind kind)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), FAULT_DEBUGFS "%s/times",
		 fault_dirs[kind]);
	if (fault_read(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Make the calling thread's @n-th fault point from now on fail. */
static inline int fault_arm(struct fault *f, unsigned int n)
{
	char buf[16];
	int kind, len;

	for (kind = FAULT_SLAB; kind <= FAULT_USERCOPY; kind++)
		f->times[kind] = fault_times(kind);
	len = snprintf(buf, sizeof(buf), "%u", n);
	return pwrite(f->nth, buf, len, 0) == len ? 0 : -errno;
}

/*
 * Stop injecting.  Returns the kind of the point that failed since
 * fault_arm(), FAULT_NONE if the nth point was not reached, or -1.
 *
 * Reading and clearing fail-nth are fault points too while it is not 0
 * (the copies to and from user memory), as in the kernel's
 * iommufd_fail_nth.c: a read that fails with EFAULT means 1 was left,
 * so the call itself reached no failure.
 */
static inline int fault_disarm(struct fault *f)
{
	char buf[16] = "";
	ssize_t n;
	int kind;

	n = pread(f->nth, buf, sizeof(buf) - 1, 0);
	if (n < 0 && errno == EFAULT) {
		strcpy(buf, "1\n");
		n = 2;
	}
	if (pwrite(f->nth, "0", 1, 0) != 1 &&
	    (errno != EFAULT || pwrite(f->nth, "0", 1, 0) != 1))
		return -1;
	if (n <= 0)
		return -1;
	if (strtoul(buf, NULL, 10))
		return FAULT_NONE;
	for (kind = FAULT_SLAB; kind <= FAULT_USERCOPY; kind++)
		if (fault_times(kind) < f->times[kind])
			return kind;
	return FAULT_OTHER;
}

#endif /* _SNAPMAP_FAULT_H */
