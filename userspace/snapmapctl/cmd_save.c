// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: save, an ATOMIC snapshot written to a file, and load, a
 * checked file written into a map, all of it or nothing.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dumpfile.h"
#include "libsnapmap.h"
#include "output.h"
#include "progress.h"
#include "savefile.h"
#include "snapmapctl.h"

/* Operations per batch when loading: few syscalls, bounded memory. */
#define LOAD_BATCH 256

/*
 * save
 */

/* A temporary file next to @path, so that rename() replaces atomically. */
static int open_temp(const struct opts *o, const char *path, char *tmp,
		     size_t size, __u32 map_mode)
{
	char *copy1 = strdup(path), *copy2 = strdup(path);
	mode_t mask;
	int fd = -1;

	if (!copy1 || !copy2) {
		errorf(o->cmd, "%s", sm_strerror(ENOMEM, ERR_OTHER));
		goto out;
	}
	if ((size_t)snprintf(tmp, size, "%s/.%s.XXXXXX", dirname(copy1),
			     basename(copy2)) >= size) {
		errorf(o->cmd, "'%s': %s", path, strerror(ENAMETOOLONG));
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot create a file next to '%s': %s", path,
			    strerror(errno));
		goto out;
	}
	/* No more readable than the map it holds, and within the umask. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, (map_mode & 0666) & ~mask)) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot set the mode of '%s': %s", tmp,
			    strerror(errno));
		close(fd);
		unlink(tmp);
		fd = -1;
	}
out:
	free(copy1);
	free(copy2);
	return fd;
}

/* The directory entry made by rename() must reach the disk too. */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int cmd_save(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0], *path = argv[1];
	struct savefile_header h = { .flags = 0 };
	struct savefile_writer w = { .f = NULL };
	struct snapmap_snapshot *snap = NULL;
	struct snapmap_snapshot_info si;
	struct snapmap_info info;
	struct snapmap_entry e;
	struct savefile_record r;
	bool to_stdout = !strcmp(path, "-");
	char tmp[PATH_MAX] = "", what[SNAPMAP_NAME_LEN + 16];
	struct progress p;
	__u64 count = 0;
	struct json j;
	int ret, fd, err, out_fd = -1;

	(void)argc;
	ret = check_map_name(o, name);
	if (ret)
		return ret;
	if (to_stdout && isatty(STDOUT_FILENO)) {
		errorf(o->cmd, "will not write a save file to a terminal");
		return EXIT_FAIL;
	}
	fd = open_map(o, name, false);
	if (fd < 0)
		return EXIT_FAIL;
	err = snapmap_info(fd, &info);
	if (!err)
		err = snapmap_snapshot_open(fd, NULL, &snap);
	close(fd);
	if (!err)
		err = snapmap_snapshot_info(snap, &si);
	if (err) {
		error_map(o->cmd, name, -err, ERR_SNAPSHOT);
		snapmap_snapshot_close(snap);
		return EXIT_FAIL;
	}

	if (to_stdout) {
		w.f = stdout;
	} else {
		out_fd = open_temp(o, path, tmp, sizeof(tmp), info.out_mode);
		if (out_fd < 0) {
			snapmap_snapshot_close(snap);
			return EXIT_FAIL;
		}
		w.f = fdopen(out_fd, "w");
		if (!w.f) {
			error_errno(o->cmd, errno, ERR_OTHER,
				    "'%s': %s", tmp, strerror(errno));
			goto fail;
		}
	}
	setvbuf(w.f, NULL, _IOFBF, 1 << 20);

	h.mode = info.out_mode;
	h.snapshot_version = snapmap_snapshot_version(snap);
	h.record_count = si.out_entries;
	h.max_key_len = info.out_max_key_len;
	h.max_value_len = info.out_max_value_len;
	h.max_entries = info.out_max_entries;
	h.max_bytes = info.out_max_bytes;
	h.saved_at = time(NULL);
	snprintf(h.name, sizeof(h.name), "%s", name);
	if (savefile_write_header(&w, &h))
		goto write_error;

	snprintf(what, sizeof(what), "save '%s'", name);
	progress_start(&p, !o->quiet, what, "records", h.record_count);
	while ((err = snapmap_snapshot_next(snap, &e)) > 0) {
		r.key = e.key;
		r.key_len = e.key_len;
		r.value = e.value;
		r.value_len = e.value_len;
		r.version = e.version;
		if (savefile_write_record(&w, &r))
			goto write_error;
		progress_update(&p, ++count);
	}
	progress_end(&p);
	if (err) {
		error_map(o->cmd, name, -err, ERR_SNAPSHOT);
		goto fail;
	}
	if (count != h.record_count) {
		errorf(o->cmd, "map '%s': the snapshot counted %llu records but yielded %llu",
		       name, (unsigned long long)h.record_count,
		       (unsigned long long)count);
		goto fail;
	}
	if (savefile_write_trailer(&w) || fflush(w.f))
		goto write_error;
	if (!to_stdout) {
		if (fsync(out_fd))
			goto write_error;
		/* fclose() closes the fd even when it fails. */
		err = fclose(w.f);
		w.f = NULL;
		out_fd = -1;
		if (err)
			goto write_error;
		if (rename(tmp, path)) {
			error_errno(o->cmd, errno, ERR_OTHER,
				    "cannot rename '%s' to '%s': %s", tmp, path,
				    strerror(errno));
			goto fail;
		}
		sync_dir(path);
	}
	snapmap_snapshot_close(snap);

	if (o->json && !to_stdout) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", name);
		json_str(&j, "file", path);
		json_u64(&j, "version", h.snapshot_version);
		json_u64(&j, "records", count);
		json_close(&j, '}');
		json_end(&j);
	}
	return EXIT_OK;

write_error:
	progress_end(&p);
	errorf(o->cmd, "cannot write '%s': %s", to_stdout ? "standard output" : tmp,
	       strerror(errno ? errno : EIO));
fail:
	if (w.f && !to_stdout)
		fclose(w.f);
	else if (out_fd >= 0)
		close(out_fd);
	if (tmp[0])
		unlink(tmp);
	snapmap_snapshot_close(snap);
	return EXIT_FAIL;
}

/*
 * load
 */

/* Set by SIGINT, SIGTERM or SIGHUP during the writes, checked per batch. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_signal : SIG_DFL };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Read a whole file, or standard input for "-". */
static int read_file(const struct opts *o, const char *path, void **buf,
		     size_t *len)
{
	bool stdin_ = !strcmp(path, "-");
	char what[PATH_MAX + 16];
	struct progress p;
	struct stat st;
	size_t size, n = 0;
	ssize_t r = 0;
	char *b;
	int fd;

	fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int err = read_all(fd, buf, len, SIZE_MAX / 2);

		if (!stdin_)
			close(fd);
		if (err)
			error_errno(o->cmd, -err, ERR_OTHER,
				    "cannot read '%s': %s", path,
				    strerror(-err));
		return err ? -1 : 0;
	}
	/* A regular file: one buffer of its size, read with progress. */
	size = st.st_size;
	b = malloc(size ? size : 1);
	if (!b) {
		errorf(o->cmd, "'%s': %s", path, sm_strerror(ENOMEM, ERR_OTHER));
		if (!stdin_)
			close(fd);
		return -1;
	}
	snprintf(what, sizeof(what), "read '%s'", path);
	progress_start(&p, !o->quiet, what, "bytes", size);
	while (n < size) {
		r = read(fd, b + n, size - n > (1 << 20) ? 1 << 20 : size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
		progress_update(&p, n);
	}
	progress_end(&p);
	if (r < 0) {
		error_errno(o->cmd, errno, ERR_OTHER,
			    "cannot read '%s': %s", path, strerror(errno));
		free(b);
		if (!stdin_)
			close(fd);
		return -1;
	}
	if (!stdin_)
		close(fd);
	/* A file that shrank is judged as it was read: short. */
	*buf = b;
	*len = n;
	return 0;
}

/*
 * Whether every record fits the target's limits: refused before any write
 * rather than halfway through.
 */
static int check_fit(const struct opts *o, const struct savefile *sf,
		     const char *target, __u32 max_key_len,
		     __u32 max_value_len, __u64 max_entries)
{
	struct savefile_record r;
	size_t off = 0;
	__u64 i;

	if (sf->h.record_count > max_entries) {
		errorf(o->cmd, "map '%s': %llu records do not fit its limit of %llu entries; nothing was changed",
		       target, (unsigned long long)sf->h.record_count,
		       (unsigned long long)max_entries);
		return -1;
	}
	for (i = 0; i < sf->h.record_count; i++) {
		savefile_next(sf, &off, &r);
		if (r.key_len > max_key_len) {
			errorf(o->cmd, "map '%s': record %llu has a key of %u bytes, over the limit of %u; nothing was changed",
			       target, (unsigned long long)i + 1, r.key_len,
			       max_key_len);
			return -1;
		}
		if (r.value_len > max_value_len) {
			errorf(o->cmd, "map '%s': record %llu has a value of %u bytes, over the limit of %u; nothing was changed",
			       target, (unsigned long long)i + 1, r.value_len,
			       max_value_len);
			return -1;
		}
	}
	return 0;
}

/*
 * struct loader - the write phase of a load
 * @fd: the map written to
 * @versions: version of each record's PUT, to undo exactly those
 * @written: records written so far, from the first
 * @err: the errno that stopped the writes, or 0
 */
struct loader {
	int fd;
	__u64 *versions;
	__u64 written;
	int err;
};

/*
 * Insert every record, only where the key is absent so that a key some
 * other writer puts meanwhile is never overwritten.  Stops at the first
 * failure or signal.
 */
static int write_records(const struct opts *o, const struct savefile *sf,
			 struct loader *l, const char *target)
{
	struct snapmap_batch_op ops[LOAD_BATCH];
	struct savefile_record r;
	char what[SNAPMAP_NAME_LEN + 16];
	struct progress p;
	__u64 n = sf->h.record_count;
	size_t off = 0;
	int i, k, ran;

	snprintf(what, sizeof(what), "load '%s'", target);
	progress_start(&p, !o->quiet, what, "records", n);
	while (l->written < n && !interrupted) {
		for (k = 0; k < LOAD_BATCH && l->written + k < n; k++) {
			savefile_next(sf, &off, &r);
			snapmap_batch_put(&ops[k], r.key, r.key_len, r.value,
					  r.value_len, SNAPMAP_PUT_NOEXIST);
		}
		ran = snapmap_batch(l->fd, ops, k, SNAPMAP_BATCH_STOP_ON_ERROR);
		if (ran < 0) {
			l->err = -ran;
			break;
		}
		for (i = 0; i < ran; i++) {
			if (ops[i].out_result) {
				l->err = -ops[i].out_result;
				break;
			}
			l->versions[l->written++] = ops[i].out_version;
		}
		if (l->err)
			break;
		if (ran < k) {
			/* Stopped without a failed operation: cannot be. */
			l->err = EIO;
			break;
		}
		progress_update(&p, l->written);
	}
	progress_end(&p);
	if (!l->err && interrupted)
		l->err = EINTR;
	return l->err ? -1 : 0;
}

/*
 * Delete what write_records() inserted, each key only if it still holds
 * the version the load gave it: a key another writer changed since is
 * theirs now and stays.
 *
 * Return: how many keys were left because another writer changed them,
 * or -1 if a deletion failed.
 */
static long long undo_records(const struct savefile *sf, struct loader *l,
			      int *failure)
{
	struct snapmap_batch_op ops[LOAD_BATCH];
	struct savefile_record r;
	long long changed = 0;
	__u64 done = 0;
	size_t off = 0;
	int i, k, ran;

	while (done < l->written) {
		for (k = 0; k < LOAD_BATCH && done + k < l->written; k++) {
			savefile_next(sf, &off, &r);
			snapmap_batch_del(&ops[k], r.key, r.key_len);
			ops[k].flags = SNAPMAP_DEL_IF_VERSION;
			ops[k].version = l->versions[done + k];
		}
		ran = snapmap_batch(l->fd, ops, k, 0);
		if (ran < 0) {
			*failure = -ran;
			return -1;
		}
		for (i = 0; i < ran; i++) {
			if (ops[i].out_result == -ECANCELED ||
			    ops[i].out_result == -ENOENT)
				changed++;
			else if (ops[i].out_result)
				*failure = -ops[i].out_result;
		}
		done += k;
	}
	return *failure ? -1 : changed;
}

/* What stopped the writes, at which record. */
static const char *stop_reason(const struct loader *l)
{
	if (l->err == EINTR)
		return "interrupted";
	return sm_strerror(l->err, ERR_KEY);
}

static int load_exit(const struct loader *l)
{
	return l->err == EINTR ? 128 + interrupted : EXIT_FAIL;
}

/* A dump has a map name, a version and records, and nothing else. */
static void print_check_dump(const struct opts *o, const char *path,
			     const struct savefile *sf)
{
	const struct savefile_header *h = &sf->h;
	struct json j;

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "file", path);
		json_bool(&j, "valid", true);
		json_str(&j, "format", "dump");
		json_str(&j, "map", h->name);
		json_u64(&j, "version", h->snapshot_version);
		json_u64(&j, "records", h->record_count);
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	printf("%-14s%s: valid, the output of dump --json\n", "file:", path);
	printf("%-14s%s\n", "map:", h->name);
	printf("%-14sversion %llu\n", "snapshot:",
	       (unsigned long long)h->snapshot_version);
	printf("%-14s%llu\n", "records:", (unsigned long long)h->record_count);
}

static void print_check(const struct opts *o, const char *path,
			const struct savefile *sf)
{
	const struct savefile_header *h = &sf->h;
	time_t t = h->saved_at;
	char when[64] = "?", mode[8];
	struct tm tm;
	struct json j;

	if (sf->from_dump) {
		print_check_dump(o, path, sf);
		return;
	}
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(mode, sizeof(mode), "%04o", h->mode);
	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "file", path);
		json_bool(&j, "valid", true);
		json_str(&j, "format", "save");
		json_u64(&j, "format_version", h->format_version);
		json_str(&j, "map", h->name);
		json_str(&j, "mode", mode);
		json_u64(&j, "version", h->snapshot_version);
		json_u64(&j, "saved_at", h->saved_at);
		json_u64(&j, "records", h->record_count);
		json_u64(&j, "max_key_len", h->max_key_len);
		json_u64(&j, "max_value_len", h->max_value_len);
		json_u64(&j, "max_entries", h->max_entries);
		json_u64(&j, "max_bytes", h->max_bytes);
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	printf("%-14s%s: valid, format version %u\n", "file:", path,
	       h->format_version);
	printf("%-14s%s (mode %s)\n", "map:", h->name, mode);
	printf("%-14sATOMIC snapshot at version %llu, saved %s\n", "snapshot:",
	       (unsigned long long)h->snapshot_version, when);
	printf("%-14s%llu\n", "records:", (unsigned long long)h->record_count);
	printf("%-14s%u bytes\n", "max key:", h->max_key_len);
	printf("%-14s%u bytes\n", "max value:", h->max_value_len);
	printf("%-14s%llu\n", "max entries:", (unsigned long long)h->max_entries);
	printf("%-14s%llu\n", "max bytes:", (unsigned long long)h->max_bytes);
}

struct load_ready {
	__u64 records;
	struct snapmap_info info;
};

static void load_ready_json(struct json *j, void *arg)
{
	struct load_ready *lr = arg;

	json_u64(j, "records", lr->records);
	json_u64(j, "max_key_len", lr->info.out_max_key_len);
	json_u64(j, "max_value_len", lr->info.out_max_value_len);
	json_u64(j, "max_entries", lr->info.out_max_entries);
	json_u64(j, "max_bytes", lr->info.out_max_bytes);
}

static const struct savefile_header no_limits;

/*
 * Into a new map: built unnamed, where no one else can reach it, then
 * cloned under its name, so that the name appears only with every record
 * in it; on any failure the unnamed map is dropped and nothing was seen.
 */
static int load_new(const struct opts *o, const struct savefile *sf,
		    const char *path, const char *name, int *clone_fd,
		    struct load_ready *ready)
{
	const struct savefile_header *h = &sf->h;

	/* A dump has no limits of its own: the module's defaults, then. */
	const struct savefile_header *lim = sf->from_dump ? &no_limits : h;

	SNAPMAP_OPTS(snapmap_create_opts, copts,
		     .max_key_len = o->limits.max_key_len ?: lim->max_key_len,
		     .max_value_len = o->limits.max_value_len ?: lim->max_value_len,
		     .max_entries = o->limits.max_entries ?: lim->max_entries,
		     .max_bytes = o->limits.max_bytes ?: lim->max_bytes);
	SNAPMAP_OPTS(snapmap_clone_opts, clopts,
		     .mode = o->mode ?: h->mode, .name = name);
	struct loader l = { .err = 0 };
	struct snapmap_info info;
	int ctl, fd, clone, err, ret = EXIT_FAIL;

	if (!sf->from_dump &&
	    check_fit(o, sf, name, copts.max_key_len, copts.max_value_len,
		      copts.max_entries))
		return EXIT_FAIL;
	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	/* Fail early on a taken name, before the work. */
	fd = snapmap_open(ctl, name, SNAPMAP_OPEN_RDONLY);
	if (fd >= 0 || fd == -EACCES) {
		if (fd >= 0)
			close(fd);
		error_map(o->cmd, name, EEXIST, ERR_CREATE);
		return EXIT_FAIL;
	}
	fd = snapmap_create(ctl, &copts);
	if (fd == -EINVAL) {
		/* The name was checked: a limit is over this module's cap. */
		errorf(o->cmd, "map '%s': a limit (max key %u, max value %u, max entries %llu, max bytes %llu) is above the module's cap; give smaller ones with --max-key-len and the like; nothing was changed",
		       name, copts.max_key_len, copts.max_value_len,
		       (unsigned long long)copts.max_entries,
		       (unsigned long long)copts.max_bytes);
		return EXIT_FAIL;
	}
	if (fd < 0) {
		error_map(o->cmd, name, -fd, ERR_CREATE);
		return EXIT_FAIL;
	}
	l.fd = fd;
	/* The limits the module chose, known only now. */
	if (sf->from_dump) {
		err = snapmap_info(fd, &info);
		if (err) {
			error_map(o->cmd, name, -err, ERR_OTHER);
			goto out;
		}
		if (check_fit(o, sf, name, info.out_max_key_len,
			      info.out_max_value_len, info.out_max_entries))
			goto out;
	}
	l.versions = malloc((h->record_count ?: 1) * sizeof(*l.versions));
	if (!l.versions) {
		errorf(o->cmd, "%s", sm_strerror(ENOMEM, ERR_OTHER));
		goto out;
	}
	catch_signals(true);
	if (write_records(o, sf, &l, name)) {
		errorf(o->cmd, "map '%s': %s at record %llu of %llu from '%s'; the map was not created, nothing was changed",
		       name, stop_reason(&l),
		       (unsigned long long)l.written + 1,
		       (unsigned long long)h->record_count, path);
		ret = load_exit(&l);
		catch_signals(false);
		goto out;
	}
	catch_signals(false);
	clone = snapmap_clone(fd, &clopts, NULL);
	if (clone < 0) {
		errorf(o->cmd, "map '%s': %s; nothing was changed", name,
		       sm_strerror(-clone, ERR_CREATE));
		goto out;
	}
	close(fd);
	free(l.versions);
	ready->records = h->record_count;
	if (snapmap_info(clone, &ready->info))
		memset(&ready->info, 0, sizeof(ready->info));
	*clone_fd = clone;
	return EXIT_OK;
out:
	close(fd);
	free(l.versions);
	return ret;
}

/* Into an existing empty map: what was written is undone on failure. */
static int load_into(const struct opts *o, const struct savefile *sf,
		     const char *path, const char *name)
{
	struct loader l = { .err = 0 };
	struct snapmap_info info;
	int fd, err, ret = EXIT_FAIL, failure = 0;
	long long changed;
	struct json j;

	fd = open_map(o, name, true);
	if (fd < 0)
		return EXIT_FAIL;
	err = snapmap_info(fd, &info);
	if (err) {
		error_map(o->cmd, name, -err, ERR_OTHER);
		goto out;
	}
	if (info.out_entries) {
		errorf(o->cmd, "map '%s' is not empty (%llu entries): --into needs an empty map; nothing was changed",
		       name, (unsigned long long)info.out_entries);
		goto out;
	}
	if (check_fit(o, sf, name, info.out_max_key_len,
		      info.out_max_value_len, info.out_max_entries))
		goto out;
	l.fd = fd;
	l.versions = malloc((sf->h.record_count ?: 1) * sizeof(*l.versions));
	if (!l.versions) {
		errorf(o->cmd, "%s", sm_strerror(ENOMEM, ERR_OTHER));
		goto out;
	}
	/* A signal stops the writes; the undo runs to its end regardless. */
	catch_signals(true);
	if (!write_records(o, sf, &l, name)) {
		catch_signals(false);
		if (o->json) {
			json_init(&j, stdout);
			json_open(&j, NULL, '{');
			json_str(&j, "map", name);
			json_str(&j, "file", path);
			json_u64(&j, "records", l.written);
			json_close(&j, '}');
			json_end(&j);
		}
		ret = EXIT_OK;
		goto out;
	}
	changed = undo_records(sf, &l, &failure);
	catch_signals(false);
	ret = load_exit(&l);
	if (changed < 0)
		errorf(o->cmd, "map '%s': %s at record %llu of %llu from '%s'; removing the %llu records written failed (%s): the map holds part of the file",
		       name, stop_reason(&l), (unsigned long long)l.written + 1,
		       (unsigned long long)sf->h.record_count, path,
		       (unsigned long long)l.written,
		       sm_strerror(failure, ERR_KEY));
	else if (changed)
		errorf(o->cmd, "map '%s': %s at record %llu of %llu from '%s'; %llu records written were removed, %lld changed since by another writer were left as they are",
		       name, stop_reason(&l), (unsigned long long)l.written + 1,
		       (unsigned long long)sf->h.record_count, path,
		       (unsigned long long)l.written - changed, changed);
	else
		errorf(o->cmd, "map '%s': %s at record %llu of %llu from '%s'; the %llu records written were removed, the map is as it was",
		       name, stop_reason(&l), (unsigned long long)l.written + 1,
		       (unsigned long long)sf->h.record_count, path,
		       (unsigned long long)l.written);
out:
	close(fd);
	free(l.versions);
	return ret;
}

int cmd_load(struct opts *o, int argc, char **argv)
{
	const char *path = argv[0], *name = NULL;
	struct load_ready ready;
	struct savefile sf;
	bool from_dump;
	int clone = -1;
	char msg[256];
	size_t len;
	void *buf;
	int ret;

	if (o->check || o->into) {
		if (argc != 1)
			return usage_error(o, "with --%s, give only FILE",
					   o->check ? "check" : "into");
		if (o->check && o->into)
			return usage_error(o, "--check and --into do not go together");
	} else {
		if (argc != 2)
			return usage_error(o, "missing map name (load FILE NAME, or load --into NAME FILE)");
		name = argv[1];
	}
	if (o->into) {
		name = o->into;
		if (o->hold != HOLD_NONE || o->mode || o->limits.max_key_len ||
		    o->limits.max_value_len || o->limits.max_entries ||
		    o->limits.max_bytes)
			return usage_error(o, "--into loads into a map that exists: no limits, --mode or holding");
	}
	if (name) {
		ret = check_map_name(o, name);
		if (ret)
			return ret;
	}
	if (!o->check && !o->into) {
		ret = hold_check(o);
		if (ret)
			return ret;
	}

	if (read_file(o, path, &buf, &len))
		return EXIT_FAIL;
	from_dump = dumpfile_is_json(buf, len);
	if (from_dump) {
		void *sbuf;
		size_t slen;

		ret = dumpfile_to_savefile(buf, len, &sbuf, &slen, msg,
					   sizeof(msg));
		free(buf);
		if (ret) {
			error_errno(o->cmd, EINVAL, ERR_OTHER, "'%s': %s%s",
				    path, msg,
				    o->check ? "" : "; nothing was changed");
			return EXIT_FAIL;
		}
		buf = sbuf;
		len = slen;
	}
	{
		char what[PATH_MAX + 16];
		struct progress p;

		snprintf(what, sizeof(what), "check '%s'", path);
		progress_start(&p, !o->quiet, what, "bytes", len);
		ret = savefile_check(&sf, buf, len, &p, msg, sizeof(msg));
		progress_end(&p);
	}
	if (ret) {
		error_errno(o->cmd, EINVAL, ERR_OTHER, "'%s': %s%s", path, msg,
			    o->check ? "" : "; nothing was changed");
		free(buf);
		return EXIT_FAIL;
	}
	sf.from_dump = from_dump;
	if (o->check)
		print_check(o, path, &sf);
	else if (o->into)
		ret = load_into(o, &sf, path, name);
	else
		ret = load_new(o, &sf, path, name, &clone, &ready);
	/* Not held while the map is: the map has its own copy. */
	free(buf);
	if (clone >= 0)
		ret = hold_map(o, clone, name, load_ready_json, &ready);
	return ret;
}
