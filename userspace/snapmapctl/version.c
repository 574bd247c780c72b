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

#define STR_(x) #x
#define STR(x) STR_(x)
/* The tool is released with the library it is built with. */
#ifndef SNAPMAPCTL_VERSION
#define SNAPMAPCTL_VERSION \
	STR(LIBSNAPMAP_MAJOR_VERSION) "." STR(LIBSNAPMAP_MINOR_VERSION)
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
		json_str(&j, "snapmapctl", SNAPMAPCTL_VERSION);
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
	printf("snapmapctl %s\n", SNAPMAPCTL_VERSION);
	printf("libsnapmap %s\n", snapmap_lib_version());
	if (why)
		printf("snapmap module: not available: %s; this tool knows ABI version %u\n",
		       why, SNAPMAP_ABI_VERSION);
	else
		printf("snapmap module: ABI version %u (this tool knows %u)\n",
		       api.out_abi_version, SNAPMAP_ABI_VERSION);
	return EXIT_OK;
}
