// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: persistent maps (create --persistent, rm), and the listing
 * of every map with the processes that hold it (ls --all).
 *
 * Which processes hold a map is read from /proc, as lsof and fuser do:
 * every snapmap fd (a map's, a snapshot's or a watch's) has the map's id
 * in its fdinfo.  /proc shows a process's fds only to those who may look
 * at it, so each user sees the holders the kernel lets them see.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

static void persistent_ready_json(struct json *j, void *arg)
{
	const struct snapmap_info *info = arg;

	json_u64(j, "id", info->out_id);
	json_bool(j, "persistent", true);
}

int create_persistent(struct opts *o, const char *name)
{
	SNAPMAP_OPTS(snapmap_create_opts, copts,
		     .max_key_len = o->limits.max_key_len,
		     .max_value_len = o->limits.max_value_len,
		     .max_entries = o->limits.max_entries,
		     .max_bytes = o->limits.max_bytes,
		     .mode = o->mode,
		     .name = name);
	struct snapmap_info info;
	struct json j;
	int ret, ctl, fd;

	ret = check_map_name(o, name);
	if (ret)
		return ret;
	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	fd = snapmap_create_persistent(ctl, &copts);
	if (fd < 0) {
		error_map(o->cmd, name, -fd, ERR_CREATE);
		return EXIT_FAIL;
	}
	ret = snapmap_info(fd, &info);
	if (ret) {
		error_map(o->cmd, name, -ret, ERR_OTHER);
		close(fd);
		return EXIT_FAIL;
	}
	/* Held by the module already; a holder may hold it as well. */
	if (o->hold != HOLD_NONE)
		return hold_map(o, fd, name, persistent_ready_json, &info);
	close(fd);
	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "name", name);
		persistent_ready_json(&j, &info);
		json_close(&j, '}');
		json_end(&j);
	}
	return EXIT_OK;
}

int cmd_rm(struct opts *o, int argc, char **argv)
{
	int i, ctl, err, ret = EXIT_OK;

	for (i = 0; i < argc; i++) {
		err = check_map_name(o, argv[i]);
		if (err)
			return err;
	}
	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	for (i = 0; i < argc; i++) {
		err = snapmap_unlink(ctl, argv[i]);
		if (err) {
			error_map(o->cmd, argv[i], -err, ERR_MAP);
			ret = EXIT_FAIL;
		}
	}
	/* A failure's document is the error document, of the first. */
	if (o->json && ret == EXIT_OK) {
		struct json j;

		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_open(&j, "removed", '[');
		for (i = 0; i < argc; i++)
			json_str(&j, NULL, argv[i]);
		json_close(&j, ']');
		json_close(&j, '}');
		json_end(&j);
	}
	return ret;
}

/* The pids seen holding one map, ascending, without repeats. */
struct holders {
	__u64 id;
	int *pids;
	size_t n;
	size_t room;
};

static int add_pid(struct holders *h, int pid)
{
	size_t i;
	int *p;

	for (i = 0; i < h->n; i++)
		if (h->pids[i] == pid)
			return 0;
	if (h->n == h->room) {
		h->room = h->room ? 2 * h->room : 4;
		p = realloc(h->pids, h->room * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->pids = p;
	}
	h->pids[h->n++] = pid;
	return 0;
}

/* The map id in the fdinfo of /proc/@pid/fd/@fd, or 0. */
static __u64 fd_map_id(const char *pid, const char *fd)
{
	char path[300], line[256];
	unsigned long long id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "map_id:\t%llu", &id) == 1)
			break;
	fclose(f);
	return id;
}

/* Whether /proc/@pid/fd/@fd is a snapmap fd: a map, snapshot or watch. */
static bool is_snapmap_fd(const char *pid, const char *fd)
{
	char path[300], target[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, fd);
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return false;
	target[len] = '\0';
	return !strncmp(target, "anon_inode:[snapmap", 19);
}

/* Record the maps the fds of process @pid hold in @h, @n of them. */
static int scan_process(const char *pid, struct holders *h, int n)
{
	struct dirent *e;
	char path[300];
	__u64 id;
	DIR *d;
	int i, err = 0;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	/* Gone, or not ours to look at. */
	if (!d)
		return 0;
	while (!err && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !is_snapmap_fd(pid, e->d_name))
			continue;
		id = fd_map_id(pid, e->d_name);
		for (i = 0; id && i < n; i++)
			if (h[i].id == id)
				err = add_pid(&h[i], atoi(pid));
	}
	closedir(d);
	return err;
}

/* The holders of the @n maps of @h, from every process /proc shows. */
static int scan_holders(struct holders *h, int n)
{
	struct dirent *e;
	DIR *d;
	int err = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!err && (e = readdir(d)))
		if (isdigit((unsigned char)e->d_name[0]))
			err = scan_process(e->d_name, h, n);
	closedir(d);
	return err;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Named maps first, by name, then unnamed ones by id. */
static int cmp_all(const void *a, const void *b)
{
	const struct snapmap_map_desc *x = a, *y = b;

	if (!x->name[0] != !y->name[0])
		return x->name[0] ? -1 : 1;
	if (x->name[0])
		return strcmp(x->name, y->name);
	return (x->id > y->id) - (x->id < y->id);
}

static void print_pids(const struct holders *h)
{
	size_t i;

	if (!h->n)
		printf("-");
	for (i = 0; i < h->n; i++)
		printf("%s%d", i ? "," : "", h->pids[i]);
}

int ls_all(struct opts *o)
{
	struct snapmap_map_desc *descs = NULL;
	struct holders *h;
	const char *user;
	int n, i, ctl, err, w_name = 4;
	char mode[8];
	struct json j;
	size_t k;

	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	n = snapmap_list_all(ctl, &descs);
	if (n < 0) {
		errorf(o->cmd, "cannot list the maps: %s",
		       sm_strerror(-n, ERR_OTHER));
		return EXIT_FAIL;
	}
	h = calloc(n ? n : 1, sizeof(*h));
	if (!h) {
		free(descs);
		errorf(o->cmd, "%s", sm_strerror(ENOMEM, ERR_OTHER));
		return EXIT_FAIL;
	}
	qsort(descs, n, sizeof(*descs), cmp_all);
	for (i = 0; i < n; i++) {
		h[i].id = descs[i].id;
		if ((int)strlen(descs[i].name) > w_name)
			w_name = strlen(descs[i].name);
	}
	err = scan_holders(h, n);
	if (err) {
		errorf(o->cmd, "cannot read /proc: %s", strerror(-err));
		goto out;
	}
	for (i = 0; i < n; i++)
		qsort(h[i].pids, h[i].n, sizeof(int), cmp_int);

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '[');
		for (i = 0; i < n; i++) {
			json_open(&j, NULL, '{');
			if (descs[i].name[0])
				json_str(&j, "name", descs[i].name);
			else
				json_null(&j, "name");
			json_u64(&j, "id", descs[i].id);
			json_u64(&j, "uid", descs[i].uid);
			user = user_name(descs[i].uid);
			if (user)
				json_str(&j, "owner", user);
			else
				json_null(&j, "owner");
			snprintf(mode, sizeof(mode), "%04o", descs[i].mode);
			json_str(&j, "mode", mode);
			json_bool(&j, "persistent",
				  descs[i].map_flags & SNAPMAP_MAP_PERSISTENT);
			json_open(&j, "pids", '[');
			for (k = 0; k < h[i].n; k++)
				json_u64(&j, NULL, h[i].pids[k]);
			json_close(&j, ']');
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_end(&j);
	} else if (n) {
		printf("%-*s  %8s  %-8s  MODE  P  PIDS\n", w_name, "NAME", "ID",
		       "OWNER");
		for (i = 0; i < n; i++) {
			user = user_name(descs[i].uid);
			printf("%-*s  %8llu  ", w_name,
			       descs[i].name[0] ? descs[i].name : "-",
			       (unsigned long long)descs[i].id);
			if (user)
				printf("%-8s", user);
			else
				printf("%-8u", descs[i].uid);
			printf("  %04o  %c  ", descs[i].mode,
			       descs[i].map_flags & SNAPMAP_MAP_PERSISTENT ?
			       'P' : '-');
			print_pids(&h[i]);
			printf("\n");
		}
	}
out:
	for (i = 0; i < n; i++)
		free(h[i].pids);
	free(h);
	free(descs);
	return err ? EXIT_FAIL : EXIT_OK;
}
