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
#include <linux/slab.h>

#include "core.h"
#include "ioctl.h"
#include "map.h"
#include "map_fd.h"
#include "watch_fd.h"

/**
 * struct snapmap_watch_file - what a watch fd owns
 * @watch: the watch
 * @map: its map, held by the watch
 * @start: the watch's start
 * @buffer: its buffer, in bytes
 * @read: the version of the last record read(2) returned, @start before
 */
struct snapmap_watch_file {
	struct snapmap_watch *watch;
	struct snapmap *map;
	u64 start;
	u64 buffer;
	atomic64_t read;
};

static int snapmap_watch_release(struct inode *inode, struct file *file)
{
	struct snapmap_watch_file *wf = file->private_data;

	snapmap_watch_close(wf->watch);
	kfree(wf);
	return 0;
}

/* Readable when a read would not wait: records, or a change lost. */
static __poll_t snapmap_watch_poll(struct file *file,
				   struct poll_table_struct *wait)
{
	struct snapmap_watch *watch = snapmap_watch_from_file(file);

	poll_wait(file, snapmap_watch_waitqueue(watch), wait);
	return snapmap_watch_ready(watch) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The uapi header's "fdinfo". */
static void snapmap_watch_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct snapmap_watch_file *wf = file->private_data;

	snapmap_map_show_fdinfo(m, wf->map);
	seq_printf(m, "watch_start:\t%llu\n", wf->start);
	seq_printf(m, "watch_read:\t%llu\n",
		   (u64)atomic64_read(&wf->read));
	seq_printf(m, "watch_buffer:\t%llu\n", wf->buffer);
}

static const struct file_operations snapmap_watch_fops = {
	.owner = THIS_MODULE,
	.release = snapmap_watch_release,
	.read = snapmap_watch_fd_read,
	.poll = snapmap_watch_poll,
	.show_fdinfo = snapmap_watch_show_fdinfo,
};

/**
 * snapmap_watch_file() - a read-only file that owns a watch
 * @watch: the watch; the file takes it over on success
 * @map: the map it follows
 * @start: the watch's start
 * @buffer: the buffer it asked for, 0 for the module's default
 *
 * The caller installs the file in an fd (close-on-exec) with fd_install(),
 * or drops it with fput(), which closes the watch.
 *
 * Context: process context; may sleep.
 *
 * Return: the file, or an ERR_PTR() (then @watch is still the caller's).
 */
struct file *snapmap_watch_file(struct snapmap_watch *watch,
				struct snapmap *map, u64 start, u64 buffer)
{
	struct snapmap_watch_file *wf;
	struct file *file;

	wf = kmalloc(sizeof(*wf), SNAPMAP_GFP_BUF);
	if (!wf)
		return ERR_PTR(-ENOMEM);
	wf->watch = watch;
	wf->map = map;
	wf->start = start;
	/* The default as snapmap_watch_open() takes it, for fdinfo only. */
	wf->buffer = buffer ?: max_t(u64, READ_ONCE(snapmap_watch_buffer),
				     SNAPMAP_WATCH_MIN_BUFFER);
	atomic64_set(&wf->read, start);
	file = anon_inode_getfile("[snapmap-watch]", &snapmap_watch_fops, wf,
				  O_RDONLY);
	if (IS_ERR(file))
		kfree(wf);
	return file;
}

/**
 * snapmap_watch_file_read() - note how far a watch fd was read
 * @file: a watch file
 * @version: the version of the last record a read(2) returned
 *
 * Context: any context.
 */
void snapmap_watch_file_read(struct file *file, u64 version)
{
	struct snapmap_watch_file *wf = file->private_data;

	atomic64_set(&wf->read, version);
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
	struct snapmap_watch_file *wf = file->private_data;

	return wf->watch;
}
