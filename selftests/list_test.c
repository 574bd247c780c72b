// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: SNAPMAP_IOC_LIST, the named maps as a directory
 * listing shows them: every named map whoever owns it, never an unnamed
 * one, only the first count written, and the description's size able to
 * grow.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snapmap_test.h"

#define OTHER_UID 65534
#define OTHER_GID 65534

/* Room for every named map the tests may meet at once. */
#define ROOM 256

FIXTURE(list) {
	int ctl;
	char name[3][SNAPMAP_NAME_LEN];
	int fd[3];
	struct snapmap_map_desc *descs;
};

/* Three named maps of modes 0600, 0640 and 0644, and one unnamed map. */
FIXTURE_SETUP(list)
{
	static const __u32 modes[] = { 0600, 0640, 0644 };
	int i;

	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	for (i = 0; i < 3; i++) {
		snprintf(self->name[i], sizeof(self->name[i]),
			 "list_test-%d-%d", (int)getpid(), i);
		self->fd[i] = sm_create(self->ctl, 0, 0, 0, 0, modes[i],
					self->name[i]);
		ASSERT_LE(0, self->fd[i]);
	}
	self->descs = calloc(ROOM, sizeof(*self->descs));
	ASSERT_TRUE(self->descs != NULL);
}

FIXTURE_TEARDOWN(list)
{
	int i;

	for (i = 0; i < 3; i++)
		close(self->fd[i]);
	free(self->descs);
	EXPECT_EQ(0, close(self->ctl));
}

static int sm_list(int ctl, struct snapmap_map_desc *descs, __u32 count,
		   __u32 desc_size, __u32 *out_count)
{
	struct snapmap_list arg = {
		.size = sizeof(arg),
		.count = count,
		.desc_size = desc_size,
		.descs = SM_PTR(descs),
	};
	int ret = ioctl(ctl, SNAPMAP_IOC_LIST, &arg);

	if (!ret && out_count)
		*out_count = arg.out_count;
	return sm_ret(ret);
}

/* The description named @name among the first @n, or NULL. */
static const struct snapmap_map_desc *
find_desc(const struct snapmap_map_desc *descs, __u32 n, const char *name)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (!strcmp(descs[i].name, name))
			return &descs[i];
	return NULL;
}

/* Every byte of @buf after the NUL of the string it holds is zero. */
static int zero_padded(const char *buf, size_t size)
{
	size_t i = strnlen(buf, size);

	if (i == size)
		return 0;
	for (; i < size; i++)
		if (buf[i])
			return 0;
	return 1;
}

TEST_F(list, lists_named_maps)
{
	static const __u32 modes[] = { 0600, 0640, 0644 };
	const struct snapmap_map_desc *d;
	int unnamed, i;
	__u32 n;

	unnamed = sm_create(self->ctl, 0, 0, 0, 0, 0, "");
	ASSERT_LE(0, unnamed);
	memset(self->descs, 0xa5, ROOM * sizeof(*self->descs));
	ASSERT_EQ(0, sm_list(self->ctl, self->descs, ROOM,
			     sizeof(*self->descs), &n));
	ASSERT_LE(3, n);
	ASSERT_GE(ROOM, n);
	for (i = 0; i < 3; i++) {
		d = find_desc(self->descs, n, self->name[i]);
		ASSERT_TRUE(d != NULL) {
			TH_LOG("%s not listed", self->name[i]);
		}
		EXPECT_EQ(geteuid(), d->uid);
		EXPECT_EQ(getegid(), d->gid);
		EXPECT_EQ(modes[i], d->mode);
	}
	for (i = 0; i < n; i++) {
		EXPECT_NE(0, self->descs[i].name[0]);
		EXPECT_EQ(0, self->descs[i].__reserved);
		EXPECT_TRUE(zero_padded(self->descs[i].name,
					sizeof(self->descs[i].name)));
	}
	EXPECT_EQ(0, close(unnamed));
}

TEST_F(list, count_only)
{
	__u32 n = 0;

	EXPECT_EQ(0, sm_list(self->ctl, NULL, 0, sizeof(*self->descs), &n));
	EXPECT_LE(3, n);
}

/* With less room than maps, the first count are written and no more. */
TEST_F(list, short_room)
{
	__u32 n = 0;

	memset(self->descs, 0xa5, 3 * sizeof(*self->descs));
	ASSERT_EQ(0, sm_list(self->ctl, self->descs, 1,
			     sizeof(*self->descs), &n));
	EXPECT_LE(3, n);
	EXPECT_TRUE(zero_padded(self->descs[0].name,
				sizeof(self->descs[0].name)));
	EXPECT_EQ(0xa5a5a5a5, self->descs[1].uid);
	EXPECT_EQ((char)0xa5, self->descs[1].name[0]);
}

TEST_F(list, name_gone_with_map)
{
	__u32 n;

	ASSERT_EQ(0, close(self->fd[1]));
	self->fd[1] = -1;
	ASSERT_EQ(0, sm_list(self->ctl, self->descs, ROOM,
			     sizeof(*self->descs), &n));
	EXPECT_TRUE(find_desc(self->descs, n, self->name[0]) != NULL);
	EXPECT_TRUE(find_desc(self->descs, n, self->name[1]) == NULL);
	EXPECT_TRUE(find_desc(self->descs, n, self->name[2]) != NULL);
}

/* A caller's larger description gets its tail zeroed. */
TEST_F(list, larger_desc)
{
	struct big_desc {
		struct snapmap_map_desc desc;
		__u64 tail[2];
	} *big = calloc(ROOM, sizeof(*big));
	__u32 n, i;

	ASSERT_TRUE(big != NULL);
	memset(big, 0xa5, ROOM * sizeof(*big));
	ASSERT_EQ(0, sm_list(self->ctl, &big->desc, ROOM, sizeof(*big), &n));
	ASSERT_LE(3, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, big[i].tail[0]);
		EXPECT_EQ(0, big[i].tail[1]);
	}
	for (i = 0; i < ROOM && strcmp(big[i].desc.name, self->name[2]); i++)
		;
	EXPECT_GT(n, i);
	/* Not written beyond the maps listed. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, big[n].tail[0]);
	free(big);
}

TEST_F(list, bad_args)
{
	struct snapmap_list arg = {
		.size = sizeof(arg),
		.count = ROOM,
		.desc_size = sizeof(*self->descs),
		.descs = SM_PTR(self->descs),
	};
	struct snapmap_list bad;

	bad = arg;
	bad.size = offsetof(struct snapmap_list, __reserved);
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	bad = arg;
	bad.flags = SNAPMAP_LIST_ALL << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	bad.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	bad = arg;
	bad.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	bad = arg;
	bad.desc_size = SNAPMAP_MAP_DESC_SIZE_VER0 - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	bad = arg;
	bad.desc_size = SNAPMAP_MAP_DESC_SIZE_MAX + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	bad = arg;
	bad.descs = 8;
	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_LIST, &bad));
	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_LIST, 8));
	/* A control fd's command, not a map fd's. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd[0], SNAPMAP_IOC_LIST, &arg));
	/* Still fine afterwards. */
	EXPECT_EQ(0, ioctl(self->ctl, SNAPMAP_IOC_LIST, &arg));
	EXPECT_LE(3, arg.out_count);
}

/*
 * desc_size is checked whatever count is: from the first version's size
 * to SNAPMAP_MAP_DESC_SIZE_MAX, EINVAL outside.
 */
TEST_F(list, desc_size_bounds)
{
	static const __u32 bad[] = {
		0, 1, SNAPMAP_MAP_DESC_SIZE_VER0 - 1,
		SNAPMAP_MAP_DESC_SIZE_MAX + 1, 1U << 20, ~0U,
	};
	static const __u32 good[] = {
		SNAPMAP_MAP_DESC_SIZE_VER0, SNAPMAP_MAP_DESC_SIZE_VER0 + 1,
		sizeof(struct snapmap_map_desc),
		sizeof(struct snapmap_map_desc) + 1, SNAPMAP_MAP_DESC_SIZE_MAX,
	};
	unsigned char *buf;
	__u32 n, count, i, j;

	EXPECT_EQ(80, SNAPMAP_MAP_DESC_SIZE_VER0);
	/* The first version ends where the id of ABI version 4 begins. */
	EXPECT_EQ(offsetof(struct snapmap_map_desc, id),
		  SNAPMAP_MAP_DESC_SIZE_VER0);
	/* Room for a few descriptions of the largest size. */
	buf = malloc(4 * SNAPMAP_MAP_DESC_SIZE_MAX);
	ASSERT_TRUE(buf != NULL);
	for (count = 0; count <= 4; count += 4) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			n = 12345;
			EXPECT_EQ(-EINVAL, sm_list(self->ctl, (void *)buf,
						   count, bad[i], &n)) {
				TH_LOG("count %u, desc_size %u", count, bad[i]);
			}
			EXPECT_EQ(12345, n);
		}
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			memset(buf, 0xa5, 4 * SNAPMAP_MAP_DESC_SIZE_MAX);
			n = 0;
			EXPECT_EQ(0, sm_list(self->ctl, (void *)buf, count,
					     good[i], &n)) {
				TH_LOG("count %u, desc_size %u", count,
				       good[i]);
			}
			EXPECT_LE(3, n);
			/*
			 * The tail of each description written is zero: a
			 * name's last byte, or past the module's
			 * description (a size in between gets a piece of
			 * the id).
			 */
			if (good[i] > SNAPMAP_MAP_DESC_SIZE_VER0 &&
			    good[i] < sizeof(struct snapmap_map_desc))
				continue;
			for (j = 0; j < count && j < n; j++)
				EXPECT_EQ(0, buf[j * good[i] + good[i] - 1]);
		}
	}
	free(buf);
}

/* In a child: whether the map named @arg is listed (0) or not (1). */
static int listed_for_child(void *arg)
{
	struct snapmap_map_desc descs[ROOM];
	int ctl = snapmap_open_ctl();
	__u32 n;

	if (ctl < 0)
		return 100;
	if (sm_list(ctl, descs, ROOM, sizeof(descs[0]), &n))
		return 101;
	close(ctl);
	return find_desc(descs, n < ROOM ? n : ROOM, arg) ? 0 : 1;
}

/* Like a directory: another user sees the name of a map it cannot open. */
TEST_F(list, other_user_sees_names)
{
	EXPECT_EQ(0, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
			       listed_for_child, self->name[0]));
}

TEST_HARNESS_MAIN
