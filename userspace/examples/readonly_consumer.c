// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * readonly_consumer - read another program's map without the right to
 * change it
 *
 * Opens a named map with SNAPMAP_OPEN_RDONLY and prints an ATOMIC
 * snapshot of it: every entry as the map held it at one instant, while
 * its writers keep running.
 *
 * Opening read-only needs only the read bit of the map's mode (for the
 * caller's class: owner, group or other, as for a file); opening for
 * writing needs read and write.  A read-only map fd takes every command
 * that only reads the map (GET, BATCH of GETs, INFO, SNAPSHOT, CLONE,
 * WATCH); every command that writes it (PUT, DEL, CLEAR, TXN, and the
 * PUTs and DELs of a BATCH) fails with EBADF.  This program shows that
 * too, with a PUT that must fail.
 *
 *   cc readonly_consumer.c -o readonly_consumer \
 *      $(pkg-config --cflags --libs libsnapmap)
 *
 * usage: readonly_consumer NAME
 *
 * Prints "KEY = VALUE" per entry, bytes outside printable ASCII as \xNN,
 * in the snapshot's order (unspecified), then
 * "NAME: N entries at version V".
 *
 * Exit status: 0 when the snapshot was read whole, 1 on an error (no map
 * of that name: ENOENT; not allowed: EACCES; the snapshot went stale:
 * ESTALE), 2 for a bad argument.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libsnapmap.h>

static void print_bytes(const void *data, __u32 len)
{
	const unsigned char *p = data;
	__u32 i;

	for (i = 0; i < len; i++) {
		if (isprint(p[i]) && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

int main(int argc, char **argv)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	unsigned long n = 0;
	int map, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: readonly_consumer NAME\n");
		return 2;
	}

	map = snapmap_open(-1, argv[1], SNAPMAP_OPEN_RDONLY);
	if (map < 0) {
		fprintf(stderr, "readonly_consumer: open %s: %s\n", argv[1],
			strerror(-map));
		return 1;
	}

	/* Read-only is enforced by the module, on this fd. */
	ret = snapmap_put(map, "k", 1, "v", 1, 0, NULL);
	if (ret != -EBADF) {
		fprintf(stderr, "readonly_consumer: PUT on a read-only fd: %d\n",
			ret);
		return 1;
	}

	/* A snapshot is no write: read-only fds may take one. */
	ret = snapmap_snapshot_open(map, NULL, &snap);
	if (ret) {
		fprintf(stderr, "readonly_consumer: snapshot: %s\n",
			strerror(-ret));
		return 1;
	}
	while ((ret = snapmap_snapshot_next(snap, &e)) > 0) {
		print_bytes(e.key, e.key_len);
		fputs(" = ", stdout);
		print_bytes(e.value, e.value_len);
		putchar('\n');
		n++;
	}
	if (ret) {
		/*
		 * ESTALE: the map's writers needed the memory the snapshot
		 * kept.  What was printed is no whole snapshot: a real
		 * consumer would take a new one.
		 */
		fprintf(stderr, "readonly_consumer: reading the snapshot: %s\n",
			strerror(-ret));
		return 1;
	}
	printf("%s: %lu entries at version %llu\n", argv[1], n,
	       (unsigned long long)snapmap_snapshot_version(snap));
	snapmap_snapshot_close(snap);
	close(map);
	return 0;
}
