// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: the control device and the API handshake, and the ABI
 * conventions every command shares (size-first structures, reserved
 * members, unknown commands, the bits of a command number that count),
 * and EMFILE for every command that returns a new fd.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "snapmap_test.h"

#define CMD_BIT(name) (1ULL << SNAPMAP_CMD_##name)

/* What every module of this ABI offers. */
#define MAP_FEATURES (SNAPMAP_FEATURE_NAMED_MAPS | SNAPMAP_FEATURE_VERSIONS)
#define MAP_IOCTLS							\
	(CMD_BIT(API) | CMD_BIT(CREATE) | CMD_BIT(OPEN) | CMD_BIT(LIST) |	\
	 CMD_BIT(GET) | CMD_BIT(PUT) | CMD_BIT(DEL) | CMD_BIT(BATCH) |	\
	 CMD_BIT(CLEAR) | CMD_BIT(INFO))
#define SNAPSHOT_IOCTLS (CMD_BIT(SNAPSHOT) | CMD_BIT(SNAPSHOT_INFO))
#define TXN_IOCTLS (CMD_BIT(TXN) | CMD_BIT(SNAPSHOT_GET))
#define WATCH_IOCTLS CMD_BIT(WATCH)
#define PERSIST_IOCTLS CMD_BIT(DELETE)

/* Everything this header knows of: every command, every feature. */
#define KNOWN_FEATURES							\
	(MAP_FEATURES | SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS |		\
	 SNAPMAP_FEATURE_CLONE | SNAPMAP_FEATURE_TXN | SNAPMAP_FEATURE_WATCH | \
	 SNAPMAP_FEATURE_PERSISTENT | SNAPMAP_FEATURE_WATCH_WAKEUP)
#define KNOWN_IOCTLS							\
	(MAP_IOCTLS | SNAPSHOT_IOCTLS | CMD_BIT(CLONE) | TXN_IOCTLS |	\
	 WATCH_IOCTLS | PERSIST_IOCTLS)

/* The argument of SNAPMAP_IOC_API as a newer caller would pass it. */
struct api_with_tail {
	struct snapmap_api api;
	__u64 tail;
};

FIXTURE(ctl) {
	int fd;
};

FIXTURE_SETUP(ctl)
{
	self->fd = snapmap_open_ctl();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctl)
{
	EXPECT_EQ(0, close(self->fd));
}

TEST(open_close)
{
	int fd1, fd2;

	fd1 = snapmap_open_ctl();
	ASSERT_LE(0, fd1);
	fd2 = snapmap_open_ctl();
	ASSERT_LE(0, fd2);
	EXPECT_NE(fd1, fd2);
	EXPECT_EQ(0, close(fd1));
	EXPECT_EQ(0, close(fd2));
}

TEST(open_read_only)
{
	struct snapmap_api api = { .size = sizeof(api) };
	int fd;

	fd = open(SNAPMAP_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ioctl(fd, SNAPMAP_IOC_API, &api));
	EXPECT_EQ(0, close(fd));
}

TEST(not_seekable)
{
	int fd = snapmap_open_ctl();

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ESPIPE, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(0, close(fd));
}

/*
 * What a module of this ABI offers.  Out of line: with the harness's
 * setjmp(), 32-bit gcc sees clobbered variables in a longer test.
 */
static void __attribute__((noinline))
check_offer(struct __test_metadata *_metadata, const struct snapmap_api *api)
{
	/* The module built from this tree offers all of this header. */
	EXPECT_EQ(KNOWN_FEATURES, api->out_features);
	EXPECT_EQ(KNOWN_IOCTLS, api->out_ioctls);
}

TEST_F(ctl, handshake)
{
	struct snapmap_api api;

	memset(&api, 0xff, sizeof(api));
	api.size = sizeof(api);
	api.flags = 0;
	api.__reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_API, &api));
	EXPECT_EQ(sizeof(api), api.size);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, api.out_abi_version);
	EXPECT_EQ(0, api.__reserved);
	check_offer(_metadata, &api);
}

TEST_F(ctl, handshake_is_stable)
{
	struct snapmap_api a = { .size = sizeof(a) };
	struct snapmap_api b = { .size = sizeof(b) };

	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_API, &a));
	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_API, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST_F(ctl, unknown_ioctl)
{
	struct snapmap_api api = { .size = sizeof(api) };

	/* A command number the module has never had. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(SNAPMAP_IOC_TYPE, 0x3f,
						   struct snapmap_api), &api));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(SNAPMAP_IOC_TYPE, 0xff,
						   struct snapmap_api), &api));
	/* The handshake's number under another ioctl type. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('x', SNAPMAP_CMD_API,
						   struct snapmap_api), &api));
	/* The handshake's number and type with another direction. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(SNAPMAP_IOC_TYPE,
						 SNAPMAP_CMD_API), &api));
	/* A generic ioctl the device does not implement. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, FIONREAD, &api));
}

TEST_F(ctl, size_in_command_is_informational)
{
	struct api_with_tail arg = { .api.size = sizeof(arg.api) };

	/* A newer header's larger struct changes the command's size bits. */
	EXPECT_EQ(0, ioctl(self->fd, _IOWR(SNAPMAP_IOC_TYPE, SNAPMAP_CMD_API,
					   struct api_with_tail), &arg));
	EXPECT_EQ(SNAPMAP_ABI_VERSION, arg.api.out_abi_version);
}

TEST_F(ctl, short_size)
{
	struct snapmap_api api = { 0 };
	const __u32 sizes[] = { 0, 1, sizeof(__u32),
				offsetof(struct snapmap_api, out_ioctls),
				sizeof(api) - 1 };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&api, 0, sizeof(api));
		api.size = sizes[i];
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_API, &api));
		/* Nothing was written back. */
		EXPECT_EQ(0, api.out_abi_version);
		EXPECT_EQ(0, api.out_ioctls);
	}
}

TEST_F(ctl, larger_size_zero_tail)
{
	struct api_with_tail arg = { .api.size = sizeof(arg) };

	ASSERT_EQ(0, ioctl(self->fd, SNAPMAP_IOC_API, &arg));
	EXPECT_EQ(SNAPMAP_ABI_VERSION, arg.api.out_abi_version);
	EXPECT_EQ(sizeof(arg), arg.api.size);
	EXPECT_EQ(0, arg.tail);
}

TEST_F(ctl, larger_size_nonzero_tail)
{
	struct api_with_tail arg = { .api.size = sizeof(arg), .tail = 1 };

	EXPECT_ERRNO(E2BIG, ioctl(self->fd, SNAPMAP_IOC_API, &arg));
	EXPECT_EQ(0, arg.api.out_abi_version);
	EXPECT_EQ(1, arg.tail);

	/* Only the last byte is set. */
	arg.tail = 1ULL << 63;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, SNAPMAP_IOC_API, &arg));
}

TEST_F(ctl, flags_and_reserved)
{
	struct snapmap_api api = { .size = sizeof(api), .flags = 1 };

	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_API, &api));
	api.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_API, &api));
	api.flags = 0;
	api.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_API, &api));
	EXPECT_EQ(0, api.out_abi_version);
}

/* Which errno wins when several arguments are wrong: size first. */
TEST_F(ctl, errno_order)
{
	struct api_with_tail arg = { .api.size = sizeof(arg), .tail = 1 };

	/* Short size and a flag set: the size is reported. */
	arg.api.size = 4;
	arg.api.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, SNAPMAP_IOC_API, &arg));
	/* Non-zero tail and a flag set: the tail is reported. */
	arg.api.size = sizeof(arg);
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, SNAPMAP_IOC_API, &arg));
	/* Bad pointer: nothing else can be looked at. */
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_API, NULL));
}

TEST_F(ctl, bad_pointers)
{
	char *page;

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_API, (void *)1));

	/* A valid size, but the rest of the structure is not mapped. */
	page = mmap(NULL, 2 * getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	ASSERT_EQ(0, munmap(page + getpagesize(), getpagesize()));
	*(__u32 *)(page + getpagesize() - sizeof(__u32)) =
		sizeof(struct snapmap_api);
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_API,
				   page + getpagesize() - sizeof(__u32)));

	/* Readable but not writable: the answer cannot be written back. */
	{
		struct snapmap_api *api = (void *)page;

		memset(api, 0, sizeof(*api));
		api->size = sizeof(*api);
		ASSERT_EQ(0, mprotect(page, getpagesize(), PROT_READ));
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, SNAPMAP_IOC_API, api));
	}
	EXPECT_EQ(0, munmap(page, getpagesize()));
}

/* Every command, and a map fd or snapshot fd to issue it on. */
enum fd_kind { ON_CTL, ON_MAP, ON_SNAPSHOT };

static const struct {
	const char *name;
	unsigned int nr;
	enum fd_kind on;
} commands[] = {
	{ "API", SNAPMAP_CMD_API, ON_CTL },
	{ "CREATE", SNAPMAP_CMD_CREATE, ON_CTL },
	{ "OPEN", SNAPMAP_CMD_OPEN, ON_CTL },
	{ "LIST", SNAPMAP_CMD_LIST, ON_CTL },
	{ "DELETE", SNAPMAP_CMD_DELETE, ON_CTL },
	{ "GET", SNAPMAP_CMD_GET, ON_MAP },
	{ "PUT", SNAPMAP_CMD_PUT, ON_MAP },
	{ "DEL", SNAPMAP_CMD_DEL, ON_MAP },
	{ "BATCH", SNAPMAP_CMD_BATCH, ON_MAP },
	{ "CLEAR", SNAPMAP_CMD_CLEAR, ON_MAP },
	{ "INFO", SNAPMAP_CMD_INFO, ON_MAP },
	{ "SNAPSHOT", SNAPMAP_CMD_SNAPSHOT, ON_MAP },
	{ "CLONE", SNAPMAP_CMD_CLONE, ON_MAP },
	{ "TXN", SNAPMAP_CMD_TXN, ON_MAP },
	{ "WATCH", SNAPMAP_CMD_WATCH, ON_MAP },
	{ "SNAPSHOT_INFO", SNAPMAP_CMD_SNAPSHOT_INFO, ON_SNAPSHOT },
	{ "SNAPSHOT_GET", SNAPMAP_CMD_SNAPSHOT_GET, ON_SNAPSHOT },
};

/*
 * The direction bits of a command number are part of it: every command is
 * _IOC_READ | _IOC_WRITE, and any other direction is an unknown command.
 * The size bits are not: any size reaches the command, which then reads
 * the size member (here 0, too small: EINVAL).
 */
TEST(command_number_bits)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE,
	};
	static const unsigned int sizes[] = {
		0, 1, sizeof(__u32), 48, 4096, _IOC_SIZEMASK,
	};
	__u64 arg[64] = { 0 };
	int ctl, map, snap, fd;
	unsigned int i, j;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	map = sm_create_default(ctl);
	ASSERT_LE(0, map);
	snap = sm_snapshot(map, 0, NULL);
	ASSERT_LE(0, snap);

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fd = commands[i].on == ON_CTL ? ctl :
		     commands[i].on == ON_MAP ? map : snap;
		for (j = 0; j < sizeof(dirs) / sizeof(dirs[0]); j++) {
			errno = 0;
			EXPECT_EQ(-1, ioctl(fd, _IOC(dirs[j], SNAPMAP_IOC_TYPE,
						     commands[i].nr, 48),
					    arg));
			EXPECT_EQ(ENOTTY, errno) {
				TH_LOG("%s with direction %u",
				       commands[i].name, dirs[j]);
			}
		}
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			errno = 0;
			EXPECT_EQ(-1, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE,
						     SNAPMAP_IOC_TYPE,
						     commands[i].nr, sizes[j]),
					    arg));
			EXPECT_EQ(EINVAL, errno) {
				TH_LOG("%s with size bits %u",
				       commands[i].name, sizes[j]);
			}
		}
	}
	EXPECT_EQ(0, close(snap));
	EXPECT_EQ(0, close(map));
	EXPECT_EQ(0, close(ctl));
}

/* A PUT whose number says only "write" is no PUT: nothing changes. */
TEST(put_with_write_direction)
{
	struct snapmap_info before, after;
	struct snapmap_put put = {
		.size = sizeof(put), .key_len = 1, .value_len = 1,
		.key = SM_PTR("k"), .value = SM_PTR("v"),
	};
	int ctl, map;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	map = sm_create_default(ctl);
	ASSERT_LE(0, map);
	ASSERT_EQ(0, sm_info(map, &before));
	EXPECT_ERRNO(ENOTTY, ioctl(map, _IOC(_IOC_WRITE, SNAPMAP_IOC_TYPE,
					     SNAPMAP_CMD_PUT, sizeof(put)),
				   &put));
	ASSERT_EQ(0, sm_info(map, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(-ENOENT, sm_get(map, "k", 1, NULL, 0, NULL, NULL));
	/* Any size bits with both directions: the PUT runs. */
	ASSERT_EQ(0, ioctl(map, _IOC(_IOC_READ | _IOC_WRITE, SNAPMAP_IOC_TYPE,
				     SNAPMAP_CMD_PUT, 0), &put));
	EXPECT_VALUE(map, "k", 1, "v", 1, put.out_version);
	EXPECT_EQ(0, close(map));
	EXPECT_EQ(0, close(ctl));
}

/*
 * EMFILE: with RLIMIT_NOFILE lowered and every fd below it taken, each
 * command that returns a new fd fails with EMFILE, before it looks at
 * names or maps, and changes nothing: no map made or registered, the name
 * still free, the source's version as it was, no snapshot pinning old
 * versions.
 */
#define EMFILE_LIMIT 64

FIXTURE(emfile) {
	int ctl;
	int fd;				/* a named map holding "key" */
	char name[SNAPMAP_NAME_LEN];	/* its name */
	char free_name[SNAPMAP_NAME_LEN];	/* the name of no map */
	struct rlimit saved;
	int fill[EMFILE_LIMIT];
	int nfill;
};

FIXTURE_SETUP(emfile)
{
	self->nfill = 0;
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &self->saved));
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(self->name, sizeof(self->name), "base_test-emfile-%d",
		 (int)getpid());
	snprintf(self->free_name, sizeof(self->free_name),
		 "base_test-free-%d", (int)getpid());
	self->fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->name);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sm_put_str(self->fd, "key", "value-1", NULL));
}

/* Give back every fd taken, and the limit. */
static void fds_release(FIXTURE_DATA(emfile) *self)
{
	while (self->nfill)
		close(self->fill[--self->nfill]);
	setrlimit(RLIMIT_NOFILE, &self->saved);
}

FIXTURE_TEARDOWN(emfile)
{
	fds_release(self);
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(0, close(self->ctl));
}

/* Lower the limit and take every fd below it: 0, or -errno. */
static int fds_exhaust(FIXTURE_DATA(emfile) *self)
{
	struct rlimit rl = self->saved;
	int fd;

	rl.rlim_cur = EMFILE_LIMIT;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	while (self->nfill < EMFILE_LIMIT) {
		fd = dup(self->ctl);
		if (fd < 0)
			return errno == EMFILE ? 0 : -errno;
		self->fill[self->nfill++] = fd;
	}
	return -ENFILE;
}

/* Whether LIST has a map named @name: 1, 0, or -errno. */
static int listed(int ctl, const char *name)
{
	struct snapmap_map_desc descs[256];
	struct snapmap_list arg = {
		.size = sizeof(arg), .count = 256,
		.desc_size = sizeof(descs[0]), .descs = SM_PTR(descs),
	};
	__u32 i;

	if (ioctl(ctl, SNAPMAP_IOC_LIST, &arg))
		return -errno;
	for (i = 0; i < arg.out_count && i < 256; i++)
		if (!strcmp(descs[i].name, name))
			return 1;
	return 0;
}

/*
 * Replace "key" with a value of the same length: with no snapshot open
 * the old one is freed at once and INFO's bytes stay the same; a snapshot
 * would keep it, and count it.
 */
static void __attribute__((noinline))
expect_nothing_pinned(struct __test_metadata *_metadata, int fd,
		      const struct snapmap_info *before)
{
	struct snapmap_info info;
	int snap;

	ASSERT_EQ(0, sm_put_str(fd, "key", "value-2", NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(before->out_bytes, info.out_bytes);
	/* What a snapshot would do: the check can tell. */
	snap = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, sm_put_str(fd, "key", "value-3", NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_LT(before->out_bytes, info.out_bytes);
	EXPECT_EQ(0, close(snap));
}

TEST_F(emfile, create)
{
	int maps = sm_count_maps(), fd;

	ASSERT_LE(0, maps);
	ASSERT_EQ(0, fds_exhaust(self));
	EXPECT_EQ(-EMFILE, sm_create_default(self->ctl));
	EXPECT_EQ(-EMFILE, sm_create(self->ctl, 0, 0, 0, 0, 0666,
				     self->free_name));
	/* The fd comes before the name: no map was made to find it taken. */
	EXPECT_EQ(-EMFILE, sm_create(self->ctl, 0, 0, 0, 0, 0600,
				     self->name));
	fds_release(self);

	EXPECT_EQ(maps, sm_count_maps());
	EXPECT_EQ(0, listed(self->ctl, self->free_name));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->free_name, 0));
	/* With an fd free, the same calls work (or find the name taken). */
	EXPECT_EQ(-EEXIST, sm_create(self->ctl, 0, 0, 0, 0, 0600,
				     self->name));
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0666, self->free_name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F(emfile, open)
{
	struct snapmap_info before, after;
	int maps = sm_count_maps(), fd;

	ASSERT_LE(0, maps);
	ASSERT_EQ(0, sm_info(self->fd, &before));
	ASSERT_EQ(0, fds_exhaust(self));
	EXPECT_EQ(-EMFILE, sm_open(self->ctl, self->name, 0));
	EXPECT_EQ(-EMFILE, sm_open(self->ctl, self->name,
				   SNAPMAP_OPEN_RDONLY));
	/* The fd comes before the name. */
	EXPECT_EQ(-EMFILE, sm_open(self->ctl, self->free_name, 0));
	fds_release(self);

	EXPECT_EQ(maps, sm_count_maps());
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	fd = sm_open(self->ctl, self->name, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F(emfile, snapshot)
{
	struct snapmap_info before, after;
	int fd;

	ASSERT_EQ(0, sm_info(self->fd, &before));
	ASSERT_EQ(0, fds_exhaust(self));
	EXPECT_EQ(-EMFILE, sm_snapshot(self->fd, 0, NULL));
	EXPECT_EQ(-EMFILE, sm_snapshot(self->fd, SNAPMAP_SNAPSHOT_WEAK,
				       NULL));
	fds_release(self);

	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	fd = sm_snapshot(self->fd, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	ASSERT_EQ(0, sm_info(self->fd, &before));
	expect_nothing_pinned(_metadata, self->fd, &before);
}

TEST_F(emfile, clone)
{
	struct snapmap_info before, after;
	int maps = sm_count_maps(), fd;

	ASSERT_LE(0, maps);
	ASSERT_EQ(0, sm_info(self->fd, &before));
	ASSERT_EQ(0, fds_exhaust(self));
	EXPECT_EQ(-EMFILE, sm_clone(self->fd, NULL, 0, NULL));
	EXPECT_EQ(-EMFILE, sm_clone(self->fd, self->free_name, 0666, NULL));
	/* The fd comes before the copy, and so before the name. */
	EXPECT_EQ(-EMFILE, sm_clone(self->fd, self->name, 0600, NULL));
	fds_release(self);

	/* Not even the source's version moved: no snapshot was taken. */
	ASSERT_EQ(0, sm_info(self->fd, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	EXPECT_EQ(maps, sm_count_maps());
	EXPECT_EQ(0, listed(self->ctl, self->free_name));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->free_name, 0));
	expect_nothing_pinned(_metadata, self->fd, &before);
	fd = sm_clone(self->fd, self->free_name, 0666, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
