// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: escaping of bytes for people, and JSON.
 */

#include <stdio.h>
#include <string.h>

#include "output.h"

/*
 * The length of the UTF-8 sequence at @s (at most @n bytes) and its code
 * point, or 0 if it is not a valid, shortest-form sequence of a scalar
 * value.
 */
size_t utf8_seq(const unsigned char *s, size_t n, __u32 *cp)
{
	static const __u32 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	__u32 c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * Code points a terminal should not be handed as they are: C1 controls,
 * and the line separators and bidirectional overrides that make text
 * look other than it is.
 */
static bool cp_hidden(__u32 c)
{
	return (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/*
 * Escapes: \\ \t \n \r and \xNN for every other byte that is not
 * printable ASCII or part of a printable UTF-8 character.  The argument
 * option -e reads the same escapes back.
 */
static size_t escape_one(char *out, const unsigned char *s, size_t n)
{
	__u32 cp;
	size_t len;

	switch (s[0]) {
	case '\\':
		memcpy(out, "\\\\", 3);
		return 1;
	case '\t':
		memcpy(out, "\\t", 3);
		return 1;
	case '\n':
		memcpy(out, "\\n", 3);
		return 1;
	case '\r':
		memcpy(out, "\\r", 3);
		return 1;
	}
	if (s[0] >= 0x20 && s[0] < 0x7f) {
		out[0] = s[0];
		out[1] = '\0';
		return 1;
	}
	len = utf8_seq(s, n, &cp);
	if (len > 1 && !cp_hidden(cp)) {
		memcpy(out, s, len);
		out[len] = '\0';
		return len;
	}
	snprintf(out, 5, "\\x%02x", s[0]);
	return 1;
}

void put_escaped(FILE *f, const void *buf, size_t len)
{
	const unsigned char *s = buf;
	char out[8];
	size_t i = 0;

	while (i < len) {
		i += escape_one(out, s + i, len - i);
		fputs(out, f);
	}
}

void escape_short(char *dst, size_t size, const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i = 0, used = 0, n, step;
	char out[8];

	dst[0] = '\0';
	while (i < len) {
		step = escape_one(out, s + i, len - i);
		n = strlen(out);
		/* Room for this, "..." and the NUL. */
		if (used + n + 4 > size) {
			strcpy(dst + used, "...");
			return;
		}
		memcpy(dst + used, out, n + 1);
		used += n;
		i += step;
	}
}

void put_hex(FILE *f, const void *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		putc(digits[s[i] >> 4], f);
		putc(digits[s[i] & 15], f);
	}
}

void put_human(FILE *f, const void *buf, size_t len, bool hex)
{
	if (hex)
		put_hex(f, buf, len);
	else
		put_escaped(f, buf, len);
}

bool is_text(const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i = 0, n;
	__u32 cp;

	while (i < len) {
		n = utf8_seq(s + i, len - i, &cp);
		if (!n)
			return false;
		if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
			return false;
		if (cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}

struct json_style json_style;

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->indent = json_style.in_array ? json_style.indent : 0;
	j->pretty = json_style.pretty;
	j->first[0] = true;
	j->lines[0] = false;
	if (f == stdout)
		json_style.docs++;
}

static void json_newline(struct json *j, int depth)
{
	int i;

	fputc('\n', j->f);
	for (i = 0; i < j->indent + depth; i++)
		fputs("    ", j->f);
}

static void json_quote(FILE *f, const unsigned char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f)
				fprintf(f, "\\u%04x", s[i]);
			else
				fputc(s[i], f);
		}
	}
	fputc('"', f);
}

/* The comma and the key before a member. */
static void json_member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	if (j->pretty && j->depth)
		json_newline(j, j->depth);
	else if (j->lines[j->depth])
		fputc('\n', j->f);
	j->first[j->depth] = false;
	if (key) {
		json_quote(j->f, (const unsigned char *)key, strlen(key));
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

void json_key(struct json *j, const char *key)
{
	json_member(j, key);
}

void json_open(struct json *j, const char *key, char bracket)
{
	json_member(j, key);
	fputc(bracket, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
	j->lines[j->depth] = false;
}

void json_open_lines(struct json *j, const char *key)
{
	json_open(j, key, '[');
	j->lines[j->depth] = true;
}

void json_close(struct json *j, char bracket)
{
	if (j->pretty && !j->first[j->depth])
		json_newline(j, j->depth - 1);
	else if (j->lines[j->depth] && !j->first[j->depth])
		fputc('\n', j->f);
	if (j->depth > 0)
		j->depth--;
	fputc(bracket, j->f);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_member(j, key);
	json_quote(j->f, (const unsigned char *)s, strlen(s));
}

void json_u64(struct json *j, const char *key, __u64 v)
{
	json_member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->f);
}

void json_bytes(struct json *j, const char *key, const void *buf,
		size_t len, bool force_hex)
{
	char enc_key[64];
	bool text = !force_hex && is_text(buf, len);

	json_member(j, key);
	if (text) {
		json_quote(j->f, buf, len);
	} else {
		fputc('"', j->f);
		put_hex(j->f, buf, len);
		fputc('"', j->f);
	}
	snprintf(enc_key, sizeof(enc_key), "%s_encoding", key);
	json_member(j, enc_key);
	json_quote(j->f, (const unsigned char *)(text ? "utf8" : "hex"),
		   text ? 4 : 3);
}

void json_end(struct json *j)
{
	if (!json_style.in_array || j->f != stdout)
		fputc('\n', j->f);
}
