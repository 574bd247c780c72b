/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: escaping of bytes for people, and JSON.
 */

#ifndef _SNAPMAPCTL_OUTPUT_H
#define _SNAPMAPCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "report.h"

/*
 * The length of the UTF-8 sequence at @s (at most @n bytes) and its code
 * point, or 0 if it is not a valid, shortest-form sequence of a scalar
 * value.
 */
size_t utf8_seq(const unsigned char *s, size_t n, __u32 *cp);
/* Human output: escape what a terminal would not show as it is. */
void put_escaped(FILE *f, const void *buf, size_t len);
/* The same into @dst, cut with "..." past @max input bytes. */
void escape_short(char *dst, size_t size, const void *buf, size_t len);
void put_hex(FILE *f, const void *buf, size_t len);
/* Escaped, or in hex if @hex. */
void put_human(FILE *f, const void *buf, size_t len, bool hex);

/*
 * Whether bytes are text JSON carries as a string: valid UTF-8 with no
 * control character but tab, newline and carriage return.
 */
bool is_text(const void *buf, size_t len);

/*
 * struct json - a JSON writer that places the commas.  Members are
 * written with a key inside objects and with a NULL key inside arrays.
 */
#define JSON_MAX_DEPTH 8
struct json {
	FILE *f;
	int depth;
	int indent;
	bool pretty;
	bool first[JSON_MAX_DEPTH];
	bool lines[JSON_MAX_DEPTH];
};

/*
 * How documents are written, set once by main: @pretty indents them
 * (-p); inside a batch's array, a document starts at @indent levels and
 * ends without its newline.  @docs counts the documents begun.
 */
struct json_style {
	bool pretty;
	bool in_array;
	int indent;
	unsigned long docs;
};
extern struct json_style json_style;

/* Begin a document; a command writes at most one (watch one a line). */
void json_init(struct json *j, FILE *f);
void json_open(struct json *j, const char *key, char bracket);
/* An array whose elements each take a line of their own, for streams. */
void json_open_lines(struct json *j, const char *key);
void json_close(struct json *j, char bracket);
void json_str(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, __u64 v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* A member's comma and key, its value to be written by someone else. */
void json_key(struct json *j, const char *key);
/* Members @key and @key_encoding: the bytes as text or as hex. */
void json_bytes(struct json *j, const char *key, const void *buf,
		size_t len, bool force_hex);
/* Ends the document with a newline. */
void json_end(struct json *j);

#endif /* _SNAPMAPCTL_OUTPUT_H */
