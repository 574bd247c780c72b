// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: snapshots as iterators.  Records are read(2) from the
 * snapshot fd into a buffer, as many as fit, and handed out one by one;
 * the buffer doubles when a record does not fit.  And lookups of one key
 * as a snapshot holds it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SNAPSHOT_BUF_SIZE (64 * 1024)

/**
 * struct snapmap_snapshot - an open snapshot and its read buffer
 * @fd: the snapshot fd
 * @flags: the SNAPMAP_SNAPSHOT_* flags it was taken with
 * @version: its version, 0 for a WEAK snapshot
 * @buf: records read and not all handed out yet
 * @size: size of @buf
 * @pos: offset in @buf of the next record to hand out
 * @len: bytes read into @buf
 * @err: 0, or the error every call gets until a rewind: the records
 *       read could not be parsed, and going on would skip some
 */
struct snapmap_snapshot {
	int fd;
	__u32 flags;
	__u64 version;
	unsigned char *buf;
	size_t size;
	size_t pos;
	size_t len;
	int err;
};

static int snapshot_open(int map_fd, const struct snapmap_snapshot_opts *opts,
			 struct snapmap_snapshot **snapp)
{
	struct snapmap_snapshot_arg arg;
	struct snapmap_snapshot *snap;
	size_t size;
	int ret;

	ret = OPTS_VALID(opts, snapmap_snapshot_opts);
	if (ret)
		return ret;
	size = OPTS_GET(opts, buf_size, 0) ?: SNAPSHOT_BUF_SIZE;
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	/* Allocated now, so that a buffer too big fails here. */
	snap->buf = malloc(size);
	if (!snap->buf) {
		free(snap);
		return -ENOMEM;
	}
	snap->size = size;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = OPTS_GET(opts, flags, 0);
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_SNAPSHOT, &arg);
	if (ret < 0) {
		free(snap->buf);
		free(snap);
		return ret;
	}
	snap->fd = ret;
	snap->flags = arg.flags;
	snap->version = arg.out_version;
	*snapp = snap;
	return 0;
}

int snapmap_snapshot_open(int map_fd, const struct snapmap_snapshot_opts *opts,
			  struct snapmap_snapshot **snap)
{
	int saved_errno = errno;

	if (!snap)
		return libsnapmap_ret(saved_errno, -EINVAL);
	*snap = NULL;
	return libsnapmap_ret(saved_errno, snapshot_open(map_fd, opts, snap));
}

/*
 * Make room for a record bigger than the buffer: double it.  The buffer
 * holds nothing to keep when this is called.
 */
static int snapshot_grow(struct snapmap_snapshot *snap)
{
	unsigned char *buf;
	size_t size;

	if (snap->size > SIZE_MAX / 2)
		return -ENOMEM;
	size = snap->size * 2;
	/* The old buffer stays if there is no memory for a new one. */
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	free(snap->buf);
	snap->buf = buf;
	snap->size = size;
	return 0;
}

/* Read the next records into the empty buffer: bytes read, 0, -errno. */
static ssize_t snapshot_fill(struct snapmap_snapshot *snap)
{
	ssize_t n;
	int ret;

	for (;;) {
		n = read(snap->fd, snap->buf, snap->size);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EMSGSIZE)
			return -errno;
		ret = snapshot_grow(snap);
		if (ret)
			return ret;
	}
}

static int snapshot_next(struct snapmap_snapshot *snap,
			 struct snapmap_entry *entry)
{
	struct snapmap_record hdr;
	const unsigned char *p;
	__u64 size;
	ssize_t n;

	if (snap->err)
		return snap->err;
	if (snap->pos == snap->len) {
		snap->pos = 0;
		snap->len = 0;
		n = snapshot_fill(snap);
		if (n <= 0)
			return (int)n;
		snap->len = n;
	}

	/*
	 * The header is checked against the bytes read, never trusted: a
	 * record must lie whole within them, and a key is never empty.
	 */
	p = snap->buf + snap->pos;
	if (snap->len - snap->pos < sizeof(hdr))
		goto bad;
	memcpy(&hdr, p, sizeof(hdr));
	size = SNAPMAP_RECORD_SIZE(hdr.key_len, hdr.value_len);
	if (!hdr.key_len || size > snap->len - snap->pos)
		goto bad;

	entry->key = p + sizeof(hdr);
	entry->value = p + sizeof(hdr) + hdr.key_len;
	entry->key_len = hdr.key_len;
	entry->value_len = hdr.value_len;
	entry->version = hdr.version;
	snap->pos += size;
	return 1;

bad:
	snap->pos = 0;
	snap->len = 0;
	snap->err = -EIO;
	return snap->err;
}

int snapmap_snapshot_next(struct snapmap_snapshot *snap,
			  struct snapmap_entry *entry)
{
	int saved_errno = errno;

	if (!snap || !entry)
		return libsnapmap_ret(saved_errno, -EINVAL);
	return libsnapmap_ret(saved_errno, snapshot_next(snap, entry));
}

int snapmap_snapshot_rewind(struct snapmap_snapshot *snap)
{
	int saved_errno = errno;

	if (!snap)
		return libsnapmap_ret(saved_errno, -EINVAL);
	if (lseek(snap->fd, 0, SEEK_SET) < 0)
		return libsnapmap_ret(saved_errno, -errno);
	/* What is buffered belongs to the pass being dropped. */
	snap->pos = 0;
	snap->len = 0;
	snap->err = 0;
	return libsnapmap_ret(saved_errno, 0);
}

int snapmap_snapshot_info(struct snapmap_snapshot *snap,
			  struct snapmap_snapshot_info *info)
{
	int saved_errno = errno;
	int ret;

	if (!snap || !info)
		return libsnapmap_ret(saved_errno, -EINVAL);
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	ret = libsnapmap_ioctl(snap->fd, SNAPMAP_IOC_SNAPSHOT_INFO, info);
	return libsnapmap_ret(saved_errno, ret);
}

int snapmap_snapshot_get(struct snapmap_snapshot *snap, const void *key,
			 __u32 key_len, void *value, __u32 *value_len,
			 __u64 *version)
{
	int saved_errno = errno;

	if (!snap)
		return libsnapmap_ret(saved_errno, -EINVAL);
	/* The read position is the module's, and this does not move it. */
	return libsnapmap_ret(saved_errno,
			      libsnapmap_get(snap->fd, SNAPMAP_IOC_SNAPSHOT_GET,
					     key, key_len, value, value_len,
					     version));
}

__u64 snapmap_snapshot_version(const struct snapmap_snapshot *snap)
{
	return snap ? snap->version : 0;
}

int snapmap_snapshot_fd(const struct snapmap_snapshot *snap)
{
	return snap ? snap->fd : -EINVAL;
}

void snapmap_snapshot_close(struct snapmap_snapshot *snap)
{
	int saved_errno = errno;

	if (!snap)
		return;
	close(snap->fd);
	free(snap->buf);
	free(snap);
	errno = saved_errno;
}
