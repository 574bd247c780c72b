// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: snapmap_create_persistent(), snapmap_unlink() and
 * snapmap_list_all().
 */

#include <string.h>

#include "lib_test.h"

FIXTURE(persist) {
	int ctl;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(persist)
{
	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	lib_name(self->name, "persist");
}

FIXTURE_TEARDOWN(persist)
{
	/* A map a failed test left behind goes too. */
	snapmap_unlink(self->ctl, self->name);
	close(self->ctl);
}

/* The index of the map of id @id at @descs, or -1. */
static int find_id(const struct snapmap_map_desc *descs, int n, __u64 id)
{
	int i;

	for (i = 0; i < n; i++)
		if (descs[i].id == id)
			return i;
	return -1;
}

TEST_F(persist, create_unlink)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = self->name,
		     .mode = 0640, .max_entries = 10);
	struct snapmap_info info;
	__u64 version;
	__u32 len = 0;
	char buf[8];
	int fd;

	fd = LIB(snapmap_create_persistent(self->ctl, &opts));
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, lib_cloexec(fd));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k", 1, "v", 1, 0, &version)));
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(SNAPMAP_MAP_PERSISTENT, info.out_map_flags);
	EXPECT_EQ(10, info.out_max_entries);
	EXPECT_EQ(0640, info.out_mode);
	ASSERT_EQ(0, close(fd));

	/* Through a control fd of the call's own, too. */
	fd = LIB(snapmap_open(-1, self->name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, fd);
	len = sizeof(buf);
	EXPECT_EQ(0, LIB(snapmap_get(fd, "k", 1, buf, &len, NULL)));
	EXPECT_EQ(1, len);
	EXPECT_EQ(0, LIB(snapmap_unlink(-1, self->name)));
	EXPECT_EQ(-ENOENT, LIB(snapmap_open(self->ctl, self->name, 0)));
	EXPECT_EQ(0, close(fd));
}

/* Failures: -errno returned, and in errno (LIB() checks it). */
TEST_F(persist, errors)
{
	SNAPMAP_OPTS(snapmap_create_opts, unnamed, .mode = 0600);
	SNAPMAP_OPTS(snapmap_create_opts, empty, .name = "");
	struct snapmap_map_desc *descs = (void *)1;
	char long_name[SNAPMAP_NAME_LEN + 1];

	EXPECT_EQ(-EINVAL, LIB(snapmap_create_persistent(self->ctl, NULL)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_create_persistent(self->ctl,
							 &unnamed)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_create_persistent(self->ctl, &empty)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_unlink(self->ctl, NULL)));
	memset(long_name, 'x', SNAPMAP_NAME_LEN);
	long_name[SNAPMAP_NAME_LEN] = '\0';
	EXPECT_EQ(-EINVAL, LIB(snapmap_unlink(self->ctl, long_name)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_unlink(self->ctl, "")));
	EXPECT_EQ(-ENOENT, LIB(snapmap_unlink(self->ctl, self->name)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_list_all(self->ctl, NULL)));
	/* The stride must hold the id, which tells unnamed maps apart. */
	EXPECT_EQ(-EINVAL, LIB(snapmap_list_all_sz(self->ctl, &descs,
						   SNAPMAP_MAP_DESC_SIZE_VER0)));
	EXPECT_TRUE(descs == NULL);
	EXPECT_EQ(-EINVAL, LIB(snapmap_list_all_sz(self->ctl, &descs,
						   SNAPMAP_MAP_DESC_SIZE_MAX + 1)));
	EXPECT_EQ(-EBADF, LIB(snapmap_unlink(-2, self->name)));
}

TEST_F(persist, list_all)
{
	struct snapmap_map_desc *descs = NULL;
	struct snapmap_info info;
	int fd, named, n, i;

	fd = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));

	n = LIB(snapmap_list(self->ctl, &descs));
	ASSERT_LE(0, n);
	EXPECT_EQ(-1, find_id(descs, n, info.out_id));
	free(descs);

	n = LIB(snapmap_list_all(-1, &descs));
	ASSERT_LT(0, n);
	i = find_id(descs, n, info.out_id);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, descs[i].name[0]);
	EXPECT_EQ(0, descs[i].map_flags);
	free(descs);

	/* A persistent one says so. */
	{
		SNAPMAP_OPTS(snapmap_create_opts, opts, .name = self->name);

		named = LIB(snapmap_create_persistent(self->ctl, &opts));
	}
	ASSERT_LE(0, named);
	ASSERT_EQ(0, LIB(snapmap_info(named, &info)));
	n = LIB(snapmap_list_all(self->ctl, &descs));
	i = find_id(descs, n, info.out_id);
	ASSERT_LE(0, i);
	EXPECT_STREQ(self->name, descs[i].name);
	EXPECT_EQ(SNAPMAP_MAP_PERSISTENT, descs[i].map_flags);
	free(descs);
	EXPECT_EQ(0, LIB(snapmap_unlink(self->ctl, self->name)));
	EXPECT_EQ(0, close(named));
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
