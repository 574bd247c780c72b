// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: --version, which works without the module: what a packager
 * or a bug report needs first, whether or not the module loads.
 */

#include <stdio.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

/* snapmap's version, of the file VERSION: the Makefile passes it. */
#ifndef SNAPMAP_VERSION
#error "SNAPMAP_VERSION is not defined: build with userspace/Makefile"
#endif

int print_version(const struct opts *o)
{
	struct snapmap_api api;
	const char *why = NULL;
	struct json j;
	int ctl, err;

	/* Not get_ctl(): a module that is not there is no failure here. */
	ctl = snapmap_ctl_open();
	if (ctl < 0) {
		why = sm_strerror(-ctl, ERR_CTL);
	} else {
		err = snapmap_api(ctl, &api);
		if (err)
			why = sm_strerror(-err, ERR_CTL);
		close(ctl);
	}
	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "snapmapctl", SNAPMAP_VERSION);
		json_str(&j, "libsnapmap", snapmap_lib_version());
		json_u64(&j, "tool_abi_version", SNAPMAP_ABI_VERSION);
		if (why)
			json_null(&j, "abi_version");
		else
			json_u64(&j, "abi_version", api.out_abi_version);
		json_close(&j, '}');
		json_end(&j);
		return EXIT_OK;
	}
	printf("snapmapctl %s\n", SNAPMAP_VERSION);
	printf("libsnapmap %s\n", snapmap_lib_version());
	if (why)
		printf("snapmap module: not available: %s; this tool knows ABI version %u\n",
		       why, SNAPMAP_ABI_VERSION);
	else
		printf("snapmap module: ABI version %u (this tool knows %u)\n",
		       api.out_abi_version, SNAPMAP_ABI_VERSION);
	return EXIT_OK;
}
