// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * hello - libsnapmap in one page
 *
 * Creates a named map, puts and gets keys, takes an ATOMIC snapshot and
 * reads it while the map keeps changing, then clones the map.
 *
 *   cc hello.c -o hello $(pkg-config --cflags --libs libsnapmap)
 *
 * Every libsnapmap call returns 0 (or a descriptor, or a count) on
 * success and a negative errno on failure.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsnapmap.h>

static void check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "hello: %s: %s\n", what, strerror(-ret));
		exit(1);
	}
}

static int put_str(int map, const char *key, const char *value)
{
	return snapmap_put(map, key, strlen(key), value, strlen(value), 0,
			   NULL);
}

int main(void)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = "hello", .mode = 0600,
		     .max_entries = 1000);
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	struct snapmap_info info;
	char value[64];
	__u32 len = sizeof(value);
	__u64 version;
	int map, copy, ret;

	/* A map fd; the name lets other processes snapmap_open() it. */
	map = snapmap_create(-1, &opts);
	check(map, "create");

	check(put_str(map, "greeting", "hello"), "put greeting");
	check(put_str(map, "subject", "world"), "put subject");

	/* Each entry carries the version of the write that made it. */
	check(snapmap_get(map, "greeting", 8, value, &len, &version), "get");
	printf("greeting = %.*s (version %llu)\n", (int)len, value,
	       (unsigned long long)version);

	/* An ATOMIC snapshot: the whole map at one instant, taken in O(1). */
	check(snapmap_snapshot_open(map, NULL, &snap), "snapshot");

	/* Writers keep going; the snapshot does not see them. */
	check(put_str(map, "subject", "snapmap"), "put subject again");
	check(put_str(map, "late", "not in the snapshot"), "put late");

	printf("snapshot at version %llu:\n",
	       (unsigned long long)snapmap_snapshot_version(snap));
	while ((ret = snapmap_snapshot_next(snap, &e)) > 0)
		printf("  %.*s = %.*s\n", (int)e.key_len, (const char *)e.key,
		       (int)e.value_len, (const char *)e.value);
	check(ret, "snapshot next");
	snapmap_snapshot_close(snap);

	/* A clone is a new, unnamed map holding an ATOMIC snapshot's data. */
	copy = snapmap_clone(map, NULL, &version);
	check(copy, "clone");
	check(snapmap_info(copy, &info), "info");
	printf("clone of version %llu holds %llu keys\n",
	       (unsigned long long)version,
	       (unsigned long long)info.out_entries);

	/* Closing the last fd of a map frees it. */
	close(copy);
	close(map);
	return 0;
}
