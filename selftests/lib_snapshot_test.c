// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: the snapshot iterator.  Every record once with its
 * value and version, the snapshot's version and info, writes after it
 * unseen, WEAK snapshots, buffers that grow for a record larger than
 * them, rewinds that drop what is buffered, reading the fd directly,
 * ESTALE (a tight byte limit, an open ATOMIC snapshot, overwrites), EIO
 * for records that do not parse (the fd under the snapshot swapped for a
 * file of chosen bytes), ENOMEM, EINTR retried, and the argument errors.
 */

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "lib_test.h"

#define KEY_MAX 32
#define VAL_MAX 64
#define KEYS 200

/* What the test wrote, key i being "key<i>". */
struct model {
	char value[KEYS][VAL_MAX];
	__u32 value_len[KEYS];
	__u64 version[KEYS];
	bool present[KEYS];
};

FIXTURE(snap) {
	int ctl;
	int fd;
	struct model m;
};

FIXTURE_SETUP(snap)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .max_key_len = KEY_MAX,
		     .max_value_len = VAL_MAX);

	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	self->fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, self->fd);
	memset(&self->m, 0, sizeof(self->m));
}

FIXTURE_TEARDOWN(snap)
{
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

static int model_put(int fd, struct model *m, unsigned int i,
		     unsigned int round)
{
	char key[16];
	int ret;

	snprintf(key, sizeof(key), "key%u", i);
	m->value_len[i] = snprintf(m->value[i], VAL_MAX, "value-%03u-%03u",
				   i, round);
	ret = snapmap_put(fd, key, strlen(key), m->value[i], m->value_len[i],
			  0, &m->version[i]);
	if (!ret)
		m->present[i] = true;
	return ret;
}

static int model_del(int fd, struct model *m, unsigned int i)
{
	char key[16];
	int ret;

	snprintf(key, sizeof(key), "key%u", i);
	ret = snapmap_del(fd, key, strlen(key), NULL);
	if (!ret)
		m->present[i] = false;
	return ret;
}

/*
 * Expect the records of @snap, from where it stands to its end, to be
 * exactly the present keys of @m.  Returns how many records it read.
 */
static unsigned int expect_model(struct __test_metadata *_metadata,
				 struct snapmap_snapshot *snap,
				 const struct model *m)
{
	unsigned char seen[KEYS] = { 0 };
	struct snapmap_entry e;
	unsigned int n = 0, i, expected = 0;
	char key[KEY_MAX + 1];
	int ret;

	while ((ret = LIB(snapmap_snapshot_next(snap, &e))) > 0) {
		n++;
		ASSERT_GE(KEY_MAX, e.key_len);
		memcpy(key, e.key, e.key_len);
		key[e.key_len] = 0;
		ASSERT_EQ(1, sscanf(key, "key%u", &i)) {
			TH_LOG("unknown key %s", key);
		}
		ASSERT_GT(KEYS, i);
		EXPECT_TRUE(m->present[i]) {
			TH_LOG("%s is not in the map", key);
		}
		EXPECT_EQ(0, seen[i]++) {
			TH_LOG("%s twice", key);
		}
		EXPECT_EQ(m->value_len[i], e.value_len);
		if (e.value_len == m->value_len[i]) {
			EXPECT_EQ(0, memcmp(e.value, m->value[i],
					    e.value_len));
		}
		EXPECT_EQ(m->version[i], e.version);
		/* The value follows the key in the record. */
		EXPECT_TRUE((const char *)e.value ==
			    (const char *)e.key + e.key_len);
	}
	EXPECT_EQ(0, ret);
	for (i = 0; i < KEYS; i++)
		expected += m->present[i];
	EXPECT_EQ(expected, n);
	return n;
}

static __u64 model_bytes(const struct model *m)
{
	__u64 bytes = 0;
	char key[16];
	unsigned int i;

	for (i = 0; i < KEYS; i++) {
		if (!m->present[i])
			continue;
		snprintf(key, sizeof(key), "key%u", i);
		bytes += SNAPMAP_RECORD_SIZE(strlen(key), m->value_len[i]);
	}
	return bytes;
}

static void fill(struct __test_metadata *_metadata, int fd, struct model *m)
{
	unsigned int i;

	for (i = 0; i < KEYS; i++)
		ASSERT_EQ(0, model_put(fd, m, i, 0));
	/* Some deleted, some written twice. */
	for (i = 0; i < KEYS; i += 7)
		ASSERT_EQ(0, model_del(fd, m, i));
	for (i = 3; i < KEYS; i += 11)
		ASSERT_EQ(0, model_put(fd, m, i, 1));
}

TEST_F(snap, contents)
{
	struct snapmap_snapshot_info info;
	struct snapmap_snapshot *snap = NULL;
	struct snapmap_info minfo;
	struct snapmap_entry e;
	unsigned int n;

	fill(_metadata, self->fd, &self->m);
	ASSERT_EQ(0, LIB(snapmap_info(self->fd, &minfo)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	ASSERT_TRUE(snap != NULL);
	/* The version: above every write before it. */
	EXPECT_LT(minfo.out_version, snapmap_snapshot_version(snap));

	n = expect_model(_metadata, snap, &self->m);
	/* The end, and it stays the end. */
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, LIB(snapmap_snapshot_info(snap, &info)));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(snapmap_snapshot_version(snap), info.out_version);
	EXPECT_EQ(n, info.out_entries);
	EXPECT_EQ(model_bytes(&self->m), info.out_bytes);
	EXPECT_EQ(0, info.out_snapshot_flags);
	snapmap_snapshot_close(snap);
}

TEST_F(snap, empty)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	snapmap_snapshot_close(snap);
}

/* Writes after the snapshot was taken do not show in it. */
TEST_F(snap, point_in_time)
{
	struct snapmap_snapshot *snap;
	struct model *old;
	unsigned int i;

	fill(_metadata, self->fd, &self->m);
	old = malloc(sizeof(*old));
	ASSERT_TRUE(old != NULL);
	*old = self->m;
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	for (i = 0; i < KEYS; i += 2) {
		if (self->m.present[i]) {
			ASSERT_EQ(0, model_del(self->fd, &self->m, i));
		} else {
			ASSERT_EQ(0, model_put(self->fd, &self->m, i, 2));
		}
	}
	for (i = 1; i < KEYS; i += 4)
		ASSERT_EQ(0, model_put(self->fd, &self->m, i, 3));
	expect_model(_metadata, snap, old);
	snapmap_snapshot_close(snap);

	/* A new one sees them. */
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	expect_model(_metadata, snap, &self->m);
	snapmap_snapshot_close(snap);
	free(old);
}

TEST_F(snap, weak)
{
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts,
		     .flags = SNAPMAP_SNAPSHOT_WEAK);
	struct snapmap_snapshot_info info;
	struct snapmap_snapshot *snap;
	unsigned int n;

	fill(_metadata, self->fd, &self->m);
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, &opts, &snap)));
	EXPECT_EQ(0, snapmap_snapshot_version(snap));
	/* With no writer, a walk is the map. */
	n = expect_model(_metadata, snap, &self->m);
	ASSERT_EQ(0, LIB(snapmap_snapshot_info(snap, &info)));
	EXPECT_EQ(SNAPMAP_SNAPSHOT_WEAK, info.out_snapshot_flags);
	EXPECT_EQ(0, info.out_version);
	EXPECT_EQ(n, info.out_entries);
	/* A rewind walks the map anew, as it is now. */
	ASSERT_EQ(0, model_put(self->fd, &self->m, 0, 9));
	ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
	expect_model(_metadata, snap, &self->m);
	snapmap_snapshot_close(snap);
}

/*
 * Buffers smaller than a record grow, by doubling, until it fits: a
 * value larger than the default buffer, read with buffers of 1 byte, 64
 * bytes and the default.
 */
TEST_F(snap, buffer_growth)
{
	static const size_t sizes[] = { 1, 64, 0 };
	const __u32 big = 150000;
	SNAPMAP_OPTS(snapmap_create_opts, copts, .max_value_len = 2 * big);
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts);
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	unsigned char *value;
	unsigned int i, t, small, bigs;
	__u64 vbig = 0;
	int fd, ret;

	fd = LIB(snapmap_create(self->ctl, &copts));
	ASSERT_LE(0, fd);
	value = malloc(big);
	ASSERT_TRUE(value != NULL);
	for (i = 0; i < big; i++)
		value[i] = i * 13 + (i >> 8);
	for (i = 0; i < 20; i++) {
		char key[8];

		snprintf(key, sizeof(key), "s%u", i);
		ASSERT_EQ(0, LIB(snapmap_put(fd, key, strlen(key), "small", 5,
					     0, NULL)));
	}
	ASSERT_EQ(0, LIB(snapmap_put(fd, "big", 3, value, big, 0, &vbig)));

	for (t = 0; t < ARRAY_SIZE(sizes); t++) {
		opts.buf_size = sizes[t];
		ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, &opts, &snap)));
		small = 0;
		bigs = 0;
		while ((ret = LIB(snapmap_snapshot_next(snap, &e))) > 0) {
			if (e.key_len == 3 && !memcmp(e.key, "big", 3)) {
				bigs++;
				EXPECT_EQ(big, e.value_len);
				EXPECT_EQ(0, memcmp(e.value, value, big));
				EXPECT_EQ(vbig, e.version);
			} else {
				small++;
				EXPECT_EQ(5, e.value_len);
				EXPECT_EQ(0, memcmp(e.value, "small", 5));
			}
		}
		EXPECT_EQ(0, ret);
		EXPECT_EQ(1, bigs);
		EXPECT_EQ(20, small);
		snapmap_snapshot_close(snap);
	}
	free(value);
	EXPECT_EQ(0, close(fd));
}

/*
 * A rewind starts over and drops what was buffered: with the default
 * buffer the first record brings every record in, and none of them may
 * come out twice.  The same with a buffer of one record, and at the end.
 */
TEST_F(snap, rewind)
{
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts);
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	unsigned int t, i;

	fill(_metadata, self->fd, &self->m);
	for (t = 0; t < 2; t++) {
		opts.buf_size = t ? SNAPMAP_RECORD_SIZE(KEY_MAX, VAL_MAX) : 0;
		ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, &opts,
						       &snap)));
		for (i = 0; i < 5; i++)
			ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
		ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
		expect_model(_metadata, snap, &self->m);
		/* At the end. */
		ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
		expect_model(_metadata, snap, &self->m);
		/* Writes since do not show in an ATOMIC one. */
		ASSERT_EQ(0, LIB(snapmap_put(self->fd, "key1", 4, "new", 3, 0,
					     NULL)));
		ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
		expect_model(_metadata, snap, &self->m);
		snapmap_snapshot_close(snap);
		ASSERT_EQ(0, model_put(self->fd, &self->m, 1, 0));
	}
}

/* The fd under the snapshot reads the same records, from one position. */
TEST_F(snap, fd)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	unsigned char buf[4096];
	int sfd;
	ssize_t n;

	fill(_metadata, self->fd, &self->m);
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	sfd = snapmap_snapshot_fd(snap);
	ASSERT_LE(0, sfd);
	EXPECT_TRUE(lib_cloexec(sfd));
	EXPECT_EQ(O_RDONLY, fcntl(sfd, F_GETFL) & O_ACCMODE);
	/* Read it all directly: whole records, then nothing for next(). */
	do {
		n = read(sfd, buf, sizeof(buf));
		ASSERT_LE(0, n);
		EXPECT_TRUE(sm_records_whole(buf, n));
	} while (n > 0);
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
	expect_model(_metadata, snap, &self->m);
	snapmap_snapshot_close(snap);
}

TEST_F(snap, read_only_map)
{
	char name[SNAPMAP_NAME_LEN];
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .name = lib_name(name, "snap-ro"));
	struct snapmap_snapshot *snap;
	int fd, ro;

	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	fill(_metadata, fd, &self->m);
	ro = LIB(snapmap_open(self->ctl, name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(ro, NULL, &snap)));
	/* The snapshot holds the map: it outlives every map fd. */
	EXPECT_EQ(0, close(ro));
	EXPECT_EQ(0, close(fd));
	expect_model(_metadata, snap, &self->m);
	snapmap_snapshot_close(snap);
}

TEST_F(snap, errors)
{
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts, .flags = 1U << 5);
	struct snapmap_snapshot_info info;
	struct snapmap_snapshot *snap = (void *)1;
	struct snapmap_entry e;

	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_open(self->fd, &opts, &snap)));
	EXPECT_TRUE(snap == NULL);
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_open(self->fd, NULL, NULL)));
	/* A buffer that cannot be had. */
	opts.flags = 0;
	opts.buf_size = SIZE_MAX - 4096;
	snap = (void *)1;
	EXPECT_EQ(-ENOMEM, LIB(snapmap_snapshot_open(self->fd, &opts, &snap)));
	EXPECT_TRUE(snap == NULL);
	EXPECT_EQ(-ENOTTY, LIB(snapmap_snapshot_open(self->ctl, NULL, &snap)));

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_next(NULL, &e)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_next(snap, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_rewind(NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_info(NULL, &info)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_info(snap, NULL)));
	EXPECT_EQ(0, snapmap_snapshot_version(NULL));
	EXPECT_EQ(-EINVAL, LIB(snapmap_snapshot_fd(NULL)));
	snapmap_snapshot_close(NULL);
	/* Still fine after all that. */
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));

	/* An fd closed behind the library's back. */
	EXPECT_EQ(0, close(snapmap_snapshot_fd(snap)));
	EXPECT_EQ(-EBADF, LIB(snapmap_snapshot_rewind(snap)));
	EXPECT_EQ(-EBADF, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(-EBADF, LIB(snapmap_snapshot_info(snap, &info)));
	snapmap_snapshot_close(snap);
}

/*
 * ESTALE: a map at its byte limit, an ATOMIC snapshot of it read one
 * record at a time, and overwrites of every key: the versions the
 * snapshot pins take the map over its limit, the writes succeed, and the
 * snapshot goes stale, for good.
 */
TEST_F_TIMEOUT(snap, estale, 120)
{
	SNAPMAP_OPTS(snapmap_create_opts, copts,
		     .max_key_len = KEY_MAX,
		     .max_value_len = VAL_MAX,
		     .max_bytes = 8192);
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts,
		     .buf_size = SNAPMAP_RECORD_SIZE(KEY_MAX, VAL_MAX));
	struct snapmap_snapshot *snap, *snap2;
	struct snapmap_snapshot_info info;
	struct snapmap_entry e;
	struct model *old;
	unsigned int keys, round, i;
	int fd, ret = 0;

	fd = LIB(snapmap_create(self->ctl, &copts));
	ASSERT_LE(0, fd);
	for (keys = 0; keys < KEYS; keys++) {
		ret = model_put(fd, &self->m, keys, 0);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOSPC, ret);
	ASSERT_LT(1, keys);
	old = malloc(sizeof(*old));
	ASSERT_TRUE(old != NULL);
	*old = self->m;

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, &opts, &snap)));
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	for (round = 1; round < 100; round++) {
		for (i = 0; i < keys; i++)
			ASSERT_EQ(0, model_put(fd, &self->m, i, round));
		ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
		ret = snapmap_snapshot_next(snap, &e);
		if (ret < 0)
			break;
		/* While it is not stale, it is right. */
		ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
		expect_model(_metadata, snap, old);
	}
	ASSERT_EQ(-ESTALE, ret) {
		TH_LOG("%u rounds of overwrites of %u keys: %d", round, keys,
		       ret);
	}
	/* For good: reads, rewinds, info. */
	EXPECT_EQ(-ESTALE, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(-ESTALE, LIB(snapmap_snapshot_info(snap, &info)));
	EXPECT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
	EXPECT_EQ(-ESTALE, LIB(snapmap_snapshot_next(snap, &e)));
	/* A new one works. */
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, &opts, &snap2)));
	expect_model(_metadata, snap2, &self->m);
	snapmap_snapshot_close(snap2);
	snapmap_snapshot_close(snap);
	free(old);
	EXPECT_EQ(0, close(fd));
}

/* Records built by hand, as the module lays them out. */
static size_t put_record(unsigned char *p, __u32 key_len, __u32 value_len,
			 __u64 version, const char *kv)
{
	struct snapmap_record hdr = {
		.key_len = key_len,
		.value_len = value_len,
		.version = version,
	};
	size_t size = SNAPMAP_RECORD_SIZE(key_len, value_len);

	memset(p, 0, size);
	memcpy(p, &hdr, sizeof(hdr));
	memcpy(p + sizeof(hdr), kv, key_len + value_len);
	return size;
}

/* Replace what the snapshot's fd reads with the @len bytes at @buf. */
static void feed(struct __test_metadata *_metadata,
		 struct snapmap_snapshot *snap, int mfd, const void *buf,
		 size_t len)
{
	ASSERT_EQ(0, ftruncate(mfd, 0));
	ASSERT_EQ(len, pwrite(mfd, buf, len, 0));
	ASSERT_EQ(0, LIB(snapmap_snapshot_rewind(snap)));
}

/*
 * Bytes that are not whole records: EIO, never a read past what was
 * read, and EIO again until a rewind.  The snapshot's fd is swapped for
 * a memfd holding chosen bytes.
 */
TEST_F(snap, eio)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	unsigned char buf[256];
	struct snapmap_record hdr;
	size_t len;
	int mfd;

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	mfd = memfd_create("records", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(snapmap_snapshot_fd(snap),
		  dup2(mfd, snapmap_snapshot_fd(snap)));

	/* Two good records: parsed as the module's are. */
	len = put_record(buf, 3, 5, 42, "keyvalue");
	len += put_record(buf + len, 1, 0, 43, "k");
	feed(_metadata, snap, mfd, buf, len);
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(3, e.key_len);
	EXPECT_EQ(5, e.value_len);
	EXPECT_EQ(42, e.version);
	EXPECT_EQ(0, memcmp(e.key, "key", 3));
	EXPECT_EQ(0, memcmp(e.value, "value", 5));
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(1, e.key_len);
	EXPECT_EQ(0, e.value_len);
	EXPECT_EQ(43, e.version);
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));

	/* A good record, then one longer than the bytes read. */
	len = put_record(buf, 3, 5, 42, "keyvalue");
	len += put_record(buf + len, 4, 20, 44, "key2valuevaluevaluevalue");
	feed(_metadata, snap, mfd, buf, len - 8);
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(-EIO, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(-EIO, LIB(snapmap_snapshot_next(snap, &e)));

	/* Less than a header. */
	feed(_metadata, snap, mfd, buf, sizeof(hdr) - 1);
	EXPECT_EQ(-EIO, LIB(snapmap_snapshot_next(snap, &e)));

	/* A key of no bytes. */
	len = put_record(buf, 0, 3, 1, "val");
	feed(_metadata, snap, mfd, buf, len);
	EXPECT_EQ(-EIO, LIB(snapmap_snapshot_next(snap, &e)));

	/* Lengths whose record would be larger than any buffer. */
	memset(&hdr, 0xff, sizeof(hdr));
	memcpy(buf, &hdr, sizeof(hdr));
	feed(_metadata, snap, mfd, buf, sizeof(buf));
	EXPECT_EQ(-EIO, LIB(snapmap_snapshot_next(snap, &e)));

	/* A rewind over good records again. */
	len = put_record(buf, 1, 1, 7, "kv");
	feed(_metadata, snap, mfd, buf, len);
	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(7, e.version);
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));

	snapmap_snapshot_close(snap);
	EXPECT_EQ(0, close(mfd));
}

/* VmSize of this process, in bytes, or 0. */
static size_t vm_size(void)
{
	char line[128];
	size_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * A record the buffer cannot grow to hold, for lack of address space:
 * ENOMEM, and the record is not lost: once there is memory again, the
 * same call returns it.
 */
TEST_F(snap, grow_enomem)
{
	const __u32 big = 1 << 20;
	SNAPMAP_OPTS(snapmap_create_opts, copts, .max_value_len = big);
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts, .buf_size = 4096);
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	struct rlimit saved, rl;
	unsigned char *value;
	size_t vm;
	int fd, ret;

	fd = LIB(snapmap_create(self->ctl, &copts));
	ASSERT_LE(0, fd);
	value = malloc(big);
	ASSERT_TRUE(value != NULL);
	memset(value, 'b', big);
	ASSERT_EQ(0, LIB(snapmap_put(fd, "big", 3, value, big, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_snapshot_open(fd, &opts, &snap)));

	vm = vm_size();
	if (!vm)
		SKIP(return, "no VmSize in /proc/self/status");
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, &saved));
	rl = saved;
	rl.rlim_cur = vm + (256 << 10);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &rl));
	ret = snapmap_snapshot_next(snap, &e);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &saved));
	EXPECT_EQ(-ENOMEM, ret);

	ASSERT_EQ(1, LIB(snapmap_snapshot_next(snap, &e)));
	EXPECT_EQ(big, e.value_len);
	EXPECT_EQ(0, memcmp(e.value, value, big));
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	snapmap_snapshot_close(snap);
	free(value);
	EXPECT_EQ(0, close(fd));
}

/*
 * EINTR is retried: the snapshot's fd is swapped for an empty pipe, so
 * that next() blocks in read(2); a signal whose handler does not restart
 * system calls interrupts it; the test waits until the thread is blocked
 * in read(2) again (the library retried) and only then writes a record.
 */
static int signals;

static void on_signal(int sig)
{
	__atomic_add_fetch(&signals, 1, __ATOMIC_RELEASE);
}

/* Whether thread @tid is blocked in read(2), from /proc. */
static int blocked_in_read(pid_t tid)
{
	char path[64], buf[64];
	long nr = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%ld", &nr) != 1)
		return 0;
	return nr == __NR_read;
}

struct interrupter {
	pthread_t thread;
	pthread_t target;
	pid_t tid;
	int wfd;
	unsigned char rec[64];
	size_t len;
	int err;
};

static void *interrupter_fn(void *arg)
{
	struct interrupter *in = arg;
	int ret;

	while (!(ret = blocked_in_read(in->tid)))
		sched_yield();
	if (ret < 0) {
		in->err = 1;
		goto out;
	}
	pthread_kill(in->target, SIGUSR1);
	while (!__atomic_load_n(&signals, __ATOMIC_ACQUIRE))
		sched_yield();
	while (!(ret = blocked_in_read(in->tid)))
		sched_yield();
	if (ret < 0)
		in->err = 2;
out:
	if (write(in->wfd, in->rec, in->len) != (ssize_t)in->len)
		in->err = 3;
	close(in->wfd);
	return NULL;
}

TEST_F(snap, eintr)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct interrupter in = { 0 };
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	int pipefd[2], ret;

	ASSERT_EQ(0, LIB(snapmap_snapshot_open(self->fd, NULL, &snap)));
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(snapmap_snapshot_fd(snap),
		  dup2(pipefd[0], snapmap_snapshot_fd(snap)));
	close(pipefd[0]);
	if (blocked_in_read(syscall(__NR_gettid)) < 0)
		SKIP(return, "no /proc/self/task/<tid>/syscall");
	/* No SA_RESTART: the read fails with EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	in.target = pthread_self();
	in.tid = syscall(__NR_gettid);
	in.wfd = pipefd[1];
	in.len = put_record(in.rec, 3, 2, 5, "keyvv");
	ASSERT_EQ(0, pthread_create(&in.thread, NULL, interrupter_fn, &in));
	ret = snapmap_snapshot_next(snap, &e);
	pthread_join(in.thread, NULL);
	EXPECT_EQ(0, in.err);
	EXPECT_EQ(1, signals);
	ASSERT_EQ(1, ret);
	EXPECT_EQ(5, e.version);
	EXPECT_EQ(0, memcmp(e.key, "key", 3));
	EXPECT_EQ(0, LIB(snapmap_snapshot_next(snap, &e)));
	snapmap_snapshot_close(snap);
}

TEST_HARNESS_MAIN
