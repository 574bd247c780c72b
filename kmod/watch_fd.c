// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - watch fds
 *
 * A watch fd is a read-only anon-inode file that owns a watch: read(2)
 * yields its records, poll(2) waits for them, and closing the last
 * reference closes the watch.  read(2) is in ioctl.c, which alone touches
 * user memory.  Its fdinfo says what map it follows, from where, how far
 * it has read and with how large a buffer.
 */

#include <linux/anon_inodes.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>

#include "ioctl.h"
#include "map.h"
#include "watch_fd.h"

static int snapmap_watch_release(struct inode *inode, struct file *file)
{
	snapmap_watch_close(file->private_data);
	return 0;
}

/* Readable when a read would not wait: records, or a change lost. */
static __poll_t snapmap_watch_poll(struct file *file,
				   struct poll_table_struct *wait)
{
	struct snapmap_watch *watch = file->private_data;

	poll_wait(file, snapmap_watch_waitqueue(watch), wait);
	return snapmap_watch_ready(watch) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The uapi header's "fdinfo". */
static void snapmap_watch_fd_show_fdinfo(struct seq_file *m, struct file *file)
{
	snapmap_watch_show_fdinfo(m, file->private_data);
}

static const struct file_operations snapmap_watch_fops = {
	.owner = THIS_MODULE,
	.release = snapmap_watch_release,
	.read = snapmap_watch_fd_read,
	.poll = snapmap_watch_poll,
	.show_fdinfo = snapmap_watch_fd_show_fdinfo,
};

/**
 * snapmap_watch_file() - a read-only file that owns a watch
 * @watch: the watch; the file takes it over on success
 *
 * The caller installs the file in an fd (close-on-exec) with fd_install(),
 * or drops it with fput(), which closes the watch.
 *
 * Context: process context; may sleep.
 *
 * Return: the file, or an ERR_PTR() (then @watch is still the caller's).
 */
struct file *snapmap_watch_file(struct snapmap_watch *watch)
{
	return anon_inode_getfile("[snapmap-watch]", &snapmap_watch_fops,
				  watch, O_RDONLY);
}

/**
 * snapmap_watch_from_file() - the watch behind a watch fd
 * @file: a watch file
 *
 * Context: any context.
 *
 * Return: the watch, valid while the caller holds @file.
 */
struct snapmap_watch *snapmap_watch_from_file(struct file *file)
{
	return file->private_data;
}
