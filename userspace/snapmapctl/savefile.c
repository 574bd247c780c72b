// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: writing and checking save files (docs/save-format.md).
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "savefile.h"

/* The reflected Castagnoli polynomial, 0x1EDC6F41 bit-reversed. */
#define CRC32C_POLY 0x82f63b78U

static __u32 crc_table[256];

static void crc_init(void)
{
	__u32 c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[i] = c;
	}
}

__u32 crc32c(__u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le32(unsigned char *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put_le64(unsigned char *p, __u64 v)
{
	put_le32(p, v);
	put_le32(p + 4, v >> 32);
}

static __u32 get_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

static __u64 get_le64(const unsigned char *p)
{
	return get_le32(p) | (__u64)get_le32(p + 4) << 32;
}

static int sw_write(struct savefile_writer *w, const void *buf, size_t len)
{
	w->crc = crc32c(w->crc, buf, len);
	return fwrite(buf, 1, len, w->f) == len ? 0 : -1;
}

int savefile_write_header(struct savefile_writer *w,
			  const struct savefile_header *h)
{
	unsigned char b[SAVEFILE_HEADER_SIZE] = { 0 };

	w->crc = 0;
	memcpy(b, SAVEFILE_MAGIC, SAVEFILE_MAGIC_LEN);
	put_le32(b + SF_OFF_VERSION, SAVEFILE_VERSION);
	put_le32(b + SF_OFF_HEADER_SIZE, SAVEFILE_HEADER_SIZE);
	put_le32(b + SF_OFF_FLAGS, h->flags);
	put_le32(b + SF_OFF_MODE, h->mode);
	put_le64(b + SF_OFF_SNAP_VERSION, h->snapshot_version);
	put_le64(b + SF_OFF_COUNT, h->record_count);
	put_le32(b + SF_OFF_MAX_KEY_LEN, h->max_key_len);
	put_le32(b + SF_OFF_MAX_VALUE_LEN, h->max_value_len);
	put_le64(b + SF_OFF_MAX_ENTRIES, h->max_entries);
	put_le64(b + SF_OFF_MAX_BYTES, h->max_bytes);
	put_le64(b + SF_OFF_SAVED_AT, h->saved_at);
	memcpy(b + SF_OFF_NAME, h->name, strnlen(h->name, SNAPMAP_NAME_LEN - 1));
	return sw_write(w, b, sizeof(b));
}

int savefile_write_record(struct savefile_writer *w,
			  const struct savefile_record *r)
{
	unsigned char head[SAVEFILE_RECORD_HEAD_SIZE];

	put_le32(head, r->key_len);
	put_le32(head + 4, r->value_len);
	put_le64(head + 8, r->version);
	if (sw_write(w, head, sizeof(head)) ||
	    sw_write(w, r->key, r->key_len))
		return -1;
	return r->value_len ? sw_write(w, r->value, r->value_len) : 0;
}

int savefile_write_trailer(struct savefile_writer *w)
{
	unsigned char crc[4];

	if (sw_write(w, SAVEFILE_END_MAGIC, SAVEFILE_MAGIC_LEN))
		return -1;
	put_le32(crc, w->crc);
	return fwrite(crc, 1, 4, w->f) == 4 ? 0 : -1;
}

static void decode_header(struct savefile_header *h, const unsigned char *b)
{
	h->format_version = get_le32(b + SF_OFF_VERSION);
	h->flags = get_le32(b + SF_OFF_FLAGS);
	h->mode = get_le32(b + SF_OFF_MODE);
	h->snapshot_version = get_le64(b + SF_OFF_SNAP_VERSION);
	h->record_count = get_le64(b + SF_OFF_COUNT);
	h->max_key_len = get_le32(b + SF_OFF_MAX_KEY_LEN);
	h->max_value_len = get_le32(b + SF_OFF_MAX_VALUE_LEN);
	h->max_entries = get_le64(b + SF_OFF_MAX_ENTRIES);
	h->max_bytes = get_le64(b + SF_OFF_MAX_BYTES);
	h->saved_at = get_le64(b + SF_OFF_SAVED_AT);
	memcpy(h->name, b + SF_OFF_NAME, SNAPMAP_NAME_LEN);
	h->name[SNAPMAP_NAME_LEN - 1] = '\0';
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

/* The checksum of everything before the last 4 bytes, with progress. */
static __u32 crc_with_progress(const unsigned char *buf, size_t len,
			       struct progress *p)
{
	const size_t chunk = 1 << 20;
	__u32 crc = 0;
	size_t done = 0, n;

	while (done < len) {
		n = len - done < chunk ? len - done : chunk;
		crc = crc32c(crc, buf + done, n);
		done += n;
		if (p)
			progress_update(p, done);
	}
	return crc;
}

/*
 * The checksum does not match: find the likeliest reason by walking the
 * records as the header counts them, trusting nothing.
 */
static int diagnose(const struct savefile *sf, char *msg, size_t size)
{
	const unsigned char *b = sf->buf;
	size_t len = sf->len, off = SAVEFILE_HEADER_SIZE, end;
	__u64 i, n = sf->h.record_count;
	__u64 rec;

	for (i = 0; i < n; i++) {
		if (len - off < SAVEFILE_RECORD_HEAD_SIZE)
			goto truncated;
		rec = (__u64)get_le32(b + off) + get_le32(b + off + 4);
		off += SAVEFILE_RECORD_HEAD_SIZE;
		if (len - off < rec)
			goto truncated;
		off += rec;
	}
	if (len - off < SAVEFILE_TRAILER_SIZE)
		goto truncated;
	end = off + SAVEFILE_TRAILER_SIZE;
	if (end < len && !memcmp(b + off, SAVEFILE_END_MAGIC,
				 SAVEFILE_MAGIC_LEN) &&
	    crc32c(0, b, end - 4) == get_le32(b + end - 4))
		return fail(msg, size,
			    "%zu bytes of trailing data after the end of the save file",
			    len - end);
	return fail(msg, size, "checksum mismatch: the file is corrupt");

truncated:
	return fail(msg, size,
		    "truncated or corrupt: the file ends (at %zu bytes) inside record %llu of the %llu its header counts",
		    len, (unsigned long long)(i < n ? i + 1 : n),
		    (unsigned long long)n);
}

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* FNV-1a, for the table of keys that finds duplicates. */
static __u64 key_hash(const unsigned char *k, __u32 len)
{
	__u64 h = 0xcbf29ce484222325ULL;

	while (len--)
		h = (h ^ *k++) * 0x100000001b3ULL;
	return h;
}

/*
 * Whether a key appears twice: a snapshot never holds a key twice, and a
 * load would stop halfway on the second one.  Open addressing over the
 * records' offsets.
 */
static int check_duplicates(const struct savefile *sf, char *msg,
			    size_t size)
{
	struct savefile_record r, o;
	size_t slots = 16, off = 0, *table, s, other;
	__u64 i;

	while (slots < 2 * sf->h.record_count)
		slots *= 2;
	table = calloc(slots, sizeof(*table));
	if (!table)
		return fail(msg, size, "out of memory");
	for (i = 0; i < sf->h.record_count; i++) {
		size_t here = off ? off : SAVEFILE_HEADER_SIZE;

		savefile_next(sf, &off, &r);
		s = key_hash(r.key, r.key_len) & (slots - 1);
		while (table[s]) {
			other = table[s];
			savefile_next(sf, &other, &o);
			if (o.key_len == r.key_len &&
			    !memcmp(o.key, r.key, r.key_len)) {
				free(table);
				return fail(msg, size,
					    "record %llu repeats the key of an earlier record",
					    (unsigned long long)i + 1);
			}
			s = (s + 1) & (slots - 1);
		}
		table[s] = here;
	}
	free(table);
	return 0;
}

int savefile_check(struct savefile *sf, const void *buf, size_t len,
		   struct progress *p, char *msg, size_t msg_size)
{
	const unsigned char *b = buf;
	struct savefile_header *h = &sf->h;
	size_t off, i, name_len;
	__u64 n, kl, vl;

	sf->buf = b;
	sf->len = len;
	if (memcmp(b, SAVEFILE_MAGIC,
		   len < SAVEFILE_MAGIC_LEN ? len : SAVEFILE_MAGIC_LEN))
		return fail(msg, msg_size,
			    "not a snapmap save file (no magic number)");
	if (len < SAVEFILE_HEADER_SIZE + SAVEFILE_TRAILER_SIZE)
		return fail(msg, msg_size,
			    "truncated: %zu bytes, less than a header and a trailer (%d)",
			    len, SAVEFILE_HEADER_SIZE + SAVEFILE_TRAILER_SIZE);
	decode_header(h, b);
	/* Before the checksum: a newer format may checksum differently. */
	if (h->format_version != SAVEFILE_VERSION)
		return fail(msg, msg_size,
			    "format version %u is not supported (this snapmapctl reads version %d)",
			    h->format_version, SAVEFILE_VERSION);

	if (crc_with_progress(b, len - 4, p) != get_le32(b + len - 4))
		return diagnose(sf, msg, msg_size);

	/*
	 * The file is as its writer made it: what follows catches writers
	 * that got the format wrong, and files made by hand.
	 */
	if (get_le32(b + SF_OFF_HEADER_SIZE) != SAVEFILE_HEADER_SIZE)
		return fail(msg, msg_size, "header size %u, expected %d",
			    get_le32(b + SF_OFF_HEADER_SIZE),
			    SAVEFILE_HEADER_SIZE);
	if (h->flags)
		return fail(msg, msg_size, "unknown flags 0x%x in the header",
			    h->flags);
	for (i = SF_OFF_RESERVED; i < SAVEFILE_HEADER_SIZE; i++)
		if (b[i])
			return fail(msg, msg_size,
				    "reserved header byte %zu is not zero", i);
	name_len = strnlen((const char *)b + SF_OFF_NAME, SNAPMAP_NAME_LEN);
	if (name_len == SNAPMAP_NAME_LEN)
		return fail(msg, msg_size, "the map name is not terminated");
	for (i = name_len; i < SNAPMAP_NAME_LEN; i++)
		if (b[SF_OFF_NAME + i])
			return fail(msg, msg_size,
				    "the map name is not padded with zeros");
	/* Only what a map name may hold: it is shown as it is. */
	for (i = 0; i < name_len; i++)
		if (!name_char(b[SF_OFF_NAME + i]))
			return fail(msg, msg_size,
				    "the map name holds a byte 0x%02x, not one of [A-Za-z0-9._-]",
				    b[SF_OFF_NAME + i]);
	if (h->mode & ~0777U)
		return fail(msg, msg_size, "mode 0%o is not a permission mode",
			    h->mode);
	if (!h->max_key_len || !h->max_entries || !h->max_bytes)
		return fail(msg, msg_size, "a limit in the header is zero");
	n = h->record_count;
	if (n > h->max_entries)
		return fail(msg, msg_size,
			    "%llu records, over the map's limit of %llu entries",
			    (unsigned long long)n,
			    (unsigned long long)h->max_entries);

	off = SAVEFILE_HEADER_SIZE;
	for (i = 0; i < n; i++) {
		if (len - SAVEFILE_TRAILER_SIZE - off < SAVEFILE_RECORD_HEAD_SIZE)
			return fail(msg, msg_size,
				    "the header counts %llu records, the file holds %zu",
				    (unsigned long long)n, i);
		kl = get_le32(b + off);
		vl = get_le32(b + off + 4);
		if (!kl || kl > h->max_key_len)
			return fail(msg, msg_size,
				    "record %zu: key length %llu is not within 1 to the map's limit of %u",
				    i + 1, kl, h->max_key_len);
		if (vl > h->max_value_len)
			return fail(msg, msg_size,
				    "record %zu: value length %llu is over the map's limit of %u",
				    i + 1, vl, h->max_value_len);
		off += SAVEFILE_RECORD_HEAD_SIZE;
		if (len - SAVEFILE_TRAILER_SIZE - off < kl + vl)
			return fail(msg, msg_size,
				    "record %zu runs into the trailer", i + 1);
		off += kl + vl;
	}
	if (off != len - SAVEFILE_TRAILER_SIZE)
		return fail(msg, msg_size,
			    "%zu bytes between the last of the %llu records and the trailer",
			    len - SAVEFILE_TRAILER_SIZE - off,
			    (unsigned long long)n);
	if (memcmp(b + off, SAVEFILE_END_MAGIC, SAVEFILE_MAGIC_LEN))
		return fail(msg, msg_size, "no end marker before the checksum");
	return check_duplicates(sf, msg, msg_size);
}

void savefile_next(const struct savefile *sf, size_t *off,
		   struct savefile_record *r)
{
	const unsigned char *b;

	if (!*off)
		*off = SAVEFILE_HEADER_SIZE;
	b = sf->buf + *off;
	r->key_len = get_le32(b);
	r->value_len = get_le32(b + 4);
	r->version = get_le64(b + 8);
	r->key = b + SAVEFILE_RECORD_HEAD_SIZE;
	r->value = r->key + r->key_len;
	*off += SAVEFILE_RECORD_HEAD_SIZE + r->key_len + r->value_len;
}
