/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: error messages, escaping of bytes for people, and JSON.
 */

#ifndef _SNAPMAPCTL_OUTPUT_H
#define _SNAPMAPCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/*
 * What an errno meant depends on what was being done: ENOENT is "no such
 * map" from an open and "no such key" from a lookup.
 */
enum err_ctx {
	ERR_CTL,	/* opening /dev/snapmap or the handshake */
	ERR_MAP,	/* opening a map by name */
	ERR_CREATE,	/* creating or cloning a map */
	ERR_KEY,	/* an operation on a key */
	ERR_SNAPSHOT,	/* taking or reading a snapshot */
	ERR_OTHER,
};

const char *sm_strerror(int err, enum err_ctx ctx);

/* "snapmapctl: CMD: " and the message, on stderr. */
void errorf(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "snapmapctl: CMD: map 'NAME': " and the meaning of @err. */
void error_map(const char *cmd, const char *map, int err, enum err_ctx ctx);
/* As error_map(), naming the key too. */
void error_key(const char *cmd, const char *map, const void *key,
	       size_t key_len, int err);

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
	bool first[JSON_MAX_DEPTH];
	bool lines[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_open(struct json *j, const char *key, char bracket);
/* An array whose elements each take a line of their own, for streams. */
void json_open_lines(struct json *j, const char *key);
void json_close(struct json *j, char bracket);
void json_str(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, __u64 v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* Members @key and @key_encoding: the bytes as text or as hex. */
void json_bytes(struct json *j, const char *key, const void *buf,
		size_t len, bool force_hex);
/* Ends the document with a newline. */
void json_end(struct json *j);

#endif /* _SNAPMAPCTL_OUTPUT_H */
