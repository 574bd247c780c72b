// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl - command-line tool for snapmap maps
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"

static const char *const cmd_names[] = {
	[SNAPMAP_CMD_API] = "API",
	[SNAPMAP_CMD_CREATE] = "CREATE",
	[SNAPMAP_CMD_OPEN] = "OPEN",
	[SNAPMAP_CMD_GET] = "GET",
	[SNAPMAP_CMD_PUT] = "PUT",
	[SNAPMAP_CMD_DEL] = "DEL",
	[SNAPMAP_CMD_BATCH] = "BATCH",
	[SNAPMAP_CMD_CLEAR] = "CLEAR",
	[SNAPMAP_CMD_INFO] = "INFO",
	[SNAPMAP_CMD_SNAPSHOT] = "SNAPSHOT",
	[SNAPMAP_CMD_CLONE] = "CLONE",
	[SNAPMAP_CMD_SNAPSHOT_INFO] = "SNAPSHOT_INFO",
};

static const char *const feature_names[] = {
	"named-maps", "versions", "atomic-snapshots", "clone",
};

static int usage(FILE *out)
{
	fprintf(out,
		"usage: snapmapctl COMMAND\n"
		"\n"
		"commands:\n"
		"  version    show the loaded module's ABI version, features and ioctls\n");
	return out == stderr ? 2 : 0;
}

static int cmd_version(void)
{
	struct snapmap_api api;
	unsigned int i;
	int fd, err;

	fd = snapmap_ctl_open();
	if (fd < 0) {
		fprintf(stderr, "snapmapctl: cannot open /dev/snapmap: %s\n",
			strerror(-fd));
		return 1;
	}
	err = snapmap_api(fd, &api);
	close(fd);
	if (err) {
		fprintf(stderr, "snapmapctl: handshake failed: %s\n",
			strerror(-err));
		return 1;
	}

	printf("snapmap ABI version %u (this tool knows %u)\n",
	       api.out_abi_version, SNAPMAP_ABI_VERSION);
	printf("features:");
	for (i = 0; i < 64; i++) {
		if (!(api.out_features & (1ULL << i)))
			continue;
		if (i < sizeof(feature_names) / sizeof(feature_names[0]))
			printf(" %s", feature_names[i]);
		else
			printf(" #%u", i);
	}
	printf("\n");
	printf("ioctls:  ");
	for (i = 0; i < 64; i++) {
		if (!(api.out_ioctls & (1ULL << i)))
			continue;
		if (i < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[i])
			printf(" %s", cmd_names[i]);
		else
			printf(" #%u", i);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return usage(stderr);
	if (!strcmp(argv[1], "version"))
		return cmd_version();
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	return usage(stderr);
}
