/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: the save file format, version 1 (docs/save-format.md).
 *
 *   header   SAVEFILE_HEADER_SIZE bytes
 *   records  record_count times: a SAVEFILE_RECORD_HEAD_SIZE head, the
 *            key, the value; no padding
 *   trailer  SAVEFILE_END_MAGIC, then the CRC-32C of every byte before it
 *
 * Every integer is little-endian.
 */

#ifndef _SNAPMAPCTL_SAVEFILE_H
#define _SNAPMAPCTL_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/snapmap.h>

#include "progress.h"

#define SAVEFILE_MAGIC		"\x89SNAPMAP"
#define SAVEFILE_END_MAGIC	"\x89SNAPEND"
#define SAVEFILE_MAGIC_LEN	8
#define SAVEFILE_VERSION	1
#define SAVEFILE_HEADER_SIZE	160
#define SAVEFILE_RECORD_HEAD_SIZE 16
#define SAVEFILE_TRAILER_SIZE	12

/* Offsets of the header's members. */
#define SF_OFF_VERSION		8
#define SF_OFF_HEADER_SIZE	12
#define SF_OFF_FLAGS		16
#define SF_OFF_MODE		20
#define SF_OFF_SNAP_VERSION	24
#define SF_OFF_COUNT		32
#define SF_OFF_MAX_KEY_LEN	40
#define SF_OFF_MAX_VALUE_LEN	44
#define SF_OFF_MAX_ENTRIES	48
#define SF_OFF_MAX_BYTES	56
#define SF_OFF_SAVED_AT		64
#define SF_OFF_NAME		72
#define SF_OFF_RESERVED		136

/* struct savefile_header - the header's members, decoded */
struct savefile_header {
	__u32 format_version;
	__u32 flags;
	__u32 mode;
	__u64 snapshot_version;
	__u64 record_count;
	__u32 max_key_len;
	__u32 max_value_len;
	__u64 max_entries;
	__u64 max_bytes;
	__u64 saved_at;
	char name[SNAPMAP_NAME_LEN];
};

/* struct savefile_record - one record, pointing into the file's bytes */
struct savefile_record {
	const unsigned char *key;
	const unsigned char *value;
	__u32 key_len;
	__u32 value_len;
	__u64 version;
};

/* CRC-32C (Castagnoli), chained: crc32c(crc32c(0, a), b) = crc32c(0, ab). */
__u32 crc32c(__u32 crc, const void *buf, size_t len);

/*
 * struct savefile_writer - writes a save file to a stdio stream,
 * checksumming as it goes
 */
struct savefile_writer {
	FILE *f;
	__u32 crc;
};

int savefile_write_header(struct savefile_writer *w,
			  const struct savefile_header *h);
int savefile_write_record(struct savefile_writer *w,
			  const struct savefile_record *r);
int savefile_write_trailer(struct savefile_writer *w);

/*
 * struct savefile - a whole save file in memory, checked
 * @from_dump: made from the output of dump --json, whose limits, mode and
 *             time are not a map's but placeholders
 */
struct savefile {
	const unsigned char *buf;
	size_t len;
	struct savefile_header h;
	bool from_dump;
};

/*
 * savefile_check() - check every byte of a save file
 *
 * Magic, format version, checksum, header, every record against the
 * file's own limits, the record count, duplicate keys, and that nothing
 * follows the trailer.  On failure, says what is wrong in @msg.
 *
 * Return: 0 if the file is whole and valid, -1 otherwise.
 */
int savefile_check(struct savefile *sf, const void *buf, size_t len,
		   struct progress *p, char *msg, size_t msg_size);

/*
 * savefile_next() - the record at *@off of a checked file, moving *@off
 * to the next; start with *@off = 0.
 */
void savefile_next(const struct savefile *sf, size_t *off,
		   struct savefile_record *r);

#endif /* _SNAPMAPCTL_SAVEFILE_H */
