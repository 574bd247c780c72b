// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: watches as iterators, the records read from the watch fd
 * handed out one by one (reader.c).  And a watch with a snapshot of its
 * own, to keep a copy of a map.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/**
 * struct snapmap_watch - an open watch and its read buffer
 * @r: the watch fd and the records read from it
 * @version: where it started
 */
struct snapmap_watch {
	struct libsnapmap_reader r;
	__u64 version;
};

/*
 * SNAPMAP_IOC_WATCH with @opts and @flags, into a new *@watchp; the
 * snapshot fd of SNAPMAP_WATCH_SNAPSHOT, if asked for, in *@sfd.
 */
static int watch_open(int map_fd, const struct snapmap_watch_opts *opts,
		      __u32 flags, struct snapmap_watch **watchp, int *sfd)
{
	struct snapmap_watch_arg arg;
	struct snapmap_watch *watch;
	int ret;

	ret = OPTS_VALID(opts, snapmap_watch_opts);
	if (ret)
		return ret;
	watch = calloc(1, sizeof(*watch));
	if (!watch)
		return -ENOMEM;
	/*
	 * Allocated now, so that a buffer too big fails here.  A signal
	 * ends a wait for changes: the caller gets EINTR.
	 */
	ret = libsnapmap_reader_init(&watch->r, OPTS_GET(opts, buf_size, 0),
				     false);
	if (ret) {
		free(watch);
		return ret;
	}

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = OPTS_GET(opts, flags, 0) | flags;
	arg.since = OPTS_GET(opts, since, 0);
	arg.prefix = SNAPMAP_PTR(OPTS_GET(opts, prefix, NULL));
	arg.prefix_len = OPTS_GET(opts, prefix_len, 0);
	arg.buffer_bytes = OPTS_GET(opts, buffer_bytes, 0);
	/*
	 * A module older than wakeup_bytes takes the larger structure while
	 * its tail is zero, and refuses it with E2BIG otherwise.
	 */
	arg.wakeup_bytes = OPTS_GET(opts, wakeup_bytes, 0);
	ret = libsnapmap_ioctl(map_fd, SNAPMAP_IOC_WATCH, &arg);
	if (ret == -E2BIG && arg.wakeup_bytes &&
	    libsnapmap_lacks_feature(SNAPMAP_FEATURE_WATCH_WAKEUP))
		ret = -EOPNOTSUPP;
	if (ret < 0)
		goto err_free;
	watch->r.fd = ret;
	/*
	 * A blocking read waits until the records past the watch's place
	 * take wakeup_bytes, and returns those that fit: a smaller buffer
	 * would leave some behind, for the next read to wait on.  The module
	 * bounded wakeup_bytes by half the watch's buffer.
	 */
	ret = libsnapmap_reader_reserve(&watch->r, arg.wakeup_bytes);
	if (ret) {
		close(watch->r.fd);
		if (arg.flags & SNAPMAP_WATCH_SNAPSHOT)
			close(arg.out_snapshot_fd);
		goto err_free;
	}
	watch->version = arg.out_version;
	if (sfd)
		*sfd = arg.out_snapshot_fd;
	*watchp = watch;
	return 0;

err_free:
	libsnapmap_reader_free(&watch->r);
	free(watch);
	return ret;
}

int snapmap_watch_open(int map_fd, const struct snapmap_watch_opts *opts,
		       struct snapmap_watch **watch)
{
	int saved_errno = errno;

	if (!watch)
		return libsnapmap_ret(saved_errno, -EINVAL);
	*watch = NULL;
	if (OPTS_GET(opts, flags, 0) & SNAPMAP_WATCH_SNAPSHOT)
		return libsnapmap_ret(saved_errno, -EINVAL);
	return libsnapmap_ret(saved_errno,
			      watch_open(map_fd, opts, 0, watch, NULL));
}

int snapmap_watch_snapshot(int map_fd, const struct snapmap_watch_opts *opts,
			   struct snapmap_watch **watch,
			   struct snapmap_snapshot **snap)
{
	int saved_errno = errno, sfd = -1, ret;

	if (!watch || !snap)
		return libsnapmap_ret(saved_errno, -EINVAL);
	*watch = NULL;
	*snap = NULL;
	ret = watch_open(map_fd, opts, SNAPMAP_WATCH_SNAPSHOT, watch, &sfd);
	if (ret)
		return libsnapmap_ret(saved_errno, ret);
	ret = libsnapmap_snapshot_adopt(sfd, (*watch)->version,
					OPTS_GET(opts, buf_size, 0), snap);
	if (ret) {
		close(sfd);
		snapmap_watch_close(*watch);
		*watch = NULL;
	}
	return libsnapmap_ret(saved_errno, ret);
}

static int watch_next(struct snapmap_watch *watch,
		      struct snapmap_change_entry *change)
{
	struct snapmap_change hdr;
	const unsigned char *p;
	__u64 size;
	ssize_t n;

	n = libsnapmap_reader_peek(&watch->r, &p);
	/* A watch fd has no end: 0 bytes is no record either. */
	if (!n)
		return libsnapmap_reader_bad(&watch->r);
	if (n < 0)
		return (int)n;

	/*
	 * The header is checked against the bytes read, never trusted: a
	 * record must lie whole within them, a PUT or DEL has a key, and
	 * nothing else has one.
	 */
	if ((size_t)n < sizeof(hdr))
		return libsnapmap_reader_bad(&watch->r);
	memcpy(&hdr, p, sizeof(hdr));
	size = SNAPMAP_CHANGE_SIZE(hdr.key_len, hdr.value_len);
	if (size > (size_t)n)
		return libsnapmap_reader_bad(&watch->r);
	switch (hdr.type) {
	case SNAPMAP_CHANGE_PUT:
	case SNAPMAP_CHANGE_DEL:
		if (!hdr.key_len || hdr.count ||
		    (hdr.type == SNAPMAP_CHANGE_DEL && hdr.value_len))
			return libsnapmap_reader_bad(&watch->r);
		break;
	case SNAPMAP_CHANGE_CLEAR:
	case SNAPMAP_CHANGE_TXN:
		if (hdr.key_len || hdr.value_len ||
		    (hdr.type == SNAPMAP_CHANGE_TXN) != !!hdr.count)
			return libsnapmap_reader_bad(&watch->r);
		break;
	default:
		return libsnapmap_reader_bad(&watch->r);
	}

	change->type = hdr.type;
	change->count = hdr.count;
	change->version = hdr.version;
	change->key_len = hdr.key_len;
	change->value_len = hdr.value_len;
	change->key = hdr.key_len ? p + sizeof(hdr) : NULL;
	change->value = hdr.type == SNAPMAP_CHANGE_PUT ?
			p + sizeof(hdr) + hdr.key_len : NULL;
	libsnapmap_reader_take(&watch->r, size);
	return 1;
}

int snapmap_watch_next_sz(struct snapmap_watch *watch,
			  struct snapmap_change_entry *change,
			  size_t change_size)
{
	int saved_errno = errno;
	struct snapmap_change_entry c;
	int ret;

	if (!watch || !change || change_size < LIBSNAPMAP_CHANGE_SIZE0)
		return libsnapmap_ret(saved_errno, -EINVAL);
	ret = watch_next(watch, &c);
	if (ret > 0)
		libsnapmap_copy_out(change, change_size, &c, sizeof(c));
	return libsnapmap_ret(saved_errno, ret);
}

__u64 snapmap_watch_version(const struct snapmap_watch *watch)
{
	if (!watch) {
		errno = EINVAL;
		return 0;
	}
	return watch->version;
}

int snapmap_watch_fd(const struct snapmap_watch *watch)
{
	return libsnapmap_ret(errno, watch ? watch->r.fd : -EINVAL);
}

void snapmap_watch_close(struct snapmap_watch *watch)
{
	int saved_errno = errno;

	if (!watch)
		return;
	close(watch->r.fd);
	libsnapmap_reader_free(&watch->r);
	free(watch);
	errno = saved_errno;
}
