/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: a small, strict JSON reader (RFC 8259) for documents given
 * to the tool, such as transactions.  It builds a tree of the whole
 * document, bounded in depth and in number of values, and says where the
 * first error is.
 */

#ifndef _SNAPMAPCTL_JSON_READ_H
#define _SNAPMAPCTL_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Deepest nesting of arrays and objects. */
#define JR_MAX_DEPTH 32
/* Most values in one document, containers and members included. */
#define JR_MAX_VALUES 65536

enum jr_type {
	JR_NULL,
	JR_BOOL,
	JR_NUMBER,
	JR_STRING,
	JR_ARRAY,
	JR_OBJECT,
};

struct jr_value;

/*
 * struct jr_member - an element of an array, or a member of an object
 * @name: the member's name, decoded and NUL-terminated; NULL in an array
 * @name_len: its length in bytes (it may hold a NUL of its own)
 * @value: the value
 */
struct jr_member {
	char *name;
	size_t name_len;
	struct jr_value *value;
};

/*
 * struct jr_value - a value of a document
 * @type: what it is
 * @line: the line it starts on, from 1
 * @start: offset of its first byte in the document
 * @end: offset just past its last byte
 * @boolean: JR_BOOL: the value
 * @is_u64: JR_NUMBER: it is a non-negative integer that fits 64 bits,
 *          written without fraction or exponent
 * @u64: JR_NUMBER with @is_u64: the integer
 * @str: JR_STRING: the bytes, decoded (escapes undone, UTF-8), with a NUL
 *       after them
 * @len: JR_STRING: bytes at @str; JR_ARRAY, JR_OBJECT: members
 * @members: JR_ARRAY, JR_OBJECT: the members, in document order.  An
 *           object's names are not checked for duplicates here: the
 *           reader of the tree knows the names it takes.
 */
struct jr_value {
	enum jr_type type;
	unsigned int line;
	size_t start;
	size_t end;
	bool boolean;
	bool is_u64;
	__u64 u64;
	char *str;
	size_t len;
	struct jr_member *members;
};

/*
 * struct jr_error - where a document is malformed, and how
 * @line: line, from 1
 * @col: byte in the line, from 1
 * @msg: what is wrong
 */
struct jr_error {
	unsigned int line;
	unsigned int col;
	char msg[128];
};

/*
 * The one JSON document that the @len bytes at @text must be, whitespace
 * around it allowed; NULL with @err filled in if they are not one, or for
 * lack of memory.  Free it with jr_free().
 */
struct jr_value *jr_parse(const char *text, size_t len, struct jr_error *err);
/* The same with another bound on the number of values than JR_MAX_VALUES. */
struct jr_value *jr_parse_max(const char *text, size_t len, size_t max_values,
			      struct jr_error *err);
void jr_free(struct jr_value *v);

/* "null", "boolean", "number", "string", "array", "object". */
const char *jr_type_name(enum jr_type type);

#endif /* _SNAPMAPCTL_JSON_READ_H */
