// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsnapmap: the read buffer of snapshots and watches.  Records are
 * read(2) from the fd into a buffer, as many as fit, and handed out one by
 * one; the buffer doubles when a record does not fit (EMSGSIZE).
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define READER_BUF_SIZE (64 * 1024)

int libsnapmap_reader_init(struct libsnapmap_reader *r, size_t size,
			   bool restart)
{
	r->size = size ?: READER_BUF_SIZE;
	r->buf = malloc(r->size);
	if (!r->buf)
		return -ENOMEM;
	r->fd = -1;
	r->pos = 0;
	r->len = 0;
	r->err = 0;
	r->restart = restart;
	return 0;
}

void libsnapmap_reader_free(struct libsnapmap_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

void libsnapmap_reader_reset(struct libsnapmap_reader *r)
{
	r->pos = 0;
	r->len = 0;
	r->err = 0;
}

/*
 * Make room for a record bigger than the buffer: double it.  The buffer
 * holds nothing to keep when this is called.
 */
static int reader_grow(struct libsnapmap_reader *r)
{
	unsigned char *buf;
	size_t size;

	if (r->size > SIZE_MAX / 2)
		return -ENOMEM;
	size = r->size * 2;
	/* The old buffer stays if there is no memory for a new one. */
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	free(r->buf);
	r->buf = buf;
	r->size = size;
	return 0;
}

int libsnapmap_reader_reserve(struct libsnapmap_reader *r, __u64 size)
{
	unsigned char *buf;

	if (size <= r->size)
		return 0;
	if (size > SIZE_MAX)
		return -ENOMEM;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	free(r->buf);
	r->buf = buf;
	r->size = size;
	return 0;
}

ssize_t libsnapmap_reader_peek(struct libsnapmap_reader *r,
			       const unsigned char **p)
{
	ssize_t n;
	int ret;

	if (r->err)
		return r->err;
	if (r->pos == r->len) {
		r->pos = 0;
		r->len = 0;
		for (;;) {
			n = read(r->fd, r->buf, r->size);
			if (n >= 0)
				break;
			if (errno == EINTR && r->restart)
				continue;
			if (errno != EMSGSIZE)
				return -errno;
			ret = reader_grow(r);
			if (ret)
				return ret;
		}
		r->len = n;
	}
	*p = r->buf + r->pos;
	return r->len - r->pos;
}

void libsnapmap_reader_take(struct libsnapmap_reader *r, size_t size)
{
	r->pos += size;
}

int libsnapmap_reader_bad(struct libsnapmap_reader *r)
{
	r->pos = 0;
	r->len = 0;
	r->err = -EIO;
	return r->err;
}
