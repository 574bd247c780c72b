// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: single keys: SNAPMAP_IOC_GET, SNAPMAP_IOC_PUT and its
 * flags (compare-and-swap included), SNAPMAP_IOC_DEL and its conditional
 * form, the versions they report, the length limits, and every errno of
 * these commands, including which one wins when several arguments are
 * wrong and that a failed call changes nothing.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapmap_test.h"

#define KEY_MAX 32
#define VAL_MAX 128
#define ENTRIES_MAX 64

FIXTURE(map) {
	int ctl;
	int fd;		/* read-write */
	int ro;		/* the same map, opened read-only */
	char name[SNAPMAP_NAME_LEN];
	char *page;	/* one readable page followed by an unmapped one */
};

FIXTURE_SETUP(map)
{
	long pagesize = getpagesize();

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(self->name, sizeof(self->name), "kv_test-%d", (int)getpid());
	self->fd = sm_create(self->ctl, KEY_MAX, VAL_MAX, ENTRIES_MAX, 0, 0,
			     self->name);
	ASSERT_LE(0, self->fd);
	self->ro = sm_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, self->ro);

	self->page = mmap(NULL, 2 * pagesize, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->page != MAP_FAILED);
	memset(self->page, 'p', pagesize);
	ASSERT_EQ(0, munmap(self->page + pagesize, pagesize));
}

FIXTURE_TEARDOWN(map)
{
	munmap(self->page, getpagesize());
	EXPECT_EQ(0, close(self->ro));
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/* @len bytes of user memory that end where the mapping ends. */
static void *page_end(FIXTURE_DATA(map) *self, size_t len)
{
	return self->page + getpagesize() - len;
}

/* The largest argument structure CHECK_SIZES() is used on. */
#define SIZED_MAX 64

TEST_F(map, put_get)
{
	char buf[VAL_MAX];
	__u64 v = 0, ver = 0;
	__u32 len = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "key", "hello, world", &v));
	EXPECT_LT(0, v);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, sm_get(self->fd, "key", 3, buf, sizeof(buf), &len, &ver));
	EXPECT_EQ(12, len);
	EXPECT_EQ(0, memcmp(buf, "hello, world", 12));
	EXPECT_EQ(v, ver);
	/* The read-only fd sees it all the same. */
	EXPECT_VALUE(self->ro, "key", 3, "hello, world", 12, v);
}

TEST_F(map, get_absent)
{
	char buf[8] = "unused";
	__u32 len = 77;
	__u64 ver = 77;

	EXPECT_EQ(-ENOENT, sm_get(self->fd, "nothing", 7, buf, sizeof(buf),
				  &len, &ver));
	EXPECT_EQ(0, memcmp(buf, "unused", 7));
	/* A prefix or an extension of a present key is another key. */
	ASSERT_EQ(0, sm_put_str(self->fd, "abc", "1", NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "ab", 2, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "abcd", 4, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "ABC", 3, buf, sizeof(buf), NULL,
				  NULL));
}

/* Every write takes a version above every earlier one. */
TEST_F(map, versions_increase)
{
	struct snapmap_info info;
	__u64 last = 0, v = 0;
	char key[8];
	int i;

	ASSERT_EQ(0, sm_info(self->fd, &info));
	last = info.out_version;
	for (i = 0; i < 40; i++) {
		/* Three writes and a deletion of each key in turn. */
		snprintf(key, sizeof(key), "k%d", (i / 4) % 5);
		switch (i % 4) {
		case 0:
		case 1:
			ASSERT_EQ(0, sm_put_str(self->fd, key, "v", &v));
			break;
		case 2:
			ASSERT_EQ(0, sm_put(self->fd, 0, key, strlen(key),
					    "vv", 2, 0, &v));
			break;
		case 3:
			ASSERT_EQ(0, sm_del_str(self->fd, key, &v));
			break;
		}
		EXPECT_LT(last, v);
		last = v;
		ASSERT_EQ(0, sm_info(self->fd, &info));
		EXPECT_EQ(v, info.out_version);
	}
}

TEST_F(map, replace)
{
	__u64 v1 = 0, v2 = 0, v3 = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "a long first value", &v1));
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "short", &v2));
	EXPECT_LT(v1, v2);
	/* No trace of the longer value. */
	EXPECT_VALUE(self->fd, "k", 1, "short", 5, v2);
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "short", &v3));
	/* Writing the same bytes again is a write. */
	EXPECT_LT(v2, v3);
	EXPECT_VALUE(self->fd, "k", 1, "short", 5, v3);
}

TEST_F(map, put_noexist)
{
	struct snapmap_info before, info;
	__u64 v = 0, v2 = 0;

	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, "k", 1, "first", 5,
			    0, &v));
	EXPECT_VALUE(self->fd, "k", 1, "first", 5, v);
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-EEXIST, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, "k", 1,
				  "second", 6, 0, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "first", 5, v);

	/* Once deleted, the key can be inserted again. */
	ASSERT_EQ(0, sm_del_str(self->fd, "k", NULL));
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, "k", 1, "third", 5,
			    0, &v2));
	EXPECT_LT(v, v2);
	EXPECT_VALUE(self->fd, "k", 1, "third", 5, v2);
}

TEST_F(map, put_exist)
{
	struct snapmap_info before, info;
	char buf[8];
	__u64 v = 0, v2 = 0;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-ENOENT, sm_put(self->fd, SNAPMAP_PUT_EXIST, "k", 1, "x", 1,
				  0, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, sizeof(buf), NULL,
				  NULL));

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "old", &v));
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_EXIST, "k", 1, "new", 3, 0,
			    &v2));
	EXPECT_LT(v, v2);
	EXPECT_VALUE(self->fd, "k", 1, "new", 3, v2);

	/* A deleted key is absent. */
	ASSERT_EQ(0, sm_del_str(self->fd, "k", NULL));
	EXPECT_EQ(-ENOENT, sm_put(self->fd, SNAPMAP_PUT_EXIST, "k", 1, "x", 1,
				  0, NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, sizeof(buf), NULL,
				  NULL));
}

TEST_F(map, put_flags_invalid)
{
	const __u32 bad[] = {
		SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST,
		SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_IF_VERSION,
		SNAPMAP_PUT_EXIST | SNAPMAP_PUT_IF_VERSION,
		SNAPMAP_PUT_NOEXIST | SNAPMAP_PUT_EXIST |
			SNAPMAP_PUT_IF_VERSION,
		1U << 3, 1U << 31, SNAPMAP_PUT_NOEXIST | 1U << 8,
	};
	struct snapmap_info before, info;
	unsigned int i;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, sm_put(self->fd, bad[i], "k", 1, "w", 1,
					  bad[i] & SNAPMAP_PUT_IF_VERSION ?
					  v : 0, NULL));
		EXPECT_EQ(-EINVAL, sm_put(self->fd, bad[i], "n", 1, "w", 1,
					  bad[i] & SNAPMAP_PUT_IF_VERSION ?
					  v : 0, NULL));
	}
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "v", 1, v);
}

/* The version member is for SNAPMAP_PUT_IF_VERSION only. */
TEST_F(map, put_version_needs_flag)
{
	const __u32 flags[] = { 0, SNAPMAP_PUT_NOEXIST, SNAPMAP_PUT_EXIST };
	struct snapmap_info before, info;
	unsigned int i;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		EXPECT_EQ(-EINVAL, sm_put(self->fd, flags[i], "k", 1, "w", 1,
					  v, NULL));
		EXPECT_EQ(-EINVAL, sm_put(self->fd, flags[i], "n", 1, "w", 1,
					  1ULL << 63, NULL));
	}
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "v", 1, v);
}

TEST_F(map, cas)
{
	struct snapmap_info before, info;
	__u64 v1 = 0, v2 = 0, v3 = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "one", &v1));
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1, "two", 3,
			    v1, &v2));
	EXPECT_LT(v1, v2);
	EXPECT_VALUE(self->fd, "k", 1, "two", 3, v2);

	/* The old version, a future one and 0 no longer match. */
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "bad", 3, v1, NULL));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "bad", 3, v2 + 1, NULL));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "bad", 3, 0, NULL));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "bad", 3, ~0ULL, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "two", 3, v2);

	/* Another key's version is not this key's. */
	ASSERT_EQ(0, sm_put_str(self->fd, "other", "x", &v3));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "bad", 3, v3, NULL));
	EXPECT_VALUE(self->fd, "k", 1, "two", 3, v2);

	/* A chain of swaps, each on the version of the last. */
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1, "3", 1,
			    v2, &v3));
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1, "", 0,
			    v3, &v1));
	EXPECT_LT(v3, v1);
	EXPECT_VALUE(self->fd, "k", 1, "", 0, v1);
}

/* Compare-and-swap never inserts. */
TEST_F(map, cas_absent)
{
	struct snapmap_info before, info;
	char buf[8];
	__u64 v = 0, vd = 0;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "x", 1, 0, NULL));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "x", 1, 1, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);

	/* Neither with the version the key had, nor with its deletion's. */
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	ASSERT_EQ(0, sm_del_str(self->fd, "k", &vd));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "x", 1, v, NULL));
	EXPECT_EQ(-ECANCELED, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				     "x", 1, vd, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, sizeof(buf), NULL,
				  NULL));
}

TEST_F(map, del)
{
	struct snapmap_info before, info;
	__u64 v = 0, vd = 0, vn = 0, vk = 0;
	char buf[8];

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	ASSERT_EQ(0, sm_put_str(self->fd, "keep", "w", &vk));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	ASSERT_EQ(0, sm_del_str(self->fd, "k", &vd));
	/* The deletion is a write after the one it deletes. */
	EXPECT_LT(v, vd);
	EXPECT_LT(before.out_version, vd);
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(vd, info.out_version);
	EXPECT_EQ(before.out_entries - 1, info.out_entries);
	EXPECT_EQ(before.out_dels + 1, info.out_dels);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, sizeof(buf), NULL,
				  NULL));

	/* A second deletion finds nothing and changes nothing. */
	before = info;
	EXPECT_EQ(-ENOENT, sm_del_str(self->fd, "k", NULL));
	EXPECT_EQ(-ENOENT, sm_del_str(self->fd, "never", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "keep", 4, "w", 1, vk);

	/* Put back, the key has a version after its deletion. */
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "again", &vn));
	EXPECT_LT(vd, vn);
	EXPECT_VALUE(self->fd, "k", 1, "again", 5, vn);
}

TEST_F(map, del_if_version)
{
	struct snapmap_info before, info;
	__u64 v1 = 0, v2 = 0, vd = 0;
	char buf[8];

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "one", &v1));
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "two", &v2));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-ECANCELED, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "k", 1,
				     v1, NULL));
	EXPECT_EQ(-ECANCELED, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "k", 1,
				     v2 + 1, NULL));
	EXPECT_EQ(-ECANCELED, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "k", 1,
				     0, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "two", 3, v2);

	ASSERT_EQ(0, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "k", 1, v2,
			    &vd));
	EXPECT_LT(v2, vd);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, sizeof(buf), NULL,
				  NULL));

	/* An absent key has no version to match. */
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-ECANCELED, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "k", 1,
				     v2, NULL));
	EXPECT_EQ(-ECANCELED, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "k", 1,
				     vd, NULL));
	EXPECT_EQ(-ECANCELED, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, "none",
				     4, 0, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

TEST_F(map, del_flags_reserved)
{
	struct snapmap_del arg = { .size = sizeof(arg), .key_len = 1,
				   .key = SM_PTR("k") };
	struct snapmap_info before, info;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	arg.flags = 1U << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_DEL, &arg));
	arg.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_DEL, &arg));
	arg.flags = SNAPMAP_DEL_IF_VERSION | 1U << 4;
	arg.version = v;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_DEL, &arg));
	arg.flags = 0;
	arg.version = 0;
	arg.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_DEL, &arg));
	/* The version member is for SNAPMAP_DEL_IF_VERSION only. */
	arg.__reserved = 0;
	arg.version = v;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_DEL, &arg));
	EXPECT_EQ(0, arg.out_version);

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "v", 1, v);
}

TEST_F(map, get_flags_reserved)
{
	struct snapmap_get arg;
	char buf[8];
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.key_len = 1;
	arg.key = SM_PTR("k");
	arg.value = SM_PTR(buf);
	arg.value_buf_len = sizeof(buf);

	arg.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_GET, &arg));
	arg.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_GET, &arg));
	arg.flags = 0;
	arg.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_GET, &arg));
	EXPECT_EQ(0, arg.out_version);
	EXPECT_EQ(0, arg.out_value_len);

	/* Output members are not input: garbage there is ignored. */
	arg.__reserved = 0;
	arg.out_value_len = ~0U;
	arg.out_version = ~0ULL;
	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_GET, &arg));
	EXPECT_EQ(1, arg.out_value_len);
	EXPECT_EQ(v, arg.out_version);
	EXPECT_EQ(sizeof(arg), arg.size);
	EXPECT_EQ(1, arg.key_len);
	EXPECT_EQ(sizeof(buf), arg.value_buf_len);
}

/* A buffer too small: ERANGE, and the length and version all the same. */
TEST_F(map, get_erange)
{
	const char value[] = "0123456789";
	char buf[16];
	__u64 v = 0, ver = 0;
	__u32 len = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", value, &v));

	len = 0;
	ver = 0;
	EXPECT_EQ(-ERANGE, sm_get(self->fd, "k", 1, buf, 4, &len, &ver));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, ver);

	len = 0;
	ver = 0;
	EXPECT_EQ(-ERANGE, sm_get(self->fd, "k", 1, buf, 9, &len, &ver));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, ver);

	/* No buffer at all: the usual way to ask for the length. */
	len = 0;
	ver = 0;
	EXPECT_EQ(-ERANGE, sm_get(self->fd, "k", 1, NULL, 0, &len, &ver));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, ver);

	/* Exactly the length is enough. */
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(0, sm_get(self->fd, "k", 1, buf, 10, &len, &ver));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, ver);
	EXPECT_EQ(0, memcmp(buf, value, 10));
	EXPECT_EQ('x', buf[10]);

	/* The read-only fd reports the same. */
	len = 0;
	ver = 0;
	EXPECT_EQ(-ERANGE, sm_get(self->ro, "k", 1, buf, 1, &len, &ver));
	EXPECT_EQ(10, len);
	EXPECT_EQ(v, ver);
}

TEST_F(map, empty_value)
{
	struct snapmap_info info;
	char buf[8] = "xxxxxxx";
	__u64 v = 0, ver = 0;
	__u32 len = 0;

	ASSERT_EQ(0, sm_put(self->fd, 0, "k", 1, buf, 0, 0, &v));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(1, info.out_entries);

	len = 99;
	EXPECT_EQ(0, sm_get(self->fd, "k", 1, buf, sizeof(buf), &len, &ver));
	EXPECT_EQ(0, len);
	EXPECT_EQ(v, ver);
	EXPECT_EQ(0, memcmp(buf, "xxxxxxx", 8));
	/* Present with nothing in it is not absent. */
	EXPECT_EQ(-EEXIST, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, "k", 1, buf, 1,
				  0, NULL));
	/* A buffer of 0 bytes holds it. */
	len = 99;
	EXPECT_EQ(0, sm_get(self->fd, "k", 1, buf, 0, &len, &ver));
	EXPECT_EQ(0, len);

	/* From empty to not and back. */
	ASSERT_EQ(0, sm_put_str(self->fd, "k", "full", &v));
	EXPECT_VALUE(self->fd, "k", 1, "full", 4, v);
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_EXIST, "k", 1, buf, 0, 0, &v));
	EXPECT_VALUE(self->fd, "k", 1, "", 0, v);
	ASSERT_EQ(0, sm_del_str(self->fd, "k", NULL));
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, 0, &len, &ver));
}

/* An empty value needs no buffer: NULL with a length of 0 is fine. */
TEST_F(map, empty_value_null)
{
	__u64 v = 0, ver = 0;
	__u32 len = 0;

	ASSERT_EQ(0, sm_put(self->fd, 0, "k", 1, NULL, 0, 0, &v));
	len = 99;
	EXPECT_EQ(0, sm_get(self->fd, "k", 1, NULL, 0, &len, &ver));
	EXPECT_EQ(0, len);
	EXPECT_EQ(v, ver);
	ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1, NULL, 0,
			    v, &v));
	EXPECT_VALUE(self->fd, "k", 1, "", 0, v);
	/* Nothing is read from a pointer with nothing behind it. */
	ASSERT_EQ(0, sm_put(self->fd, 0, "k", 1, (void *)8, 0, 0, &v));
	EXPECT_EQ(0, sm_get(self->fd, "k", 1, (void *)8, 0, &len, &ver));
	EXPECT_EQ(v, ver);
}

TEST_F(map, max_lengths)
{
	unsigned char key[KEY_MAX + 1], value[VAL_MAX + 1];
	unsigned char buf[VAL_MAX + 8];
	__u64 v = 0, ver = 0;
	__u32 len = 0;
	int i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = 'A' + i % 26;
	for (i = 0; i < sizeof(value); i++)
		value[i] = i * 7 + 3;

	ASSERT_EQ(0, sm_put(self->fd, 0, key, KEY_MAX, value, VAL_MAX, 0, &v));
	EXPECT_VALUE(self->fd, key, KEY_MAX, value, VAL_MAX, v);
	/* The key one byte shorter is another key. */
	EXPECT_EQ(-ENOENT, sm_get(self->fd, key, KEY_MAX - 1, buf, sizeof(buf),
				  NULL, NULL));
	/* A buffer larger than any value is fine. */
	EXPECT_EQ(0, sm_get(self->fd, key, KEY_MAX, buf, sizeof(buf), &len,
			    &ver));
	EXPECT_EQ(VAL_MAX, len);
	/* A key of 1 byte. */
	ASSERT_EQ(0, sm_put(self->fd, 0, "\0", 1, value, 1, 0, &v));
	EXPECT_VALUE(self->fd, "\0", 1, value, 1, v);
	ASSERT_EQ(0, sm_del(self->fd, 0, key, KEY_MAX, 0, NULL));
}

/* The module's caps as a map's limits: the longest key and value. */
TEST_F(map, default_limits)
{
	unsigned long long key_cap = 0, value_cap = 0;
	struct snapmap_info info;
	unsigned char *key, *value, *buf;
	__u64 v = 0, ver = 0;
	__u32 len = 0, i;
	int fd;

	ASSERT_EQ(0, sm_param("max_key_len", &key_cap));
	ASSERT_EQ(0, sm_param("max_value_len", &value_cap));
	if (key_cap > (1 << 20) || value_cap > (16 << 20))
		SKIP(return, "caps of %llu and %llu bytes are too large here",
		     key_cap, value_cap);
	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	ASSERT_EQ(key_cap, info.out_max_key_len);
	ASSERT_EQ(value_cap, info.out_max_value_len);

	key = malloc(key_cap + 1);
	value = malloc(value_cap + 1);
	buf = malloc(value_cap + 1);
	ASSERT_TRUE(key && value && buf);
	for (i = 0; i <= key_cap; i++)
		key[i] = i * 13 + 1;
	for (i = 0; i <= value_cap; i++)
		value[i] = i * 7 + (i >> 8);

	ASSERT_EQ(0, sm_put(fd, 0, key, key_cap, value, value_cap, 0, &v));
	memset(buf, 0, value_cap + 1);
	ASSERT_EQ(0, sm_get(fd, key, key_cap, buf, value_cap + 1, &len,
			    &ver));
	EXPECT_EQ(value_cap, len);
	EXPECT_EQ(v, ver);
	EXPECT_EQ(0, memcmp(buf, value, value_cap));
	EXPECT_EQ(0, buf[value_cap]);
	/* One byte short of it: ERANGE. */
	EXPECT_EQ(-ERANGE, sm_get(fd, key, key_cap, buf, value_cap - 1, &len,
				  &ver));
	EXPECT_EQ(value_cap, len);

	EXPECT_EQ(-EMSGSIZE, sm_put(fd, 0, key, key_cap + 1, value, 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(fd, 0, key, 1, value, value_cap + 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_get(fd, key, key_cap + 1, buf, value_cap,
				    NULL, NULL));
	ASSERT_EQ(0, sm_del(fd, 0, key, key_cap, 0, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	free(key);
	free(value);
	free(buf);
	EXPECT_EQ(0, close(fd));
}

/* One byte over a limit: EMSGSIZE, and nothing changes. */
TEST_F(map, over_limit_lengths)
{
	unsigned char key[KEY_MAX + 1], value[VAL_MAX + 1];
	struct snapmap_info before, info;
	unsigned char buf[VAL_MAX + 8];
	__u64 v = 0;
	int i;

	memset(key, 'k', sizeof(key));
	for (i = 0; i < sizeof(value); i++)
		value[i] = i;
	ASSERT_EQ(0, sm_put(self->fd, 0, key, KEY_MAX, value, 1, 0, &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, key, KEY_MAX + 1, value, 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, key, KEY_MAX, value,
				    VAL_MAX + 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, SNAPMAP_PUT_EXIST, key, KEY_MAX,
				    value, VAL_MAX + 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, key,
				    KEY_MAX, value, VAL_MAX + 1, v, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, "n", 1, value, VAL_MAX + 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, key, ~0U, value, 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, "n", 1, value, ~0U, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_get(self->fd, key, KEY_MAX + 1, buf,
				    sizeof(buf), NULL, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_get(self->fd, key, ~0U, buf, sizeof(buf), NULL,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_del(self->fd, 0, key, KEY_MAX + 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, key,
				    KEY_MAX + 1, v, NULL));

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, key, KEY_MAX, value, 1, v);
}

TEST_F(map, key_len_zero)
{
	struct snapmap_info before, info;
	char buf[8];

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-EINVAL, sm_put(self->fd, 0, "k", 0, "v", 1, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_put(self->fd, 0, NULL, 0, "v", 1, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_get(self->fd, "k", 0, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-EINVAL, sm_get(self->fd, NULL, 0, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-EINVAL, sm_del(self->fd, 0, "k", 0, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_del(self->fd, 0, NULL, 0, 0, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
}

/* Keys and values are byte strings: NUL and every other byte count. */
TEST_F(map, binary_keys_values)
{
	const struct {
		const char *key;
		__u32 len;
	} keys[] = {
		{ "\0", 1 }, { "\0\0", 2 }, { "a", 1 }, { "a\0", 2 },
		{ "a\0b", 3 }, { "a\0c", 3 }, { "\xff", 1 }, { "\xff\xfe", 2 },
		{ "\n", 1 }, { "A", 1 },
	};
	__u64 versions[ARRAY_SIZE(keys)];
	unsigned char value[VAL_MAX];
	struct snapmap_info info;
	unsigned int i;

	for (i = 0; i < sizeof(value); i++)
		value[i] = i * 2 + 1;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		value[0] = i;
		ASSERT_EQ(0, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, keys[i].key,
				    keys[i].len, value, 1 + i, 0,
				    &versions[i]));
	}
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_EQ(ARRAY_SIZE(keys), info.out_entries);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		value[0] = i;
		EXPECT_VALUE(self->fd, keys[i].key, keys[i].len, value, 1 + i,
			     versions[i]);
	}

	/* Every byte value survives the trip. */
	for (i = 0; i < 256; i++) {
		unsigned char b[2] = { i, 255 - i };

		ASSERT_EQ(0, sm_put(self->fd, 0, "bytes", 5, b, 2, 0,
				    &versions[0]));
		EXPECT_VALUE(self->fd, "bytes", 5, b, 2, versions[0]);
	}
}

/*
 * Size edge cases of one command, whose valid argument is at @arg (@len
 * bytes): too short and a non-zero tail fail and change nothing; a larger
 * structure with a zero tail works and keeps its tail.
 */
#define CHECK_SIZES(_fd, _cmd, _arg, _len)				\
	do {								\
		const __u32 __short[] = { 0, 1, sizeof(__u32), (_len) - 8, \
					  (_len) - 1 };			\
		struct snapmap_info __before, __after;			\
		unsigned char __copy[SIZED_MAX];			\
		unsigned int __i;					\
		__u64 __tail;						\
									\
		ASSERT_EQ(0, sm_info(self->fd, &__before));		\
		for (__i = 0; __i < ARRAY_SIZE(__short); __i++) {	\
			memcpy(__copy, _arg, _len);			\
			EXPECT_EQ(-EINVAL, sm_ioctl_sized(_fd, _cmd, __copy, _len, \
							  __short[__i], 0, NULL)); \
		}							\
		memcpy(__copy, _arg, _len);				\
		EXPECT_EQ(-E2BIG, sm_ioctl_sized(_fd, _cmd, __copy, _len, \
						 (_len) + 1, 1, NULL));	\
		EXPECT_EQ(-E2BIG, sm_ioctl_sized(_fd, _cmd, __copy, _len, \
						 (_len) + 8, 0x80, NULL)); \
		ASSERT_EQ(0, sm_info(self->fd, &__after));		\
		EXPECT_MAP_UNCHANGED(__before, __after);		\
		memcpy(__copy, _arg, _len);				\
		EXPECT_EQ(0, sm_ioctl_sized(_fd, _cmd, __copy, _len, (_len) + 8, \
					    0, &__tail));		\
		EXPECT_EQ(0, __tail);					\
		memcpy(_arg, __copy, _len);				\
	} while (0)

TEST_F(map, get_size)
{
	struct snapmap_get arg = { .size = sizeof(arg) };
	char buf[8];
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	arg.key = SM_PTR("k");
	arg.key_len = 1;
	arg.value = SM_PTR(buf);
	arg.value_buf_len = sizeof(buf);
	CHECK_SIZES(self->fd, SNAPMAP_IOC_GET, &arg, sizeof(arg));
	EXPECT_EQ(5, arg.out_value_len);
	EXPECT_EQ(v, arg.out_version);
	EXPECT_EQ(sizeof(arg) + 8, arg.size);
	/* Also on the read-only fd. */
	arg.size = sizeof(arg);
	arg.out_version = 0;
	CHECK_SIZES(self->ro, SNAPMAP_IOC_GET, &arg, sizeof(arg));
	EXPECT_EQ(v, arg.out_version);
}

TEST_F(map, put_size)
{
	struct snapmap_put arg = { .size = sizeof(arg) };
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	arg.key = SM_PTR("k");
	arg.key_len = 1;
	arg.value = SM_PTR("new");
	arg.value_len = 3;
	CHECK_SIZES(self->fd, SNAPMAP_IOC_PUT, &arg, sizeof(arg));
	EXPECT_LT(v, arg.out_version);
	EXPECT_VALUE(self->fd, "k", 1, "new", 3, arg.out_version);
}

TEST_F(map, del_size)
{
	struct snapmap_del arg = { .size = sizeof(arg) };
	char buf[8];
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	arg.key = SM_PTR("k");
	arg.key_len = 1;
	CHECK_SIZES(self->fd, SNAPMAP_IOC_DEL, &arg, sizeof(arg));
	EXPECT_LT(v, arg.out_version);
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, buf, sizeof(buf), NULL,
				  NULL));
}

TEST_F(map, efault_put)
{
	struct snapmap_info before, info;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "old", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_PUT, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_PUT,
				   page_end(self, 4)));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, 0, NULL, 1, "v", 1, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, 0, "k", 1, NULL, 1, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, 0, "n", 1, NULL, 1, 0, NULL));
	/* The last byte of the key or the value is not mapped. */
	EXPECT_EQ(-EFAULT, sm_put(self->fd, 0, page_end(self, 1), 2, "v", 1,
				  0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, 0, "k", 1, page_end(self, 3), 4,
				  0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, 0, "n", 1, page_end(self, 3), 4,
				  0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				  page_end(self, VAL_MAX - 1), VAL_MAX, v,
				  NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "old", 3, v);

	/* Right at the end of the mapping is fine. */
	ASSERT_EQ(0, sm_put(self->fd, 0, page_end(self, 2), 2,
			    page_end(self, VAL_MAX), VAL_MAX, 0, &v));
	EXPECT_VALUE(self->fd, "pp", 2, self->page, VAL_MAX, v);
}

TEST_F(map, efault_get)
{
	struct snapmap_info before, info;
	char buf[8], *ro_page;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_GET, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_GET,
				   page_end(self, 4)));
	EXPECT_EQ(-EFAULT, sm_get(self->fd, NULL, 1, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-EFAULT, sm_get(self->fd, page_end(self, 1), 2, buf,
				  sizeof(buf), NULL, NULL));
	/* The value does not fit where the buffer is said to be. */
	EXPECT_EQ(-EFAULT, sm_get(self->fd, "k", 1, NULL, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-EFAULT, sm_get(self->fd, "k", 1, page_end(self, 3), 8, NULL,
				  NULL));

	/* A buffer that cannot be written. */
	ro_page = mmap(NULL, getpagesize(), PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro_page != MAP_FAILED);
	EXPECT_EQ(-EFAULT, sm_get(self->fd, "k", 1, ro_page, 8, NULL, NULL));
	EXPECT_EQ(0, munmap(ro_page, getpagesize()));

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "value", 5, v);
}

TEST_F(map, efault_del)
{
	struct snapmap_info before, info;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "pp", "value", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_DEL, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_DEL,
				   page_end(self, 4)));
	EXPECT_EQ(-EFAULT, sm_del(self->fd, 0, NULL, 2, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_del(self->fd, 0, page_end(self, 2), 3, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION,
				  page_end(self, 1), 2, v, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "pp", 2, "value", 5, v);

	/* The key right at the end of the mapping is found. */
	ASSERT_EQ(0, sm_del(self->fd, 0, page_end(self, 2), 2, 0, NULL));
}

/* Arguments that cannot be written back: EFAULT, and nothing changes. */
TEST_F(map, efault_read_only_argument)
{
	struct snapmap_info before, info;
	struct snapmap_put *put;
	struct snapmap_del *del;
	struct snapmap_get *get;
	char buf[8], *page;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "old", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	put = (void *)page;
	del = (void *)(page + 256);
	get = (void *)(page + 512);

	put->size = sizeof(*put);
	put->key = SM_PTR("k");
	put->key_len = 1;
	put->value = SM_PTR("new");
	put->value_len = 3;
	del->size = sizeof(*del);
	del->key = SM_PTR("k");
	del->key_len = 1;
	get->size = sizeof(*get);
	get->key = SM_PTR("k");
	get->key_len = 1;
	get->value = SM_PTR(buf);
	get->value_buf_len = sizeof(buf);
	ASSERT_EQ(0, mprotect(page, getpagesize(), PROT_READ));

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_GET, get));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);

	/* The PUT did not replace the value... */
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_PUT, put));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "old", 3, v);
	/* ... if it did, put it back for what follows. */
	if (info.out_version != before.out_version) {
		ASSERT_EQ(0, sm_put_str(self->fd, "k", "old", &v));
		ASSERT_EQ(0, sm_info(self->fd, &before));
	}

	/* The DEL did not delete it. */
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_DEL, del));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "old", 3, v);
	EXPECT_EQ(0, munmap(page, getpagesize()));
}

/*
 * GET checks that its answer can be written back before it looks the key
 * up, as the commands that change the map do: a read-only argument gets
 * EFAULT whether the key is present, absent or too long for the buffer,
 * and the GET is not even counted.
 */
TEST_F(map, efault_get_read_only_argument)
{
	struct snapmap_info before, info;
	struct snapmap_get *get;
	char buf[8], *page;
	int i;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", NULL));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	/* Present, absent, present but longer than the buffer. */
	get = (void *)page;
	for (i = 0; i < 3; i++) {
		get[i].size = sizeof(get[i]);
		get[i].key = SM_PTR(i == 1 ? "absent" : "k");
		get[i].key_len = i == 1 ? 6 : 1;
		get[i].value = SM_PTR(buf);
		get[i].value_buf_len = i == 2 ? 2 : sizeof(buf);
	}
	ASSERT_EQ(0, mprotect(page, getpagesize(), PROT_READ));

	for (i = 0; i < 3; i++) {
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_GET, &get[i]));
		EXPECT_ERRNO(EFAULT, ioctl(self->ro, SNAPMAP_IOC_GET, &get[i]));
	}
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(before.out_gets, info.out_gets);
	EXPECT_EQ(0, munmap(page, getpagesize()));
}

/*
 * GET writes only the value's bytes at the value buffer, and only when
 * the key is present and its value fits: the buffer is checked then, so
 * ENOENT and ERANGE come before EFAULT for it, and an empty value needs
 * no writable byte at all.
 */
TEST_F(map, get_value_buffer_order)
{
	struct snapmap_info before, info;
	__u64 v = 0, e = 0, ver;
	char *ro;
	__u32 len;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	ASSERT_EQ(0, sm_put(self->fd, 0, "e", 1, NULL, 0, 0, &e));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	ro = mmap(NULL, getpagesize(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_TRUE(ro != MAP_FAILED);

	EXPECT_EQ(-ENOENT, sm_get(self->fd, "absent", 6, ro, 8, NULL, NULL));
	len = 0;
	ver = 0;
	EXPECT_EQ(-ERANGE, sm_get(self->fd, "k", 1, ro, 4, &len, &ver));
	EXPECT_EQ(5, len);
	EXPECT_EQ(v, ver);
	len = ~0U;
	ver = 0;
	EXPECT_EQ(0, sm_get(self->fd, "e", 1, ro, 8, &len, &ver));
	EXPECT_EQ(0, len);
	EXPECT_EQ(e, ver);
	EXPECT_EQ(-EFAULT, sm_get(self->fd, "k", 1, ro, 8, NULL, NULL));
	/* The value's 5 bytes are mapped; the rest of the buffer is not. */
	EXPECT_EQ(0, sm_get(self->fd, "k", 1, page_end(self, 5), VAL_MAX,
			    &len, NULL));
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(page_end(self, 5), "value", 5));

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(0, munmap(ro, getpagesize()));
}

/* Writes on a read-only fd: EBADF, and nothing changes. */
TEST_F(map, read_only_fd)
{
	struct snapmap_info before, info;
	int flags;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "v", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	EXPECT_EQ(-EBADF, sm_put_str(self->ro, "k", "w", NULL));
	EXPECT_EQ(-EBADF, sm_put_str(self->ro, "n", "w", NULL));
	EXPECT_EQ(-EBADF, sm_put(self->ro, SNAPMAP_PUT_IF_VERSION, "k", 1,
				 "w", 1, v, NULL));
	EXPECT_EQ(-EBADF, sm_del_str(self->ro, "k", NULL));
	EXPECT_EQ(-EBADF, sm_del(self->ro, SNAPMAP_DEL_IF_VERSION, "k", 1, v,
				 NULL));
	EXPECT_EQ(-EBADF, sm_del_str(self->ro, "absent", NULL));
	EXPECT_EQ(-EBADF, sm_clear(self->ro, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->ro, "k", 1, "v", 1, v);
	/* INFO works on it, and reports the same map. */
	ASSERT_EQ(0, sm_info(self->ro, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(0, strcmp(self->name, info.out_name));
	/* It is a read-only file. */
	flags = fcntl(self->ro, F_GETFL);
	ASSERT_LE(0, flags);
	EXPECT_EQ(O_RDONLY, flags & O_ACCMODE);
}

/*
 * Which errno wins, PUT: size, then flags and reserved members, then the
 * fd's access mode, then lengths (EINVAL, then EMSGSIZE), then user memory,
 * then the map's state.
 */
TEST_F(map, errno_order_put)
{
	unsigned char big[VAL_MAX + 1] = { 0 };
	struct snapmap_put arg;
	struct snapmap_info before, info;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "old", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));

	/* size before flags */
	memset(&arg, 0, sizeof(arg));
	arg.flags = 1U << 30;
	arg.key = SM_PTR("k");
	arg.key_len = 1;
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->fd, SNAPMAP_IOC_PUT, &arg,
					  sizeof(arg), sizeof(arg) - 1, 0,
					  NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_PUT, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	/* size before the access mode */
	arg.flags = 0;
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ro, SNAPMAP_IOC_PUT, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ro, SNAPMAP_IOC_PUT, &arg,
					  sizeof(arg), 4, 0, NULL));

	/* flags before the access mode and everything after it */
	EXPECT_EQ(-EINVAL, sm_put(self->ro, 1U << 30, "k", 1, "v", 1, 0,
				  NULL));
	EXPECT_EQ(-EINVAL, sm_put(self->ro, SNAPMAP_PUT_NOEXIST |
				  SNAPMAP_PUT_EXIST, NULL, 0, NULL,
				  VAL_MAX + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_put(self->ro, 0, "k", 1, "v", 1, v, NULL));
	EXPECT_EQ(-EINVAL, sm_put(self->fd, 1U << 30, NULL, 0, NULL, 1, 0,
				  NULL));
	EXPECT_EQ(-EINVAL, sm_put(self->fd, 1U << 30, "k", KEY_MAX + 1, "v", 1,
				  0, NULL));

	/* the access mode before lengths and memory */
	EXPECT_EQ(-EBADF, sm_put(self->ro, 0, "k", 0, "v", 1, 0, NULL));
	EXPECT_EQ(-EBADF, sm_put(self->ro, 0, "k", KEY_MAX + 1, "v", 1, 0,
				 NULL));
	EXPECT_EQ(-EBADF, sm_put(self->ro, 0, "k", 1, big, VAL_MAX + 1, 0,
				 NULL));
	EXPECT_EQ(-EBADF, sm_put(self->ro, 0, NULL, 1, NULL, 1, 0, NULL));
	EXPECT_EQ(-EBADF, sm_put(self->ro, SNAPMAP_PUT_NOEXIST, "k", 1, "v",
				 1, 0, NULL));

	/* EINVAL lengths before EMSGSIZE lengths */
	EXPECT_EQ(-EINVAL, sm_put(self->fd, 0, "k", 0, big, VAL_MAX + 1, 0,
				  NULL));
	/* lengths before memory */
	EXPECT_EQ(-EINVAL, sm_put(self->fd, 0, NULL, 0, NULL, 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, NULL, KEY_MAX + 1, "v", 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, "k", 1, NULL, VAL_MAX + 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(self->fd, 0, page_end(self, 1),
				    KEY_MAX + 1, "v", 1, 0, NULL));

	/* memory before the map's state */
	EXPECT_EQ(-EFAULT, sm_put(self->fd, SNAPMAP_PUT_NOEXIST, "k", 1, NULL,
				  1, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, SNAPMAP_PUT_EXIST, "n", 1, NULL,
				  1, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "k", 1,
				  page_end(self, 1), 2, v + 1, NULL));
	EXPECT_EQ(-EFAULT, sm_put(self->fd, SNAPMAP_PUT_IF_VERSION, "n", 1,
				  NULL, 1, v, NULL));

	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "old", 3, v);
}

/* PUT on a full map: the lengths and memory errors come first. */
TEST_F(map, errno_order_put_full)
{
	struct snapmap_info before, info;
	char key[8];
	int fd, i;

	fd = sm_create(self->ctl, 8, 8, 2, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, sm_put_str(fd, key, "v", NULL));
	}
	ASSERT_EQ(-ENOSPC, sm_put_str(fd, "new", "v", NULL));
	ASSERT_EQ(0, sm_info(fd, &before));
	EXPECT_EQ(-EINVAL, sm_put(fd, 1U << 29, "new", 3, "v", 1, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_put(fd, 0, "new", 0, "v", 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(fd, 0, "new-key-too-long", 16, "v", 1, 0,
				    NULL));
	EXPECT_EQ(-EMSGSIZE, sm_put(fd, 0, "new", 3, "value too long", 14, 0,
				    NULL));
	EXPECT_EQ(-EFAULT, sm_put(fd, 0, "new", 3, NULL, 1, 0, NULL));
	EXPECT_EQ(-EFAULT, sm_put(fd, 0, NULL, 3, "v", 1, 0, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(0, close(fd));
}

TEST_F(map, errno_order_get)
{
	struct snapmap_get arg;
	char buf[8];
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	memset(&arg, 0, sizeof(arg));
	arg.flags = 1;
	arg.key_len = 0;
	/* size before flags */
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->fd, SNAPMAP_IOC_GET, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ro, SNAPMAP_IOC_GET, &arg,
					  sizeof(arg), 0, 0, NULL));
	/* flags and reserved before lengths and memory */
	arg.size = sizeof(arg);
	arg.key_len = KEY_MAX + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_GET, &arg));
	arg.flags = 0;
	arg.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ro, SNAPMAP_IOC_GET, &arg));

	/* EINVAL lengths before EMSGSIZE, lengths before memory */
	EXPECT_EQ(-EINVAL, sm_get(self->fd, NULL, 0, NULL, 4, NULL, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_get(self->fd, NULL, KEY_MAX + 1, buf,
				    sizeof(buf), NULL, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_get(self->ro, page_end(self, 1), KEY_MAX + 1,
				    NULL, 4, NULL, NULL));
	/* memory before the map's state */
	EXPECT_EQ(-EFAULT, sm_get(self->fd, NULL, 1, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(-EFAULT, sm_get(self->ro, page_end(self, 1), 3, buf,
				  sizeof(buf), NULL, NULL));
	EXPECT_VALUE(self->fd, "k", 1, "value", 5, v);
}

TEST_F(map, errno_order_del)
{
	struct snapmap_info before, info;
	struct snapmap_del arg;
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	memset(&arg, 0, sizeof(arg));
	arg.flags = 1U << 5;
	arg.key = SM_PTR("k");
	arg.key_len = 1;
	/* size before flags and the access mode */
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ro, SNAPMAP_IOC_DEL, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ro, SNAPMAP_IOC_DEL, &arg,
					  sizeof(arg), 1, 0, NULL));
	/* flags and reserved before the access mode */
	EXPECT_EQ(-EINVAL, sm_del(self->ro, 1U << 5, "k", 1, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_del(self->ro, 0, "k", 1, v, NULL));
	arg.size = sizeof(arg);
	arg.flags = 0;
	arg.__reserved = 7;
	EXPECT_ERRNO(EINVAL, ioctl(self->ro, SNAPMAP_IOC_DEL, &arg));
	/* the access mode before lengths and memory */
	EXPECT_EQ(-EBADF, sm_del(self->ro, 0, "k", 0, 0, NULL));
	EXPECT_EQ(-EBADF, sm_del(self->ro, 0, "k", KEY_MAX + 1, 0, NULL));
	EXPECT_EQ(-EBADF, sm_del(self->ro, 0, NULL, 1, 0, NULL));
	EXPECT_EQ(-EBADF, sm_del(self->ro, SNAPMAP_DEL_IF_VERSION, "k", 1,
				 v + 1, NULL));
	/* lengths before memory */
	EXPECT_EQ(-EINVAL, sm_del(self->fd, 0, NULL, 0, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, sm_del(self->fd, 0, NULL, KEY_MAX + 1, 0, NULL));
	/* memory before the map's state */
	EXPECT_EQ(-EFAULT, sm_del(self->fd, SNAPMAP_DEL_IF_VERSION, NULL, 1,
				  v + 1, NULL));
	ASSERT_EQ(0, sm_info(self->fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_VALUE(self->fd, "k", 1, "value", 5, v);
}

/* CLEAR: flags before the access mode. */
TEST_F(map, errno_order_clear)
{
	struct snapmap_clear arg = { .size = sizeof(arg), .flags = 2 };
	__u64 v = 0;

	ASSERT_EQ(0, sm_put_str(self->fd, "k", "value", &v));
	EXPECT_ERRNO(EINVAL, ioctl(self->ro, SNAPMAP_IOC_CLEAR, &arg));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ro, SNAPMAP_IOC_CLEAR, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	arg.size = sizeof(arg);
	arg.flags = 0;
	EXPECT_ERRNO(EBADF, ioctl(self->ro, SNAPMAP_IOC_CLEAR, &arg));
	EXPECT_VALUE(self->fd, "k", 1, "value", 5, v);
}

TEST_HARNESS_MAIN
