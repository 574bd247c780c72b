// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: a small, strict JSON reader (RFC 8259).
 *
 * The document is untrusted: every read is bounded by its length, nesting
 * by JR_MAX_DEPTH (so the recursion is too), the number of values by
 * JR_MAX_VALUES, and a string's buffer by the bytes it takes in the
 * document.  Nothing outside the grammar is accepted: no comments, no
 * trailing commas, no leading zeros, no control characters or invalid
 * UTF-8 in strings, no unpaired surrogates.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "output.h"

struct jr_parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	unsigned int line;
	size_t line_start;
	int depth;
	size_t values;
	size_t max_values;
	struct jr_error *err;
	bool failed;
};

/* Record the first error, at the current position. */
static void __attribute__((format(printf, 2, 3)))
jr_fail(struct jr_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err->line = p->line;
	p->err->col = p->pos - p->line_start + 1;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

/* What is at the current position, for a message. */
static void jr_fail_here(struct jr_parser *p, const char *expected)
{
	unsigned char c;

	if (p->pos >= p->len) {
		jr_fail(p, "unexpected end of input: %s", expected);
		return;
	}
	c = p->s[p->pos];
	if (c > 0x20 && c < 0x7f)
		jr_fail(p, "unexpected '%c': %s", c, expected);
	else
		jr_fail(p, "unexpected byte 0x%02x: %s", c, expected);
}

static void jr_skip_ws(struct jr_parser *p)
{
	unsigned char c;

	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
		p->pos++;
		if (c == '\n') {
			p->line++;
			p->line_start = p->pos;
		}
	}
}

static int jr_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits of a \u escape at the current position, or -1. */
static long jr_hex4(struct jr_parser *p)
{
	long cp = 0;
	int i, h;

	if (p->len - p->pos < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		h = jr_hex(p->s[p->pos + i]);
		if (h < 0)
			return -1;
		cp = cp << 4 | h;
	}
	p->pos += 4;
	return cp;
}

static size_t jr_put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | ((cp >> 12) & 0x3f);
	out[2] = 0x80 | ((cp >> 6) & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* One escape after its backslash, decoded into @out: bytes, or 0. */
static size_t jr_escape(struct jr_parser *p, char *out)
{
	static const char simple[] = "\"\\/bfnrt";
	static const char decoded[] = "\"\\/\b\f\n\r\t";
	const char *esc;
	long cp, lo;
	unsigned char c;

	c = p->s[p->pos];
	if (c != 'u') {
		esc = c ? strchr(simple, c) : NULL;
		if (!esc) {
			if (c > 0x20 && c < 0x7f)
				jr_fail(p, "invalid escape '\\%c' in a string", c);
			else
				jr_fail(p, "invalid escape in a string");
			return 0;
		}
		p->pos++;
		out[0] = decoded[esc - simple];
		return 1;
	}
	p->pos++;
	cp = jr_hex4(p);
	if (cp < 0) {
		jr_fail(p, "\\u needs four hexadecimal digits");
		return 0;
	}
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		jr_fail(p, "unpaired surrogate \\u%04lx in a string", cp);
		return 0;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate: a low one must follow at once. */
		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
		    p->s[p->pos + 1] != 'u') {
			jr_fail(p, "unpaired surrogate \\u%04lx in a string", cp);
			return 0;
		}
		p->pos += 2;
		lo = jr_hex4(p);
		if (lo < 0xdc00 || lo > 0xdfff) {
			jr_fail(p, "unpaired surrogate \\u%04lx in a string", cp);
			return 0;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return jr_put_utf8(out, cp);
}

/*
 * The string at the current position (its opening quote), decoded into a
 * new buffer.  A first pass finds its end, so that the buffer is the size
 * of the string in the document, which the decoded bytes never exceed.
 */
static char *jr_string(struct jr_parser *p, size_t *lenp)
{
	size_t end = p->pos + 1, n = 0, k;
	unsigned char c;
	char *out;
	__u32 cp;

	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len) {
		jr_fail(p, "unterminated string");
		return NULL;
	}
	out = malloc(end - p->pos);
	if (!out) {
		jr_fail(p, "out of memory");
		return NULL;
	}
	p->pos++;
	while (p->pos < end) {
		c = p->s[p->pos];
		if (c < 0x20) {
			jr_fail(p, "control character 0x%02x in a string (write it as an escape)",
				c);
			goto bad;
		}
		if (c == '\\') {
			p->pos++;
			k = jr_escape(p, out + n);
			if (!k)
				goto bad;
			n += k;
			continue;
		}
		k = utf8_seq(p->s + p->pos, end - p->pos, &cp);
		if (!k) {
			jr_fail(p, "invalid UTF-8 in a string");
			goto bad;
		}
		memcpy(out + n, p->s + p->pos, k);
		n += k;
		p->pos += k;
	}
	/* An escape may not run past the closing quote the first pass saw. */
	if (p->pos != end) {
		jr_fail(p, "unterminated string");
		goto bad;
	}
	p->pos++;
	out[n] = '\0';
	*lenp = n;
	return out;
bad:
	free(out);
	return NULL;
}

static bool jr_digit(struct jr_parser *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static int jr_number(struct jr_parser *p, struct jr_value *v)
{
	bool neg = false, overflow = false;
	__u64 n = 0;
	unsigned int d;

	if (p->s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	if (!jr_digit(p)) {
		jr_fail_here(p, "a number needs a digit");
		return -1;
	}
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (jr_digit(p)) {
			jr_fail(p, "a number may not have a leading zero");
			return -1;
		}
	} else {
		while (jr_digit(p)) {
			d = p->s[p->pos++] - '0';
			if (n > (~0ULL - d) / 10)
				overflow = true;
			n = n * 10 + d;
		}
	}
	v->is_u64 = !neg && !overflow;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!jr_digit(p)) {
			jr_fail_here(p, "a digit must follow '.'");
			return -1;
		}
		while (jr_digit(p))
			p->pos++;
		v->is_u64 = false;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len &&
		    (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!jr_digit(p)) {
			jr_fail_here(p, "an exponent needs a digit");
			return -1;
		}
		while (jr_digit(p))
			p->pos++;
		v->is_u64 = false;
	}
	if (v->is_u64)
		v->u64 = n;
	return 0;
}

static int jr_literal(struct jr_parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n)) {
		jr_fail_here(p, "expected a value");
		return -1;
	}
	p->pos += n;
	return 0;
}

static struct jr_value *jr_value(struct jr_parser *p);

static int jr_append(struct jr_parser *p, struct jr_value *v, size_t *cap,
		     char *name, size_t name_len, struct jr_value *item)
{
	struct jr_member *m;
	size_t ncap;

	if (v->len == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		m = realloc(v->members, ncap * sizeof(*m));
		if (!m) {
			jr_fail(p, "out of memory");
			return -1;
		}
		v->members = m;
		*cap = ncap;
	}
	v->members[v->len].name = name;
	v->members[v->len].name_len = name_len;
	v->members[v->len].value = item;
	v->len++;
	return 0;
}

/* An array or an object, at its opening bracket. */
static int jr_container(struct jr_parser *p, struct jr_value *v)
{
	bool obj = v->type == JR_OBJECT;
	char close = obj ? '}' : ']';
	struct jr_value *item;
	size_t cap = 0, name_len = 0;
	char *name = NULL;

	if (++p->depth > JR_MAX_DEPTH) {
		jr_fail(p, "nested deeper than %d arrays and objects",
			JR_MAX_DEPTH);
		return -1;
	}
	p->pos++;
	jr_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		jr_skip_ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"') {
				jr_fail_here(p, "expected a member name (a string)");
				return -1;
			}
			name = jr_string(p, &name_len);
			if (!name)
				return -1;
			jr_skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				jr_fail_here(p, "expected ':' after a member name");
				free(name);
				return -1;
			}
			p->pos++;
		}
		item = jr_value(p);
		if (!item || jr_append(p, v, &cap, name, name_len, item)) {
			jr_free(item);
			free(name);
			return -1;
		}
		name = NULL;
		jr_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			p->depth--;
			return 0;
		}
		jr_fail_here(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		return -1;
	}
}

static struct jr_value *jr_value(struct jr_parser *p)
{
	struct jr_value *v;
	int err;

	jr_skip_ws(p);
	if (p->pos >= p->len) {
		jr_fail_here(p, "expected a value");
		return NULL;
	}
	if (p->values >= p->max_values) {
		jr_fail(p, "more than %zu values", p->max_values);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		jr_fail(p, "out of memory");
		return NULL;
	}
	p->values++;
	v->line = p->line;
	v->start = p->pos;
	switch (p->s[p->pos]) {
	case '{':
		v->type = JR_OBJECT;
		err = jr_container(p, v);
		break;
	case '[':
		v->type = JR_ARRAY;
		err = jr_container(p, v);
		break;
	case '"':
		v->type = JR_STRING;
		v->str = jr_string(p, &v->len);
		err = v->str ? 0 : -1;
		break;
	case 't':
	case 'f':
		v->type = JR_BOOL;
		v->boolean = p->s[p->pos] == 't';
		err = jr_literal(p, v->boolean ? "true" : "false");
		break;
	case 'n':
		v->type = JR_NULL;
		err = jr_literal(p, "null");
		break;
	case '-':
	case '0' ... '9':
		v->type = JR_NUMBER;
		err = jr_number(p, v);
		break;
	default:
		jr_fail_here(p, "expected a value");
		err = -1;
	}
	if (err) {
		jr_free(v);
		return NULL;
	}
	v->end = p->pos;
	return v;
}

struct jr_value *jr_parse(const char *text, size_t len, struct jr_error *err)
{
	return jr_parse_max(text, len, JR_MAX_VALUES, err);
}

struct jr_value *jr_parse_max(const char *text, size_t len, size_t max_values,
			      struct jr_error *err)
{
	struct jr_parser p = {
		.s = (const unsigned char *)text,
		.len = len,
		.line = 1,
		.max_values = max_values,
		.err = err,
	};
	struct jr_value *v;

	memset(err, 0, sizeof(*err));
	v = jr_value(&p);
	if (!v)
		return NULL;
	jr_skip_ws(&p);
	if (p.pos != p.len) {
		jr_fail_here(&p, "only whitespace may follow the document");
		jr_free(v);
		return NULL;
	}
	return v;
}

void jr_free(struct jr_value *v)
{
	size_t i;

	if (!v)
		return;
	if (v->type == JR_ARRAY || v->type == JR_OBJECT) {
		for (i = 0; i < v->len; i++) {
			free(v->members[i].name);
			jr_free(v->members[i].value);
		}
		free(v->members);
	}
	free(v->str);
	free(v);
}

const char *jr_type_name(enum jr_type type)
{
	switch (type) {
	case JR_NULL:
		return "null";
	case JR_BOOL:
		return "boolean";
	case JR_NUMBER:
		return "number";
	case JR_STRING:
		return "string";
	case JR_ARRAY:
		return "array";
	case JR_OBJECT:
		return "object";
	}
	return "?";
}
