// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: commands on whole maps: version, create, ls, info, clone.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

static const char *const cmd_names[] = {
	[SNAPMAP_CMD_API] = "API",
	[SNAPMAP_CMD_CREATE] = "CREATE",
	[SNAPMAP_CMD_OPEN] = "OPEN",
	[SNAPMAP_CMD_LIST] = "LIST",
	[SNAPMAP_CMD_DELETE] = "DELETE",
	[SNAPMAP_CMD_GET] = "GET",
	[SNAPMAP_CMD_PUT] = "PUT",
	[SNAPMAP_CMD_DEL] = "DEL",
	[SNAPMAP_CMD_BATCH] = "BATCH",
	[SNAPMAP_CMD_CLEAR] = "CLEAR",
	[SNAPMAP_CMD_INFO] = "INFO",
	[SNAPMAP_CMD_SNAPSHOT] = "SNAPSHOT",
	[SNAPMAP_CMD_CLONE] = "CLONE",
	[SNAPMAP_CMD_TXN] = "TXN",
	[SNAPMAP_CMD_WATCH] = "WATCH",
	[SNAPMAP_CMD_SNAPSHOT_INFO] = "SNAPSHOT_INFO",
	[SNAPMAP_CMD_SNAPSHOT_GET] = "SNAPSHOT_GET",
};

static const char *const feature_names[] = {
	"named-maps", "versions", "atomic-snapshots", "clone", "txn",
	"watch", "persistent", "watch-wakeup",
};

/* The name of bit @i of a mask, or NULL if this tool does not know it. */
static const char *bit_name(const char *const *names, size_t n, unsigned int i)
{
	return i < n ? names[i] : NULL;
}

static void print_bits(struct json *j, const char *key, __u64 mask,
		       const char *const *names, size_t n)
{
	char unknown[16];
	const char *name;
	unsigned int i;

	if (j)
		json_open(j, key, '[');
	for (i = 0; i < 64; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		name = bit_name(names, n, i);
		if (!name) {
			snprintf(unknown, sizeof(unknown), "#%u", i);
			name = unknown;
		}
		if (j)
			json_str(j, NULL, name);
		else
			printf(" %s", name);
	}
	if (j)
		json_close(j, ']');
}

int cmd_version(struct opts *o, int argc, char **argv)
{
	struct snapmap_api api;
	struct json j;
	int ctl, err;

	(void)argc;
	(void)argv;
	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	err = snapmap_api(ctl, &api);
	if (err) {
		errorf(o->cmd, "handshake with the module failed: %s",
		       sm_strerror(-err, ERR_CTL));
		return EXIT_FAIL;
	}
	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "snapmapctl", SNAPMAP_VERSION);
		json_str(&j, "libsnapmap", snapmap_lib_version());
		json_u64(&j, "abi_version", api.out_abi_version);
		json_u64(&j, "tool_abi_version", SNAPMAP_ABI_VERSION);
		print_bits(&j, "features", api.out_features, feature_names,
			   ARRAY_SIZE(feature_names));
		print_bits(&j, "ioctls", api.out_ioctls, cmd_names,
			   ARRAY_SIZE(cmd_names));
		json_close(&j, '}');
		json_end(&j);
		return EXIT_OK;
	}
	printf("snapmapctl %s with libsnapmap %s\n", SNAPMAP_VERSION,
	       snapmap_lib_version());
	printf("snapmap ABI version %u (this tool knows %u)\n",
	       api.out_abi_version, SNAPMAP_ABI_VERSION);
	printf("features:");
	print_bits(NULL, NULL, api.out_features, feature_names,
		   ARRAY_SIZE(feature_names));
	printf("\nioctls:  ");
	print_bits(NULL, NULL, api.out_ioctls, cmd_names, ARRAY_SIZE(cmd_names));
	printf("\n");
	return EXIT_OK;
}

/* The limits of a map, for the "ready" line of --json. */
static void limits_json(struct json *j, const struct snapmap_info *info)
{
	json_u64(j, "max_key_len", info->out_max_key_len);
	json_u64(j, "max_value_len", info->out_max_value_len);
	json_u64(j, "max_entries", info->out_max_entries);
	json_u64(j, "max_bytes", info->out_max_bytes);
}

static void create_ready_json(struct json *j, void *arg)
{
	limits_json(j, arg);
}

int cmd_create(struct opts *o, int argc, char **argv)
{
	SNAPMAP_OPTS(snapmap_create_opts, copts,
		     .max_key_len = o->limits.max_key_len,
		     .max_value_len = o->limits.max_value_len,
		     .max_entries = o->limits.max_entries,
		     .max_bytes = o->limits.max_bytes,
		     .mode = o->mode,
		     .name = argv[0]);
	struct snapmap_info info;
	const char *name = argv[0];
	int ret, ctl, fd;

	(void)argc;
	if (o->persistent)
		return create_persistent(o, name);
	ret = check_map_name(o, name) ?: hold_check(o);
	if (ret)
		return ret;
	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	fd = snapmap_create(ctl, &copts);
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
	return hold_map(o, fd, name, create_ready_json, &info);
}

static int cmp_desc(const void *a, const void *b)
{
	const struct snapmap_map_desc *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Make a column at least as wide as @s. */
static void widen(int *width, const char *s)
{
	int len = strlen(s);

	if (len > *width)
		*width = len;
}

struct ls_row {
	char owner[64];
	char group[64];
	char uid[12];
	char gid[12];
	char entries[24];
	char bytes[24];
	bool usage;
	struct snapmap_info info;
};

int cmd_ls(struct opts *o, int argc, char **argv)
{
	int w_name = 4, w_owner = 5, w_group = 5, w_entries = 7;
	struct snapmap_map_desc *descs = NULL;
	struct ls_row *rows;
	struct json j;
	int n, i, ctl, fd;

	(void)argc;
	(void)argv;
	if (o->all)
		return ls_all(o);
	ctl = get_ctl(o);
	if (ctl < 0)
		return EXIT_FAIL;
	n = snapmap_list(ctl, &descs);
	if (n < 0) {
		errorf(o->cmd, "cannot list the maps: %s",
		       sm_strerror(-n, ERR_OTHER));
		return EXIT_FAIL;
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		free(descs);
		errorf(o->cmd, "%s", sm_strerror(ENOMEM, ERR_OTHER));
		return EXIT_FAIL;
	}
	qsort(descs, n, sizeof(*descs), cmp_desc);
	for (i = 0; i < n; i++) {
		struct ls_row *r = &rows[i];

		/* Empty when unknown: a number for people, null in JSON. */
		snprintf(r->owner, sizeof(r->owner), "%s",
			 user_name(descs[i].uid) ?: "");
		snprintf(r->group, sizeof(r->group), "%s",
			 group_name(descs[i].gid) ?: "");
		snprintf(r->uid, sizeof(r->uid), "%u", descs[i].uid);
		snprintf(r->gid, sizeof(r->gid), "%u", descs[i].gid);
		/*
		 * Usage only for those who may read the map; a map that went
		 * away since the listing shows '-' too.
		 */
		fd = snapmap_open(ctl, descs[i].name, SNAPMAP_OPEN_RDONLY);
		if (fd >= 0) {
			r->usage = !snapmap_info(fd, &r->info);
			close(fd);
		}
		if (r->usage) {
			snprintf(r->entries, sizeof(r->entries), "%llu",
				 (unsigned long long)r->info.out_entries);
			snprintf(r->bytes, sizeof(r->bytes), "%llu",
				 (unsigned long long)r->info.out_bytes);
		} else {
			strcpy(r->entries, "-");
			strcpy(r->bytes, "-");
		}
		widen(&w_name, descs[i].name);
		widen(&w_owner, r->owner[0] ? r->owner : r->uid);
		widen(&w_group, r->group[0] ? r->group : r->gid);
		widen(&w_entries, r->entries);
	}

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '[');
		for (i = 0; i < n; i++) {
			char mode[8];

			snprintf(mode, sizeof(mode), "%04o", descs[i].mode);
			json_open(&j, NULL, '{');
			json_str(&j, "name", descs[i].name);
			json_u64(&j, "uid", descs[i].uid);
			json_u64(&j, "gid", descs[i].gid);
			if (rows[i].owner[0])
				json_str(&j, "owner", rows[i].owner);
			else
				json_null(&j, "owner");
			if (rows[i].group[0])
				json_str(&j, "group", rows[i].group);
			else
				json_null(&j, "group");
			json_str(&j, "mode", mode);
			if (rows[i].usage) {
				json_u64(&j, "entries", rows[i].info.out_entries);
				json_u64(&j, "bytes", rows[i].info.out_bytes);
			} else {
				json_null(&j, "entries");
				json_null(&j, "bytes");
			}
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_end(&j);
	} else if (n) {
		printf("%-*s  %-*s  %-*s  MODE  %*s  BYTES\n", w_name, "NAME",
		       w_owner, "OWNER", w_group, "GROUP", w_entries,
		       "ENTRIES");
		for (i = 0; i < n; i++)
			printf("%-*s  %-*s  %-*s  %04o  %*s  %s\n", w_name,
			       descs[i].name, w_owner,
			       rows[i].owner[0] ? rows[i].owner : rows[i].uid,
			       w_group,
			       rows[i].group[0] ? rows[i].group : rows[i].gid,
			       descs[i].mode, w_entries, rows[i].entries,
			       rows[i].bytes);
	}
	free(rows);
	free(descs);
	return EXIT_OK;
}

static void info_json(const struct opts *o, const char *name,
		      const struct snapmap_info *info)
{
	const char *user = user_name(info->out_uid);
	const char *group;
	char mode[8];
	struct json j;

	(void)o;
	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_str(&j, "name", name);
	json_u64(&j, "uid", info->out_uid);
	if (user)
		json_str(&j, "owner", user);
	else
		json_null(&j, "owner");
	json_u64(&j, "gid", info->out_gid);
	group = group_name(info->out_gid);
	if (group)
		json_str(&j, "group", group);
	else
		json_null(&j, "group");
	snprintf(mode, sizeof(mode), "%04o", info->out_mode);
	json_str(&j, "mode", mode);
	json_u64(&j, "entries", info->out_entries);
	json_u64(&j, "bytes", info->out_bytes);
	limits_json(&j, info);
	json_u64(&j, "version", info->out_version);
	json_u64(&j, "gets", info->out_gets);
	json_u64(&j, "puts", info->out_puts);
	json_u64(&j, "dels", info->out_dels);
	json_u64(&j, "id", info->out_id);
	json_bool(&j, "persistent",
		  info->out_map_flags & SNAPMAP_MAP_PERSISTENT);
	json_u64(&j, "snapshots", info->out_snapshots);
	json_u64(&j, "stale_snapshots", info->out_stale_snapshots);
	json_u64(&j, "invalidated", info->out_invalidated);
	json_u64(&j, "pinned_bytes", info->out_pinned_bytes);
	json_close(&j, '}');
	json_end(&j);
}

/* "3 of 1000 (0.3%)" */
static void print_usage(const char *label, __u64 used, __u64 limit)
{
	printf("%-14s%llu of %llu", label, (unsigned long long)used,
	       (unsigned long long)limit);
	if (limit)
		printf(" (%.1f%%)", 100.0 * used / limit);
	printf("\n");
}

int cmd_info(struct opts *o, int argc, char **argv)
{
	struct snapmap_info info;
	const char *name = argv[0], *user, *group;
	int fd, err;

	(void)argc;
	err = check_map_name(o, name);
	if (err)
		return err;
	fd = open_map(o, name, false);
	if (fd < 0)
		return EXIT_FAIL;
	err = snapmap_info(fd, &info);
	close(fd);
	if (err) {
		error_map(o->cmd, name, -err, ERR_OTHER);
		return EXIT_FAIL;
	}
	if (o->json) {
		info_json(o, name, &info);
		return EXIT_OK;
	}
	user = user_name(info.out_uid);
	group = group_name(info.out_gid);
	printf("%-14s%s\n", "map:", name);
	printf("%-14s%s (uid %u)\n", "owner:", user ?: "?", info.out_uid);
	printf("%-14s%s (gid %u)\n", "group:", group ?: "?", info.out_gid);
	printf("%-14s%04o\n", "mode:", info.out_mode);
	print_usage("entries:", info.out_entries, info.out_max_entries);
	print_usage("bytes:", info.out_bytes, info.out_max_bytes);
	printf("%-14s%u bytes\n", "max key:", info.out_max_key_len);
	printf("%-14s%u bytes\n", "max value:", info.out_max_value_len);
	printf("%-14s%llu\n", "version:", (unsigned long long)info.out_version);
	printf("%-14s%llu gets, %llu puts, %llu dels\n", "operations:",
	       (unsigned long long)info.out_gets,
	       (unsigned long long)info.out_puts,
	       (unsigned long long)info.out_dels);
	printf("%-14s%llu%s\n", "id:", (unsigned long long)info.out_id,
	       info.out_map_flags & SNAPMAP_MAP_PERSISTENT ?
	       ", persistent" : "");
	printf("%-14s%u open, %u stale; %llu invalidated in all\n",
	       "snapshots:", info.out_snapshots, info.out_stale_snapshots,
	       (unsigned long long)info.out_invalidated);
	printf("%-14s%llu\n", "pinned bytes:",
	       (unsigned long long)info.out_pinned_bytes);
	return EXIT_OK;
}

struct clone_ready {
	struct snapmap_info info;
	__u64 version;
};

static void clone_ready_json(struct json *j, void *arg)
{
	struct clone_ready *c = arg;

	json_u64(j, "version", c->version);
	json_u64(j, "entries", c->info.out_entries);
	limits_json(j, &c->info);
}

int cmd_clone(struct opts *o, int argc, char **argv)
{
	SNAPMAP_OPTS(snapmap_clone_opts, copts, .name = argv[1]);
	const char *src = argv[0], *dst = argv[1];
	struct clone_ready ready;
	int ret, fd, clone;

	(void)argc;
	ret = check_map_name(o, src) ?: check_map_name(o, dst) ?:
	      hold_check(o);
	if (ret)
		return ret;
	fd = open_map(o, src, false);
	if (fd < 0)
		return EXIT_FAIL;
	/* The clone is as private as its source unless told otherwise. */
	ret = snapmap_info(fd, &ready.info);
	if (ret) {
		error_map(o->cmd, src, -ret, ERR_OTHER);
		close(fd);
		return EXIT_FAIL;
	}
	copts.mode = o->mode ?: ready.info.out_mode;
	clone = snapmap_clone(fd, &copts, &ready.version);
	close(fd);
	if (clone < 0) {
		if (-clone == ESTALE || -clone == ENOSPC)
			error_map(o->cmd, src, -clone, ERR_CREATE);
		else
			error_map(o->cmd, dst, -clone, ERR_CREATE);
		return EXIT_FAIL;
	}
	ret = snapmap_info(clone, &ready.info);
	if (ret) {
		error_map(o->cmd, dst, -ret, ERR_OTHER);
		close(clone);
		return EXIT_FAIL;
	}
	return hold_map(o, clone, dst, clone_ready_json, &ready);
}
