/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: the JSON document of `dump --json`, read back for load.
 */

#ifndef _SNAPMAPCTL_DUMPFILE_H
#define _SNAPMAPCTL_DUMPFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether @buf looks like JSON rather than a save file: '{' first. */
bool dumpfile_is_json(const void *buf, size_t len);

/*
 * dumpfile_to_savefile() - a save file holding the records of a dump
 *
 * The dump must be whole: no "error" member, as many records as it says,
 * keys and values in "utf8" or "hex" as dump writes them.  The save file
 * made of it has the dump's map name and version, mode 0600, no saved
 * time, and limits just large enough for its records, to be replaced by
 * the target map's (see cmd_load).  On failure, says what is wrong in
 * @msg.
 *
 * Return: 0 with *@out (to free) and *@out_len set, or -1.
 */
int dumpfile_to_savefile(const void *buf, size_t len, void **out,
			 size_t *out_len, char *msg, size_t msg_size);

#endif /* _SNAPMAPCTL_DUMPFILE_H */
