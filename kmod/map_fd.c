// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - map fds
 *
 * A map fd is an anon-inode file whose private data is a reference on a
 * map: the reference lives as long as the file and is dropped when the
 * file's last user closes it.  Whether the fd may write is the file's own
 * FMODE_WRITE, fixed when the fd is made; every fd is close-on-exec and
 * holds the module (anon_inode_getfile() takes the fops' owner).
 *
 * The commands on a map fd are in ioctl.c, which alone touches user
 * memory.
 */

#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>

#include "ioctl.h"
#include "map.h"
#include "map_fd.h"

/* The map fd's last user is gone: drop the file's reference on the map. */
static int snapmap_map_release(struct inode *inode, struct file *file)
{
	snapmap_put(file->private_data);
	return 0;
}

static const struct file_operations snapmap_map_fops = {
	.owner = THIS_MODULE,
	.release = snapmap_map_release,
	.unlocked_ioctl = snapmap_map_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * snapmap_map_file() - a file for a map, not yet in any fd
 * @map: the map; the file takes the caller's reference over on success
 * @writable: open the file for reading and writing, not only for reading
 *
 * For callers that must write results back to user space between making
 * the file and installing it: they install it with fd_install() once
 * nothing can fail any more, or drop it with fput().
 *
 * Context: process context; may sleep.
 *
 * Return: the file, or an ERR_PTR() (then the reference is still the
 * caller's).
 */
struct file *snapmap_map_file(struct snapmap *map, bool writable)
{
	return anon_inode_getfile("[snapmap]", &snapmap_map_fops, map,
				  writable ? O_RDWR : O_RDONLY);
}

/**
 * snapmap_map_fd_install() - give the calling process a new map fd
 * @map: the map; the caller's reference on it becomes the fd's
 * @writable: open the fd for reading and writing, not only for reading
 *
 * The fd is opened close-on-exec.  The caller's reference on @map is
 * consumed whatever the outcome: on success the new file owns it, on
 * failure it is dropped here, so the caller must not touch @map after this
 * call.  The fd is installed last: once it is returned, user space can use
 * or close it, so the caller must not fail after this call either.
 *
 * Context: process context; may sleep.
 *
 * Return: the new fd; -EMFILE if the process has no free fd; -ENOMEM or
 * another negative errno of anon_inode_getfile().
 */
int snapmap_map_fd_install(struct snapmap *map, bool writable)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		snapmap_put(map);
		return fd;
	}
	file = snapmap_map_file(map, writable);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		snapmap_put(map);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

/**
 * snapmap_map_from_file() - the map behind a map fd
 * @file: any file
 *
 * The map stays valid as long as the caller holds @file; take a reference
 * with snapmap_get() to keep it longer.
 *
 * Context: any context.
 *
 * Return: the map, or NULL if @file is not a map fd.
 */
struct snapmap *snapmap_map_from_file(struct file *file)
{
	if (file->f_op != &snapmap_map_fops)
		return NULL;
	return file->private_data;
}
