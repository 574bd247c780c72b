/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the snapmap selftests.
 */

#ifndef _SNAPMAP_TEST_H
#define _SNAPMAP_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/snapmap.h>

#include "kselftest_harness.h"

/*
 * The 6.1 harness's SKIP() gets two cases wrong, both of which let a check
 * pass by skipping:
 *
 * - after a failed EXPECT_*(), SKIP() marks the test passed and skipped,
 *   so the failure is reported as "ok ... # SKIP";
 * - a SKIP() in FIXTURE_SETUP() returns from the setup as passed, so the
 *   harness runs the test's body on a fixture that was never set up, and
 *   whatever fails there is reported as a skip too.
 *
 * Every test includes this header, so SKIP() here is a wrapper around the
 * harness's own: after a failure it only logs the reason and the test
 * stays failed; in a fixture's setup it ends the test, skipped, without
 * running the body (nor the teardown, as after an ASSERT_*() in a setup:
 * a setup that may skip does so before it changes anything).
 */
static inline void sm_harness_skip(struct __test_metadata *_metadata,
				   const char *reason)
{
	SKIP(return, "%s", reason);
}

/* A SKIP() of a test that has not failed so far. */
static inline void sm_skip(struct __test_metadata *_metadata,
			   const char *reason)
{
	sm_harness_skip(_metadata, reason);
	/* The harness sets this once the setup has returned. */
	if (!_metadata->setup_completed)
		longjmp(_metadata->env, 1);
}

#undef SKIP
#define SKIP(statement, fmt, ...) do {					\
	char __sm_reason[sizeof(_metadata->results->reason)];		\
									\
	snprintf(__sm_reason, sizeof(__sm_reason), fmt, ##__VA_ARGS__);	\
	if (_metadata->passed)						\
		sm_skip(_metadata, __sm_reason);			\
	else								\
		TH_LOG("SKIP after a failure, which stands: %s",	\
		       __sm_reason);					\
	statement;							\
} while (0)

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

/*
 * Map helpers.  Each issues one ioctl and returns 0 (or the new fd) on
 * success and -errno on failure, so that a test reads
 * EXPECT_EQ(-ENOENT, sm_get(...)).  Output pointers may be NULL.
 */

#define SM_PTR(p) ((__u64)(uintptr_t)(p))

/* The directory of the module's parameters, read by sm_param(). */
#define SNAPMAP_PARAM_DIR "/sys/module/snapmap/parameters/"

static inline int sm_ret(int ret)
{
	return ret < 0 ? -errno : ret;
}

/* Copy @name into a zeroed name member, cut to fit with its NUL. */
static inline void sm_copy_name(char *dst, const char *name)
{
	size_t len = strnlen(name, SNAPMAP_NAME_LEN - 1);

	memcpy(dst, name, len);
}

/* CREATE on @ctl with the given limits (0: the module's default). */
static inline int sm_create(int ctl, __u32 max_key_len, __u32 max_value_len,
			    __u64 max_entries, __u64 max_bytes, __u32 mode,
			    const char *name)
{
	struct snapmap_create arg = {
		.size = sizeof(arg),
		.max_key_len = max_key_len,
		.max_value_len = max_value_len,
		.max_entries = max_entries,
		.max_bytes = max_bytes,
		.mode = mode,
	};

	if (name)
		sm_copy_name(arg.name, name);
	return sm_ret(ioctl(ctl, SNAPMAP_IOC_CREATE, &arg));
}

/* An unnamed map with the module's default limits. */
static inline int sm_create_default(int ctl)
{
	return sm_create(ctl, 0, 0, 0, 0, 0, NULL);
}

/* OPEN by name on @ctl with SNAPMAP_OPEN_* @flags. */
static inline int sm_open(int ctl, const char *name, __u32 flags)
{
	struct snapmap_open arg = { .size = sizeof(arg), .flags = flags };

	sm_copy_name(arg.name, name);
	return sm_ret(ioctl(ctl, SNAPMAP_IOC_OPEN, &arg));
}

/*
 * SNAPMAP_IOC_GET on a map fd, or SNAPMAP_IOC_SNAPSHOT_GET on a snapshot
 * fd (@request): the value of @key into @buf.
 */
static inline int sm_get_ioctl(int fd, unsigned long request, const void *key,
			       __u32 key_len, void *buf, __u32 buf_len,
			       __u32 *value_len, __u64 *version)
{
	struct snapmap_get arg = {
		.size = sizeof(arg),
		.key_len = key_len,
		.value_buf_len = buf_len,
		.key = SM_PTR(key),
		.value = SM_PTR(buf),
	};
	int ret;

	ret = sm_ret(ioctl(fd, request, &arg));
	/* ERANGE reports the length and version as well. */
	if (ret == 0 || ret == -ERANGE) {
		if (value_len)
			*value_len = arg.out_value_len;
		if (version)
			*version = arg.out_version;
	}
	return ret;
}

static inline int sm_get(int fd, const void *key, __u32 key_len, void *buf,
			 __u32 buf_len, __u32 *value_len, __u64 *version)
{
	return sm_get_ioctl(fd, SNAPMAP_IOC_GET, key, key_len, buf, buf_len,
			    value_len, version);
}

/* SNAPMAP_IOC_SNAPSHOT_GET on the snapshot fd @sfd, as sm_get(). */
static inline int sm_snapshot_get(int sfd, const void *key, __u32 key_len,
				  void *buf, __u32 buf_len, __u32 *value_len,
				  __u64 *version)
{
	return sm_get_ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_GET, key, key_len, buf,
			    buf_len, value_len, version);
}

static inline int sm_put(int fd, __u32 flags, const void *key, __u32 key_len,
			 const void *value, __u32 value_len, __u64 version,
			 __u64 *out_version)
{
	struct snapmap_put arg = {
		.size = sizeof(arg),
		.flags = flags,
		.key_len = key_len,
		.value_len = value_len,
		.key = SM_PTR(key),
		.value = SM_PTR(value),
		.version = version,
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_PUT, &arg));
	if (ret == 0 && out_version)
		*out_version = arg.out_version;
	return ret;
}

static inline int sm_del(int fd, __u32 flags, const void *key, __u32 key_len,
			 __u64 version, __u64 *out_version)
{
	struct snapmap_del arg = {
		.size = sizeof(arg),
		.flags = flags,
		.key_len = key_len,
		.key = SM_PTR(key),
		.version = version,
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_DEL, &arg));
	if (ret == 0 && out_version)
		*out_version = arg.out_version;
	return ret;
}

static inline int sm_clear(int fd, __u64 *out_version)
{
	struct snapmap_clear arg = { .size = sizeof(arg) };
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_CLEAR, &arg));
	if (ret == 0 && out_version)
		*out_version = arg.out_version;
	return ret;
}

static inline int sm_info(int fd, struct snapmap_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return sm_ret(ioctl(fd, SNAPMAP_IOC_INFO, info));
}

/* Seconds on the monotonic clock. */
static inline double sm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long a test waits for the module to get where it must. */
#define SM_WAIT_SECONDS 20

/*
 * Wait until the map's bytes are @want, as they are once the module's
 * background work (the sweep after a snapshot closes, the freeing of what
 * a CLEAR deleted) is done: 0, or -ETIMEDOUT with the bytes in *@got.
 */
static inline int sm_wait_bytes(int fd, __u64 want, __u64 *got)
{
	double deadline = sm_now() + SM_WAIT_SECONDS;
	struct snapmap_info info;

	do {
		*got = sm_info(fd, &info) ? (__u64)-1 : info.out_bytes;
		if (*got == want)
			return 0;
		sched_yield();
	} while (sm_now() < deadline);
	return -ETIMEDOUT;
}

static inline int sm_batch(int fd, __u32 flags, struct snapmap_batch_op *ops,
			   __u32 count, __u32 *out_done)
{
	struct snapmap_batch arg = {
		.size = sizeof(arg),
		.flags = flags,
		.count = count,
		.op_size = sizeof(*ops),
		.ops = SM_PTR(ops),
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_BATCH, &arg));
	if (ret == 0 && out_done)
		*out_done = arg.out_done;
	return ret;
}

/* String keys and values, without their NUL. */
static inline int sm_put_str(int fd, const char *key, const char *value,
			     __u64 *out_version)
{
	return sm_put(fd, 0, key, strlen(key), value, strlen(value), 0,
		      out_version);
}

static inline int sm_del_str(int fd, const char *key, __u64 *out_version)
{
	return sm_del(fd, 0, key, strlen(key), 0, out_version);
}

/*
 * Issue @cmd on @fd with the @len bytes of a valid argument at @arg, but
 * with its size member set to @size and followed by 8 zero bytes, except
 * that the last byte @size covers is set to @tail_byte when @size is
 * larger than @len.  What the module wrote back is copied to @arg, and the
 * 8 bytes to @tail when it is not NULL.  Returns as sm_ret().
 */
static inline int sm_ioctl_sized(int fd, unsigned long cmd, void *arg,
				 size_t len, __u32 size, unsigned char tail_byte,
				 __u64 *tail)
{
	unsigned char buf[512] __attribute__((aligned(8)));
	int ret;

	if (len + 8 > sizeof(buf))
		abort();
	memset(buf, 0, sizeof(buf));
	memcpy(buf, arg, len);
	memcpy(buf, &size, sizeof(size));
	if (size > len && size <= len + 8)
		buf[size - 1] = tail_byte;
	ret = sm_ret(ioctl(fd, cmd, buf));
	memcpy(arg, buf, len);
	if (tail)
		memcpy(tail, buf + len, sizeof(*tail));
	return ret;
}

/*
 * Read the module parameter @name into @val: 0, or -errno (-ENOENT when
 * the module has no such parameter).
 */
static inline int sm_param(const char *name, unsigned long long *val)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SNAPMAP_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 0);
	return 0;
}

/*
 * Write @val to the module parameter @name: 0, or -errno (-ENOENT when the
 * module has no such parameter, -EACCES when it cannot be changed).
 */
static inline int sm_set_param(const char *name, unsigned long long val)
{
	char path[128], buf[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), SNAPMAP_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu\n", val);
	if (write(fd, buf, len) != len)
		ret = -errno ?: -EIO;
	close(fd);
	return ret;
}

/* Read the small text file at @path into @buf, NUL-terminated: 0 or -errno. */
static inline int sm_read_file(const char *path, char *buf, size_t size)
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

/*
 * A coverage table counts, per command number, how often each result
 * (0 or an errno) came back.  Print the results reached, per command.
 */
#define SM_COVER_CMDS 0x40

static inline void sm_cover_print(unsigned long long (*cover)[256])
{
	int i, e;

	printf("# coverage (command: result count, ...):\n");
	for (i = 0; i < SM_COVER_CMDS; i++) {
		bool any = false;

		for (e = 0; e < 256; e++) {
			if (!cover[i][e])
				continue;
			if (!any)
				printf("#   %#04x:", i);
			any = true;
			printf(" %s %llu", e ? strerrorname_np(e) ?: "?" : "ok",
			       cover[i][e]);
		}
		if (any)
			printf("\n");
	}
}

/* Write @text to the file at @path: 0, or -errno. */
static inline int sm_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(text);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* Why sm_memcg_create() made no cgroup when the kernel has none to give. */
#define SM_MEMCG_NO_CGROUP2 "cannot mount cgroup2"
#define SM_MEMCG_NO_CONTROLLER "no memory controller"

/*
 * A memory cgroup at @dir, under cgroup v2 (mounted if it is not yet),
 * limited to @max bytes if @max is not NULL: NULL, or why there is none.
 */
static inline const char *sm_memcg_create(const char *dir, const char *max)
{
	char path[256];
	struct stat st;

	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) &&
	    mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL))
		return SM_MEMCG_NO_CGROUP2;
	if (sm_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		return SM_MEMCG_NO_CONTROLLER;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return "cannot create a cgroup";
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	if (max && sm_write_file(path, max))
		return "cannot limit the cgroup";
	return NULL;
}

/*
 * Whether @why, from sm_memcg_create(), says that the kernel has no memory
 * cgroup (a reason to skip) rather than that the test could not make or
 * limit its own (a failure).
 */
static inline bool sm_memcg_missing(const char *why)
{
	return why && (!strcmp(why, SM_MEMCG_NO_CGROUP2) ||
		       !strcmp(why, SM_MEMCG_NO_CONTROLLER));
}

/* FNV-1a of @len bytes at @p: a checksum for what tests write. */
static inline __u32 sm_fnv1a(const unsigned char *p, size_t len)
{
	__u32 h = 2166136261U;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619U;
	}
	return h;
}

/* The fds the calling process has open, or -1. */
static inline int sm_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The lines of the debugfs list of maps (one per map, and a header). */
#define SNAPMAP_MAPS_FILE "/sys/kernel/debug/snapmap/maps"

static inline int sm_count_maps(void)
{
	FILE *f = fopen(SNAPMAP_MAPS_FILE, "r");
	int n = 0, c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/*
 * The counts above, for leak checks: a count that cannot be read fails
 * the test there, instead of two -1s comparing equal.  Not for fixture
 * teardowns, where an ASSERT would jump back into the test.
 */
#define SM_COUNT_FDS() sm_counted(_metadata, sm_count_fds(), "/proc/self/fd")
#define SM_COUNT_MAPS() sm_counted(_metadata, sm_count_maps(), SNAPMAP_MAPS_FILE)

static inline int sm_counted(struct __test_metadata *_metadata, int n,
			     const char *what)
{
	ASSERT_LE(0, n) {
		TH_LOG("cannot count the entries of %s", what);
	}
	return n;
}

/* Expect two snapmap_info of one map to show the same contents and usage. */
#define EXPECT_MAP_UNCHANGED(before, after)				\
	do {								\
		EXPECT_EQ((before).out_entries, (after).out_entries);	\
		EXPECT_EQ((before).out_bytes, (after).out_bytes);	\
		EXPECT_EQ((before).out_version, (after).out_version);	\
		EXPECT_EQ((before).out_puts, (after).out_puts);	\
		EXPECT_EQ((before).out_dels, (after).out_dels);	\
	} while (0)

/*
 * Expect GET of @key (@key_len bytes) on @fd to find the @value_len bytes
 * at @value (at most 1024), with version @version.
 */
#define EXPECT_VALUE(fd, key, key_len, value, value_len, version)	\
	do {								\
		unsigned char __buf[1024];				\
		__u32 __len = ~0U;					\
		__u64 __ver = 0;					\
		EXPECT_EQ(0, sm_get(fd, key, key_len, __buf,		\
				    sizeof(__buf), &__len, &__ver));	\
		EXPECT_EQ((__u32)(value_len), __len);			\
		if (__len == (__u32)(value_len)) {			\
			EXPECT_EQ(0, memcmp(__buf, value, __len));	\
		}							\
		EXPECT_EQ((__u64)(version), __ver);			\
	} while (0)

/* Exit status of a child of sm_run_as() that could not take its ids. */
#define SM_RUN_AS_NOCRED 254

/*
 * Run @fn(@arg) in a child process with all of its uids set to @uid, all of
 * its gids to @gid and its supplementary groups to the @ngroups at @groups,
 * and so without any capability when @uid is not 0.  Returns the child's
 * exit status (@fn's return value, 0 to 253), SM_RUN_AS_NOCRED if the ids
 * could not be set, or -1 if the child did not exit normally.  The child
 * must not use the harness's EXPECT or ASSERT: it reports through @fn's
 * return value or through shared memory.
 */
static inline int sm_run_as(uid_t uid, gid_t gid, size_t ngroups,
			    const gid_t *groups, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(ngroups, groups) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(SM_RUN_AS_NOCRED);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Snapshot and clone helpers, returning as the map helpers do.
 */

/* SNAPMAP_IOC_SNAPSHOT on the map fd @fd: a snapshot fd, or -errno. */
static inline int sm_snapshot(int fd, __u32 flags, __u64 *out_version)
{
	struct snapmap_snapshot_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_SNAPSHOT, &arg));
	if (ret >= 0 && out_version)
		*out_version = arg.out_version;
	return ret;
}

/* SNAPMAP_IOC_SNAPSHOT_INFO on the snapshot fd @sfd. */
static inline int sm_snapshot_info(int sfd, struct snapmap_snapshot_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return sm_ret(ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, info));
}

/* SNAPMAP_IOC_CLONE on the map fd @fd: a new map fd, or -errno. */
static inline int sm_clone(int fd, const char *name, __u32 mode,
			   __u64 *out_version)
{
	struct snapmap_clone arg = { .size = sizeof(arg), .mode = mode };
	int ret;

	if (name)
		sm_copy_name(arg.name, name);
	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_CLONE, &arg));
	if (ret >= 0 && out_version)
		*out_version = arg.out_version;
	return ret;
}

/*
 * SNAPMAP_IOC_WATCH on the map fd @fd: a watch fd, or -errno; the start
 * in *@out_version and, with SNAPMAP_WATCH_SNAPSHOT, the snapshot fd in
 * *@out_sfd (either may be NULL).
 */
static inline int sm_watch(int fd, __u32 flags, __u64 since,
			   const void *prefix, __u32 prefix_len,
			   __u64 buffer_bytes, __u64 *out_version, int *out_sfd)
{
	struct snapmap_watch_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.since = since,
		.prefix = SM_PTR(prefix),
		.prefix_len = prefix_len,
		.buffer_bytes = buffer_bytes,
	};
	int ret;

	ret = sm_ret(ioctl(fd, SNAPMAP_IOC_WATCH, &arg));
	if (ret >= 0 && out_version)
		*out_version = arg.out_version;
	if (ret >= 0 && out_sfd)
		*out_sfd = arg.out_snapshot_fd;
	return ret;
}

/* One record of a watch, pointing into the buffer it was read into. */
struct sm_change {
	struct snapmap_change hdr;
	const unsigned char *key;
	const unsigned char *value;
};

/*
 * Parse the change at the start of the @len bytes at @buf into @c.
 * Returns the record's size, or 0 when the bytes do not start with one
 * whole record whose padding is zero.
 */
static inline size_t sm_change_parse(const void *buf, size_t len,
				     struct sm_change *c)
{
	const unsigned char *p = buf;
	__u64 size, i;

	if (len < sizeof(c->hdr))
		return 0;
	memcpy(&c->hdr, p, sizeof(c->hdr));
	size = SNAPMAP_CHANGE_SIZE(c->hdr.key_len, c->hdr.value_len);
	if (size > len)
		return 0;
	for (i = sizeof(c->hdr) + (__u64)c->hdr.key_len + c->hdr.value_len;
	     i < size; i++)
		if (p[i])
			return 0;
	c->key = p + sizeof(c->hdr);
	c->value = c->key + c->hdr.key_len;
	return size;
}

/* One record of a snapshot, pointing into the buffer it was read into. */
struct sm_record {
	const unsigned char *key;
	const unsigned char *value;
	__u32 key_len;
	__u32 value_len;
	__u64 version;
};

/*
 * Parse the record at the start of the @len bytes at @buf into @rec.
 * Returns the record's size, or 0 when the bytes do not start with one
 * whole record whose padding is zero.
 */
static inline size_t sm_record_parse(const void *buf, size_t len,
				     struct sm_record *rec)
{
	const unsigned char *p = buf;
	struct snapmap_record hdr;
	__u64 size, i;

	if (len < sizeof(hdr))
		return 0;
	memcpy(&hdr, p, sizeof(hdr));
	size = SNAPMAP_RECORD_SIZE(hdr.key_len, hdr.value_len);
	if (size > len)
		return 0;
	for (i = sizeof(hdr) + (__u64)hdr.key_len + hdr.value_len; i < size;
	     i++)
		if (p[i])
			return 0;
	rec->key = p + sizeof(hdr);
	rec->value = rec->key + hdr.key_len;
	rec->key_len = hdr.key_len;
	rec->value_len = hdr.value_len;
	rec->version = hdr.version;
	return size;
}

/* Whether the @len bytes at @buf are whole, well-formed records. */
static inline int sm_records_whole(const void *buf, size_t len)
{
	struct sm_record rec;
	size_t off = 0, size;

	while (off < len) {
		size = sm_record_parse((const unsigned char *)buf + off,
				       len - off, &rec);
		if (!size)
			return 0;
		off += size;
	}
	return 1;
}

/*
 * Read what is left of the snapshot fd @sfd, with reads of @chunk bytes,
 * into a buffer allocated at *@bufp (free() it; set even when empty).
 * Returns the bytes read; -errno of the first read that failed; -EPROTO
 * if a read returned something that is not whole records; -ENOMEM.
 */
static inline ssize_t sm_read_all(int sfd, size_t chunk, void **bufp)
{
	size_t cap = chunk > 65536 ? chunk : 65536, used = 0;
	unsigned char *buf = malloc(cap), *p;
	unsigned long reads;
	ssize_t n;

	*bufp = NULL;
	if (!buf)
		return -ENOMEM;
	/* Every read but the last returns at least one record. */
	for (reads = 0; reads < (1UL << 26); reads++) {
		if (cap - used < chunk) {
			p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		n = read(sfd, buf + used, chunk);
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		if (!n)
			break;
		if ((size_t)n > chunk || !sm_records_whole(buf + used, n)) {
			free(buf);
			return -EPROTO;
		}
		used += n;
	}
	*bufp = buf;
	return used;
}

#endif /* _SNAPMAP_TEST_H */
