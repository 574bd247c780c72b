// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: maps as objects: SNAPMAP_IOC_CREATE and its limits,
 * SNAPMAP_IOC_INFO and its counters, SNAPMAP_IOC_CLEAR, the entry and byte
 * limits, the module's caps, the per-user map cap, which commands each
 * kind of fd accepts, and how long a map lives.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "snapmap_test.h"

FIXTURE(ctl) {
	int ctl;
};

FIXTURE_SETUP(ctl)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN(ctl)
{
	EXPECT_EQ(0, close(self->ctl));
}

/* A name no other test uses: "map_test-<tag>-<pid>". */
static void test_name(char *buf, const char *tag)
{
	snprintf(buf, SNAPMAP_NAME_LEN, "map_test-%s-%d", tag, (int)getpid());
}

TEST_F(ctl, create_default)
{
	unsigned long long cap = 0;
	struct snapmap_info info;
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.__reserved = 0;
	info.__reserved2 = 0;
	ASSERT_EQ(0, ioctl(fd, SNAPMAP_IOC_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0, info.flags);
	EXPECT_LT(0, info.out_max_key_len);
	EXPECT_LT(0, info.out_max_value_len);
	EXPECT_LT(0, info.out_max_entries);
	EXPECT_LT(0, info.out_max_bytes);
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_bytes);
	EXPECT_EQ(0, info.out_version);
	EXPECT_EQ(0, info.out_gets);
	EXPECT_EQ(0, info.out_puts);
	EXPECT_EQ(0, info.out_dels);
	EXPECT_EQ(getuid(), info.out_uid);
	EXPECT_EQ(getgid(), info.out_gid);
	/* A mode of 0 means 0600. */
	EXPECT_EQ(0600, info.out_mode);
	EXPECT_EQ(0, info.__reserved);
	EXPECT_EQ('\0', info.out_name[0]);

	/* The defaults are within the module's caps. */
	if (!sm_param("max_key_len", &cap)) {
		EXPECT_GE(cap, info.out_max_key_len);
	}
	if (!sm_param("max_value_len", &cap)) {
		EXPECT_GE(cap, info.out_max_value_len);
	}
	if (!sm_param("max_entries", &cap)) {
		EXPECT_GE(cap, info.out_max_entries);
	}
	if (!sm_param("max_bytes", &cap)) {
		EXPECT_GE(cap, info.out_max_bytes);
	}
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, create_limits_reported)
{
	struct snapmap_info info;
	int fd;

	fd = sm_create(self->ctl, 16, 100, 10, 1 << 20, 0640, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(16, info.out_max_key_len);
	EXPECT_EQ(100, info.out_max_value_len);
	EXPECT_EQ(10, info.out_max_entries);
	EXPECT_EQ(1 << 20, info.out_max_bytes);
	EXPECT_EQ(0640, info.out_mode);
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, close(fd));

	/* Limits of 1 are limits like any other. */
	fd = sm_create(self->ctl, 1, 1, 1, 1, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(1, info.out_max_key_len);
	EXPECT_EQ(1, info.out_max_value_len);
	EXPECT_EQ(1, info.out_max_entries);
	EXPECT_EQ(1, info.out_max_bytes);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, create_mode)
{
	const __u32 good[] = { 0, 0777, 0644, 0400, 0060, 0007 };
	const __u32 bad[] = { 01000, 01777, 02600, 04600, 0170600, 1U << 31 };
	struct snapmap_info info;
	char name[SNAPMAP_NAME_LEN];
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		fd = sm_create(self->ctl, 0, 0, 0, 0, good[i], NULL);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, sm_info(fd, &info));
		EXPECT_EQ(good[i] ? good[i] : 0600, info.out_mode);
		EXPECT_EQ(0, close(fd));
	}
	/* Permission bits are 0777 at most. */
	test_name(name, "mode");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, 0, 0, 0, bad[i],
					     name));
		/* No map was made. */
		EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));
	}
}

TEST_F(ctl, create_fd_flags)
{
	int fd, flags;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	flags = fcntl(fd, F_GETFD);
	ASSERT_LE(0, flags);
	EXPECT_EQ(FD_CLOEXEC, flags & FD_CLOEXEC);
	/* Opened for reading and writing. */
	flags = fcntl(fd, F_GETFL);
	ASSERT_LE(0, flags);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);
	/* A map fd is not the control fd. */
	EXPECT_NE(self->ctl, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, create_size)
{
	struct snapmap_create arg;
	char name[SNAPMAP_NAME_LEN];
	const __u32 short_sizes[] = {
		0, 1, sizeof(__u32), offsetof(struct snapmap_create, name),
		sizeof(arg) - 1,
	};
	__u64 tail = 0;
	unsigned int i;
	int fd;

	test_name(name, "size");
	memset(&arg, 0, sizeof(arg));
	strcpy(arg.name, name);
	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE,
						  &arg, sizeof(arg),
						  short_sizes[i], 0, NULL));
		EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));
	}

	/* A non-zero byte beyond the structure. */
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE, &arg,
					 sizeof(arg), sizeof(arg) + 8, 0x80,
					 NULL));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));

	/* The exact size, and a larger one with a zero tail. */
	fd = sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE, &arg, sizeof(arg),
			    sizeof(arg), 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	fd = sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE, &arg, sizeof(arg),
			    sizeof(arg) + 8, 0, &tail);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, tail);
	EXPECT_EQ(sizeof(arg) + 8, arg.size);
	EXPECT_EQ(0, close(fd));
	fd = sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE, &arg, sizeof(arg),
			    sizeof(arg) + 3, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, create_flags_reserved)
{
	struct snapmap_create arg = { .size = sizeof(arg) };
	char name[SNAPMAP_NAME_LEN];

	test_name(name, "flags");
	strcpy(arg.name, name);
	arg.flags = SNAPMAP_CREATE_PERSISTENT << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &arg));
	arg.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &arg));
	arg.flags = 0;
	arg.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &arg));
	arg.__reserved = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &arg));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));
}

TEST_F(ctl, create_bad_pointer)
{
	struct snapmap_create *arg;
	char *page;

	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_CREATE, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_CREATE, (void *)8));

	/* The size is readable, the rest is not mapped. */
	page = mmap(NULL, 2 * getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	ASSERT_EQ(0, munmap(page + getpagesize(), getpagesize()));
	arg = (void *)(page + getpagesize() - sizeof(__u32));
	arg->size = sizeof(*arg);
	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_CREATE, arg));
	EXPECT_EQ(0, munmap(page, getpagesize()));
}

/* Each limit at the module's cap works, one above gets EINVAL. */
TEST_F(ctl, create_above_caps)
{
	unsigned long long key_cap = 0, value_cap = 0, entries_cap = 0;
	unsigned long long bytes_cap = 0;
	char name[SNAPMAP_NAME_LEN];
	struct snapmap_info info;
	int fd;

	ASSERT_EQ(0, sm_param("max_key_len", &key_cap));
	ASSERT_EQ(0, sm_param("max_value_len", &value_cap));
	ASSERT_EQ(0, sm_param("max_entries", &entries_cap));
	ASSERT_EQ(0, sm_param("max_bytes", &bytes_cap));
	test_name(name, "caps");

	if (key_cap < UINT32_MAX) {
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, key_cap + 1, 0, 0, 0,
					     0, name));
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, UINT32_MAX, 0, 0, 0,
					     0, name));
	}
	if (value_cap < UINT32_MAX) {
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, value_cap + 1, 0,
					     0, 0, name));
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, UINT32_MAX, 0, 0,
					     0, name));
	}
	if (entries_cap < UINT64_MAX) {
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, 0, entries_cap + 1,
					     0, 0, name));
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, 0, UINT64_MAX, 0,
					     0, name));
	}
	if (bytes_cap < UINT64_MAX) {
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, 0, 0, bytes_cap + 1,
					     0, name));
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, 0, 0, UINT64_MAX,
					     0, name));
	}
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, name, 0));

	/* Every limit at its cap. */
	fd = sm_create(self->ctl, key_cap, value_cap, entries_cap, bytes_cap,
		       0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(key_cap, info.out_max_key_len);
	EXPECT_EQ(value_cap, info.out_max_value_len);
	EXPECT_EQ(entries_cap, info.out_max_entries);
	EXPECT_EQ(bytes_cap, info.out_max_bytes);
	EXPECT_EQ(0, close(fd));
}

/* Two maps share nothing. */
TEST_F(ctl, maps_are_separate)
{
	char buf[16];
	__u32 len = 0;
	int a, b;

	a = sm_create_default(self->ctl);
	ASSERT_LE(0, a);
	b = sm_create_default(self->ctl);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, sm_put_str(a, "key", "in-a", NULL));
	EXPECT_EQ(-ENOENT, sm_get(b, "key", 3, buf, sizeof(buf), &len, NULL));
	ASSERT_EQ(0, sm_put_str(b, "key", "in-b!", NULL));
	ASSERT_EQ(0, sm_get(a, "key", 3, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(4, len);
	EXPECT_EQ(0, memcmp(buf, "in-a", 4));
	ASSERT_EQ(0, sm_get(b, "key", 3, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(5, len);
	EXPECT_EQ(0, memcmp(buf, "in-b!", 5));
	EXPECT_EQ(0, close(a));
	EXPECT_EQ(0, close(b));
}

TEST_F(ctl, info_size)
{
	const __u32 short_sizes[] = {
		0, 1, sizeof(__u32), offsetof(struct snapmap_info, out_name),
		SNAPMAP_INFO_SIZE_VER0 - 1,
	};
	struct snapmap_info info;
	unsigned int i;
	__u64 tail = 0;
	int fd;

	fd = sm_create(self->ctl, 8, 8, 8, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));

	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		memset(&info, 0, sizeof(info));
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(fd, SNAPMAP_IOC_INFO, &info,
						  sizeof(info), short_sizes[i],
						  0, NULL));
		/* Nothing was written back. */
		EXPECT_EQ(0, info.out_max_key_len);
		EXPECT_EQ(0, info.out_entries);
	}

	memset(&info, 0, sizeof(info));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(fd, SNAPMAP_IOC_INFO, &info,
					 sizeof(info), sizeof(info) + 1, 1,
					 NULL));
	EXPECT_EQ(0, info.out_max_key_len);
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(fd, SNAPMAP_IOC_INFO, &info,
					 sizeof(info), sizeof(info) + 8, 0xff,
					 NULL));
	EXPECT_EQ(0, info.out_max_key_len);

	/* A larger structure: the module fills what it knows. */
	memset(&info, 0, sizeof(info));
	EXPECT_EQ(0, sm_ioctl_sized(fd, SNAPMAP_IOC_INFO, &info, sizeof(info),
				    sizeof(info) + 8, 0, &tail));
	EXPECT_EQ(0, tail);
	EXPECT_EQ(sizeof(info) + 8, info.size);
	EXPECT_EQ(8, info.out_max_key_len);
	EXPECT_EQ(8, info.out_max_entries);
	EXPECT_EQ(1, info.out_entries);

	memset(&info, 0, sizeof(info));
	EXPECT_EQ(0, sm_ioctl_sized(fd, SNAPMAP_IOC_INFO, &info, sizeof(info),
				    sizeof(info), 0, NULL));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, info_flags_reserved)
{
	struct snapmap_info info = { .size = sizeof(info), .flags = 1 };
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_INFO, &info));
	EXPECT_EQ(0, info.out_max_key_len);
	info.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_INFO, &info));
	/* Reserved members must be zero, even an output structure's. */
	info.flags = 0;
	info.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_INFO, &info));
	EXPECT_EQ(0, info.out_max_key_len);
	info.__reserved = 0;
	info.__reserved2 = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_INFO, &info));
	EXPECT_EQ(0, info.out_max_key_len);
	/* Output members are not input: garbage there is ignored. */
	memset(&info, 0x5a, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.__reserved = 0;
	info.__reserved2 = 0;
	ASSERT_EQ(0, ioctl(fd, SNAPMAP_IOC_INFO, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_puts);
	EXPECT_EQ('\0', info.out_name[0]);
	EXPECT_ERRNO(EFAULT, ioctl(fd, SNAPMAP_IOC_INFO, NULL));
	EXPECT_EQ(0, close(fd));
}

/* INFO's usage and counters follow the writes and reads. */
TEST_F(ctl, info_counters)
{
	struct snapmap_info info, prev;
	__u64 v1 = 0, v2 = 0, v3 = 0, vd = 0;
	char buf[64];
	int fd;

	fd = sm_create(self->ctl, 16, 64, 16, 0, 0, NULL);
	ASSERT_LE(0, fd);

	ASSERT_EQ(0, sm_put_str(fd, "a", "0123456789", &v1));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(1, info.out_puts);
	EXPECT_EQ(0, info.out_dels);
	EXPECT_EQ(0, info.out_gets);
	EXPECT_EQ(v1, info.out_version);
	/* At least the key and the value, plus the module's overhead. */
	EXPECT_LE(1 + 10, info.out_bytes);
	prev = info;

	ASSERT_EQ(0, sm_put_str(fd, "b", "0123456789", &v2));
	EXPECT_LT(v1, v2);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_entries);
	EXPECT_EQ(2, info.out_puts);
	EXPECT_EQ(v2, info.out_version);
	/* The same lengths cost the same. */
	EXPECT_EQ(2 * prev.out_bytes, info.out_bytes);
	prev = info;

	/* Replacing with a value of the same length costs nothing more. */
	ASSERT_EQ(0, sm_put_str(fd, "a", "abcdefghij", &v3));
	EXPECT_LT(v2, v3);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_entries);
	EXPECT_EQ(3, info.out_puts);
	EXPECT_EQ(v3, info.out_version);
	EXPECT_EQ(prev.out_bytes, info.out_bytes);

	/* A longer value costs more, a shorter one gives it back. */
	ASSERT_EQ(0, sm_put_str(fd, "a", "abcdefghijklmnopqrstuvwxyz", NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_LT(prev.out_bytes, info.out_bytes);
	ASSERT_EQ(0, sm_put_str(fd, "a", "0123456789", &v3));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(prev.out_bytes, info.out_bytes);
	EXPECT_EQ(5, info.out_puts);

	/* GETs are counted, found or not. */
	EXPECT_EQ(0, sm_get(fd, "a", 1, buf, sizeof(buf), NULL, NULL));
	EXPECT_EQ(-ENOENT, sm_get(fd, "zz", 2, buf, sizeof(buf), NULL, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_gets);
	EXPECT_EQ(5, info.out_puts);
	/* Reads are not writes. */
	EXPECT_EQ(v3, info.out_version);

	/* Failed writes are not counted and take no version. */
	EXPECT_EQ(-EEXIST, sm_put(fd, SNAPMAP_PUT_NOEXIST, "a", 1, "x", 1, 0,
				  NULL));
	EXPECT_EQ(-ENOENT, sm_del_str(fd, "zz", NULL));
	EXPECT_EQ(-ENOENT, sm_put(fd, SNAPMAP_PUT_EXIST, "zz", 2, "x", 1, 0,
				  NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(5, info.out_puts);
	EXPECT_EQ(0, info.out_dels);
	EXPECT_EQ(v3, info.out_version);
	EXPECT_EQ(2, info.out_entries);

	/* A deletion is a write. */
	ASSERT_EQ(0, sm_del_str(fd, "b", &vd));
	EXPECT_LT(v3, vd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(1, info.out_dels);
	EXPECT_EQ(vd, info.out_version);
	EXPECT_EQ(prev.out_bytes / 2, info.out_bytes);

	/* With no entry left, no memory is in use. */
	ASSERT_EQ(0, sm_del_str(fd, "a", NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(2, info.out_dels);
	EXPECT_EQ(0, info.out_bytes);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, clear)
{
	struct snapmap_info before, info;
	char key[8], buf[8];
	__u64 v = 0, vc = 0, vn = 0;
	int fd, i;

	fd = sm_create(self->ctl, 8, 8, 16, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, sm_put_str(fd, key, "value", &v));
	}
	ASSERT_EQ(0, sm_info(fd, &before));
	EXPECT_EQ(5, before.out_entries);

	ASSERT_EQ(0, sm_clear(fd, &vc));
	/* One version, after every earlier write. */
	EXPECT_LT(v, vc);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(vc, info.out_version);
	/* A clear is no DEL: the counters of operations do not move. */
	EXPECT_EQ(before.out_dels, info.out_dels);
	EXPECT_EQ(before.out_puts, info.out_puts);
	/* The memory is freed in the background. */
	EXPECT_EQ(0, sm_wait_bytes(fd, 0, &info.out_bytes));
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		EXPECT_EQ(-ENOENT, sm_get(fd, key, strlen(key), buf,
					  sizeof(buf), NULL, NULL));
	}

	/* The map is usable, and its sequence goes on. */
	ASSERT_EQ(0, sm_put_str(fd, "k0", "again", &vn));
	EXPECT_LT(vc, vn);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(0, close(fd));
}

/* Count the keys "k<i>", i < @n, that GET finds in @fd. */
static unsigned int count_keys(int fd, unsigned int n)
{
	unsigned int i, found = 0;
	char key[16];

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		if (sm_get(fd, key, strlen(key), NULL, 0, NULL, NULL) !=
		    -ENOENT)
			found++;
	}
	return found;
}

/*
 * CLEAR of many keys leaves none behind.  Where the keys land in the
 * module's hash table differs from map to map: try a few maps.
 */
#define CLEAR_MAPS 256
#define CLEAR_TIMEOUT 300

TEST_F_TIMEOUT(ctl, clear_many, CLEAR_TIMEOUT)
{
	static const unsigned int sizes[] = { 56, 80, 188 };
	unsigned int i, m, n, bad_maps = 0, left, total_left = 0;
	struct snapmap_info info;
	char key[16];
	int fd;

	for (m = 0; m < CLEAR_MAPS; m++) {
		n = sizes[m % ARRAY_SIZE(sizes)];
		fd = sm_create(self->ctl, 16, 8, 0, 0, 0, NULL);
		ASSERT_LE(0, fd);
		for (i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "k%u", i);
			ASSERT_EQ(0, sm_put_str(fd, key, "v", NULL));
		}
		ASSERT_EQ(0, sm_clear(fd, NULL));
		ASSERT_EQ(0, sm_info(fd, &info));
		EXPECT_EQ(0, info.out_entries);
		/* Every key gone, and its memory freed. */
		left = count_keys(fd, n);
		EXPECT_EQ(0, sm_wait_bytes(fd, 0, &info.out_bytes));
		if (left) {
			bad_maps++;
			total_left += left;
		}
		EXPECT_EQ(0, close(fd));
	}
	EXPECT_EQ(0, total_left) {
		TH_LOG("%u keys in %u of %u maps survived CLEAR",
		       total_left, bad_maps, CLEAR_MAPS);
	}
}

/* CLEAR after inserts that failed at the limit leaves none behind. */
TEST_F(ctl, clear_after_enospc)
{
	struct snapmap_info info;
	unsigned int i, n = 1000, ok = 0;
	char key[16];
	int fd, ret;

	fd = sm_create(self->ctl, 16, 8, 600, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		ret = sm_put_str(fd, key, "v", NULL);
		if (!ret)
			ok++;
		else
			ASSERT_EQ(-ENOSPC, ret);
	}
	ASSERT_EQ(600, ok);
	ASSERT_EQ(0, sm_clear(fd, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, count_keys(fd, n));
	/*
	 * At once, the map takes as many keys again: the writes that find
	 * it full of what the clear deleted wait until that is freed.
	 */
	for (i = 0; i < 600; i++) {
		snprintf(key, sizeof(key), "n%u", i);
		ASSERT_EQ(0, sm_put_str(fd, key, "v", NULL));
	}
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(600, info.out_entries);
	EXPECT_EQ(0, count_keys(fd, n));
	EXPECT_EQ(0, close(fd));
}

/* Clearing an empty map deletes nothing and so writes nothing. */
TEST_F(ctl, clear_empty)
{
	struct snapmap_info before, info;
	__u64 v = 0;
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, sm_clear(fd, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_dels);
	EXPECT_EQ(0, info.out_version);

	ASSERT_EQ(0, sm_put_str(fd, "k", "v", &v));
	ASSERT_EQ(0, sm_del_str(fd, "k", &v));
	ASSERT_EQ(0, sm_info(fd, &before));
	EXPECT_EQ(0, sm_clear(fd, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, clear_size_flags)
{
	const __u32 short_sizes[] = { 0, 1, sizeof(__u32),
				      sizeof(struct snapmap_clear) - 1 };
	struct snapmap_clear arg = { .size = sizeof(arg) };
	struct snapmap_info before, info;
	unsigned int i;
	__u64 tail = 0;
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(fd, &before));

	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		EXPECT_EQ(-EINVAL, sm_ioctl_sized(fd, SNAPMAP_IOC_CLEAR, &arg,
						  sizeof(arg), short_sizes[i],
						  0, NULL));
	}
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(fd, SNAPMAP_IOC_CLEAR, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(fd, SNAPMAP_IOC_CLEAR, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	arg.size = sizeof(arg);
	arg.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_CLEAR, &arg));
	arg.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(fd, SNAPMAP_IOC_CLEAR, &arg));
	EXPECT_ERRNO(EFAULT, ioctl(fd, SNAPMAP_IOC_CLEAR, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);

	/* A larger structure with a zero tail. */
	arg.flags = 0;
	arg.out_version = 0;
	EXPECT_EQ(0, sm_ioctl_sized(fd, SNAPMAP_IOC_CLEAR, &arg, sizeof(arg),
				    sizeof(arg) + 8, 0, &tail));
	EXPECT_EQ(0, tail);
	EXPECT_LT(before.out_version, arg.out_version);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(arg.out_version, info.out_version);
	EXPECT_EQ(0, close(fd));
}

/* Arguments that cannot be written back: EFAULT, and nothing changes. */
TEST_F(ctl, efault_read_only_argument)
{
	struct snapmap_info before, info;
	struct snapmap_clear *clear;
	struct snapmap_info *ro_info;
	char *page;
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(fd, &before));
	page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	clear = (void *)page;
	clear->size = sizeof(*clear);
	ro_info = (void *)(page + 256);
	ro_info->size = sizeof(*ro_info);
	ASSERT_EQ(0, mprotect(page, getpagesize(), PROT_READ));

	EXPECT_ERRNO(EFAULT, ioctl(fd, SNAPMAP_IOC_CLEAR, clear));
	EXPECT_ERRNO(EFAULT, ioctl(fd, SNAPMAP_IOC_INFO, ro_info));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(0, munmap(page, getpagesize()));
	EXPECT_EQ(0, close(fd));
}

/* The entry limit: ENOSPC for a new key, replacing still works. */
TEST_F(ctl, entry_limit)
{
	struct snapmap_info before, info;
	char key[8], buf[8];
	__u64 v = 0, v0 = 0;
	__u32 len = 0;
	int fd, i;

	fd = sm_create(self->ctl, 8, 8, 4, 0, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, sm_put_str(fd, key, "v", &v0));
	}
	ASSERT_EQ(0, sm_info(fd, &before));
	EXPECT_EQ(4, before.out_entries);

	EXPECT_EQ(-ENOSPC, sm_put_str(fd, "k4", "v", NULL));
	EXPECT_EQ(-ENOSPC, sm_put(fd, SNAPMAP_PUT_NOEXIST, "k5", 2, "v", 1, 0,
				  NULL));
	EXPECT_EQ(-ENOSPC, sm_put(fd, 0, "k6", 2, NULL, 0, 0, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	EXPECT_EQ(-ENOENT, sm_get(fd, "k4", 2, buf, sizeof(buf), NULL, NULL));

	/* Replacing at the limit. */
	ASSERT_EQ(0, sm_put_str(fd, "k0", "w", &v));
	ASSERT_EQ(0, sm_put(fd, SNAPMAP_PUT_EXIST, "k1", 2, "x", 1, 0, &v));
	ASSERT_EQ(0, sm_put(fd, SNAPMAP_PUT_IF_VERSION, "k1", 2, "y", 1, v,
			    &v));
	ASSERT_EQ(0, sm_get(fd, "k1", 2, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(1, len);
	EXPECT_EQ('y', buf[0]);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(4, info.out_entries);

	/* A deletion makes room for exactly one key. */
	ASSERT_EQ(0, sm_del_str(fd, "k0", NULL));
	ASSERT_EQ(0, sm_put_str(fd, "k4", "v", NULL));
	EXPECT_EQ(-ENOSPC, sm_put_str(fd, "k5", "v", NULL));
	EXPECT_EQ(-ENOSPC, sm_put_str(fd, "k0", "v", NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(4, info.out_entries);

	/* So does CLEAR. */
	ASSERT_EQ(0, sm_clear(fd, NULL));
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "n%d", i);
		ASSERT_EQ(0, sm_put_str(fd, key, "v", NULL));
	}
	EXPECT_EQ(-ENOSPC, sm_put_str(fd, "n4", "v", NULL));
	EXPECT_EQ(0, close(fd));
}

/*
 * What one entry of a 2-byte key and a @value_len value costs: the bytes
 * INFO reports for it in an otherwise empty map.
 */
static __u64 entry_cost(int ctl, __u32 value_len)
{
	struct snapmap_info info;
	char value[64] = { 0 };
	__u64 cost = 0;
	int fd;

	fd = sm_create(ctl, 8, sizeof(value), 0, 0, 0, NULL);
	if (fd < 0)
		return 0;
	if (!sm_put(fd, 0, "k0", 2, value, value_len, 0, NULL) &&
	    !sm_info(fd, &info))
		cost = info.out_bytes;
	close(fd);
	return cost;
}

/* The value length of the byte limit tests. */
#define VLEN 16

/* The byte limit: exactly what fits, and one byte less holds one less. */
TEST_F(ctl, byte_limit)
{
	struct snapmap_info before, info;
	char value[VLEN + 1], key[8], buf[VLEN];
	__u64 cost = 0;
	int fd, i;

	memset(value, 'v', sizeof(value));
	cost = entry_cost(self->ctl, VLEN);
	ASSERT_LT(VLEN + 2, cost);

	fd = sm_create(self->ctl, 8, 64, 0, 3 * cost, 0, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, sm_put(fd, 0, key, 2, value, VLEN, 0,
				    NULL));
	}
	ASSERT_EQ(0, sm_info(fd, &before));
	EXPECT_EQ(3 * cost, before.out_bytes);
	EXPECT_EQ(3, before.out_entries);

	EXPECT_EQ(-ENOSPC, sm_put(fd, 0, "k3", 2, value, VLEN, 0,
				  NULL));
	/* Even an empty value needs room for its entry. */
	EXPECT_EQ(-ENOSPC, sm_put(fd, 0, "k3", 2, value, 0, 0, NULL));
	/* A longer value for a present key does not fit either. */
	EXPECT_EQ(-ENOSPC, sm_put(fd, 0, "k0", 2, value, VLEN + 1, 0,
				  NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_MAP_UNCHANGED(before, info);
	ASSERT_EQ(0, sm_get(fd, "k0", 2, buf, sizeof(buf), NULL, NULL));
	EXPECT_EQ(0, memcmp(buf, value, VLEN));
	EXPECT_EQ(-ENOENT, sm_get(fd, "k3", 2, buf, sizeof(buf), NULL, NULL));

	/* Room comes back with a deletion. */
	ASSERT_EQ(0, sm_del_str(fd, "k1", NULL));
	ASSERT_EQ(0, sm_put(fd, 0, "k3", 2, value, VLEN, 0, NULL));
	EXPECT_EQ(-ENOSPC, sm_put(fd, 0, "k4", 2, value, VLEN, 0,
				  NULL));
	EXPECT_EQ(0, close(fd));

	/* One byte less than three entries holds two. */
	fd = sm_create(self->ctl, 8, 64, 0, 3 * cost - 1, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put(fd, 0, "k0", 2, value, VLEN, 0, NULL));
	ASSERT_EQ(0, sm_put(fd, 0, "k1", 2, value, VLEN, 0, NULL));
	EXPECT_EQ(-ENOSPC, sm_put(fd, 0, "k2", 2, value, VLEN, 0,
				  NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_entries);
	EXPECT_EQ(2 * cost, info.out_bytes);
	EXPECT_EQ(0, close(fd));
}

/*
 * A map exactly full by bytes: a value replaced by one of the same length
 * leaves the usage where it was, so it fits; a shorter one fits too.
 */
TEST_F(ctl, byte_limit_replace)
{
	struct snapmap_info info;
	char value[VLEN], buf[VLEN];
	__u64 cost = 0, v = 0;
	__u32 len = 0;
	int fd;

	memset(value, 'v', sizeof(value));
	cost = entry_cost(self->ctl, VLEN);
	ASSERT_LT(VLEN + 2, cost);
	fd = sm_create(self->ctl, 8, 64, 0, 2 * cost, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put(fd, 0, "k0", 2, value, sizeof(value), 0, NULL));
	ASSERT_EQ(0, sm_put(fd, 0, "k1", 2, value, sizeof(value), 0, &v));

	value[0] = 'X';
	EXPECT_EQ(0, sm_put(fd, 0, "k0", 2, value, sizeof(value), 0, NULL));
	value[0] = 'Y';
	EXPECT_EQ(0, sm_put(fd, SNAPMAP_PUT_IF_VERSION, "k1", 2, value,
			    sizeof(value), v, NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2 * cost, info.out_bytes);

	value[0] = 'Z';
	EXPECT_EQ(0, sm_put(fd, 0, "k0", 2, value, 4, 0, NULL));
	ASSERT_EQ(0, sm_get(fd, "k0", 2, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(4, len);
	EXPECT_EQ('Z', buf[0]);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_GT(2 * cost, info.out_bytes);
	EXPECT_EQ(0, close(fd));
}

/* Map commands on the control fd, control commands on a map fd. */
TEST_F(ctl, wrong_kind_of_fd)
{
	struct snapmap_api api = { .size = sizeof(api) };
	struct snapmap_create create = { .size = sizeof(create) };
	struct snapmap_open open_arg = { .size = sizeof(open_arg) };
	struct snapmap_get get = { .size = sizeof(get) };
	struct snapmap_put put = { .size = sizeof(put) };
	struct snapmap_del del = { .size = sizeof(del) };
	struct snapmap_batch batch = { .size = sizeof(batch),
				       .op_size = sizeof(struct snapmap_batch_op) };
	struct snapmap_clear clear = { .size = sizeof(clear) };
	struct snapmap_info info = { .size = sizeof(info) };
	char name[SNAPMAP_NAME_LEN];
	int fd;

	test_name(name, "kind");
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));
	get.key = SM_PTR("k");
	get.key_len = 1;
	put.key = SM_PTR("k");
	put.key_len = 1;
	del.key = SM_PTR("k");
	del.key_len = 1;
	strcpy(open_arg.name, name);

	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_GET, &get));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_PUT, &put));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_DEL, &del));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_BATCH, &batch));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_CLEAR, &clear));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_INFO, &info));
	/* ENOTTY comes before anything is read. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_INFO, NULL));
	EXPECT_ERRNO(ENOTTY, ioctl(self->ctl, SNAPMAP_IOC_CLEAR, NULL));

	EXPECT_ERRNO(ENOTTY, ioctl(fd, SNAPMAP_IOC_API, &api));
	EXPECT_EQ(0, api.out_abi_version);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, SNAPMAP_IOC_CREATE, &create));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, SNAPMAP_IOC_OPEN, &open_arg));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, SNAPMAP_IOC_API, NULL));

	/* Nothing happened to the map. */
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(0, info.out_gets);
	EXPECT_EQ(1, info.out_puts);
	EXPECT_EQ(0, info.out_dels);
	EXPECT_EQ(0, close(fd));
}

TEST_F(ctl, map_unknown_ioctl)
{
	struct snapmap_info info = { .size = sizeof(info) };
	struct {
		struct snapmap_info info;
		__u64 tail;
	} big = { .info.size = sizeof(big.info) };
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOWR(SNAPMAP_IOC_TYPE, 0xff,
					     struct snapmap_info), &info));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOWR(SNAPMAP_IOC_TYPE, 0xfe,
					     struct snapmap_info), &info));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOWR('x', SNAPMAP_CMD_INFO,
					     struct snapmap_info), &info));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_INFO),
				   &info));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_INFO,
					    struct snapmap_info), &info));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, FIONREAD, &info));
	EXPECT_EQ(0, info.out_max_key_len);

	/* The size bits of the command are informational. */
	ASSERT_EQ(0, ioctl(fd, _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_INFO,
				     typeof(big)), &big));
	EXPECT_LT(0, big.info.out_max_key_len);
	EXPECT_EQ(0, close(fd));
}

TEST(map_outlives_ctl)
{
	struct snapmap_info info;
	char buf[8];
	__u32 len = 0;
	int ctl, fd;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create_default(ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "before", "1", NULL));
	/* The control fd goes first. */
	ASSERT_EQ(0, close(ctl));

	ASSERT_EQ(0, sm_put_str(fd, "after", "22", NULL));
	ASSERT_EQ(0, sm_get(fd, "before", 6, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(1, len);
	ASSERT_EQ(0, sm_get(fd, "after", 5, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(2, len);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_entries);
	ASSERT_EQ(0, sm_clear(fd, NULL));
	EXPECT_EQ(0, close(fd));
}

TEST(map_fd_dup_and_fork)
{
	struct snapmap_info info;
	char buf[8];
	int ctl, fd, fd2, status;
	__u32 len = 0;
	pid_t pid;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create_default(ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(ctl));
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));

	/* A duplicate keeps the map alive. */
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, sm_get(fd2, "k", 1, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(1, len);

	/* A child shares the map: its writes are the parent's. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(sm_put_str(fd2, "child", "was here", NULL) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, sm_get(fd2, "child", 5, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(8, len);
	EXPECT_EQ(0, memcmp(buf, "was here", 8));
	ASSERT_EQ(0, sm_info(fd2, &info));
	EXPECT_EQ(2, info.out_entries);
	EXPECT_EQ(0, close(fd2));
}

/* Many maps at once, each with its own contents. */
TEST_F(ctl, many_maps)
{
	int fds[64];
	char buf[8];
	unsigned int i;
	__u32 len = 0;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = sm_create(self->ctl, 4, 4, 1, 0, 0, NULL);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, sm_put(fds[i], 0, "k", 1, &i, sizeof(__u32), 0,
				    NULL));
	}
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		__u32 val;

		ASSERT_EQ(0, sm_get(fds[i], "k", 1, buf, sizeof(buf), &len,
				    NULL));
		ASSERT_EQ(sizeof(val), len);
		memcpy(&val, buf, sizeof(val));
		EXPECT_EQ(i, val);
	}
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		EXPECT_EQ(0, close(fds[i]));
	}
}

/*
 * The per-user map cap: the module parameter max_maps_per_user.  The test
 * lowers it, and restores it.
 */
#define QUOTA_UID 65534
#define QUOTA_OTHER_UID 65533
#define QUOTA_SMALL_CAP 8

/* What the child that fills its user's quota saw, in shared memory. */
struct quota_res {
	int filled;		/* maps created before the first failure */
	int over;		/* one more unnamed map */
	int over_named;		/* one more named map */
	int after_close;	/* after closing one of them */
	int again_over;		/* and one more */
};

struct quota_arg {
	unsigned int cap;
	struct quota_res *res;
	int go_fd;
	int ready_fd;
};

FIXTURE(quota) {
	int ctl;
	unsigned long long saved;
	bool restore;
	unsigned int cap;
	struct quota_res *res;
};

FIXTURE_SETUP(quota)
{
	unsigned long long cap = 0;
	struct rlimit rl;
	int err;

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->res = mmap(NULL, sizeof(*self->res), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->res != MAP_FAILED);

	err = sm_param("max_maps_per_user", &cap);
	ASSERT_EQ(0, err);
	self->saved = cap;
	/* The parameter is writable at run time: lowering it must work. */
	ASSERT_EQ(0, sm_set_param("max_maps_per_user", QUOTA_SMALL_CAP));
	self->restore = true;
	cap = QUOTA_SMALL_CAP;
	self->cap = cap;
	/* Room for the fds of cap maps. */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < cap + 32) {
		rl.rlim_cur = cap + 32;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
}

FIXTURE_TEARDOWN(quota)
{
	if (self->restore) {
		EXPECT_EQ(0, sm_set_param("max_maps_per_user", self->saved));
	}
	munmap(self->res, sizeof(*self->res));
	EXPECT_EQ(0, close(self->ctl));
}

/* Create maps up to the cap and past it, then hold them until told. */
static int quota_fill(void *arg)
{
	struct quota_arg *q = arg;
	char name[SNAPMAP_NAME_LEN], c = 0;
	unsigned int i;
	int ctl, fd = -1;

	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return 1;
	for (i = 0; i < q->cap; i++) {
		fd = sm_create(ctl, 0, 0, 0, 0, 0, NULL);
		if (fd < 0)
			break;
	}
	q->res->filled = i;
	q->res->over = sm_create(ctl, 0, 0, 0, 0, 0, NULL);
	snprintf(name, sizeof(name), "map_test-quota-%d", (int)getpid());
	q->res->over_named = sm_create(ctl, 0, 0, 0, 0, 0666, name);
	/* Closing one of them gives one back. */
	if (fd >= 0)
		close(fd);
	fd = sm_create(ctl, 0, 0, 0, 0, 0, NULL);
	q->res->after_close = fd < 0 ? fd : 0;
	q->res->again_over = sm_create(ctl, 0, 0, 0, 0, 0, NULL);

	/* Hold every map while the parent looks at other users. */
	if (write(q->ready_fd, &c, 1) != 1 || read(q->go_fd, &c, 1) != 1)
		return 2;
	return 0;
}

/* Create one map: 0, or the errno. */
static int create_one(void *arg)
{
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0)
		return 100;
	fd = sm_create(ctl, 0, 0, 0, 0, 0, NULL);
	return fd >= 0 ? 0 : -fd;
}

TEST_F(quota, per_user_cap)
{
	int go[2], ready[2], status, fd;
	struct quota_arg q;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	q.cap = self->cap;
	q.res = self->res;
	q.go_fd = go[0];
	q.ready_fd = ready[1];

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgroups(0, NULL) ||
		    setresgid(QUOTA_UID, QUOTA_UID, QUOTA_UID) ||
		    setresuid(QUOTA_UID, QUOTA_UID, QUOTA_UID))
			_exit(SM_RUN_AS_NOCRED);
		_exit(quota_fill(&q));
	}
	/* The child reports once it holds its maps (or dies). */
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	EXPECT_EQ(self->cap, self->res->filled);
	EXPECT_EQ(-EDQUOT, self->res->over);
	EXPECT_EQ(-EDQUOT, self->res->over_named);
	EXPECT_EQ(0, self->res->after_close);
	EXPECT_EQ(-EDQUOT, self->res->again_over);

	/* The cap is per user: others still create maps. */
	EXPECT_EQ(0, sm_run_as(QUOTA_OTHER_UID, QUOTA_OTHER_UID, 0, NULL,
			       create_one, NULL));
	fd = sm_create_default(self->ctl);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The maps died with their fds: the user may create again. */
	EXPECT_EQ(0, sm_run_as(QUOTA_UID, QUOTA_UID, 0, NULL, create_one,
			       NULL));
	close(go[0]);
	close(go[1]);
	close(ready[0]);
}

TEST_HARNESS_MAIN
