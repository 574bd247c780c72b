// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * feature_probe - ask the loaded module what it offers, and adapt
 *
 * A program built against one <linux/snapmap.h> may meet an older module
 * (fewer commands and flags) or a newer one (more).  The API handshake,
 * SNAPMAP_IOC_API through snapmap_api(), reports the module's ABI
 * version, a bit per feature (SNAPMAP_FEATURE_*) and a bit per command
 * (1 << SNAPMAP_CMD_*).  Decide on those bits, not on the version number:
 * a feature bit says exactly what the program may use.
 *
 * This program prints what the module offers, then reads two keys at one
 * instant in the best way the module allows:
 * - with SNAPMAP_FEATURE_TXN (ABI version 2): snapmap_mget(), one batch
 *   of GETs at one version;
 * - without it: an ATOMIC snapshot (every module has them), read until
 *   both keys are found.
 * Both give values the two keys held at the same instant.
 *
 *   cc feature_probe.c -o feature_probe \
 *      $(pkg-config --cflags --libs libsnapmap)
 *
 * usage: feature_probe [--without FEATURE]...
 *   --without  act as if the module lacked FEATURE (a name printed in
 *              the list), to try the fallback on a module that has it
 *
 * Exit status: 0 when both keys were read with their values, 1 on an
 * error, 2 for a bad argument.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libsnapmap.h>

/* The features this program's header knows, and when each appeared. */
static const struct {
	const char *name;
	__u64 bit;
	unsigned int abi;
} features[] = {
	{ "named-maps", SNAPMAP_FEATURE_NAMED_MAPS, 1 },
	{ "versions", SNAPMAP_FEATURE_VERSIONS, 1 },
	{ "atomic-snapshots", SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS, 1 },
	{ "clone", SNAPMAP_FEATURE_CLONE, 1 },
	{ "txn", SNAPMAP_FEATURE_TXN, 2 },
	{ "watch", SNAPMAP_FEATURE_WATCH, 3 },
	{ "persistent", SNAPMAP_FEATURE_PERSISTENT, 4 },
	{ "watch-wakeup", SNAPMAP_FEATURE_WATCH_WAKEUP, 5 },
};

#define NR_FEATURES (sizeof(features) / sizeof(features[0]))

static const char *const keys[2] = { "alpha", "beta" };

/* Both keys at one version, with a batch of GETs read at one version. */
static int read_with_mget(int map, char values[2][16], __u64 *version)
{
	struct snapmap_batch_op ops[2];
	int i, ret;

	for (i = 0; i < 2; i++)
		snapmap_batch_get(&ops[i], keys[i], strlen(keys[i]),
				  values[i], 15);
	ret = snapmap_mget(map, ops, 2, version);
	if (ret < 0)
		return ret;
	for (i = 0; i < 2; i++) {
		if (ops[i].out_result)
			return ops[i].out_result;
		values[i][ops[i].out_value_len] = '\0';
	}
	return 0;
}

/* Both keys at one version, from an ATOMIC snapshot: any module has it. */
static int read_with_snapshot(int map, char values[2][16], __u64 *version)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	int found = 0, ret, i;

	ret = snapmap_snapshot_open(map, NULL, &snap);
	if (ret)
		return ret;
	while (found < 2 && (ret = snapmap_snapshot_next(snap, &e)) > 0) {
		for (i = 0; i < 2; i++) {
			if (e.key_len != strlen(keys[i]) ||
			    memcmp(e.key, keys[i], e.key_len) ||
			    e.value_len > 15)
				continue;
			memcpy(values[i], e.value, e.value_len);
			values[i][e.value_len] = '\0';
			found++;
		}
	}
	*version = snapmap_snapshot_version(snap);
	snapmap_snapshot_close(snap);
	if (ret < 0)
		return ret;
	return found == 2 ? 0 : -ENOENT;
}

int main(int argc, char **argv)
{
	struct snapmap_api api = { .size = sizeof(api) };
	char values[2][16];
	__u64 known = 0, version;
	unsigned int i;
	int map, ret, a;

	/* The handshake.  -1: the call opens /dev/snapmap for itself. */
	ret = snapmap_api(-1, &api);
	if (ret) {
		/* ENOENT: no /dev/snapmap, the module is not loaded. */
		fprintf(stderr, "feature_probe: handshake: %s\n",
			strerror(-ret));
		return 1;
	}

	for (a = 1; a < argc; a++) {
		for (i = 0; i < NR_FEATURES; i++)
			if (a + 1 < argc && !strcmp(argv[a], "--without") &&
			    !strcmp(argv[a + 1], features[i].name))
				break;
		if (i == NR_FEATURES) {
			fprintf(stderr,
				"usage: feature_probe [--without FEATURE]...\n");
			return 2;
		}
		api.out_features &= ~features[i].bit;
		a++;
	}

	printf("module ABI version %u, this program's header %d\n",
	       api.out_abi_version, SNAPMAP_ABI_VERSION);
	for (i = 0; i < NR_FEATURES; i++) {
		printf("  %-17s %s (ABI version %u)\n", features[i].name,
		       api.out_features & features[i].bit ? "yes" : "no ",
		       features[i].abi);
		known |= features[i].bit;
	}
	/* A newer module may offer what this header cannot name. */
	if (api.out_features & ~known)
		printf("  and features unknown here: %#llx\n",
		       (unsigned long long)(api.out_features & ~known));
	printf("  watch command: %s\n",
	       snapmap_has_cmd(&api, SNAPMAP_CMD_WATCH) ? "yes" : "no");

	map = snapmap_create(-1, NULL);
	if (map < 0) {
		fprintf(stderr, "feature_probe: create: %s\n", strerror(-map));
		return 1;
	}
	ret = snapmap_put(map, keys[0], strlen(keys[0]), "1", 1, 0, NULL) ?:
	      snapmap_put(map, keys[1], strlen(keys[1]), "2", 1, 0, NULL);
	if (ret) {
		fprintf(stderr, "feature_probe: put: %s\n", strerror(-ret));
		return 1;
	}

	if (api.out_features & SNAPMAP_FEATURE_TXN) {
		ret = read_with_mget(map, values, &version);
		printf("read with mget: ");
	} else {
		ret = read_with_snapshot(map, values, &version);
		printf("read with a snapshot: ");
	}
	if (ret) {
		printf("failed\n");
		fprintf(stderr, "feature_probe: read: %s\n", strerror(-ret));
		return 1;
	}
	printf("%s=%s %s=%s, both as they were below version %llu\n",
	       keys[0], values[0], keys[1], values[1],
	       (unsigned long long)version);
	close(map);
	return strcmp(values[0], "1") || strcmp(values[1], "2");
}
