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

/**
 * struct snapmap_snapshot - an open snapshot and its read buffer
 * @r: the snapshot fd and the records read from it
 * @flags: the SNAPMAP_SNAPSHOT_* flags it was taken with
 * @version: its version, 0 for a WEAK snapshot
 */
struct snapmap_snapshot {
	struct libsnapmap_reader r;
	__u32 flags;
	__u64 version;
};

/* A snapshot with a read buffer of @size bytes (0: the default), no fd. */
static struct snapmap_snapshot *snapshot_alloc(size_t size)
{
	struct snapmap_snapshot *snap;

	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return NULL;
	/* A read of a snapshot fd that a signal cuts short is tried again. */
	if (libsnapmap_reader_init(&snap->r, size, true)) {
		free(snap);
		return NULL;
	}
	return snap;
}

static void snapshot_free(struct snapmap_snapshot *snap)
{
	libsnapmap_reader_free(&snap->r);
	free(snap);
}

static int snapshot_open(int map_fd, const struct snapmap_snapshot_opts *opts,
			 struct snapmap_snapshot **snapp)
{
	struct snapmap_snapshot_arg arg;
	struct snapmap_snapshot *snap;
	int ret;

	ret = OPTS_VALID(opts, snapmap_snapshot_opts);
	if (ret)
		return ret;
	/* Allocated now, so that a buffer too big fails here. */
	snap = snapshot_alloc(OPTS_GET(opts, buf_size, 0));
	if (!snap)
		return -ENOMEM;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = OPTS_GET(opts, flags, 0);
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_SNAPSHOT, &arg);
	if (ret < 0) {
		snapshot_free(snap);
		return ret;
	}
	snap->r.fd = ret;
	snap->flags = arg.flags;
	snap->version = arg.out_version;
	*snapp = snap;
	return 0;
}

/*
 * A snapshot for the ATOMIC snapshot fd @fd of version @version, which
 * another command made (SNAPMAP_IOC_WATCH); it owns the fd on success.
 */
int libsnapmap_snapshot_adopt(int fd, __u64 version, size_t buf_size,
			      struct snapmap_snapshot **snapp)
{
	struct snapmap_snapshot *snap = snapshot_alloc(buf_size);

	if (!snap)
		return -ENOMEM;
	snap->r.fd = fd;
	snap->version = version;
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

static int snapshot_next(struct snapmap_snapshot *snap,
			 struct snapmap_entry *entry)
{
	struct snapmap_record hdr;
	const unsigned char *p;
	__u64 size;
	ssize_t n;

	n = libsnapmap_reader_peek(&snap->r, &p);
	if (n <= 0)
		return (int)n;

	/*
	 * The header is checked against the bytes read, never trusted: a
	 * record must lie whole within them, and a key is never empty.
	 */
	if ((size_t)n < sizeof(hdr))
		return libsnapmap_reader_bad(&snap->r);
	memcpy(&hdr, p, sizeof(hdr));
	size = SNAPMAP_RECORD_SIZE(hdr.key_len, hdr.value_len);
	if (!hdr.key_len || size > (size_t)n)
		return libsnapmap_reader_bad(&snap->r);

	entry->key = p + sizeof(hdr);
	entry->value = p + sizeof(hdr) + hdr.key_len;
	entry->key_len = hdr.key_len;
	entry->value_len = hdr.value_len;
	entry->version = hdr.version;
	libsnapmap_reader_take(&snap->r, size);
	return 1;
}

int snapmap_snapshot_next_sz(struct snapmap_snapshot *snap,
			     struct snapmap_entry *entry, size_t entry_size)
{
	int saved_errno = errno;
	struct snapmap_entry e;
	int ret;

	if (!snap || !entry || entry_size < LIBSNAPMAP_ENTRY_SIZE0)
		return libsnapmap_ret(saved_errno, -EINVAL);
	ret = snapshot_next(snap, &e);
	if (ret > 0)
		libsnapmap_copy_out(entry, entry_size, &e, sizeof(e));
	return libsnapmap_ret(saved_errno, ret);
}

int snapmap_snapshot_rewind(struct snapmap_snapshot *snap)
{
	int saved_errno = errno;

	if (!snap)
		return libsnapmap_ret(saved_errno, -EINVAL);
	if (lseek(snap->r.fd, 0, SEEK_SET) < 0)
		return libsnapmap_ret(saved_errno, -errno);
	/* What is buffered belongs to the pass being dropped. */
	libsnapmap_reader_reset(&snap->r);
	return libsnapmap_ret(saved_errno, 0);
}

int snapmap_snapshot_info_sz(struct snapmap_snapshot *snap,
			     struct snapmap_snapshot_info *info,
			     size_t info_size)
{
	int saved_errno = errno;
	int ret;

	if (!snap || !info || info_size < LIBSNAPMAP_SNAPSHOT_INFO_SIZE0 ||
	    info_size > UINT32_MAX)
		return libsnapmap_ret(saved_errno, -EINVAL);
	/* The caller's size goes to the module, as for snapmap_info_sz(). */
	memset(info, 0, info_size);
	info->size = info_size;
	ret = libsnapmap_ioctl(snap->r.fd, SNAPMAP_IOC_SNAPSHOT_INFO, info);
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
			      libsnapmap_get(snap->r.fd, SNAPMAP_IOC_SNAPSHOT_GET,
					     key, key_len, value, value_len,
					     version));
}

__u64 snapmap_snapshot_version(const struct snapmap_snapshot *snap)
{
	if (!snap) {
		errno = EINVAL;
		return 0;
	}
	return snap->version;
}

int snapmap_snapshot_fd(const struct snapmap_snapshot *snap)
{
	return libsnapmap_ret(errno, snap ? snap->r.fd : -EINVAL);
}

void snapmap_snapshot_close(struct snapmap_snapshot *snap)
{
	int saved_errno = errno;

	if (!snap)
		return;
	close(snap->r.fd);
	snapshot_free(snap);
	errno = saved_errno;
}
