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
 * memory.  Its fdinfo describes the map (the uapi header's "fdinfo"), as
 * that of the snapshot and watch fds of the map does: procfs shows it to
 * those who may look at the process's fds, which is how a tool finds the
 * processes that hold a map, with the id of the map there.
 */

#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "ioctl.h"
#include "map.h"
#include "map_fd.h"

/*
 * The map fd's last user is gone: drop the file's reference on the map.
 * A file of snapmap_map_fd_reserve() that never got a map holds none.
 */
static int snapmap_map_release(struct inode *inode, struct file *file)
{
	if (file->private_data)
		snapmap_put(file->private_data);
	return 0;
}

/**
 * snapmap_map_show_fdinfo() - the lines of a map in the fdinfo of its fds
 * @m: where to print them
 * @map: the map
 *
 * Context: process context.
 */
void snapmap_map_show_fdinfo(struct seq_file *m, struct snapmap *map)
{
	struct snapmap_info info;

	snapmap_get_info(map, &info);
	seq_printf(m, "map_id:\t%llu\n", info.out_id);
	seq_printf(m, "map_name:\t%s\n", info.out_name);
	seq_printf(m, "map_flags:\t%#x\n", info.out_map_flags);
	seq_printf(m, "entries:\t%llu\n", info.out_entries);
	seq_printf(m, "bytes:\t%llu\n", info.out_bytes);
	seq_printf(m, "version:\t%llu\n", info.out_version);
}

/* A file of snapmap_map_fd_reserve() is installed only with its map. */
static void snapmap_map_fd_show_fdinfo(struct seq_file *m, struct file *file)
{
	snapmap_map_show_fdinfo(m, file->private_data);
}

static const struct file_operations snapmap_map_fops = {
	.owner = THIS_MODULE,
	.release = snapmap_map_release,
	.show_fdinfo = snapmap_map_fd_show_fdinfo,
	.unlocked_ioctl = snapmap_map_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * snapmap_map_fd_reserve() - an fd and a map file for a map still to come
 * @writable: open the file for reading and writing, not only for reading
 * @filep: set to the new file, which holds no map yet
 *
 * For commands that return a new map fd: they reserve the fd and make the
 * file before they create, clone or find the map, so that a process with
 * no free fd, or an allocation that fails, leaves no map behind and no
 * name taken even for a moment.  The caller then hands the map to the file
 * with snapmap_map_fd_bind() and installs the file with fd_install() once
 * nothing can fail any more, or gives both back with
 * snapmap_map_fd_cancel().
 *
 * Context: process context; may sleep.
 *
 * Return: the reserved fd, close-on-exec; -EMFILE if the process has no
 * free fd; -ENOMEM or another negative errno of anon_inode_getfile().
 */
int snapmap_map_fd_reserve(bool writable, struct file **filep)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile("[snapmap]", &snapmap_map_fops, NULL,
				  writable ? O_RDWR : O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	*filep = file;
	return fd;
}

/**
 * snapmap_map_fd_bind() - hand a map to a file of snapmap_map_fd_reserve()
 * @file: the file, not yet installed
 * @map: the map; the caller's reference on it becomes the file's
 *
 * From here on, dropping the file (fput()) drops the map too.
 *
 * Context: any context.
 */
void snapmap_map_fd_bind(struct file *file, struct snapmap *map)
{
	/* fd_install() publishes it with the file. */
	file->private_data = map;
}

/**
 * snapmap_map_fd_cancel() - give back an fd and file that will not be used
 * @fd: the fd of snapmap_map_fd_reserve()
 * @file: its file, with or without a map
 *
 * Context: process context; may sleep.
 */
void snapmap_map_fd_cancel(int fd, struct file *file)
{
	put_unused_fd(fd);
	fput(file);
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
