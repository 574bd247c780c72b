// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: dump, the records of a snapshot streamed to standard output.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "progress.h"
#include "snapmapctl.h"

int cmd_dump(struct opts *o, int argc, char **argv)
{
	SNAPMAP_OPTS(snapmap_snapshot_opts, sopts,
		     .flags = o->weak ? SNAPMAP_SNAPSHOT_WEAK : 0);
	const char *name = argv[0];
	struct snapmap_snapshot_info si;
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	struct progress p;
	char what[SNAPMAP_NAME_LEN + 16];
	__u64 version, total = 0, count = 0;
	bool hex = o->enc == ARG_HEX;
	struct json j;
	int ret, fd, err;

	(void)argc;
	ret = check_map_name(o, name);
	if (ret)
		return ret;
	fd = open_map(o, name, false);
	if (fd < 0)
		return EXIT_FAIL;
	err = snapmap_snapshot_open(fd, &sopts, &snap);
	/* The snapshot holds the map by itself. */
	close(fd);
	if (err) {
		error_map(o->cmd, name, -err, ERR_SNAPSHOT);
		return EXIT_FAIL;
	}
	version = snapmap_snapshot_version(snap);
	if (!o->weak) {
		err = snapmap_snapshot_info(snap, &si);
		if (err) {
			error_map(o->cmd, name, -err, ERR_SNAPSHOT);
			snapmap_snapshot_close(snap);
			return EXIT_FAIL;
		}
		total = si.out_entries;
	}

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", name);
		json_str(&j, "snapshot", o->weak ? "weak" : "atomic");
		if (o->weak) {
			json_null(&j, "version");
			json_null(&j, "entries");
		} else {
			json_u64(&j, "version", version);
			json_u64(&j, "entries", total);
		}
		json_open_lines(&j, "records");
	} else if (!o->no_header) {
		if (o->weak)
			printf("# map '%s': WEAK walk (not a point-in-time view)\n",
			       name);
		else
			printf("# map '%s': ATOMIC snapshot at version %llu, %llu entries\n",
			       name, (unsigned long long)version,
			       (unsigned long long)total);
	}

	/* On a terminal the records themselves show the progress. */
	snprintf(what, sizeof(what), "dump '%s'", name);
	progress_start(&p, !o->quiet && !isatty(STDOUT_FILENO), what,
		       "records", total);
	while ((err = snapmap_snapshot_next(snap, &e)) > 0) {
		if (o->json) {
			json_open(&j, NULL, '{');
			json_bytes(&j, "key", e.key, e.key_len, hex);
			json_bytes(&j, "value", e.value, e.value_len, hex);
			json_u64(&j, "version", e.version);
			json_close(&j, '}');
		} else {
			if (o->versions)
				printf("%llu\t", (unsigned long long)e.version);
			put_human(stdout, e.key, e.key_len, hex);
			putchar('\t');
			put_human(stdout, e.value, e.value_len, hex);
			putchar('\n');
		}
		progress_update(&p, ++count);
	}
	progress_end(&p);
	snapmap_snapshot_close(snap);

	if (err)
		error_errno(o->cmd, -err, ERR_SNAPSHOT,
			    "map '%s': %s; the %llu records written are not a whole snapshot",
			    name, sm_strerror(-err, ERR_SNAPSHOT),
			    (unsigned long long)count);
	if (o->json) {
		json_close(&j, ']');
		json_u64(&j, "count", count);
		/* Still one document, saying it is not whole. */
		if (err) {
			json_open(&j, "error", '{');
			report_json_members(&j, report_status(), 0);
			json_close(&j, '}');
		}
		json_close(&j, '}');
		json_end(&j);
	}
	return err ? EXIT_FAIL : EXIT_OK;
}
