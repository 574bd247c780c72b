// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - snapshot fds
 *
 * A snapshot fd is a read-only anon-inode file that owns an open snapshot:
 * read(2) yields its records, lseek(fd, 0, SEEK_SET) starts over, and
 * closing the last reference closes the snapshot.  read(2) and the ioctls
 * are in ioctl.c, which alone touches user memory.  Its fdinfo describes
 * the map, and the snapshot's version and state.
 */

#include <linux/anon_inodes.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>

#include "ioctl.h"
#include "map.h"
#include "map_fd.h"
#include "snapshot_fd.h"

static int snapmap_snapshot_release(struct inode *inode, struct file *file)
{
	snapmap_snapshot_close(file->private_data);
	return 0;
}

/* Only a rewind: records have no offsets a caller could seek to. */
static loff_t snapmap_snapshot_llseek(struct file *file, loff_t offset,
				      int whence)
{
	if (whence != SEEK_SET || offset)
		return -EINVAL;
	snapmap_snapshot_rewind(file->private_data);
	file->f_pos = 0;
	return 0;
}

/* Always ready, as a regular file is. */
static __poll_t snapmap_snapshot_poll(struct file *file,
				      struct poll_table_struct *wait)
{
	return EPOLLIN | EPOLLRDNORM;
}

/* The uapi header's "fdinfo". */
static void snapmap_snapshot_show_fdinfo(struct seq_file *m,
					 struct file *file)
{
	struct snapmap_snapshot *snap = file->private_data;
	u64 version;

	snapmap_map_show_fdinfo(m, snapmap_snapshot_map(snap));
	snapmap_snapshot_version(snap, &version);
	seq_printf(m, "snapshot_version:\t%llu\n", version);
	seq_printf(m, "weak:\t%d\n", snapmap_snapshot_weak(snap));
	seq_printf(m, "stale:\t%d\n", snapmap_snapshot_stale(snap));
}

static const struct file_operations snapmap_snapshot_fops = {
	.show_fdinfo = snapmap_snapshot_show_fdinfo,
	.owner = THIS_MODULE,
	.release = snapmap_snapshot_release,
	.read = snapmap_snapshot_fd_read,
	.llseek = snapmap_snapshot_llseek,
	.poll = snapmap_snapshot_poll,
	.unlocked_ioctl = snapmap_snapshot_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * snapmap_snapshot_file() - a read-only file that owns a snapshot
 * @snap: the snapshot; the file takes it over on success
 *
 * The caller installs the file in an fd (close-on-exec) with fd_install(),
 * or drops it with fput(), which closes the snapshot.
 *
 * Context: process context; may sleep.
 *
 * Return: the file, or an ERR_PTR() (then @snap is still the caller's).
 */
struct file *snapmap_snapshot_file(struct snapmap_snapshot *snap)
{
	return anon_inode_getfile("[snapmap-snapshot]", &snapmap_snapshot_fops,
				  snap, O_RDONLY);
}

/**
 * snapmap_snapshot_from_file() - the snapshot behind a snapshot fd
 * @file: any file
 *
 * Context: any context.
 *
 * Return: the snapshot, valid while the caller holds @file, or NULL if
 * @file is not a snapshot fd.
 */
struct snapmap_snapshot *snapmap_snapshot_from_file(struct file *file)
{
	if (file->f_op != &snapmap_snapshot_fops)
		return NULL;
	return file->private_data;
}
