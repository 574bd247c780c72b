// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: the JSON document of `dump --json`, read back for load.
 *
 * It is turned into a save file in memory, so that load checks and
 * writes it as it does any save file: duplicate keys, limits and the
 * undo on failure are the save file's.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpfile.h"
#include "json_read.h"
#include "savefile.h"
#include "snapmapctl.h"

bool dumpfile_is_json(const void *buf, size_t len)
{
	const char *s = buf;
	size_t i;

	for (i = 0; i < len && strchr(" \t\r\n", s[i]); i++)
		;
	return i < len && s[i] == '{';
}

static int fail(char *msg, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return -1;
}

static struct jr_value *member(const struct jr_value *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->len; i++)
		if (obj->members[i].name_len == strlen(name) &&
		    !strcmp(obj->members[i].name, name))
			return obj->members[i].value;
	return NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The bytes of @what ("key" or "value") of record @obj,
 * hex decoded in place.
 */
static int record_bytes(struct jr_value *obj, const char *what,
			size_t index, const unsigned char **bytes,
			__u32 *len, char *msg, size_t size)
{
	char enc_name[16];
	const struct jr_value *enc;
	struct jr_value *v = member(obj, what);
	size_t i;

	snprintf(enc_name, sizeof(enc_name), "%s_encoding", what);
	enc = member(obj, enc_name);
	if (!v || v->type != JR_STRING)
		return fail(msg, size, "line %u: record %zu has no string \"%s\"",
			    obj->line, index + 1, what);
	if (enc && (enc->type != JR_STRING ||
		    (strcmp(enc->str, "utf8") && strcmp(enc->str, "hex"))))
		return fail(msg, size, "line %u: record %zu: \"%s\" is not \"utf8\" or \"hex\"",
			    enc->line, index + 1, enc_name);
	if (enc && !strcmp(enc->str, "hex")) {
		if (v->len % 2)
			return fail(msg, size, "line %u: record %zu: \"%s\" is not hex",
				    v->line, index + 1, what);
		for (i = 0; i < v->len / 2; i++) {
			int hi = hex_digit(v->str[2 * i]);
			int lo = hex_digit(v->str[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return fail(msg, size, "line %u: record %zu: \"%s\" is not hex",
					    v->line, index + 1, what);
			v->str[i] = hi << 4 | lo;
		}
		v->len /= 2;
	}
	if (v->len > 0xffffffffU)
		return fail(msg, size, "line %u: record %zu: \"%s\" is too long",
			    v->line, index + 1, what);
	*bytes = (const unsigned char *)v->str;
	*len = v->len;
	return 0;
}

static int check_dump(const struct jr_value *doc, char *msg, size_t size)
{
	const struct jr_value *recs, *v, *e;

	if (doc->type != JR_OBJECT)
		return fail(msg, size, "not the output of dump --json (not an object)");
	e = member(doc, "error");
	if (e)
		return fail(msg, size, "the dump is not whole: it ended with an error");
	recs = member(doc, "records");
	if (!recs || recs->type != JR_ARRAY)
		return fail(msg, size, "not the output of dump --json (no \"records\" array)");
	v = member(doc, "count");
	if (v && (!v->is_u64 || v->u64 != recs->len))
		return fail(msg, size, "\"count\" is not the number of records (%zu)",
			    recs->len);
	v = member(doc, "entries");
	if (v && v->type != JR_NULL && (!v->is_u64 || v->u64 != recs->len))
		return fail(msg, size, "the dump is not whole: %zu records of its %s entries",
			    recs->len, v->is_u64 ? "counted" : "unknown");
	v = member(doc, "version");
	if (v && v->type != JR_NULL && !v->is_u64)
		return fail(msg, size, "\"version\" is not a version");
	return 0;
}

int dumpfile_to_savefile(const void *buf, size_t len, void **out,
			 size_t *out_len, char *msg, size_t size)
{
	struct savefile_header h = { .format_version = SAVEFILE_VERSION };
	struct savefile_writer w = { .f = NULL };
	struct savefile_record *r = NULL;
	const struct jr_value *recs, *v;
	struct jr_value *doc, *rec;
	struct jr_error jerr;
	char *mem = NULL;
	size_t mem_len = 0, i;
	int ret = -1;

	/* A value takes a byte at least: the file's size bounds them. */
	doc = jr_parse_max(buf, len, len + 1, &jerr);
	if (!doc)
		return fail(msg, size, "line %u, byte %u: %s", jerr.line,
			    jerr.col, jerr.msg);
	if (check_dump(doc, msg, size))
		goto out;
	recs = member(doc, "records");
	r = calloc(recs->len ?: 1, sizeof(*r));
	if (!r) {
		fail(msg, size, "out of memory");
		goto out;
	}
	/* First the limits the records need, then the file. */
	for (i = 0; i < recs->len; i++) {
		rec = recs->members[i].value;
		if (rec->type != JR_OBJECT) {
			fail(msg, size, "line %u: record %zu is not an object",
			     rec->line, i + 1);
			goto out;
		}
		if (record_bytes(rec, "key", i, &r[i].key, &r[i].key_len, msg,
				 size) ||
		    record_bytes(rec, "value", i, &r[i].value, &r[i].value_len,
				 msg, size))
			goto out;
		if (r[i].key_len > h.max_key_len)
			h.max_key_len = r[i].key_len;
		if (r[i].value_len > h.max_value_len)
			h.max_value_len = r[i].value_len;
	}
	h.max_key_len = h.max_key_len ?: 1;
	h.max_entries = recs->len ?: 1;
	h.max_bytes = ~0ULL;
	h.mode = 0600;
	h.record_count = recs->len;
	v = member(doc, "version");
	if (v && v->is_u64)
		h.snapshot_version = v->u64;
	v = member(doc, "map");
	if (v && v->type == JR_STRING && valid_map_name(v->str))
		snprintf(h.name, sizeof(h.name), "%s", v->str);

	w.f = open_memstream(&mem, &mem_len);
	if (!w.f) {
		fail(msg, size, "out of memory");
		goto out;
	}
	if (savefile_write_header(&w, &h))
		goto nomem;
	for (i = 0; i < recs->len; i++)
		if (savefile_write_record(&w, &r[i]))
			goto nomem;
	if (savefile_write_trailer(&w) || fclose(w.f)) {
		w.f = NULL;
		goto nomem;
	}
	*out = mem;
	*out_len = mem_len;
	mem = NULL;
	ret = 0;
	goto out;
nomem:
	if (w.f)
		fclose(w.f);
	fail(msg, size, "out of memory");
out:
	free(mem);
	free(r);
	jr_free(doc);
	return ret;
}
