// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: snapshots and clones as an API: SNAPMAP_IOC_SNAPSHOT,
 * the snapshot fd (its records, read(2), lseek(2), poll(2), its flags),
 * SNAPMAP_IOC_SNAPSHOT_INFO, ESTALE under the byte limit, WEAK snapshots,
 * SNAPMAP_IOC_CLONE, the lifetime of all these fds, and every errno of
 * these commands.  That snapshots are atomic under concurrent writers is
 * atomicity_test.c's subject.
 */

#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>

#include <linux/userfaultfd.h>

#include "snapmap_test.h"

#define KEY_MAX 32
#define VAL_MAX 64
#define ENTRIES_MAX 1024

/* The largest record of a map of the fixture. */
#define RECORD_MAX SNAPMAP_RECORD_SIZE(KEY_MAX, VAL_MAX)

/* The contents of a map as the test wrote them. */
#define MODEL_MAX 256

struct model_ent {
	unsigned char key[KEY_MAX];
	unsigned char value[VAL_MAX];
	__u32 key_len;
	__u32 value_len;
	__u64 version;
	int present;
};

struct model {
	unsigned int n;
	struct model_ent ent[MODEL_MAX];
};

FIXTURE(snap) {
	int ctl;
	int fd;
	struct model *m;
};

FIXTURE_SETUP(snap)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, ENTRIES_MAX, 0, 0,
			     NULL);
	ASSERT_LE(0, self->fd);
	self->m = calloc(1, sizeof(*self->m));
	ASSERT_TRUE(self->m != NULL);
}

FIXTURE_TEARDOWN(snap)
{
	free(self->m);
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/* A name no other test uses: "snapshot_test-<tag>-<pid>". */
static void test_name(char *buf, const char *tag)
{
	snprintf(buf, SNAPMAP_NAME_LEN, "snapshot_test-%s-%d", tag,
		 (int)getpid());
}

static struct model_ent *model_find(struct model *m, const void *key,
				    __u32 key_len)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->ent[i].key_len == key_len &&
		    !memcmp(m->ent[i].key, key, key_len))
			return &m->ent[i];
	return NULL;
}

/* PUT on @fd and, when it succeeds, in @m.  Returns as sm_put(). */
static int model_put(int fd, struct model *m, const void *key, __u32 key_len,
		     const void *value, __u32 value_len)
{
	struct model_ent *e;
	__u64 version = 0;
	int ret;

	if (key_len > KEY_MAX || value_len > VAL_MAX)
		abort();
	ret = sm_put(fd, 0, key, key_len, value, value_len, 0, &version);
	if (ret)
		return ret;
	e = model_find(m, key, key_len);
	if (!e) {
		if (m->n == MODEL_MAX)
			abort();
		e = &m->ent[m->n++];
		memcpy(e->key, key, key_len);
		e->key_len = key_len;
	}
	memcpy(e->value, value, value_len);
	e->value_len = value_len;
	e->version = version;
	e->present = 1;
	return 0;
}

static int model_put_str(int fd, struct model *m, const char *key,
			 const char *value)
{
	return model_put(fd, m, key, strlen(key), value, strlen(value));
}

/* DEL on @fd and, when it succeeds, in @m.  Returns as sm_del(). */
static int model_del_str(int fd, struct model *m, const char *key)
{
	struct model_ent *e;
	int ret;

	ret = sm_del_str(fd, key, NULL);
	if (ret)
		return ret;
	e = model_find(m, key, strlen(key));
	if (e)
		e->present = 0;
	return 0;
}

static unsigned int model_entries(const struct model *m)
{
	unsigned int i, n = 0;

	for (i = 0; i < m->n; i++)
		n += m->ent[i].present;
	return n;
}

static __u64 model_bytes(const struct model *m)
{
	unsigned int i;
	__u64 n = 0;

	for (i = 0; i < m->n; i++)
		if (m->ent[i].present)
			n += SNAPMAP_RECORD_SIZE(m->ent[i].key_len,
						 m->ent[i].value_len);
	return n;
}

static __u64 model_max_version(const struct model *m)
{
	unsigned int i;
	__u64 v = 0;

	for (i = 0; i < m->n; i++)
		if (m->ent[i].version > v)
			v = m->ent[i].version;
	return v;
}

/*
 * Expect the @len bytes of records at @buf to be exactly the present
 * entries of @m: every key once, with its value and version.
 */
static void expect_records(struct __test_metadata *_metadata,
			   const void *buf, size_t len, const struct model *m)
{
	unsigned char seen[MODEL_MAX] = { 0 };
	unsigned int bad = 0, records = 0, i;
	const struct model_ent *e;
	struct sm_record rec;
	size_t off = 0, size;

	while (off < len) {
		size = sm_record_parse((const unsigned char *)buf + off,
				       len - off, &rec);
		if (!size) {
			TH_LOG("malformed record at offset %zu", off);
			bad++;
			break;
		}
		off += size;
		records++;
		e = model_find((struct model *)m, rec.key, rec.key_len);
		if (!e || !e->present) {
			if (bad++ < 5)
				TH_LOG("record of a key not in the map: \"%.*s\" version %llu",
				       (int)rec.key_len, rec.key,
				       (unsigned long long)rec.version);
			continue;
		}
		if (seen[e - m->ent]++) {
			if (bad++ < 5)
				TH_LOG("key \"%.*s\" twice", (int)rec.key_len,
				       rec.key);
			continue;
		}
		if (rec.value_len != e->value_len ||
		    memcmp(rec.value, e->value, e->value_len) ||
		    rec.version != e->version) {
			if (bad++ < 5)
				TH_LOG("key \"%.*s\": value \"%.*s\" version %llu, expected \"%.*s\" version %llu",
				       (int)rec.key_len, rec.key,
				       (int)rec.value_len, rec.value,
				       (unsigned long long)rec.version,
				       (int)e->value_len, e->value,
				       (unsigned long long)e->version);
		}
	}
	for (i = 0; i < m->n; i++) {
		if (m->ent[i].present && !seen[i] && bad++ < 5)
			TH_LOG("key \"%.*s\" missing", (int)m->ent[i].key_len,
			       m->ent[i].key);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(model_entries(m), records);
}

/*
 * Read the rest of the snapshot fd @sfd with reads of @chunk bytes and
 * expect exactly the present entries of @m.  Returns the bytes read, or
 * -errno.
 */
static ssize_t expect_snapshot(struct __test_metadata *_metadata, int sfd,
			       const struct model *m, size_t chunk)
{
	void *buf;
	ssize_t len;

	len = sm_read_all(sfd, chunk, &buf);
	EXPECT_LE(0, len) {
		TH_LOG("reading the snapshot: %s", strerror(-len));
		return len;
	}
	expect_records(_metadata, buf, len, m);
	EXPECT_EQ(model_bytes(m), len);
	free(buf);
	return len;
}

/* Put @n keys "k<i>" with values "v<i>". */
static void fill(struct __test_metadata *_metadata, int fd, struct model *m,
		 unsigned int n)
{
	char key[32], value[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		snprintf(value, sizeof(value), "v%u", i);
		ASSERT_EQ(0, model_put_str(fd, m, key, value));
	}
}

TEST_F(snap, handshake)
{
	struct snapmap_api api = { .size = sizeof(api) };
	static const __u64 cmds = (1ULL << SNAPMAP_CMD_SNAPSHOT) |
			   (1ULL << SNAPMAP_CMD_CLONE) |
			   (1ULL << SNAPMAP_CMD_SNAPSHOT_INFO);
	static const __u64 features = SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS |
			       SNAPMAP_FEATURE_CLONE;

	ASSERT_EQ(0, ioctl(self->ctl, SNAPMAP_IOC_API, &api));
	EXPECT_TRUE((api.out_ioctls & cmds) == cmds) {
		TH_LOG("out_ioctls %#llx", (unsigned long long)api.out_ioctls);
	}
	EXPECT_TRUE((api.out_features & features) == features) {
		TH_LOG("out_features %#llx",
		       (unsigned long long)api.out_features);
	}
}

TEST_F(snap, empty_map)
{
	struct snapmap_snapshot_info info;
	char buf[256];
	__u64 v = 0;
	int sfd;

	sfd = sm_snapshot(self->fd, 0, &v);
	ASSERT_LE(0, sfd);
	EXPECT_LT(0, v);
	EXPECT_EQ(0, read(sfd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, sm_snapshot_info(sfd, &info));
	EXPECT_EQ(v, info.out_version);
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	EXPECT_EQ(0, info.out_snapshot_flags);
	EXPECT_EQ(0, close(sfd));

	/* The same for a WEAK snapshot. */
	sfd = sm_snapshot(self->fd, SNAPMAP_SNAPSHOT_WEAK, &v);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, sm_snapshot_info(sfd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	EXPECT_EQ(0, close(sfd));
}

/* A map emptied again is as empty as a new one. */
TEST_F(snap, emptied_map)
{
	struct snapmap_snapshot_info info;
	char buf[256];
	int sfd;

	fill(_metadata, self->fd, self->m, 10);
	ASSERT_EQ(0, sm_clear(self->fd, NULL));
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, sm_snapshot_info(sfd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	EXPECT_EQ(0, close(sfd));
}

TEST(record_size_macro)
{
	EXPECT_EQ(16, sizeof(struct snapmap_record));
	EXPECT_EQ(0, offsetof(struct snapmap_record, key_len));
	EXPECT_EQ(4, offsetof(struct snapmap_record, value_len));
	EXPECT_EQ(8, offsetof(struct snapmap_record, version));
	EXPECT_EQ(16, SNAPMAP_RECORD_SIZE(0, 0));
	EXPECT_EQ(24, SNAPMAP_RECORD_SIZE(1, 0));
	EXPECT_EQ(24, SNAPMAP_RECORD_SIZE(8, 0));
	EXPECT_EQ(24, SNAPMAP_RECORD_SIZE(4, 4));
	EXPECT_EQ(32, SNAPMAP_RECORD_SIZE(8, 1));
	EXPECT_EQ(32, SNAPMAP_RECORD_SIZE(1, 15));
	/* No overflow for the largest lengths. */
	EXPECT_EQ(16 + 0x200000000ULL,
		  SNAPMAP_RECORD_SIZE(0xffffffffU, 0xffffffffU + 2ULL));
}

/*
 * Keys of every length from 1 to 9 bytes, holding any byte (NUL and 0xff
 * included), values of 0 to 19 bytes: each key and value at its offset,
 * zero padding up to a multiple of 8.
 */
TEST_F(snap, record_layout)
{
	unsigned char key[KEY_MAX], value[VAL_MAX];
	const unsigned int n = 60;
	unsigned char *buf;
	unsigned int i, j;
	__u64 v;
	ssize_t len;
	int sfd;

	for (i = 0; i < n; i++) {
		__u32 key_len = 1 + i % 9, value_len = (i * 7) % 20;

		key[0] = (unsigned char)(i * 37);	/* unique for i < 256 */
		for (j = 1; j < key_len; j++)
			key[j] = j & 1 ? 0 : 0xff;
		for (j = 0; j < value_len; j++)
			value[j] = (unsigned char)(i + j * 31);
		ASSERT_EQ(0, model_put(self->fd, self->m, key, key_len, value,
				       value_len));
	}
	/* The longest key and value, too. */
	memset(key, 'K', KEY_MAX);
	memset(value, 'V', VAL_MAX);
	ASSERT_EQ(0, model_put(self->fd, self->m, key, KEY_MAX, value,
			       VAL_MAX));

	sfd = sm_snapshot(self->fd, 0, &v);
	ASSERT_LE(0, sfd);
	EXPECT_LT(model_max_version(self->m), v);

	buf = malloc(65536);
	ASSERT_TRUE(buf != NULL);
	/* Bytes the module does not write stay 0xa5 and fail the padding. */
	memset(buf, 0xa5, 65536);
	len = read(sfd, buf, 65536);
	ASSERT_EQ(model_bytes(self->m), len);
	expect_records(_metadata, buf, len, self->m);
	/* The byte after the last record was not touched. */
	EXPECT_EQ(0xa5, buf[len]);

	/* The raw layout of each record, without sm_record_parse(). */
	for (i = 0; i < (size_t)len; ) {
		struct snapmap_record hdr;
		const struct model_ent *e;
		__u64 size;

		memcpy(&hdr, buf + i, sizeof(hdr));
		e = model_find(self->m, buf + i + 16, hdr.key_len);
		ASSERT_TRUE(e != NULL);
		EXPECT_EQ(e->value_len, hdr.value_len);
		EXPECT_EQ(e->version, hdr.version);
		EXPECT_EQ(0, memcmp(buf + i + 16 + hdr.key_len, e->value,
				    e->value_len));
		size = 16 + hdr.key_len + hdr.value_len;
		for (; size % 8; size++)
			EXPECT_EQ(0, buf[i + size]);
		EXPECT_EQ(SNAPMAP_RECORD_SIZE(hdr.key_len, hdr.value_len),
			  size);
		i += size;
	}
	EXPECT_EQ(0, read(sfd, buf, 65536));
	free(buf);
	EXPECT_EQ(0, close(sfd));
}

/*
 * Read record by record: a buffer one byte short of the next record gets
 * EMSGSIZE and takes nothing; a buffer of exactly its size gets exactly
 * it; then read returns 0, again and again.
 */
TEST_F(snap, read_exact_records)
{
	unsigned char *first, *buf;
	size_t off = 0, size;
	struct sm_record rec;
	ssize_t len, n;
	int sfd;

	fill(_metadata, self->fd, self->m, 40);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	len = sm_read_all(sfd, 65536, (void **)&first);
	ASSERT_EQ(model_bytes(self->m), len);
	buf = malloc(RECORD_MAX * 2);
	ASSERT_TRUE(buf != NULL);

	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	/* Smaller than any record: not even a header fits. */
	EXPECT_ERRNO(EMSGSIZE, read(sfd, buf, 1));
	EXPECT_ERRNO(EMSGSIZE, read(sfd, buf, sizeof(struct snapmap_record)));
	/* A zero-byte read takes nothing either. */
	n = read(sfd, buf, 0);
	if (n < 0) {
		EXPECT_EQ(EMSGSIZE, errno);
	} else {
		EXPECT_EQ(0, n);
	}
	while (off < (size_t)len) {
		size = sm_record_parse(first + off, len - off, &rec);
		if (size < SNAPMAP_RECORD_SIZE(1, 0))
			break;
		EXPECT_ERRNO(EMSGSIZE, read(sfd, buf, size - 1));
		EXPECT_ERRNO(EMSGSIZE, read(sfd, buf, size - 8));
		n = read(sfd, buf, size);
		ASSERT_EQ(size, n);
		EXPECT_EQ(0, memcmp(buf, first + off, size));
		off += size;
	}
	EXPECT_EQ(0, read(sfd, buf, RECORD_MAX));
	EXPECT_EQ(0, read(sfd, buf, 1));
	EXPECT_EQ(0, read(sfd, buf, RECORD_MAX));

	/* One byte short of two records: one record. */
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	size = sm_record_parse(first, len, &rec);
	size += sm_record_parse(first + size, len - size, &rec);
	ASSERT_LT(SNAPMAP_RECORD_SIZE(1, 0) * 2, size + 1);
	n = read(sfd, buf, size > 1 ? size - 1 : 1);
	ASSERT_EQ(sm_record_parse(first, len, &rec), n);
	EXPECT_EQ(0, memcmp(buf, first, n));

	free(buf);
	free(first);
	EXPECT_EQ(0, close(sfd));
}

/* Any buffer size at least one record long: whole records, same order. */
TEST_F(snap, read_chunks)
{
	const size_t chunks[] = { RECORD_MAX, RECORD_MAX + 1, 100, 128, 333,
				  1000, 4096, 1 << 20 };
	unsigned char *first, *again;
	ssize_t len, n;
	unsigned int i;
	int sfd;

	/* Values of many lengths. */
	for (i = 0; i < 200; i++) {
		char key[16], value[VAL_MAX];

		snprintf(key, sizeof(key), "key-%u", i);
		memset(value, 'a' + i % 26, sizeof(value));
		ASSERT_EQ(0, model_put(self->fd, self->m, key, strlen(key),
				       value, (i * 13) % (VAL_MAX + 1)));
	}
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	len = expect_snapshot(_metadata, sfd, self->m, 65536);
	ASSERT_LT(0, len);
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	n = sm_read_all(sfd, 65536, (void **)&first);
	ASSERT_EQ(len, n);

	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
		n = sm_read_all(sfd, chunks[i], (void **)&again);
		EXPECT_EQ(len, n) {
			TH_LOG("reads of %zu bytes: %zd", chunks[i], n);
		}
		if (n == len)
			EXPECT_EQ(0, memcmp(first, again, len));
		free(again);
	}
	free(first);
	EXPECT_EQ(0, close(sfd));
}

TEST_F(snap, rewind)
{
	unsigned char *first, *again, buf[RECORD_MAX];
	ssize_t len, n;
	int sfd, i;

	fill(_metadata, self->fd, self->m, 30);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	len = sm_read_all(sfd, 4096, (void **)&first);
	ASSERT_EQ(model_bytes(self->m), len);

	/* After the end, after part of it, and twice in a row. */
	for (i = 0; i < 3; i++) {
		if (i == 1) {
			ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
			ASSERT_LT(0, read(sfd, buf, sizeof(buf)));
		}
		EXPECT_EQ(0, lseek(sfd, 0, SEEK_SET));
		if (i == 2)
			EXPECT_EQ(0, lseek(sfd, 0, SEEK_SET));
		n = sm_read_all(sfd, 4096, (void **)&again);
		ASSERT_EQ(len, n);
		EXPECT_EQ(0, memcmp(first, again, len));
		free(again);
	}
	free(first);
	EXPECT_EQ(0, close(sfd));
}

TEST_F(snap, bad_seeks)
{
	unsigned char buf[RECORD_MAX];
	ssize_t n, rest;
	void *all;
	int sfd;

	fill(_metadata, self->fd, self->m, 20);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	n = read(sfd, buf, sizeof(buf));
	ASSERT_LT(0, n);

	EXPECT_ERRNO(EINVAL, lseek(sfd, 0, SEEK_CUR));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 0, SEEK_END));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 1, SEEK_SET));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 8, SEEK_SET));
	EXPECT_ERRNO(EINVAL, lseek(sfd, n, SEEK_SET));
	EXPECT_ERRNO(EINVAL, lseek(sfd, -1, SEEK_SET));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 1, SEEK_CUR));
	EXPECT_ERRNO(EINVAL, lseek(sfd, -n, SEEK_CUR));
	EXPECT_ERRNO(EINVAL, lseek(sfd, -1, SEEK_END));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 0, SEEK_DATA));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 0, SEEK_HOLE));
	EXPECT_ERRNO(EINVAL, lseek(sfd, 0, 42));

	/* The failed seeks moved nothing: the rest follows the first. */
	rest = sm_read_all(sfd, 4096, &all);
	ASSERT_LE(0, rest);
	EXPECT_EQ(model_bytes(self->m), n + rest);
	free(all);
	EXPECT_EQ(0, close(sfd));
}

TEST_F(snap, info)
{
	struct snapmap_snapshot_info info, again;
	unsigned char buf[RECORD_MAX];
	__u64 v = 0;
	ssize_t n, rest;
	void *all;
	int sfd;

	fill(_metadata, self->fd, self->m, 50);
	ASSERT_EQ(0, model_del_str(self->fd, self->m, "k7"));
	sfd = sm_snapshot(self->fd, 0, &v);
	ASSERT_LE(0, sfd);

	/* In the middle of a read: it does not move the read's place. */
	n = read(sfd, buf, sizeof(buf));
	ASSERT_LT(0, n);
	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.__reserved = 0;
	ASSERT_EQ(0, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(v, info.out_version);
	EXPECT_EQ(49, info.out_entries);
	EXPECT_EQ(model_bytes(self->m), info.out_bytes);
	EXPECT_EQ(0, info.out_snapshot_flags);
	EXPECT_EQ(0, info.__reserved);
	rest = sm_read_all(sfd, 4096, &all);
	ASSERT_LE(0, rest);
	EXPECT_EQ(info.out_bytes, n + rest);
	free(all);

	/* The same after the end, after a rewind, after map changes. */
	ASSERT_EQ(0, sm_snapshot_info(sfd, &again));
	EXPECT_EQ(0, memcmp(&info, &again, sizeof(info)));
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	ASSERT_EQ(0, sm_put_str(self->fd, "new", "value", NULL));
	ASSERT_EQ(0, sm_del_str(self->fd, "k1", NULL));
	ASSERT_EQ(0, sm_snapshot_info(sfd, &again));
	EXPECT_EQ(0, memcmp(&info, &again, sizeof(info)));
	EXPECT_EQ(info.out_bytes, expect_snapshot(_metadata, sfd, self->m,
						  4096));

	/* Flags and reserved members must be zero. */
	memset(&again, 0, sizeof(again));
	again.size = sizeof(again);
	again.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &again));
	again.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &again));
	again.flags = 0;
	again.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &again));
	EXPECT_EQ(0, again.out_version);
	EXPECT_EQ(0, close(sfd));
}

/* The snapshot of a first INFO, before any read, is the same. */
TEST_F(snap, info_before_read)
{
	struct snapmap_snapshot_info info;
	int sfd;

	fill(_metadata, self->fd, self->m, 100);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, sm_snapshot_info(sfd, &info));
	EXPECT_EQ(100, info.out_entries);
	EXPECT_EQ(model_bytes(self->m), info.out_bytes);
	EXPECT_EQ(info.out_bytes, expect_snapshot(_metadata, sfd, self->m,
						  RECORD_MAX));
	EXPECT_EQ(0, close(sfd));
}

TEST_F(snap, poll_select)
{
	struct pollfd pfd;
	struct timeval tv = { 0 };
	unsigned char buf[4096];
	fd_set rfds;
	int sfd, pass;

	fill(_metadata, self->fd, self->m, 5);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	/* Before reading, and at the end: always readable. */
	for (pass = 0; pass < 2; pass++) {
		pfd.fd = sfd;
		pfd.events = POLLIN | POLLOUT;
		pfd.revents = 0;
		EXPECT_EQ(1, poll(&pfd, 1, 0));
		EXPECT_EQ(POLLIN, pfd.revents & POLLIN);
		EXPECT_EQ(0, pfd.revents & (POLLERR | POLLNVAL));

		FD_ZERO(&rfds);
		FD_SET(sfd, &rfds);
		EXPECT_EQ(1, select(sfd + 1, &rfds, NULL, NULL, &tv));
		EXPECT_TRUE(FD_ISSET(sfd, &rfds));
		if (!pass)
			ASSERT_LT(0, read(sfd, buf, sizeof(buf)));
		ASSERT_EQ(0, read(sfd, buf, sizeof(buf)));
	}
	EXPECT_EQ(0, close(sfd));
}

TEST_F(snap, fd_modes)
{
	unsigned char buf[64] = { 0 };
	int sfd, flags, pass;

	fill(_metadata, self->fd, self->m, 3);
	for (pass = 0; pass < 2; pass++) {
		sfd = sm_snapshot(self->fd, pass ? SNAPMAP_SNAPSHOT_WEAK : 0,
				  NULL);
		ASSERT_LE(0, sfd);
		EXPECT_ERRNO(EBADF, write(sfd, buf, sizeof(buf)));
		EXPECT_ERRNO(EBADF, write(sfd, buf, 1));
		flags = fcntl(sfd, F_GETFD);
		ASSERT_LE(0, flags);
		EXPECT_EQ(FD_CLOEXEC, flags & FD_CLOEXEC);
		flags = fcntl(sfd, F_GETFL);
		ASSERT_LE(0, flags);
		EXPECT_EQ(O_RDONLY, flags & O_ACCMODE);
		/* The writes changed nothing. */
		EXPECT_EQ(model_bytes(self->m),
			  expect_snapshot(_metadata, sfd, self->m, 4096));
		EXPECT_EQ(0, close(sfd));
	}
}

/* A snapshot fd is neither a map fd nor a control fd. */
TEST_F(snap, wrong_fd)
{
	struct snapmap_snapshot_info info = { .size = sizeof(info) };
	struct snapmap_snapshot_arg arg = { .size = sizeof(arg) };
	struct snapmap_clone clone = { .size = sizeof(clone) };
	struct snapmap_api api = { .size = sizeof(api) };
	struct snapmap_info minfo = { .size = sizeof(minfo) };
	struct snapmap_get get = { .size = sizeof(get) };
	int sfd;

	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT, &arg));
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, SNAPMAP_IOC_CLONE, &clone));
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, SNAPMAP_IOC_API, &api));
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, SNAPMAP_IOC_INFO, &minfo));
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, SNAPMAP_IOC_GET, &get));
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, _IOWR(SNAPMAP_IOC_TYPE, 0x3f,
					      struct snapmap_snapshot_info),
				   &info));
	EXPECT_ERRNO(ENOTTY, ioctl(sfd, FIONREAD, &info));

	/* SNAPSHOT_INFO is for snapshot fds only. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, SNAPMAP_IOC_SNAPSHOT_INFO,
				   &info));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_SNAPSHOT_INFO,
				   &info));
	/* SNAPSHOT and CLONE are for map fds only. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_SNAPSHOT, &arg));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_CLONE, &clone));
	EXPECT_EQ(0, close(sfd));
}

/*
 * The snapshot keeps the map as it was when taken, whatever happens to
 * the map afterwards; a later snapshot shows the later map.
 */
TEST_F(snap, unchanged_after_writes)
{
	struct model *before;
	char key[32], value[32];
	__u64 v1 = 0, v2 = 0, ver = 0;
	unsigned int i;
	int s1, s2;

	fill(_metadata, self->fd, self->m, 100);
	before = malloc(sizeof(*before));
	ASSERT_TRUE(before != NULL);
	*before = *self->m;
	s1 = sm_snapshot(self->fd, 0, &v1);
	ASSERT_LE(0, s1);
	EXPECT_LT(model_max_version(before), v1);

	/* Overwrite, delete, re-create, insert; some keys many times. */
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		snprintf(value, sizeof(value), "new%u", i);
		if (i % 4 == 0) {
			ASSERT_EQ(0, model_del_str(self->fd, self->m, key));
		} else {
			ASSERT_EQ(0, model_put_str(self->fd, self->m, key,
						   value));
		}
		if (i % 8 == 0) {
			/* Deleted, then back with a new value. */
			ASSERT_EQ(0, model_put_str(self->fd, self->m, key,
						   "back"));
		}
	}
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "n%u", i);
		ASSERT_EQ(0, model_put_str(self->fd, self->m, key, "x"));
	}
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, model_put_str(self->fd, self->m, "k1", key));
	ASSERT_EQ(0, sm_put_str(self->fd, "n0", "gone", &ver));
	EXPECT_LT(v1, ver);
	ASSERT_EQ(0, model_del_str(self->fd, self->m, "n0"));

	EXPECT_EQ(model_bytes(before),
		  expect_snapshot(_metadata, s1, before, 4096));
	s2 = sm_snapshot(self->fd, 0, &v2);
	ASSERT_LE(0, s2);
	EXPECT_LT(ver, v2);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, s2, self->m, 4096));
	/* And the first one still holds, read again. */
	ASSERT_EQ(0, lseek(s1, 0, SEEK_SET));
	EXPECT_EQ(model_bytes(before),
		  expect_snapshot(_metadata, s1, before, 100));
	EXPECT_EQ(0, close(s1));
	EXPECT_EQ(0, close(s2));
	free(before);
}

/* A clear is a write like the others: the snapshot does not see it. */
TEST_F(snap, unchanged_after_clear)
{
	struct model *empty;
	int sfd, sfd2;

	fill(_metadata, self->fd, self->m, 50);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, sm_clear(self->fd, NULL));
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	empty = calloc(1, sizeof(*empty));
	ASSERT_TRUE(empty != NULL);
	sfd2 = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd2);
	EXPECT_EQ(0, expect_snapshot(_metadata, sfd2, empty, 4096));
	/* The same keys back, with new values: still the old ones. */
	fill(_metadata, self->fd, empty, 50);
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd2));
	EXPECT_EQ(0, close(sfd));
	free(empty);
}

/* The number <i> of a record's key "<prefix><i>", or ~0U. */
static unsigned int key_index(const struct sm_record *rec, char prefix)
{
	char key[16];
	unsigned int i;
	char end;

	if (rec->key_len >= sizeof(key) || rec->key[0] != prefix)
		return ~0U;
	memcpy(key, rec->key + 1, rec->key_len - 1);
	key[rec->key_len - 1] = '\0';
	if (sscanf(key, "%u%c", &i, &end) != 1)
		return ~0U;
	return i;
}

/* Put @n keys "k<i>" with values "v<i>"; their versions go to @versions. */
static void fill_versions(struct __test_metadata *_metadata, int fd,
			  unsigned int n, __u64 *versions)
{
	char key[32], value[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		snprintf(value, sizeof(value), "v%u", i);
		ASSERT_EQ(0, sm_put_str(fd, key, value, &versions[i]));
	}
}

/*
 * Expect the @len bytes of records at @buf to hold each key "k<i>" of
 * fill_versions() once, with value "v<i>" and its version.
 */
static void expect_filled(struct __test_metadata *_metadata,
			  const unsigned char *buf, size_t len,
			  unsigned int n, const __u64 *versions)
{
	unsigned char *seen = calloc(n, 1);
	unsigned int i, bad = 0, missing = 0;
	struct sm_record rec;
	size_t off, size;
	char value[32];

	ASSERT_TRUE(seen != NULL);
	for (off = 0; off < len; off += size) {
		size = sm_record_parse(buf + off, len - off, &rec);
		ASSERT_LT(0, size);
		i = key_index(&rec, 'k');
		snprintf(value, sizeof(value), "v%u", i);
		if (i >= n || seen[i]++ || rec.version != versions[i] ||
		    rec.value_len != strlen(value) ||
		    memcmp(rec.value, value, rec.value_len))
			bad++;
	}
	for (i = 0; i < n; i++)
		missing += !seen[i];
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, missing);
	free(seen);
}


/*
 * A snapshot read a little at a time while every key it holds is
 * deleted, put back with a new value, cleared, and while new keys come:
 * each of its keys once, with its old value and version, and nothing else.
 */
TEST_F(snap, read_across_deletes)
{
	const unsigned int n = 3000;
	unsigned char *buf, *seen;
	__u64 *versions, v = 0;
	struct sm_record rec;
	char key[32];
	unsigned int i, stage, records = 0, bad = 0;
	size_t off, size;
	ssize_t len;
	int fd, sfd;

	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	versions = calloc(n, sizeof(*versions));
	seen = calloc(n, 1);
	buf = malloc(65536);
	ASSERT_TRUE(versions && seen && buf);
	fill_versions(_metadata, fd, n, versions);
	sfd = sm_snapshot(fd, 0, &v);
	ASSERT_LE(0, sfd);

	for (stage = 0; stage < 6; stage++) {
		/* A few records at each stage; the rest at the end. */
		do {
			len = read(sfd, buf, stage == 5 ? 65536 : 200);
			ASSERT_LE(0, len);
			for (off = 0; off < (size_t)len; off += size) {
				size = sm_record_parse(buf + off, len - off,
						       &rec);
				ASSERT_LT(0, size);
				i = key_index(&rec, 'k');
				if (i >= n || seen[i]++ ||
				    rec.version != versions[i])
					bad++;
				records++;
			}
		} while (stage == 5 && len > 0);
		for (i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "k%u", i);
			switch (stage) {
			case 0:
				ASSERT_EQ(0, sm_del_str(fd, key, NULL));
				break;
			case 1:
				ASSERT_EQ(0, sm_put_str(fd, key, "new",
							NULL));
				break;
			case 3:
				snprintf(key, sizeof(key), "n%u", i);
				ASSERT_EQ(0, sm_put_str(fd, key, "n",
							NULL));
				break;
			}
		}
		if (stage == 2)
			ASSERT_EQ(0, sm_clear(fd, NULL));
		if (stage == 4)
			ASSERT_EQ(0, sm_clear(fd, NULL));
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(n, records);
	for (i = 0, bad = 0; i < n; i++)
		bad += !seen[i];
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, read(sfd, buf, 65536));
	EXPECT_EQ(0, close(sfd));
	free(buf);
	free(seen);
	free(versions);
	EXPECT_EQ(0, close(fd));
}

/* A record larger than the module's own read buffer. */
TEST_F(snap, big_record)
{
	const __u32 big = 150000;
	unsigned char *value, *buf;
	__u64 vbig = 0, vsmall = 0;
	size_t size = SNAPMAP_RECORD_SIZE(3, big);
	struct sm_record rec;
	unsigned int i, got_small = 0, got_big = 0;
	ssize_t n;
	int fd, sfd, pass;

	fd = sm_create(self->ctl, 16, 200000, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	value = malloc(big);
	buf = malloc(size * 2);
	ASSERT_TRUE(value && buf);
	for (i = 0; i < big; i++)
		value[i] = (unsigned char)(i * 7);
	ASSERT_EQ(0, sm_put(fd, 0, "big", 3, value, big, 0, &vbig));
	ASSERT_EQ(0, sm_put(fd, 0, "small", 5, "x", 1, 0, &vsmall));
	sfd = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, sfd);

	/* 64 KiB reads: the small record, and EMSGSIZE at the big one. */
	for (pass = 0; pass < 4 && !got_small; pass++) {
		n = read(sfd, buf, 65536);
		if (n < 0) {
			ASSERT_EQ(EMSGSIZE, errno);
			n = read(sfd, buf, size - 1);
			ASSERT_EQ(-1, n);
			ASSERT_EQ(EMSGSIZE, errno);
			n = read(sfd, buf, size);
			ASSERT_EQ(size, n);
			ASSERT_EQ(size, sm_record_parse(buf, n, &rec));
			EXPECT_EQ(0, memcmp(rec.key, "big", 3));
			EXPECT_EQ(big, rec.value_len);
			EXPECT_EQ(0, memcmp(rec.value, value, big));
			EXPECT_EQ(vbig, rec.version);
			got_big++;
		} else {
			ASSERT_EQ(SNAPMAP_RECORD_SIZE(5, 1), n);
			ASSERT_LT(0, sm_record_parse(buf, n, &rec));
			EXPECT_EQ(0, memcmp(rec.key, "small", 5));
			EXPECT_EQ(vsmall, rec.version);
			got_small++;
		}
	}
	if (!got_big) {
		n = read(sfd, buf, size);
		ASSERT_EQ(size, n);
		got_big++;
	}
	EXPECT_EQ(1, got_small);
	EXPECT_EQ(1, got_big);
	EXPECT_EQ(0, read(sfd, buf, size * 2));

	/* A buffer big enough for both gets both. */
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	n = read(sfd, buf, size * 2);
	EXPECT_EQ(size + SNAPMAP_RECORD_SIZE(5, 1), n);
	EXPECT_EQ(0, close(sfd));
	free(buf);
	free(value);
	EXPECT_EQ(0, close(fd));
}

struct shared_reader {
	pthread_t thread;
	pthread_barrier_t *start;
	int sfd;
	unsigned char *buf;
	size_t len;
	int err;
};

static void *shared_reader_fn(void *arg)
{
	struct shared_reader *r = arg;
	ssize_t n;
	int i;

	pthread_barrier_wait(r->start);
	for (i = 0; i < 100000; i++) {
		/* One record per read: no two fit in this. */
		n = read(r->sfd, r->buf + r->len,
			 2 * SNAPMAP_RECORD_SIZE(1, 1) - 1);
		if (n <= 0) {
			r->err = n < 0 ? errno : 0;
			break;
		}
		r->len += n;
	}
	return NULL;
}

/* Two threads reading one snapshot fd share it: each record goes once. */
TEST_F(snap, shared_fd_reads)
{
	const unsigned int n = 3000;
	struct shared_reader r[2];
	pthread_barrier_t start;
	unsigned char *all;
	__u64 *versions;
	unsigned int i;
	int fd, sfd;

	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	versions = calloc(n, sizeof(*versions));
	ASSERT_TRUE(versions != NULL);
	fill_versions(_metadata, fd, n, versions);
	sfd = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].start = &start;
		r[i].sfd = sfd;
		r[i].buf = malloc(n * RECORD_MAX);
		ASSERT_TRUE(r[i].buf != NULL);
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL,
					    shared_reader_fn, &r[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(r[i].thread, NULL);
		EXPECT_EQ(0, r[i].err);
	}
	all = malloc(r[0].len + r[1].len + 1);
	ASSERT_TRUE(all != NULL);
	memcpy(all, r[0].buf, r[0].len);
	memcpy(all + r[0].len, r[1].buf, r[1].len);
	expect_filled(_metadata, all, r[0].len + r[1].len, n, versions);
	TH_LOG("the readers took %zu and %zu bytes", r[0].len, r[1].len);
	free(all);
	free(r[0].buf);
	free(r[1].buf);
	free(versions);
	pthread_barrier_destroy(&start);
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(fd));
}

/*
 * Expect the snapshot fd @sfd, read from where it stands, to hold exactly
 * @m, unless it went stale: a snapshot may go stale at any time while its
 * map is over its byte limit.
 */
static void expect_snapshot_or_stale(struct __test_metadata *_metadata,
				     int sfd, const struct model *m)
{
	void *buf;
	ssize_t len;

	len = sm_read_all(sfd, 4096, &buf);
	if (len == -ESTALE)
		return;
	EXPECT_LE(0, len) {
		TH_LOG("reading the snapshot: %s", strerror(-len));
		return;
	}
	expect_records(_metadata, buf, len, m);
	free(buf);
}

/* Fill the map at @fd with keys of @value_len bytes until it is full. */
static unsigned int fill_to_limit(struct __test_metadata *_metadata, int fd,
				  struct model *m, const char *prefix,
				  __u32 value_len)
{
	char key[32], value[VAL_MAX];
	unsigned int i;
	int ret = 0;

	for (i = 0; i < MODEL_MAX; i++) {
		snprintf(key, sizeof(key), "%s%u", prefix, i);
		memset(value, 'a' + i % 26, value_len);
		ret = model_put(fd, m, key, strlen(key), value, value_len);
		if (ret)
			break;
	}
	EXPECT_EQ(-ENOSPC, ret);
	return i;
}

/*
 * Overwrite every key of @m once with @value_len bytes; every write must
 * succeed.
 */
static void overwrite_all(struct __test_metadata *_metadata, int fd,
			  struct model *m, __u32 value_len, unsigned int round)
{
	unsigned char value[VAL_MAX];
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		if (!m->ent[i].present)
			continue;
		memset(value, 'A' + (i + round) % 26, value_len);
		ASSERT_EQ(0, model_put(fd, m, m->ent[i].key, m->ent[i].key_len,
				       value, value_len));
	}
}

/*
 * A full map: the versions an open snapshot pins take it over its byte
 * limit, so the writes succeed and the snapshot goes stale.
 */
TEST_F(snap, stale)
{
	struct snapmap_snapshot_info info;
	struct model *old;
	unsigned char buf[RECORD_MAX];
	unsigned int keys, round;
	ssize_t n = 0;
	int fd, sfd, sfd2;

	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 8192, 0, NULL);
	ASSERT_LE(0, fd);
	keys = fill_to_limit(_metadata, fd, self->m, "k", 48);
	ASSERT_LT(1, keys);

	old = malloc(sizeof(*old));
	ASSERT_TRUE(old != NULL);
	*old = *self->m;
	sfd = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, sfd);
	/* A first record, read before it goes stale. */
	ASSERT_LT(0, read(sfd, buf, sizeof(buf)));

	for (round = 0; round < 100; round++) {
		overwrite_all(_metadata, fd, self->m, 48, round);
		ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
		n = read(sfd, buf, sizeof(buf));
		if (n < 0)
			break;
		/* While it is not stale, it is right. */
		ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
		EXPECT_EQ(model_bytes(old),
			  expect_snapshot(_metadata, sfd, old, 4096));
	}
	ASSERT_EQ(-1, n) {
		TH_LOG("%u rounds of overwrites of %u keys: not stale",
		       round, keys);
	}
	EXPECT_EQ(ESTALE, errno);
	TH_LOG("stale after %u rounds of %u overwrites", round + 1, keys);

	/* Stale is for good: reads, rewinds, INFO. */
	EXPECT_ERRNO(ESTALE, read(sfd, buf, sizeof(buf)));
	EXPECT_EQ(-ESTALE, sm_snapshot_info(sfd, &info));
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	EXPECT_ERRNO(ESTALE, read(sfd, buf, sizeof(buf)));
	/* Even when the map changes no more. */
	overwrite_all(_metadata, fd, self->m, 48, 1000);
	EXPECT_ERRNO(ESTALE, read(sfd, buf, sizeof(buf)));

	/* A snapshot taken now works. */
	sfd2 = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, sfd2);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd2, self->m, 4096));
	ASSERT_EQ(0, sm_snapshot_info(sfd2, &info));
	EXPECT_EQ(keys, info.out_entries);
	EXPECT_EQ(0, close(sfd2));

	/*
	 * The versions it pinned are gone once every key was written again
	 * with no snapshot open: the map uses what it used before.
	 */
	EXPECT_EQ(0, close(sfd));
	overwrite_all(_metadata, fd, self->m, 48, 2000);
	{
		struct snapmap_info i1, i2;

		ASSERT_EQ(0, sm_info(fd, &i1));
		overwrite_all(_metadata, fd, self->m, 48, 3000);
		ASSERT_EQ(0, sm_info(fd, &i2));
		EXPECT_EQ(i1.out_bytes, i2.out_bytes);
		EXPECT_GE(i2.out_max_bytes, i2.out_bytes);
		EXPECT_EQ(keys, i2.out_entries);
	}
	free(old);
	EXPECT_EQ(0, close(fd));
}

/*
 * Three snapshots pinning different versions, and a map growing towards
 * its limit: they go stale oldest first, the others stay right until they
 * go, and no write fails because of them.  New keys take the map over its
 * limit; once the live entries alone fill it (ENOSPC, which the same write
 * also gets with no snapshot open), writes that add nothing keep it there
 * until every snapshot is stale.
 */
TEST_F(snap, stale_oldest_first)
{
	struct model *models[3];
	unsigned char value[VAL_MAX];
	int fd, sfd[3], stale[3] = { 0 }, ret = 0, full = 0;
	unsigned int i, j, writes = 0, when[3] = { 0 };
	struct snapmap_snapshot_info info;
	char key[32], last[32] = "", refused[32] = "";

	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 32768, 0, NULL);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, self->m, 8);
	overwrite_all(_metadata, fd, self->m, VAL_MAX, 0);
	for (i = 0; i < 3; i++) {
		models[i] = malloc(sizeof(*models[i]));
		ASSERT_TRUE(models[i] != NULL);
		*models[i] = *self->m;
		sfd[i] = sm_snapshot(fd, 0, NULL);
		ASSERT_LE(0, sfd[i]);
		overwrite_all(_metadata, fd, self->m, VAL_MAX, i + 1);
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, sm_snapshot_info(sfd[i], &info));
		EXPECT_EQ(8, info.out_entries);
	}

	/* New keys, then rewrites of the last one, until all are stale. */
	for (i = 0; i < 100000 && !stale[2]; i++) {
		memset(value, 'n' + i % 2, sizeof(value));
		if (!full && i < MODEL_MAX - 8)
			snprintf(key, sizeof(key), "new%u", i);
		else
			strcpy(key, last);
		ret = model_put(fd, self->m, key, strlen(key), value, VAL_MAX);
		if (ret == -ENOSPC && !full && last[0]) {
			full = 1;
			strcpy(refused, key);
			continue;
		}
		ASSERT_EQ(0, ret) {
			TH_LOG("write %u (\"%s\") failed with stale %d %d %d",
			       i, key, stale[0], stale[1], stale[2]);
		}
		strcpy(last, key);
		writes++;
		/*
		 * Newest first: the worker may make more snapshots stale
		 * between two of these calls, oldest first, so a newer one
		 * seen stale means the older ones are by the time they are
		 * asked.
		 */
		for (j = 3; j-- > 0;) {
			if (stale[j])
				continue;
			ret = sm_snapshot_info(sfd[j], &info);
			if (ret == -ESTALE) {
				stale[j] = 1;
				when[j] = writes;
			} else {
				EXPECT_EQ(0, ret);
			}
		}
		/* Never a newer one stale while an older one is not. */
		EXPECT_TRUE(stale[0] >= stale[1] && stale[1] >= stale[2]) {
			TH_LOG("after %u writes: stale %d %d %d", writes,
			       stale[0], stale[1], stale[2]);
			break;
		}
		/* The oldest not stale is still right, or stale by now. */
		for (j = 0; j < 3; j++) {
			if (stale[j])
				continue;
			ASSERT_EQ(0, lseek(sfd[j], 0, SEEK_SET));
			expect_snapshot_or_stale(_metadata, sfd[j], models[j]);
			break;
		}
	}
	EXPECT_TRUE(stale[0] && stale[1] && stale[2]);
	TH_LOG("stale after %u, %u and %u writes%s", when[0], when[1],
	       when[2], full ? " (the live entries filled the map)" : "");

	/* A snapshot taken now works. */
	j = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, (int)j);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, j, self->m, 4096));
	EXPECT_EQ(0, close(j));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, close(sfd[i]));
		free(models[i]);
	}
	/* The write refused while snapshots were open is refused without. */
	if (full) {
		memset(value, 'n', sizeof(value));
		EXPECT_EQ(-ENOSPC, sm_put(fd, 0, refused, strlen(refused),
					  value, VAL_MAX, 0, NULL));
	}
	EXPECT_EQ(0, close(fd));
}

/*
 * Going stale frees what the oldest snapshot alone pinned, and that is
 * enough here: the writes that follow, which add nothing, leave the
 * newer snapshots alone.
 */
TEST_F(snap, stale_one_at_a_time)
{
	struct snapmap_snapshot_info info;
	struct model *models[3];
	unsigned char value[VAL_MAX];
	unsigned int i, j, puts = 0;
	int fd, sfd[3], ret = 0;
	char key[32], last[32] = "";

	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 32768, 0, NULL);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, self->m, 8);
	overwrite_all(_metadata, fd, self->m, VAL_MAX, 0);
	/* The first snapshot pins 8 values, the others one each. */
	for (i = 0; i < 3; i++) {
		models[i] = malloc(sizeof(*models[i]));
		ASSERT_TRUE(models[i] != NULL);
		*models[i] = *self->m;
		sfd[i] = sm_snapshot(fd, 0, NULL);
		ASSERT_LE(0, sfd[i]);
		if (!i) {
			overwrite_all(_metadata, fd, self->m, VAL_MAX, 1);
		} else {
			memset(value, 'a' + i, sizeof(value));
			ASSERT_EQ(0, model_put(fd, self->m, "k1", 2, value,
					       VAL_MAX));
		}
	}

	/* New keys until the oldest goes stale. */
	memset(value, 'n', sizeof(value));
	for (i = 0; i < MODEL_MAX - 8; i++) {
		snprintf(key, sizeof(key), "new%u", i);
		ret = model_put(fd, self->m, key, strlen(key), value, VAL_MAX);
		ASSERT_EQ(0, ret);
		puts++;
		strcpy(last, key);
		ret = sm_snapshot_info(sfd[0], &info);
		if (ret == -ESTALE)
			break;
		ASSERT_EQ(0, ret);
	}
	ASSERT_EQ(-ESTALE, ret);

	/* Writes that add nothing: the last new key, again and again. */
	for (i = 0; i < 20; i++) {
		memset(value, 'A' + i, sizeof(value));
		ASSERT_EQ(0, model_put(fd, self->m, last, strlen(last), value,
				       VAL_MAX));
		for (j = 1; j < 3; j++) {
			EXPECT_EQ(0, sm_snapshot_info(sfd[j], &info)) {
				TH_LOG("snapshot %u stale after the oldest went stale at put %u and %u overwrites",
				       j + 1, puts, i + 1);
				goto out;
			}
		}
	}
	for (j = 1; j < 3; j++)
		EXPECT_EQ(model_bytes(models[j]),
			  expect_snapshot(_metadata, sfd[j], models[j], 4096));
out:
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, close(sfd[i]));
		free(models[i]);
	}
	EXPECT_EQ(0, close(fd));
}

/* A WEAK snapshot pins nothing and never goes stale. */
TEST_F(snap, weak_never_stale)
{
	struct snapmap_snapshot_info info;
	unsigned int keys, round;
	int fd, wfd;

	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 8192, 0, NULL);
	ASSERT_LE(0, fd);
	keys = fill_to_limit(_metadata, fd, self->m, "k", 48);
	wfd = sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, wfd);
	for (round = 0; round < 5; round++)
		overwrite_all(_metadata, fd, self->m, 48, round);
	/* Quiet now: it reads the map as it is. */
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, wfd, self->m, 4096));
	ASSERT_EQ(0, sm_snapshot_info(wfd, &info));
	EXPECT_EQ(keys, info.out_entries);
	EXPECT_EQ(0, close(wfd));
	EXPECT_EQ(0, close(fd));
}

/* Many snapshots open at once, each with its own contents. */
TEST_F(snap, many_open)
{
	const unsigned int nsnap = 64, keyspace = 48;
	struct model *models;
	char key[32], value[32];
	__u64 v[64], prev = 0;
	int sfd[64], ret;
	unsigned int i, op, k, seed = 1;

	models = malloc(nsnap * sizeof(*models));
	ASSERT_TRUE(models != NULL);
	fill(_metadata, self->fd, self->m, 32);
	for (i = 0; i < nsnap; i++) {
		models[i] = *self->m;
		sfd[i] = sm_snapshot(self->fd, 0, &v[i]);
		ASSERT_LE(0, sfd[i]);
		EXPECT_LT(prev, v[i]);
		prev = v[i];
		for (op = 0; op < 4; op++) {
			seed = seed * 1103515245 + 12345;
			k = (seed >> 16) % keyspace;
			snprintf(key, sizeof(key), "k%u", k);
			if ((seed >> 8) % 3 == 0) {
				ret = model_del_str(self->fd, self->m, key);
				if (ret)
					ASSERT_EQ(-ENOENT, ret);
			} else {
				snprintf(value, sizeof(value), "s%u-%u", i,
					 op);
				ASSERT_EQ(0, model_put_str(self->fd, self->m,
							   key, value));
			}
		}
	}
	/* Read them newest first, then close them in a scrambled order. */
	for (i = nsnap; i-- > 0; ) {
		EXPECT_EQ(model_bytes(&models[i]),
			  expect_snapshot(_metadata, sfd[i], &models[i],
					  i % 2 ? 4096 : RECORD_MAX));
	}
	for (i = 0; i < nsnap; i++)
		EXPECT_EQ(0, close(sfd[(i * 37) % nsnap]));
	free(models);
}

/* A snapshot holds its map: it outlives every other fd. */
TEST(outlive_map)
{
	struct snapmap_snapshot_info info;
	struct model *m;
	int ctl, fd, sfd, wfd;
	__u64 v = 0;

	m = calloc(1, sizeof(*m));
	ASSERT_TRUE(m != NULL);
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create(ctl, KEY_MAX, VAL_MAX, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, m, 50);
	sfd = sm_snapshot(fd, 0, &v);
	ASSERT_LE(0, sfd);
	wfd = sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));

	EXPECT_EQ(model_bytes(m), expect_snapshot(_metadata, sfd, m, 100));
	ASSERT_EQ(0, sm_snapshot_info(sfd, &info));
	EXPECT_EQ(v, info.out_version);
	EXPECT_EQ(50, info.out_entries);
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	EXPECT_EQ(model_bytes(m), expect_snapshot(_metadata, sfd, m, 4096));
	EXPECT_EQ(model_bytes(m), expect_snapshot(_metadata, wfd, m, 4096));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(wfd));
	free(m);
}

/* A snapshot of a snapshot-only map, taken before it was left alone. */
TEST(outlive_map_unread)
{
	int ctl, fd, sfd;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create_default(ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "a", "b", NULL));
	sfd = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(0, close(ctl));
	EXPECT_EQ(0, close(fd));
	/* Closed without a read: everything goes with it. */
	EXPECT_EQ(0, close(sfd));
}

/* Control, map, snapshot and clone fds, closed in each of 24 orders. */
TEST(close_orders)
{
	const char *names[4] = { "control", "map", "snapshot", "clone" };
	unsigned int perm, i, j, orders = 0;

	for (perm = 0; perm < 256; perm++) {
		unsigned int order[4], used = 0;
		struct model *m;
		int fds[4], open_[4];
		unsigned char buf[64];
		__u32 len = 0;

		for (i = 0; i < 4; i++) {
			order[i] = (perm >> (2 * i)) & 3;
			used |= 1U << order[i];
		}
		if (used != 0xf)
			continue;
		orders++;
		m = calloc(1, sizeof(*m));
		ASSERT_TRUE(m != NULL);
		fds[0] = snapmap_open_ctl();
		ASSERT_LE(0, fds[0]);
		fds[1] = sm_create(fds[0], KEY_MAX, VAL_MAX, 0, 0, 0, NULL);
		ASSERT_LE(0, fds[1]);
		fill(_metadata, fds[1], m, 5);
		fds[2] = sm_snapshot(fds[1], 0, NULL);
		ASSERT_LE(0, fds[2]);
		fds[3] = sm_clone(fds[1], NULL, 0, NULL);
		ASSERT_LE(0, fds[3]);
		for (i = 0; i < 4; i++)
			open_[i] = 1;

		for (i = 0; i < 4; i++) {
			EXPECT_EQ(0, close(fds[order[i]])) {
				TH_LOG("closing the %s fd", names[order[i]]);
			}
			open_[order[i]] = 0;
			/* What is left still works. */
			for (j = 0; j < 4; j++) {
				if (!open_[j])
					continue;
				switch (j) {
				case 0: {
					struct snapmap_api api = {
						.size = sizeof(api),
					};

					EXPECT_EQ(0, ioctl(fds[0],
							   SNAPMAP_IOC_API,
							   &api));
					break;
				}
				case 1:
				case 3:
					EXPECT_EQ(0, sm_get(fds[j], "k3", 2,
							    buf, sizeof(buf),
							    &len, NULL));
					EXPECT_EQ(2, len);
					break;
				case 2:
					EXPECT_EQ(0, lseek(fds[2], 0,
							   SEEK_SET));
					EXPECT_EQ(model_bytes(m),
						  expect_snapshot(_metadata,
								  fds[2], m,
								  4096));
					break;
				}
			}
		}
		free(m);
	}
	EXPECT_EQ(24, orders);
}

/* On a quiet map a WEAK snapshot is the map, and says it is WEAK. */
TEST_F(snap, weak_quiet)
{
	struct snapmap_snapshot_info info;
	__u64 v = ~0ULL;
	int wfd;

	fill(_metadata, self->fd, self->m, 60);
	ASSERT_EQ(0, model_del_str(self->fd, self->m, "k10"));
	ASSERT_EQ(0, model_put_str(self->fd, self->m, "k11", "again"));
	wfd = sm_snapshot(self->fd, SNAPMAP_SNAPSHOT_WEAK, &v);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(0, v);

	ASSERT_EQ(0, sm_snapshot_info(wfd, &info));
	EXPECT_EQ(0, info.out_version);
	EXPECT_EQ(SNAPMAP_SNAPSHOT_WEAK, info.out_snapshot_flags);
	/* Nothing read yet in this pass. */
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);

	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, wfd, self->m, 4096));
	ASSERT_EQ(0, sm_snapshot_info(wfd, &info));
	EXPECT_EQ(59, info.out_entries);
	EXPECT_EQ(model_bytes(self->m), info.out_bytes);
	EXPECT_EQ(SNAPMAP_SNAPSHOT_WEAK, info.out_snapshot_flags);

	/* A new pass starts from zero and sees the map as it is now. */
	ASSERT_EQ(0, lseek(wfd, 0, SEEK_SET));
	ASSERT_EQ(0, sm_snapshot_info(wfd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	ASSERT_EQ(0, model_put_str(self->fd, self->m, "later", "seen"));
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, wfd, self->m, RECORD_MAX));
	ASSERT_EQ(0, sm_snapshot_info(wfd, &info));
	EXPECT_EQ(60, info.out_entries);

	/* The same errors on reads and seeks as an ATOMIC snapshot. */
	ASSERT_EQ(0, lseek(wfd, 0, SEEK_SET));
	EXPECT_ERRNO(EMSGSIZE, read(wfd, &info, 8));
	EXPECT_ERRNO(EINVAL, lseek(wfd, 0, SEEK_CUR));
	EXPECT_ERRNO(EINVAL, lseek(wfd, 1, SEEK_SET));
	EXPECT_EQ(0, close(wfd));
}

/*
 * Keys of weak.walk_across_resizes: KEPT never change during the walk;
 * MOVED are deleted and put again (each on a new node) while it runs;
 * GROWN come and go in numbers that make the table grow and shrink.
 */
#define WEAK_KEPT 2000
#define WEAK_MOVED 2000
#define WEAK_GROWN 30000

/* Count the records of @n bytes at @buf by their key, an index in @seen. */
static void weak_count(struct __test_metadata *_metadata, const void *buf,
		       size_t n, unsigned int *seen)
{
	const unsigned char *p = buf;
	struct sm_record rec;
	size_t off, size;
	__u32 k;

	for (off = 0; off < n; off += size) {
		size = sm_record_parse(p + off, n - off, &rec);
		ASSERT_NE(0, size);
		ASSERT_EQ(sizeof(k), rec.key_len);
		memcpy(&k, rec.key, sizeof(k));
		ASSERT_GT(WEAK_KEPT + WEAK_MOVED + WEAK_GROWN, k);
		seen[k]++;
	}
}

/* PUT (or DEL) the keys @from to @to - 1, an 8-byte value each. */
static void weak_write(struct __test_metadata *_metadata, int fd, __u32 from,
		       __u32 to, bool del)
{
	__u64 value = 7, v;
	__u32 k;

	for (k = from; k < to; k++) {
		if (del) {
			ASSERT_EQ(0, sm_del(fd, 0, &k, sizeof(k), 0, &v));
		} else {
			ASSERT_EQ(0, sm_put(fd, 0, &k, sizeof(k), &value,
					    sizeof(value), 0, &v));
		}
	}
}

/*
 * For the WEAK walk's test, whose 128,000 writes can take longer than a
 * TEST()'s 30 s on the arm64 debug kernel.
 */
FIXTURE(weak) {};
FIXTURE_SETUP(weak) {}
FIXTURE_TEARDOWN(weak) {}

/*
 * A WEAK walk hands out each key at most once, and every key present
 * throughout it exactly once, while the rhashtable grows and shrinks
 * under it and keys move to new nodes: what Go's sync.Map.Range promises.
 * A walk of the rhashtable itself starts over after a resize and hands
 * out keys again.
 */
TEST_F_TIMEOUT(weak, walk_across_resizes, 300)
{
	const __u32 all = WEAK_KEPT + WEAK_MOVED + WEAK_GROWN;
	unsigned int *seen = calloc(all, sizeof(*seen)), wrong = 0;
	unsigned char buf[4096];
	int ctl, fd, wfd, i;
	ssize_t n;
	__u32 k;

	ASSERT_TRUE(seen != NULL);
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create_default(ctl);
	ASSERT_LE(0, fd);
	weak_write(_metadata, fd, 0, WEAK_KEPT + WEAK_MOVED, false);

	wfd = sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, wfd);
	/* A part of the walk before the table changes. */
	n = read(wfd, buf, sizeof(buf));
	ASSERT_LT(0, n);
	weak_count(_metadata, buf, n, seen);

	/* Grow the table, move every MOVED key, then shrink it again. */
	for (i = 0; i < 2; i++) {
		weak_write(_metadata, fd, WEAK_KEPT + WEAK_MOVED, all, false);
		weak_write(_metadata, fd, WEAK_KEPT, WEAK_KEPT + WEAK_MOVED,
			   true);
		weak_write(_metadata, fd, WEAK_KEPT, WEAK_KEPT + WEAK_MOVED,
			   false);
		weak_write(_metadata, fd, WEAK_KEPT + WEAK_MOVED, all, true);
		n = read(wfd, buf, sizeof(buf));
		ASSERT_LT(0, n);
		weak_count(_metadata, buf, n, seen);
	}
	while ((n = read(wfd, buf, sizeof(buf))) > 0)
		weak_count(_metadata, buf, n, seen);
	ASSERT_EQ(0, n);

	for (k = 0; k < all; k++) {
		if (seen[k] > 1 || (k < WEAK_KEPT && !seen[k])) {
			if (!wrong)
				TH_LOG("key %u handed out %u times", k,
				       seen[k]);
			wrong++;
		}
	}
	EXPECT_EQ(0, wrong);
	EXPECT_EQ(0, close(wfd));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl));
	free(seen);
}

/* Snapshots of a read-only map fd. */
TEST_F(snap, read_only_map)
{
	char name[SNAPMAP_NAME_LEN];
	int fd, ro, sfd;

	test_name(name, "ro");
	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 0, 0, name);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, self->m, 10);
	ro = sm_open(self->ctl, name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, ro);
	sfd = sm_snapshot(ro, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));
	sfd = sm_snapshot(ro, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(ro));
	EXPECT_EQ(0, close(fd));
}

TEST_F(snap, snapshot_flags)
{
	const __u32 bad[] = { 2, 4, 1U << 31, SNAPMAP_SNAPSHOT_WEAK | 2,
			      ~0U };
	struct snapmap_snapshot_arg arg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.flags = bad[i];
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_SNAPSHOT,
					   &arg));
		EXPECT_EQ(0, arg.out_version);
	}
}

TEST_F(snap, snapshot_size)
{
	struct snapmap_snapshot_arg arg;
	const __u32 short_sizes[] = {
		0, 1, sizeof(__u32), offsetof(struct snapmap_snapshot_arg,
					      out_version),
		sizeof(arg) - 1,
	};
	__u64 tail = 1;
	unsigned int i;
	int sfd;

	fill(_metadata, self->fd, self->m, 3);
	memset(&arg, 0, sizeof(arg));
	for (i = 0; i < ARRAY_SIZE(short_sizes); i++)
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd,
						  SNAPMAP_IOC_SNAPSHOT, &arg,
						  sizeof(arg), short_sizes[i],
						  0, NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_SNAPSHOT, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_SNAPSHOT, &arg,
					 sizeof(arg), sizeof(arg) + 8, 0x80,
					 NULL));
	EXPECT_EQ(0, arg.out_version);

	sfd = sm_ioctl_sized(self->fd, SNAPMAP_IOC_SNAPSHOT, &arg, sizeof(arg),
			     sizeof(arg), 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_LT(model_max_version(self->m), arg.out_version);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));

	/* A newer caller's larger structure, its tail zero. */
	arg.out_version = 0;
	sfd = sm_ioctl_sized(self->fd, SNAPMAP_IOC_SNAPSHOT, &arg, sizeof(arg),
			     sizeof(arg) + 8, 0, &tail);
	ASSERT_LE(0, sfd);
	EXPECT_LT(model_max_version(self->m), arg.out_version);
	EXPECT_EQ(0, tail);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));

	/* Size is checked before flags. */
	arg.flags = 2;
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_SNAPSHOT,
					  &arg, sizeof(arg), 4, 0, NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_SNAPSHOT, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
}

TEST_F(snap, snapshot_info_size)
{
	struct snapmap_snapshot_info info, ref;
	const __u32 short_sizes[] = {
		0, 1, sizeof(__u32),
		offsetof(struct snapmap_snapshot_info, out_snapshot_flags),
		sizeof(info) - 1,
	};
	__u64 tail = 1;
	unsigned int i;
	int sfd;

	fill(_metadata, self->fd, self->m, 7);
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, sm_snapshot_info(sfd, &ref));

	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		memset(&info, 0, sizeof(info));
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(sfd,
						  SNAPMAP_IOC_SNAPSHOT_INFO,
						  &info, sizeof(info),
						  short_sizes[i], 0, NULL));
		EXPECT_EQ(0, info.out_version);
		EXPECT_EQ(0, info.out_entries);
	}
	memset(&info, 0, sizeof(info));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &info,
					 sizeof(info), sizeof(info) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &info,
					 sizeof(info), sizeof(info) + 8, 0x80,
					 NULL));
	EXPECT_EQ(0, info.out_entries);

	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, sm_ioctl_sized(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, &info,
				    sizeof(info), sizeof(info) + 8, 0, &tail));
	EXPECT_EQ(0, tail);
	EXPECT_EQ(ref.out_version, info.out_version);
	EXPECT_EQ(7, info.out_entries);
	EXPECT_EQ(ref.out_bytes, info.out_bytes);
	EXPECT_EQ(0, close(sfd));
}

TEST_F(snap, bad_pointers)
{
	/* Hidden from the compiler, which knows what read() may write. */
	volatile uintptr_t bad_addr = 0;
	unsigned char *page;
	long pagesize = getpagesize();
	ssize_t n;
	void *all;
	int sfd;

	fill(_metadata, self->fd, self->m, 20);
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_SNAPSHOT, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_CLONE, NULL));
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_ERRNO(EFAULT, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(sfd, SNAPMAP_IOC_SNAPSHOT_INFO,
				   (void *)1));

	/* A read into memory it cannot write takes no record. */
	EXPECT_ERRNO(EFAULT, read(sfd, (void *)bad_addr, 4096));
	EXPECT_ERRNO(EFAULT, read(sfd, (void *)(bad_addr + 1), 4096));
	page = mmap(NULL, 2 * pagesize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	ASSERT_EQ(0, munmap(page + pagesize, pagesize));
	/* Room for a few records, then the hole. */
	n = read(sfd, page + pagesize - 100, 4096);
	if (n < 0) {
		EXPECT_EQ(EFAULT, errno);
	}
	/* Read-only memory. */
	ASSERT_EQ(0, mprotect(page, pagesize, PROT_READ));
	EXPECT_ERRNO(EFAULT, read(sfd, page, pagesize));
	EXPECT_EQ(0, munmap(page, pagesize));

	/*
	 * Whatever the short read returned, nothing was lost: after it,
	 * the rest follows, and a rewind gives everything.
	 */
	if (n > 0) {
		void *rest;
		ssize_t r = sm_read_all(sfd, 4096, &rest);

		EXPECT_EQ(model_bytes(self->m), n + r);
		free(rest);
	} else {
		EXPECT_EQ(model_bytes(self->m),
			  expect_snapshot(_metadata, sfd, self->m, 4096));
	}
	ASSERT_EQ(0, lseek(sfd, 0, SEEK_SET));
	n = sm_read_all(sfd, 4096, &all);
	EXPECT_EQ(model_bytes(self->m), n);
	free(all);
	EXPECT_EQ(0, close(sfd));
}

/* A clone is the map at one instant, versions included. */
TEST_F(snap, clone_contents)
{
	struct snapmap_info src, info;
	char key[32];
	__u64 v = 0;
	unsigned int i;
	int cfd, sfd, efd, flags;

	fill(_metadata, self->fd, self->m, 40);
	for (i = 0; i < 40; i += 3) {
		snprintf(key, sizeof(key), "k%u", i);
		ASSERT_EQ(0, model_del_str(self->fd, self->m, key));
	}
	ASSERT_EQ(0, model_put_str(self->fd, self->m, "k5", "changed"));
	cfd = sm_clone(self->fd, NULL, 0, &v);
	ASSERT_LE(0, cfd);
	EXPECT_LT(model_max_version(self->m), v);

	flags = fcntl(cfd, F_GETFD);
	ASSERT_LE(0, flags);
	EXPECT_EQ(FD_CLOEXEC, flags & FD_CLOEXEC);
	flags = fcntl(cfd, F_GETFL);
	ASSERT_LE(0, flags);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);

	ASSERT_EQ(0, sm_info(self->fd, &src));
	ASSERT_EQ(0, sm_info(cfd, &info));
	EXPECT_EQ(model_entries(self->m), info.out_entries);
	EXPECT_EQ(src.out_max_key_len, info.out_max_key_len);
	EXPECT_EQ(src.out_max_value_len, info.out_max_value_len);
	EXPECT_EQ(src.out_max_entries, info.out_max_entries);
	EXPECT_EQ(src.out_max_bytes, info.out_max_bytes);
	EXPECT_EQ(0600, info.out_mode);
	EXPECT_EQ(getuid(), info.out_uid);
	EXPECT_EQ('\0', info.out_name[0]);

	for (i = 0; i < self->m->n; i++) {
		const struct model_ent *e = &self->m->ent[i];

		if (e->present) {
			EXPECT_VALUE(cfd, e->key, e->key_len, e->value,
				     e->value_len, e->version);
		} else {
			EXPECT_EQ(-ENOENT, sm_get(cfd, e->key, e->key_len,
						  NULL, 0, NULL, NULL));
		}
	}
	sfd = sm_snapshot(cfd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(cfd));

	/* An empty map's clone is empty. */
	efd = sm_create_default(self->ctl);
	ASSERT_LE(0, efd);
	cfd = sm_clone(efd, NULL, 0640, &v);
	ASSERT_LE(0, cfd);
	EXPECT_LT(0, v);
	ASSERT_EQ(0, sm_info(cfd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0640, info.out_mode);
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(efd));
}

/* After the clone, the clone and its source go their own ways. */
TEST_F(snap, clone_independent)
{
	struct model *clone_model;
	__u64 v = 0, ver = 0;
	int cfd, sfd;

	fill(_metadata, self->fd, self->m, 20);
	cfd = sm_clone(self->fd, NULL, 0, &v);
	ASSERT_LE(0, cfd);
	clone_model = malloc(sizeof(*clone_model));
	ASSERT_TRUE(clone_model != NULL);
	*clone_model = *self->m;

	/* The clone's own writes come after what it copied. */
	ASSERT_EQ(0, sm_put_str(cfd, "k1", "clone", &ver));
	EXPECT_LT(v, ver);
	ASSERT_EQ(0, model_put_str(cfd, clone_model, "k2", "clone"));
	ASSERT_EQ(0, model_put_str(cfd, clone_model, "k1", "clone"));
	ASSERT_EQ(0, model_put_str(cfd, clone_model, "only-clone", "c"));
	ASSERT_EQ(0, model_del_str(cfd, clone_model, "k3"));

	ASSERT_EQ(0, model_put_str(self->fd, self->m, "k2", "source"));
	ASSERT_EQ(0, model_put_str(self->fd, self->m, "only-source", "s"));
	ASSERT_EQ(0, model_del_str(self->fd, self->m, "k4"));

	EXPECT_EQ(-ENOENT, sm_get(self->fd, "only-clone", 10, NULL, 0, NULL,
				  NULL));
	EXPECT_EQ(-ENOENT, sm_get(cfd, "only-source", 11, NULL, 0, NULL,
				  NULL));
	sfd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));
	sfd = sm_snapshot(cfd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(clone_model),
		  expect_snapshot(_metadata, sfd, clone_model, 4096));
	EXPECT_EQ(0, close(sfd));

	/* Clearing one leaves the other. */
	ASSERT_EQ(0, sm_clear(self->fd, NULL));
	sfd = sm_snapshot(cfd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(clone_model),
		  expect_snapshot(_metadata, sfd, clone_model, 4096));
	EXPECT_EQ(0, close(sfd));

	/* The clone outlives its source. */
	EXPECT_EQ(0, close(self->fd));
	self->fd = sm_create_default(self->ctl);
	ASSERT_LE(0, self->fd);
	EXPECT_VALUE(cfd, "only-clone", 10, "c", 1,
		     model_find(clone_model, "only-clone", 10)->version);
	EXPECT_EQ(0, close(cfd));
	free(clone_model);
}

/* A clone of a map open read-only is a new map open for writing. */
TEST_F(snap, clone_read_only)
{
	char name[SNAPMAP_NAME_LEN];
	int fd, ro, cfd, flags;
	__u64 v = 0, ver = 0;

	test_name(name, "clone-ro");
	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 0, 0, name);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, self->m, 10);
	ro = sm_open(self->ctl, name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, sm_put_str(ro, "x", "y", NULL));

	cfd = sm_clone(ro, NULL, 0, &v);
	ASSERT_LE(0, cfd);
	flags = fcntl(cfd, F_GETFL);
	ASSERT_LE(0, flags);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);
	ASSERT_EQ(0, sm_put_str(cfd, "x", "y", &ver));
	EXPECT_LT(v, ver);
	ASSERT_EQ(0, sm_del_str(cfd, "k0", NULL));
	/* The source did not change. */
	EXPECT_EQ(-ENOENT, sm_get(fd, "x", 1, NULL, 0, NULL, NULL));
	EXPECT_VALUE(fd, "k0", 2, "v0", 2, self->m->ent[0].version);
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(ro));
	EXPECT_EQ(0, close(fd));
}

TEST_F(snap, clone_names)
{
	char name[SNAPMAP_NAME_LEN], src[SNAPMAP_NAME_LEN];
	const char *bad[] = { "bad/name", "bad name", "bad\tname", "ünï",
			      "a:b" };
	struct snapmap_clone arg;
	struct snapmap_info info;
	int fd, cfd, ofd;
	unsigned int i;

	test_name(src, "clone-src");
	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 0, 0, src);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, self->m, 5);

	test_name(name, "clone");
	cfd = sm_clone(fd, name, 0640, NULL);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, sm_info(cfd, &info));
	EXPECT_STREQ(name, info.out_name);
	EXPECT_EQ(0640, info.out_mode);
	/* Found by name, with the copied contents. */
	ofd = sm_open(self->ctl, name, 0);
	ASSERT_LE(0, ofd);
	EXPECT_VALUE(ofd, "k4", 2, "v4", 2, self->m->ent[4].version);
	EXPECT_EQ(0, close(ofd));

	/* Names are unique among live maps, the source's included. */
	EXPECT_EQ(-EEXIST, sm_clone(fd, name, 0, NULL));
	EXPECT_EQ(-EEXIST, sm_clone(fd, src, 0, NULL));
	EXPECT_EQ(-EEXIST, sm_clone(cfd, src, 0, NULL));
	EXPECT_EQ(-EEXIST, sm_clone(cfd, name, 0, NULL));

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, sm_clone(fd, bad[i], 0, NULL));
	/* Not NUL-terminated. */
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	memset(arg.name, 'a', sizeof(arg.name));
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_CLONE, &arg));
	EXPECT_EQ(0, arg.out_version);

	/* The name is free again once the clone is closed. */
	EXPECT_EQ(0, close(cfd));
	cfd = sm_clone(fd, name, 0, NULL);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));
}

TEST_F(snap, clone_args)
{
	struct snapmap_clone arg;
	const __u32 short_sizes[] = {
		0, 1, sizeof(__u32), offsetof(struct snapmap_clone, name),
		sizeof(arg) - 1,
	};
	const __u32 bad_modes[] = { 01000, 02600, 0170600, 1U << 31 };
	char name[SNAPMAP_NAME_LEN];
	__u64 tail = 1;
	unsigned int i;
	int cfd;

	fill(_metadata, self->fd, self->m, 4);
	test_name(name, "clone-args");

	memset(&arg, 0, sizeof(arg));
	strcpy(arg.name, name);
	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE,
						  &arg, sizeof(arg),
						  short_sizes[i], 0, NULL));
		EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));
	}
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg,
					 sizeof(arg), sizeof(arg) + 8, 0x80,
					 NULL));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));
	EXPECT_EQ(0, arg.out_version);

	/* Flags, reserved members and mode. */
	arg.flags = 1;
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg,
					  sizeof(arg), sizeof(arg), 0, NULL));
	arg.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg,
					  sizeof(arg), sizeof(arg), 0, NULL));
	/* Size is checked before flags. */
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	arg.flags = 0;
	arg.__reserved = 1;
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg,
					  sizeof(arg), sizeof(arg), 0, NULL));
	arg.__reserved = 0;
	for (i = 0; i < ARRAY_SIZE(bad_modes); i++) {
		arg.mode = bad_modes[i];
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE,
						  &arg, sizeof(arg),
						  sizeof(arg), 0, NULL));
	}
	arg.mode = 0;
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));
	EXPECT_EQ(0, arg.out_version);

	/* A newer caller's larger structure, its tail zero. */
	cfd = sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg, sizeof(arg),
			     sizeof(arg) + 8, 0, &tail);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(0, tail);
	EXPECT_LT(model_max_version(self->m), arg.out_version);
	EXPECT_VALUE(cfd, "k2", 2, "v2", 2, self->m->ent[2].version);
	EXPECT_EQ(0, close(cfd));
	/* And the exact size. */
	arg.out_version = 0;
	cfd = sm_ioctl_sized(self->fd, SNAPMAP_IOC_CLONE, &arg, sizeof(arg),
			     sizeof(arg), 0, NULL);
	ASSERT_LE(0, cfd);
	EXPECT_LT(model_max_version(self->m), arg.out_version);
	EXPECT_EQ(0, close(cfd));
}

/* A quiet map at its limits clones into a map at the same limits. */
TEST_F(snap, clone_full_map)
{
	struct snapmap_info src, info;
	unsigned int keys;
	int fd, cfd, sfd;

	/* At its entry limit. */
	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 20, 0, 0, NULL);
	ASSERT_LE(0, fd);
	fill(_metadata, fd, self->m, 20);
	EXPECT_EQ(-ENOSPC, sm_put_str(fd, "one-more", "x", NULL));
	cfd = sm_clone(fd, NULL, 0, NULL);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, sm_info(cfd, &info));
	EXPECT_EQ(20, info.out_entries);
	EXPECT_EQ(-ENOSPC, sm_put_str(cfd, "one-more", "x", NULL));
	EXPECT_EQ(0, sm_put_str(cfd, "k3", "replaced", NULL));
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));

	/* At its byte limit. */
	memset(self->m, 0, sizeof(*self->m));
	fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, 0, 8192, 0, NULL);
	ASSERT_LE(0, fd);
	keys = fill_to_limit(_metadata, fd, self->m, "b", 40);
	cfd = sm_clone(fd, NULL, 0, NULL);
	ASSERT_LE(0, cfd) {
		TH_LOG("clone of a map of %u keys at its byte limit: %s",
		       keys, strerror(-cfd));
	}
	ASSERT_EQ(0, sm_info(fd, &src));
	ASSERT_EQ(0, sm_info(cfd, &info));
	EXPECT_EQ(keys, info.out_entries);
	EXPECT_EQ(src.out_bytes, info.out_bytes);
	EXPECT_GE(info.out_max_bytes, info.out_bytes);
	sfd = sm_snapshot(cfd, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));
}

/* A clone of a clone holds what the first one copied. */
TEST_F(snap, clone_of_clone)
{
	int c1, c2, sfd;
	__u64 v1 = 0, v2 = 0;

	fill(_metadata, self->fd, self->m, 12);
	c1 = sm_clone(self->fd, NULL, 0, &v1);
	ASSERT_LE(0, c1);
	c2 = sm_clone(c1, NULL, 0, &v2);
	ASSERT_LE(0, c2);
	EXPECT_LE(v1, v2);
	EXPECT_EQ(0, close(c1));
	sfd = sm_snapshot(c2, 0, NULL);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(model_bytes(self->m),
		  expect_snapshot(_metadata, sfd, self->m, 4096));
	EXPECT_EQ(0, close(sfd));
	EXPECT_EQ(0, close(c2));
}

/*
 * A snapshot is taken while a PUT is blocked inside the kernel, copying
 * its value from a page that userfaultfd holds back, and while a read(2)
 * of another snapshot is blocked copying its records out to such a page:
 * taking it waits on neither, and a PUT of another key goes through too.
 * The threads' page faults, read from the userfaultfd, show that both are
 * inside their calls when the snapshot is taken.  A map-wide lock held
 * across a write's or a read's copies, which a snapshot would then wait
 * for behind a stalled user, hangs here until the test's timeout.  (It
 * does not show that creation never waits for writers past their copies:
 * the design allows a bounded wait for those.)
 */
struct blocked_call {
	pthread_t thread;
	int fd;
	void *page;
	long ret;
	__u64 version;
};

static void *blocked_put(void *arg)
{
	struct blocked_call *b = arg;

	b->ret = sm_put(b->fd, 0, "blocked", 7, b->page, 16, 0, &b->version);
	return NULL;
}

static void *blocked_read(void *arg)
{
	struct blocked_call *b = arg;

	b->ret = read(b->fd, b->page, 4096);
	return NULL;
}

/* Wait for the next page fault on @uffd; its address, or 0. */
static __u64 uffd_fault(int uffd)
{
	struct uffd_msg msg;
	struct pollfd p = { .fd = uffd, .events = POLLIN };

	if (poll(&p, 1, -1) != 1 || read(uffd, &msg, sizeof(msg)) !=
	    sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	return msg.arg.pagefault.address;
}

TEST_F_TIMEOUT(snap, snapshot_while_calls_blocked, 120)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct blocked_call put = { .fd = self->fd }, rd = { .ret = -2 };
	struct snapmap_info info;
	struct uffdio_copy copy;
	long page = sysconf(_SC_PAGESIZE);
	char *src, *area, *seen[2];
	__u64 v, faults[2];
	unsigned int i;
	ssize_t len;
	void *buf;
	int uffd, sfd, old;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(area != MAP_FAILED);
	src = malloc(page);
	ASSERT_TRUE(src != NULL);
	memset(src, 'v', page);
	reg.range.start = (uintptr_t)area;
	reg.range.len = 2 * page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, sm_put_str(self->fd, "a", "1", NULL));
	ASSERT_EQ(0, sm_put_str(self->fd, "b", "2", NULL));
	old = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, old);

	/* A PUT stuck on its value, a read stuck on its buffer. */
	put.page = area;
	ASSERT_EQ(0, pthread_create(&put.thread, NULL, blocked_put, &put));
	rd.fd = old;
	rd.page = area + page;
	ASSERT_EQ(0, pthread_create(&rd.thread, NULL, blocked_read, &rd));
	faults[0] = uffd_fault(uffd);
	faults[1] = uffd_fault(uffd);
	for (i = 0; i < 2; i++)
		seen[i] = (char *)(uintptr_t)(faults[i] & ~(__u64)(page - 1));
	EXPECT_TRUE((seen[0] == area && seen[1] == area + page) ||
		    (seen[1] == area && seen[0] == area + page)) {
		TH_LOG("faults at %p and %p, not at %p and %p", seen[0],
		       seen[1], area, area + page);
	}

	/* Both still inside their calls: the snapshot waits on neither. */
	ASSERT_EQ(0, sm_info(self->fd, &info));
	sfd = sm_snapshot(self->fd, 0, &v);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(info.out_version + 1, v);
	EXPECT_EQ(0, sm_put_str(self->fd, "c", "3", NULL));
	EXPECT_EQ(-2, __atomic_load_n(&rd.ret, __ATOMIC_RELAXED));
	len = sm_read_all(sfd, 4096, &buf);
	EXPECT_EQ(2 * SNAPMAP_RECORD_SIZE(1, 1), len);
	free(buf);
	close(sfd);

	/* Let them go: both calls complete, the PUT after the snapshot. */
	for (i = 0; i < 2; i++) {
		copy = (struct uffdio_copy){
			.dst = (uintptr_t)area + i * page,
			.src = (uintptr_t)src, .len = page,
		};
		EXPECT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	}
	ASSERT_EQ(0, pthread_join(put.thread, NULL));
	ASSERT_EQ(0, pthread_join(rd.thread, NULL));
	EXPECT_EQ(0, put.ret);
	EXPECT_LT(v, put.version);
	EXPECT_EQ(2 * SNAPMAP_RECORD_SIZE(1, 1), rd.ret);
	close(old);
	close(uffd);
	munmap(area, 2 * page);
	free(src);
}

TEST_HARNESS_MAIN
