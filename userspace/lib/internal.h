/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libsnapmap: what the library's files share and programs never see.
 */

#ifndef _LIBSNAPMAP_INTERNAL_H
#define _LIBSNAPMAP_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "libsnapmap.h"

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* A user pointer as the ABI carries it. */
#define SNAPMAP_PTR(p) ((__u64)(uintptr_t)(p))

/*
 * The last member of each options structure, as this library knows it:
 * the bytes after it, up to the caller's @sz, must be zero.  A member
 * added to a structure moves its line here.
 */
#define snapmap_create_opts__last_field name
#define snapmap_snapshot_opts__last_field buf_size
#define snapmap_clone_opts__last_field name
#define snapmap_watch_opts__last_field wakeup_bytes

/* Library-private: not in the version script, hidden from the .so. */
#define LIBSNAPMAP_HIDDEN __attribute__((visibility("hidden")))

LIBSNAPMAP_HIDDEN int libsnapmap_opts_check(const void *opts, size_t known_sz);

/*
 * OPTS_VALID() - 0 when @opts may be read, else a negative errno
 *
 * NULL is valid (every default).  As libbpf's OPTS_VALID(), a caller's
 * structure larger than the library's is accepted when its unknown tail
 * is zero, so that a program built against a newer header runs with an
 * older library unless it asked for something the library cannot do.
 */
#define OPTS_VALID(opts, type)						\
	libsnapmap_opts_check(opts,					\
			      offsetofend(struct type, type##__last_field))

/* Whether the caller's @opts is large enough to hold @field. */
#define OPTS_HAS(opts, field)						\
	((opts) && (opts)->sz >= offsetofend(__typeof__(*(opts)), field))

/* @opts' @field, or @fallback when @opts is NULL or too small to hold it. */
#define OPTS_GET(opts, field, fallback)					\
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))

LIBSNAPMAP_HIDDEN int libsnapmap_ioctl(int fd, unsigned long request,
				       void *arg);
LIBSNAPMAP_HIDDEN int libsnapmap_ctl_ioctl(int ctl_fd, unsigned long request,
					   void *arg);
LIBSNAPMAP_HIDDEN int libsnapmap_ctl_get(int ctl_fd, int *fd);
LIBSNAPMAP_HIDDEN void libsnapmap_ctl_put(int ctl_fd, int fd);
LIBSNAPMAP_HIDDEN int libsnapmap_copy_name(char *dst, const char *name);
/*
 * CREATE with @opts and the ``SNAPMAP_CREATE_*`` @flags: the map fd, or
 * -errno (errno is the caller's to set).
 */
LIBSNAPMAP_HIDDEN int libsnapmap_create(int ctl_fd,
					const struct snapmap_create_opts *opts,
					__u32 flags);
/*
 * LIST with @flags into an array of @desc_size-byte descriptions, allocated
 * for the caller at *@descsp: their number, or -errno.
 */
LIBSNAPMAP_HIDDEN int libsnapmap_list(int fd, __u32 flags,
				      struct snapmap_map_desc **descsp,
				      size_t desc_size);
LIBSNAPMAP_HIDDEN bool libsnapmap_lacks_feature(__u64 feature);
/**
 * struct libsnapmap_reader - records read from an fd, handed out one by one
 * @fd: the fd, a snapshot's or a watch's
 * @buf: records read and not all handed out yet
 * @size: size of @buf
 * @pos: offset in @buf of the next record to hand out
 * @len: bytes read into @buf
 * @err: 0, or the error every call gets until a reset: the records read
 *       could not be parsed, and going on would skip some
 * @restart: read(2) again when a signal interrupts it
 */
struct libsnapmap_reader {
	int fd;
	unsigned char *buf;
	size_t size;
	size_t pos;
	size_t len;
	int err;
	bool restart;
};

/* A reader with a buffer of @size bytes (0: 64 KiB), and no fd yet. */
LIBSNAPMAP_HIDDEN int libsnapmap_reader_init(struct libsnapmap_reader *r,
					     size_t size, bool restart);
LIBSNAPMAP_HIDDEN void libsnapmap_reader_free(struct libsnapmap_reader *r);
/*
 * Make the buffer, which holds nothing yet, at least @size bytes: 0, or
 * -ENOMEM with the buffer as it was.
 */
LIBSNAPMAP_HIDDEN int libsnapmap_reader_reserve(struct libsnapmap_reader *r,
						__u64 size);
/* Drop what is buffered, and the error: for a rewind. */
LIBSNAPMAP_HIDDEN void libsnapmap_reader_reset(struct libsnapmap_reader *r);
/*
 * The bytes buffered at *@p, read first if none are: their number, 0 at
 * the end of the fd, or -errno.
 */
LIBSNAPMAP_HIDDEN ssize_t libsnapmap_reader_peek(struct libsnapmap_reader *r,
						 const unsigned char **p);
/* Hand out the record of @size bytes that peek showed first. */
LIBSNAPMAP_HIDDEN void libsnapmap_reader_take(struct libsnapmap_reader *r,
					      size_t size);
/* The bytes are no records: -EIO, now and until a reset. */
LIBSNAPMAP_HIDDEN int libsnapmap_reader_bad(struct libsnapmap_reader *r);

LIBSNAPMAP_HIDDEN int libsnapmap_snapshot_adopt(int fd, __u64 version,
					       size_t buf_size,
					       struct snapmap_snapshot **snapp);
LIBSNAPMAP_HIDDEN int libsnapmap_get(int fd, unsigned long request,
				     const void *key, __u32 key_len,
				     void *value, __u32 *value_len,
				     __u64 *version);

/*
 * Every public function returns through this, with the errno it found on
 * entry: a failure (@ret < 0) is stored in errno as well as returned, so
 * that perror() says it; a success leaves errno as the caller had it.
 */
static inline int libsnapmap_ret(int saved_errno, int ret)
{
	errno = ret < 0 ? -ret : saved_errno;
	return ret;
}

/*
 * The smallest size a caller may pass for each structure: that of its
 * first version, which is also the size every program built against
 * libsnapmap 1.2 or older has, and which the versions of the functions
 * for those programs (compat.c) write.  Structures only grow at their end,
 * so these stay what they are.
 */
#define LIBSNAPMAP_API_SIZE0 offsetofend(struct snapmap_api, out_ioctls)
#define LIBSNAPMAP_INFO_SIZE0 offsetofend(struct snapmap_info, out_name)
#define LIBSNAPMAP_SNAPSHOT_INFO_SIZE0					\
	offsetofend(struct snapmap_snapshot_info, __reserved)
#define LIBSNAPMAP_BATCH_OP_SIZE0					\
	offsetofend(struct snapmap_batch_op, out_version)
#define LIBSNAPMAP_TXN_COND_SIZE0 offsetofend(struct snapmap_txn_cond, version)
#define LIBSNAPMAP_TXN_OP_SIZE0 offsetofend(struct snapmap_txn_op, value)
#define LIBSNAPMAP_ENTRY_SIZE0 offsetofend(struct snapmap_entry, version)
#define LIBSNAPMAP_CHANGE_SIZE0						\
	offsetofend(struct snapmap_change_entry, value_len)

/*
 * Hand the library's @src, of @known bytes, to a caller's structure of
 * @size bytes, at least the first version's: what both know is copied,
 * what only the caller knows (a newer header) is zeroed.
 */
static inline void libsnapmap_copy_out(void *dst, size_t size,
				       const void *src, size_t known)
{
	if (size <= known) {
		memcpy(dst, src, size);
		return;
	}
	memcpy(dst, src, known);
	memset((unsigned char *)dst + known, 0, size - known);
}

#endif /* _LIBSNAPMAP_INTERNAL_H */
