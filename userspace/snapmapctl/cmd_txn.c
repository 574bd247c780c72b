// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: txn, one transaction read as text or JSON, and mget, keys
 * read at one version.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_read.h"
#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

/*
 * Largest transaction read: the module takes SNAPMAP_TXN_MAX_BYTES of
 * keys and values, which hex and JSON spell in more bytes.
 */
#define TXN_INPUT_MAX (8ULL * SNAPMAP_TXN_MAX_BYTES)

/* What a line with more fields than its entry takes may have meant. */
#define TXN_BLANKS_HINT " (blanks in a KEY or VALUE need --escaped or --hex)"

/* Longest form of an entry in a message, as escape_short() cuts it. */
#define SRC_SHOWN 160

/*
 * The kinds of entry, as the text spells them (and JSON without the
 * "if-"): a condition's SNAPMAP_TXN_IF_*, or a write's SNAPMAP_TXN_PUT or
 * _DEL, and which of VALUE and VERSION they take after KEY.
 */
static const struct txn_kind {
	const char *word;
	const char *json;
	bool write;
	__u32 kind;
	bool value;
	bool version;
} txn_kinds[] = {
	{ "if-version", "version", false, SNAPMAP_TXN_IF_VERSION, false, true },
	{ "if-present", "present", false, SNAPMAP_TXN_IF_PRESENT, false, false },
	{ "if-absent", "absent", false, SNAPMAP_TXN_IF_ABSENT, false, false },
	{ "if-value", "value", false, SNAPMAP_TXN_IF_VALUE, true, false },
	{ "put", "put", true, SNAPMAP_TXN_PUT, true, false },
	{ "del", "del", true, SNAPMAP_TXN_DEL, false, false },
};

/*
 * struct txn_entry - a condition or a write, as read
 * @k: its kind
 * @key: the key's bytes
 * @key_len: their number
 * @value: the value's bytes, for those that take one
 * @value_len: their number
 * @version: SNAPMAP_TXN_IF_VERSION's version
 * @line: the line it starts on
 * @src: how it was written, on one line, for messages
 */
struct txn_entry {
	const struct txn_kind *k;
	unsigned char *key;
	__u32 key_len;
	unsigned char *value;
	__u32 value_len;
	__u64 version;
	unsigned int line;
	char *src;
};

/*
 * struct txn_input - a transaction as read
 * @what: where from, for messages: "'FILE'" or "standard input"
 * @buf: the bytes read, NUL-terminated
 * @len: their number, the NUL left out
 * @conds: the conditions, in order
 * @n_conds: their number
 * @ops: the writes, in order
 * @n_ops: their number
 */
struct txn_input {
	char what[512];
	char *buf;
	size_t len;
	struct txn_entry conds[SNAPMAP_TXN_MAX_CONDS];
	unsigned int n_conds;
	struct txn_entry ops[SNAPMAP_TXN_MAX_OPS];
	unsigned int n_ops;
};

static void txn_input_free(struct txn_input *in)
{
	unsigned int i;

	for (i = 0; i < in->n_conds; i++) {
		free(in->conds[i].key);
		free(in->conds[i].value);
		free(in->conds[i].src);
	}
	for (i = 0; i < in->n_ops; i++) {
		free(in->ops[i].key);
		free(in->ops[i].value);
		free(in->ops[i].src);
	}
	free(in->buf);
}

/* "WHERE, line N: MESSAGE; nothing was changed", for a malformed input. */
static int __attribute__((format(printf, 4, 5)))
input_error(const struct opts *o, const struct txn_input *in,
	    unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		error_errno(o->cmd, EINVAL, ERR_OTHER,
			    "%s, line %u: %s; nothing was changed", in->what,
			    line, msg);
	else
		error_errno(o->cmd, EINVAL, ERR_OTHER,
			    "%s: %s; nothing was changed", in->what, msg);
	return EXIT_FAIL;
}

/*
 * A new entry of kind @k: the next condition or write, or NULL past the
 * module's caps (said, at @line).
 */
static struct txn_entry *entry_new(const struct opts *o,
				   struct txn_input *in,
				   const struct txn_kind *k, unsigned int line)
{
	struct txn_entry *e;

	if (k->write && in->n_ops == SNAPMAP_TXN_MAX_OPS) {
		input_error(o, in, line, "more than %d writes (the module's limit)",
			    SNAPMAP_TXN_MAX_OPS);
		return NULL;
	}
	if (!k->write && in->n_conds == SNAPMAP_TXN_MAX_CONDS) {
		input_error(o, in, line, "more than %d conditions (the module's limit)",
			    SNAPMAP_TXN_MAX_CONDS);
		return NULL;
	}
	e = k->write ? &in->ops[in->n_ops++] : &in->conds[in->n_conds++];
	memset(e, 0, sizeof(*e));
	e->k = k;
	e->line = line;
	return e;
}

/*
 * The @len bytes at @src on one line, for messages: each line break and
 * the indentation after it become one space.  JSON strings hold no line
 * break, so only the space between tokens changes.
 */
static char *one_line(const char *src, size_t len)
{
	char *out = malloc(len + 1);
	size_t i, n = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (src[i] != '\n' && src[i] != '\r') {
			out[n++] = src[i];
			continue;
		}
		while (i + 1 < len && (src[i + 1] == ' ' || src[i + 1] == '\t' ||
				       src[i + 1] == '\n' || src[i + 1] == '\r'))
			i++;
		if (n && out[n - 1] != ' ')
			out[n++] = ' ';
	}
	out[n] = '\0';
	return out;
}

static int no_memory(const struct opts *o)
{
	errorf(o->cmd, "%s", sm_strerror(ENOMEM, ERR_OTHER));
	return EXIT_FAIL;
}

/*
 * Text
 */

/* A blank: what separates the fields of a line. */
static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decode the field @f, a key or a value as the options spell it. */
static int text_bytes(const struct opts *o, const struct txn_input *in,
		      unsigned int line, const char *what, const char *f,
		      unsigned char **out, __u32 *len)
{
	char shown[SRC_SHOWN];

	*out = malloc(strlen(f) + 1);
	if (!*out)
		return no_memory(o);
	if (decode_bytes(o->enc, f, *out, len)) {
		escape_short(shown, sizeof(shown), f, strlen(f));
		return input_error(o, in, line, "%s '%s' %s", what, shown,
				   decode_error(o->enc));
	}
	if (!strcmp(what, "key") && !*len)
		return input_error(o, in, line,
				   "the key is empty (keys are 1 byte or more)");
	return 0;
}

/*
 * One line that is neither blank nor a comment: @src, as written, which
 * the entry takes, and its @nf fields, the first ones of which are at @f.
 */
static int text_entry(const struct opts *o, struct txn_input *in,
		      unsigned int line, char *src, char **f, int nf)
{
	const struct txn_kind *k = NULL;
	char shown[SRC_SHOWN];
	struct txn_entry *e;
	int ret, want;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(txn_kinds); i++)
		if (!strcmp(f[0], txn_kinds[i].word))
			k = &txn_kinds[i];
	if (!k) {
		escape_short(shown, sizeof(shown), f[0], strlen(f[0]));
		ret = input_error(o, in, line,
				  "unknown entry '%s' (if-version, if-present, if-absent, if-value, put or del)",
				  shown);
		goto bad;
	}
	want = 2 + (k->value || k->version);
	if (nf != want) {
		ret = input_error(o, in, line, "'%s' takes %s, not %d field%s%s",
				  k->word, k->version ? "KEY VERSION" :
				  k->value ? "KEY VALUE" : "KEY alone",
				  nf - 1, nf == 2 ? "" : "s",
				  nf > want ? TXN_BLANKS_HINT : "");
		goto bad;
	}
	if (!k->write && in->n_ops) {
		ret = input_error(o, in, line,
				  "a condition after a write: write the conditions first (all of them are checked before any write)");
		goto bad;
	}
	e = entry_new(o, in, k, line);
	if (!e) {
		ret = EXIT_FAIL;
		goto bad;
	}
	e->src = src;
	ret = text_bytes(o, in, line, "key", f[1], &e->key, &e->key_len);
	if (ret)
		return ret;
	if (k->value)
		return text_bytes(o, in, line, "value", f[2], &e->value,
				  &e->value_len);
	if (k->version && parse_u64(f[2], &e->version, false)) {
		escape_short(shown, sizeof(shown), f[2], strlen(f[2]));
		return input_error(o, in, line,
				   "'%s' is not a version (a decimal number)",
				   shown);
	}
	return 0;
bad:
	free(src);
	return ret;
}

/*
 * One entry a line: WORD KEY [VALUE | VERSION], fields separated by
 * blanks; blank lines and lines whose first non-blank is '#' are skipped;
 * a line may end with CR LF.
 */
static int parse_text(const struct opts *o, struct txn_input *in)
{
	char *p = in->buf, *end = in->buf + in->len, *eol, *last, *src;
	char *f[3];
	unsigned int line = 0;
	int nf, ret;

	for (; p < end; p = eol + 1) {
		line++;
		eol = memchr(p, '\n', end - p) ?: end;
		if (memchr(p, '\0', eol - p))
			return input_error(o, in, line,
					   "a NUL byte (write binary keys and values with --hex or --escaped)");
		*eol = '\0';
		last = eol;
		if (last > p && last[-1] == '\r')
			*--last = '\0';
		while (last > p && blank(last[-1]))
			*--last = '\0';
		while (blank(*p))
			p++;
		if (!*p || *p == '#')
			continue;
		/* The line as written, less the blanks around it. */
		src = strdup(p);
		if (!src)
			return no_memory(o);
		/* Fields past those an entry can take are only counted. */
		for (nf = 0; *p; nf++) {
			if (nf < (int)ARRAY_SIZE(f))
				f[nf] = p;
			while (*p && !blank(*p))
				p++;
			if (*p)
				*p++ = '\0';
			while (blank(*p))
				p++;
		}
		ret = text_entry(o, in, line, src, f, nf);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * JSON
 */

/* A JSON member name, escaped and cut for a message. */
static const char *shown_name(char *buf, size_t size,
			      const struct jr_member *m)
{
	escape_short(buf, size, m->name, m->name_len);
	return buf;
}

/*
 * The bytes of string member @m, as @enc ("utf8" when NULL, or "hex")
 * says, into a new buffer.
 */
static int json_bytes_of(const struct opts *o, const struct txn_input *in,
			 const struct jr_member *m, const struct jr_value *enc,
			 unsigned char **out, __u32 *len)
{
	const struct jr_value *v = m->value;
	bool hex = false;

	if (v->type != JR_STRING)
		return input_error(o, in, v->line, "\"%s\" must be a string, not %s",
				   m->name, jr_type_name(v->type));
	if (v->len > 0xffffffffU)
		return input_error(o, in, v->line, "\"%s\" is too long", m->name);
	if (enc) {
		if (enc->type != JR_STRING ||
		    (strcmp(enc->str, "utf8") && strcmp(enc->str, "hex")) ||
		    strlen(enc->str) != enc->len)
			return input_error(o, in, enc->line,
					   "\"%s_encoding\" must be \"utf8\" or \"hex\"",
					   m->name);
		hex = !strcmp(enc->str, "hex");
	}
	*out = malloc(v->len + 1);
	if (!*out)
		return no_memory(o);
	if (!hex) {
		memcpy(*out, v->str, v->len);
		*len = v->len;
		return 0;
	}
	/* A \u0000 would end the digits early: not hex either. */
	if (strlen(v->str) != v->len ||
	    decode_bytes(ARG_HEX, v->str, *out, len))
		return input_error(o, in, v->line, "\"%s\" %s", m->name,
				   decode_error(ARG_HEX));
	return 0;
}

/* The members an entry object may have. */
enum {
	M_KIND, M_KEY, M_KEY_ENC, M_VALUE, M_VALUE_ENC, M_VERSION, M_COUNT
};

/* One element of "if" (@write false) or "then" (@write true). */
static int json_entry(const struct opts *o, struct txn_input *in,
		      const struct jr_value *obj, const char *list,
		      unsigned int idx, bool write)
{
	const char *names[M_COUNT] = {
		[M_KIND] = write ? "op" : "cond", [M_KEY] = "key",
		[M_KEY_ENC] = "key_encoding", [M_VALUE] = "value",
		[M_VALUE_ENC] = "value_encoding", [M_VERSION] = "version",
	};
	const struct jr_member *mem[M_COUNT] = { NULL };
	const struct txn_kind *k = NULL;
	const struct jr_value *v;
	struct txn_entry *e;
	char shown[SRC_SHOWN];
	size_t i;
	int id, ret;

	if (obj->type != JR_OBJECT)
		return input_error(o, in, obj->line,
				   "\"%s\"[%u] must be an object, not %s", list,
				   idx, jr_type_name(obj->type));
	for (i = 0; i < obj->len; i++) {
		const struct jr_member *m = &obj->members[i];

		for (id = 0; id < M_COUNT; id++)
			if (strlen(m->name) == m->name_len &&
			    !strcmp(m->name, names[id]))
				break;
		if (id == M_COUNT)
			return input_error(o, in, m->value->line,
					   "\"%s\"[%u]: unknown member \"%s\"",
					   list, idx,
					   shown_name(shown, sizeof(shown), m));
		if (mem[id])
			return input_error(o, in, m->value->line,
					   "\"%s\"[%u]: \"%s\" given twice",
					   list, idx, names[id]);
		mem[id] = m;
	}

	if (!mem[M_KIND])
		return input_error(o, in, obj->line, "\"%s\"[%u]: no \"%s\"",
				   list, idx, names[M_KIND]);
	v = mem[M_KIND]->value;
	for (i = 0; v->type == JR_STRING && i < ARRAY_SIZE(txn_kinds); i++)
		if (txn_kinds[i].write == write &&
		    strlen(v->str) == v->len &&
		    !strcmp(v->str, txn_kinds[i].json))
			k = &txn_kinds[i];
	if (!k)
		return input_error(o, in, v->line, "\"%s\"[%u]: \"%s\" must be %s",
				   list, idx, names[M_KIND],
				   write ? "\"put\" or \"del\"" :
				   "\"version\", \"present\", \"absent\" or \"value\"");
	if (!mem[M_KEY])
		return input_error(o, in, obj->line, "\"%s\"[%u]: no \"key\"",
				   list, idx);
	if (k->value != !!mem[M_VALUE])
		return input_error(o, in, obj->line,
				   k->value ? "\"%s\"[%u]: no \"value\"" :
				   "\"%s\"[%u]: \"value\" does not go with \"%s\": \"%s\"",
				   list, idx, names[M_KIND], k->json);
	if (!k->value && mem[M_VALUE_ENC])
		return input_error(o, in, obj->line,
				   "\"%s\"[%u]: \"value_encoding\" does not go with \"%s\": \"%s\"",
				   list, idx, names[M_KIND], k->json);
	if (k->version != !!mem[M_VERSION])
		return input_error(o, in, obj->line,
				   k->version ? "\"%s\"[%u]: no \"version\"" :
				   "\"%s\"[%u]: \"version\" does not go with \"%s\": \"%s\"",
				   list, idx, names[M_KIND], k->json);

	e = entry_new(o, in, k, obj->line);
	if (!e)
		return EXIT_FAIL;
	e->src = one_line(in->buf + obj->start, obj->end - obj->start);
	if (!e->src)
		return no_memory(o);
	ret = json_bytes_of(o, in, mem[M_KEY],
			    mem[M_KEY_ENC] ? mem[M_KEY_ENC]->value : NULL,
			    &e->key, &e->key_len);
	if (ret)
		return ret;
	if (!e->key_len)
		return input_error(o, in, mem[M_KEY]->value->line,
				   "the key is empty (keys are 1 byte or more)");
	if (k->value) {
		ret = json_bytes_of(o, in, mem[M_VALUE],
				    mem[M_VALUE_ENC] ?
				    mem[M_VALUE_ENC]->value : NULL,
				    &e->value, &e->value_len);
		if (ret)
			return ret;
	}
	if (k->version) {
		v = mem[M_VERSION]->value;
		if (v->type != JR_NUMBER || !v->is_u64)
			return input_error(o, in, v->line,
					   "\"version\" must be an integer from 0 to 2^64-1");
		e->version = v->u64;
	}
	return 0;
}

/* {"if": [CONDITION...], "then": [WRITE...]}, both optional. */
static int parse_json(const struct opts *o, struct txn_input *in)
{
	const struct jr_value *lists[2] = { NULL, NULL };
	static const char *const list_names[2] = { "if", "then" };
	struct jr_value *doc;
	struct jr_error err;
	char shown[SRC_SHOWN];
	size_t i, j;
	int l, ret = 0;

	doc = jr_parse(in->buf, in->len, &err);
	if (!doc)
		return input_error(o, in, err.line, "column %u: %s", err.col,
				   err.msg);
	if (doc->type != JR_OBJECT) {
		ret = input_error(o, in, doc->line,
				  "a transaction is an object with \"if\" and \"then\" arrays, not %s",
				  jr_type_name(doc->type));
		goto out;
	}
	for (i = 0; i < doc->len; i++) {
		const struct jr_member *m = &doc->members[i];

		for (l = 0; l < 2; l++)
			if (strlen(m->name) == m->name_len &&
			    !strcmp(m->name, list_names[l]))
				break;
		if (l == 2) {
			ret = input_error(o, in, m->value->line,
					  "unknown member \"%s\" (a transaction has \"if\" and \"then\")",
					  shown_name(shown, sizeof(shown), m));
			goto out;
		}
		if (lists[l]) {
			ret = input_error(o, in, m->value->line,
					  "\"%s\" given twice", list_names[l]);
			goto out;
		}
		if (m->value->type != JR_ARRAY) {
			ret = input_error(o, in, m->value->line,
					  "\"%s\" must be an array, not %s",
					  list_names[l],
					  jr_type_name(m->value->type));
			goto out;
		}
		lists[l] = m->value;
	}
	for (l = 0; l < 2; l++) {
		for (j = 0; lists[l] && j < lists[l]->len; j++) {
			ret = json_entry(o, in, lists[l]->members[j].value,
					 list_names[l], j, l);
			if (ret)
				goto out;
		}
	}
out:
	jr_free(doc);
	return ret;
}

/*
 * Running it
 */

static int read_input(const struct opts *o, const char *file,
		      struct txn_input *in)
{
	void *buf, *nbuf;
	size_t n;
	int fd, err;

	if (!file || !strcmp(file, "-")) {
		fd = STDIN_FILENO;
		snprintf(in->what, sizeof(in->what), "standard input");
	} else {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			error_errno(o->cmd, errno, ERR_OTHER, "cannot open '%s': %s", file,
			       strerror(errno));
			return EXIT_FAIL;
		}
		snprintf(in->what, sizeof(in->what), "'%s'", file);
	}
	err = read_all(fd, &buf, &n, TXN_INPUT_MAX);
	if (fd != STDIN_FILENO)
		close(fd);
	if (err) {
		error_errno(o->cmd, -err, ERR_OTHER, "cannot read %s: %s", in->what,
		       err == -EFBIG ? "larger than any transaction can be" :
		       strerror(-err));
		return EXIT_FAIL;
	}
	/* Room for a NUL, which the text parser ends lines with. */
	nbuf = realloc(buf, n + 1);
	if (!nbuf) {
		free(buf);
		return no_memory(o);
	}
	in->buf = nbuf;
	in->buf[n] = '\0';
	in->len = n;
	return 0;
}

static bool txn_is_json(const struct txn_input *in)
{
	size_t i;

	for (i = 0; i < in->len; i++) {
		if (in->buf[i] == '{')
			return true;
		if (in->buf[i] != ' ' && in->buf[i] != '\t' &&
		    in->buf[i] != '\r' && in->buf[i] != '\n')
			return false;
	}
	return false;
}

/*
 * EMSGSIZE names no culprit: find which of the entry's key and value is
 * over the map's limit, or else the transaction over its own.
 */
static void txn_too_long(char *msg, size_t size, int fd,
			 const struct txn_entry *e)
{
	struct snapmap_info info;

	if (snapmap_info(fd, &info))
		snprintf(msg, size, "%s", sm_strerror(EMSGSIZE, ERR_KEY));
	else if (e->key_len > info.out_max_key_len)
		snprintf(msg, size, "key of %u bytes is longer than the map's limit of %u",
			 e->key_len, info.out_max_key_len);
	else if (e->value_len > info.out_max_value_len)
		snprintf(msg, size, "value of %u bytes is longer than the map's limit of %u",
			 e->value_len, info.out_max_value_len);
	else
		snprintf(msg, size, "the keys and values come to more than the %u bytes a transaction may hold",
			 SNAPMAP_TXN_MAX_BYTES);
}

/* Whether a write before the @i-th has the same key. */
static bool txn_key_repeated(const struct txn_input *in, unsigned int i)
{
	unsigned int j;

	for (j = 0; j < i; j++)
		if (in->ops[j].key_len == in->ops[i].key_len &&
		    !memcmp(in->ops[j].key, in->ops[i].key, in->ops[i].key_len))
			return true;
	return false;
}

/* Say why the transaction failed; its exit status. */
static int txn_failed(const struct opts *o, const char *name, int fd,
		      const struct txn_input *in, int err, __u32 failed)
{
	const struct txn_entry *e = NULL;
	char shown[SRC_SHOWN], msg[256];
	unsigned int idx = 0, total = 0;

	if (failed < in->n_conds) {
		e = &in->conds[failed];
		idx = failed;
		total = in->n_conds;
	} else if (failed != SNAPMAP_TXN_NONE &&
		   failed - in->n_conds < in->n_ops) {
		idx = failed - in->n_conds;
		e = &in->ops[idx];
		total = in->n_ops;
	}
	if (!e) {
		error_errno(o->cmd, err, ERR_KEY,
			    "map '%s': %s; nothing was changed", name,
			    err == ECANCELED ? "a condition does not hold" :
			    sm_strerror(err, ERR_KEY));
		return err == ECANCELED ? EXIT_CANCELED : EXIT_FAIL;
	}
	escape_short(shown, sizeof(shown), e->src, strlen(e->src));
	if (err == ECANCELED && !e->k->write) {
		error_errno(o->cmd, err, ERR_KEY,
			    "map '%s': condition %u of %u does not hold (line %u: %s); nothing was changed",
			    name, idx + 1, total, e->line, shown);
		return EXIT_CANCELED;
	}
	if (err == EMSGSIZE)
		txn_too_long(msg, sizeof(msg), fd, e);
	else if (err == EINVAL && e->k->write && txn_key_repeated(in, idx))
		snprintf(msg, sizeof(msg), "a second write to the same key (each write must be to a different key)");
	else
		snprintf(msg, sizeof(msg), "%s", sm_strerror(err, ERR_KEY));
	error_errno(o->cmd, err, ERR_KEY,
		    "map '%s': %s %u of %u (line %u: %s): %s; nothing was changed",
		    name, e->k->write ? "write" : "condition", idx + 1, total,
		    e->line, shown, msg);
	return EXIT_FAIL;
}

static int txn_run(const struct opts *o, const char *name,
		   const struct txn_input *in)
{
	struct snapmap_txn_cond conds[SNAPMAP_TXN_MAX_CONDS];
	struct snapmap_txn_op ops[SNAPMAP_TXN_MAX_OPS];
	const struct txn_entry *e;
	__u32 failed;
	__u64 version;
	struct json j;
	unsigned int i;
	int fd, err;

	for (i = 0; i < in->n_conds; i++) {
		e = &in->conds[i];
		switch (e->k->kind) {
		case SNAPMAP_TXN_IF_VERSION:
			snapmap_txn_if_version(&conds[i], e->key, e->key_len,
					       e->version);
			break;
		case SNAPMAP_TXN_IF_PRESENT:
			snapmap_txn_if_present(&conds[i], e->key, e->key_len);
			break;
		case SNAPMAP_TXN_IF_ABSENT:
			snapmap_txn_if_absent(&conds[i], e->key, e->key_len);
			break;
		default:
			snapmap_txn_if_value(&conds[i], e->key, e->key_len,
					     e->value, e->value_len);
		}
	}
	for (i = 0; i < in->n_ops; i++) {
		e = &in->ops[i];
		if (e->k->kind == SNAPMAP_TXN_PUT)
			snapmap_txn_put(&ops[i], e->key, e->key_len, e->value,
					e->value_len);
		else
			snapmap_txn_del(&ops[i], e->key, e->key_len);
	}

	fd = open_map(o, name, true);
	if (fd < 0)
		return EXIT_FAIL;
	err = snapmap_txn(fd, conds, in->n_conds, ops, in->n_ops, &version,
			  &failed);
	if (err) {
		err = txn_failed(o, name, fd, in, -err, failed);
		close(fd);
		return err;
	}
	close(fd);
	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", name);
		json_u64(&j, "version", version);
		json_u64(&j, "conditions", in->n_conds);
		json_u64(&j, "writes", in->n_ops);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("%llu\n", (unsigned long long)version);
	}
	return EXIT_OK;
}

int cmd_txn(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	struct txn_input *in;
	bool json;
	int ret;

	ret = check_map_name(o, name);
	if (ret)
		return ret;
	in = calloc(1, sizeof(*in));
	if (!in)
		return no_memory(o);
	ret = read_input(o, argc > 1 ? argv[1] : NULL, in);
	if (ret)
		goto out;
	json = txn_is_json(in);
	if (json && o->enc != ARG_RAW) {
		ret = usage_error(o, "--hex and --escaped are for text input: JSON gives \"key_encoding\" and \"value_encoding\"");
		goto out;
	}
	ret = json ? parse_json(o, in) : parse_text(o, in);
	if (ret)
		goto out;
	if (!in->n_conds && !in->n_ops) {
		ret = input_error(o, in, 0, "no condition and no write");
		goto out;
	}
	ret = txn_run(o, name, in);
out:
	txn_input_free(in);
	free(in);
	return ret;
}

/*
 * mget
 */

/* Where a value is read into first; a bigger one gets a bigger buffer. */
#define MGET_BUF 256

/*
 * struct mget_key - one KEY argument of mget
 * @key: its bytes
 * @key_len: their number
 * @buf: the value's buffer
 * @size: its size
 */
struct mget_key {
	void *key;
	__u32 key_len;
	void *buf;
	__u32 size;
};

static void mget_print(const struct opts *o, const char *name,
		       const struct mget_key *keys,
		       const struct snapmap_batch_op *ops, int n, __u64 version)
{
	bool hex = o->enc == ARG_HEX;
	struct json j;
	int i;

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "map", name);
		json_u64(&j, "version", version);
		json_open_lines(&j, "records");
		for (i = 0; i < n; i++) {
			json_open(&j, NULL, '{');
			json_bytes(&j, "key", keys[i].key, keys[i].key_len, hex);
			if (ops[i].out_result) {
				json_null(&j, "value");
				json_null(&j, "version");
			} else {
				json_bytes(&j, "value", keys[i].buf,
					   ops[i].out_value_len, hex);
				json_u64(&j, "version", ops[i].out_version);
			}
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	if (!o->no_header)
		printf("# map '%s': read at version %llu\n", name,
		       (unsigned long long)version);
	for (i = 0; i < n; i++) {
		if (ops[i].out_result)
			continue;
		if (o->versions)
			printf("%llu\t", (unsigned long long)ops[i].out_version);
		put_human(stdout, keys[i].key, keys[i].key_len, hex);
		putchar('\t');
		put_human(stdout, keys[i].buf, ops[i].out_value_len, hex);
		putchar('\n');
	}
}

/*
 * Read every key at one version; a value that did not fit gets a buffer
 * of its size and every key is read again, at a new version.
 */
static int mget_read(int fd, struct mget_key *keys,
		     struct snapmap_batch_op *ops, int n, __u64 *version)
{
	bool again;
	void *buf;
	int i, ret;

	do {
		for (i = 0; i < n; i++)
			snapmap_batch_get(&ops[i], keys[i].key, keys[i].key_len,
					  keys[i].buf, keys[i].size);
		ret = snapmap_mget(fd, ops, n, version);
		if (ret < 0)
			return ret;
		again = false;
		for (i = 0; i < n; i++) {
			if (ops[i].out_result != -ERANGE)
				continue;
			buf = realloc(keys[i].buf, ops[i].out_value_len);
			if (!buf)
				return -ENOMEM;
			keys[i].buf = buf;
			keys[i].size = ops[i].out_value_len;
			again = true;
		}
	} while (again);
	return 0;
}

int cmd_mget(struct opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	struct snapmap_batch_op *ops = NULL;
	struct mget_key *keys;
	int ret, fd, err, i, n = argc - 1;
	__u64 version = 0;

	ret = check_map_name(o, name);
	if (ret)
		return ret;
	if (n > SNAPMAP_BATCH_MAX)
		return usage_error(o, "%d keys: at most %d are read at one version",
				   n, SNAPMAP_BATCH_MAX);
	keys = calloc(n, sizeof(*keys));
	ops = calloc(n, sizeof(*ops));
	if (!keys || !ops) {
		ret = no_memory(o);
		goto out;
	}
	for (i = 0; i < n; i++) {
		ret = decode_key(o, argv[i + 1], &keys[i].key,
				 &keys[i].key_len);
		if (ret)
			goto out;
		keys[i].size = MGET_BUF;
		keys[i].buf = malloc(MGET_BUF);
		if (!keys[i].buf) {
			ret = no_memory(o);
			goto out;
		}
	}
	fd = open_map(o, name, false);
	if (fd < 0) {
		ret = EXIT_FAIL;
		goto out;
	}
	err = mget_read(fd, keys, ops, n, &version);
	close(fd);
	if (err) {
		error_map(o->cmd, name, -err,
			  err == -ENOMEM ? ERR_OTHER : ERR_SNAPSHOT);
		ret = EXIT_FAIL;
		goto out;
	}
	mget_print(o, name, keys, ops, n, version);
	ret = EXIT_OK;
	for (i = 0; i < n; i++) {
		if (!ops[i].out_result)
			continue;
		error_key(o->cmd, name, keys[i].key, keys[i].key_len,
			  -ops[i].out_result);
		ret = EXIT_FAIL;
	}
out:
	for (i = 0; keys && i < n; i++) {
		free(keys[i].key);
		free(keys[i].buf);
	}
	free(keys);
	free(ops);
	return ret;
}
