// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: named maps and their permissions: names and their
 * syntax, one live map per name, the name freed with the map,
 * SNAPMAP_IOC_OPEN (read-write and read-only), and the map's mode checked
 * like a file's for other users and groups, with CAP_SYS_ADMIN
 * overriding.  The other users are children that drop every privilege.
 */

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/fsuid.h>

#include "snapmap_test.h"

#define OTHER_UID 65534
#define OTHER_GID 65534
#define OWNER_UID 1000
#define OWNER_GID 1000
#define SHARED_GID 4242

/* A result of the child that the child did not get to. */
#define NOT_RUN 1

/* What a child saw when it opened a map, in shared memory. */
struct open_res {
	int rw;		/* OPEN read-write: 0 or -errno */
	int ro;		/* OPEN read-only: 0 or -errno */
	int ro_get;	/* GET "k" through the read-only fd */
	int ro_put;	/* PUT through the read-only fd */
	int rw_get;	/* GET "k" through the read-write fd */
	int rw_put;	/* PUT "child" through the read-write fd */
};

struct open_arg {
	const char *name;
	struct open_res *res;
	__u32 mode;	/* create_then_open(): the mode of the map */
};

FIXTURE(named) {
	int ctl;
	char name[SNAPMAP_NAME_LEN];
	struct open_res *res;
};

FIXTURE_SETUP(named)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(self->name, sizeof(self->name), "perm_test-%d",
		 (int)getpid());
	self->res = mmap(NULL, sizeof(*self->res), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->res != MAP_FAILED);
}

FIXTURE_TEARDOWN(named)
{
	munmap(self->res, sizeof(*self->res));
	EXPECT_EQ(0, close(self->ctl));
}

/* In a child: open the map both ways and use what was opened. */
static int try_open(void *arg)
{
	struct open_arg *a = arg;
	struct open_res *r = a->res;
	int ctl, rw, ro;
	char buf[16];

	r->rw = NOT_RUN;
	r->ro = NOT_RUN;
	r->ro_get = NOT_RUN;
	r->ro_put = NOT_RUN;
	r->rw_get = NOT_RUN;
	r->rw_put = NOT_RUN;
	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return 1;
	rw = sm_open(ctl, a->name, 0);
	ro = sm_open(ctl, a->name, SNAPMAP_OPEN_RDONLY);
	r->rw = rw < 0 ? rw : 0;
	r->ro = ro < 0 ? ro : 0;
	if (ro >= 0) {
		r->ro_get = sm_get(ro, "k", 1, buf, sizeof(buf), NULL, NULL);
		r->ro_put = sm_put_str(ro, "child", "ro", NULL);
		close(ro);
	}
	if (rw >= 0) {
		r->rw_get = sm_get(rw, "k", 1, buf, sizeof(buf), NULL, NULL);
		r->rw_put = sm_put_str(rw, "child", "rw", NULL);
		close(rw);
	}
	close(ctl);
	return 0;
}

/* Run try_open() on the fixture's map as @uid, @gid and @groups. */
static int open_as(FIXTURE_DATA(named) *self, uid_t uid, gid_t gid,
		   size_t ngroups, const gid_t *groups)
{
	struct open_arg arg = { .name = self->name, .res = self->res };

	return sm_run_as(uid, gid, ngroups, groups, try_open, &arg);
}

/* Create the fixture's map with @mode and a key "k" in it. */
static int create_with_key(FIXTURE_DATA(named) *self, __u32 mode)
{
	int fd = sm_create(self->ctl, 0, 0, 0, 0, mode, self->name);

	if (fd >= 0 && sm_put_str(fd, "k", "v", NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST_F(named, create_named)
{
	struct snapmap_info info;
	int fd;

	fd = sm_create(self->ctl, 0, 0, 0, 0, 0640, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, strcmp(self->name, info.out_name));
	EXPECT_EQ(0640, info.out_mode);
	EXPECT_EQ(geteuid(), info.out_uid);
	EXPECT_EQ(getegid(), info.out_gid);
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, name_unique_while_alive)
{
	char other_name[SNAPMAP_NAME_LEN], buf[4];
	struct snapmap_info info;
	int fd, fd2, ctl2, other;
	__u64 v = 0;

	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", &v));
	EXPECT_EQ(-EEXIST, sm_create(self->ctl, 0, 0, 0, 0, 0, self->name));
	/* Whatever the limits, and from any control fd. */
	EXPECT_EQ(-EEXIST, sm_create(self->ctl, 8, 8, 8, 0, 0644, self->name));
	ctl2 = snapmap_open_ctl();
	ASSERT_LE(0, ctl2);
	EXPECT_EQ(-EEXIST, sm_create(ctl2, 0, 0, 0, 0, 0, self->name));

	/* Another name is another map. */
	snprintf(other_name, sizeof(other_name), "%s.other", self->name);
	other = sm_create(self->ctl, 0, 0, 0, 0, 0, other_name);
	ASSERT_LE(0, other);

	/* A second fd keeps the map, and its name, alive. */
	fd2 = sm_open(ctl2, self->name, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-EEXIST, sm_create(self->ctl, 0, 0, 0, 0, 0, self->name));
	EXPECT_VALUE(fd2, "k", 1, "v", 1, v);
	ASSERT_EQ(0, close(fd2));

	/* The last fd gone, the name is free, for a new empty map. */
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(-ENOENT, sm_get(fd, "k", 1, buf, sizeof(buf), NULL, NULL));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, close(other));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, other_name, 0));
	EXPECT_EQ(0, close(ctl2));
}

/* Names are byte strings: case matters. */
TEST_F(named, names_case_sensitive)
{
	char upper[SNAPMAP_NAME_LEN];
	int fd, fd2;
	size_t i;

	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd);
	strcpy(upper, self->name);
	for (i = 0; upper[i]; i++)
		upper[i] = toupper((unsigned char)upper[i]);
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, upper, 0));
	fd2 = sm_create(self->ctl, 0, 0, 0, 0, 0, upper);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, close(fd2));
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, open_same_map)
{
	struct snapmap_info a, b;
	__u64 v = 0, v2 = 0;
	int fd, fd2, flags;
	char buf[8];

	fd = sm_create(self->ctl, 16, 16, 16, 0, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "one", &v));
	fd2 = sm_open(self->ctl, self->name, 0);
	ASSERT_LE(0, fd2);
	EXPECT_NE(fd, fd2);
	flags = fcntl(fd2, F_GETFD);
	ASSERT_LE(0, flags);
	EXPECT_EQ(FD_CLOEXEC, flags & FD_CLOEXEC);
	flags = fcntl(fd2, F_GETFL);
	ASSERT_LE(0, flags);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);

	/* One map: same data, same versions, both ways. */
	EXPECT_VALUE(fd2, "k", 1, "one", 3, v);
	ASSERT_EQ(0, sm_put_str(fd2, "k", "two", &v2));
	EXPECT_LT(v, v2);
	EXPECT_VALUE(fd, "k", 1, "two", 3, v2);
	ASSERT_EQ(0, sm_del_str(fd2, "k", NULL));
	EXPECT_EQ(-ENOENT, sm_get(fd, "k", 1, buf, sizeof(buf), NULL, NULL));
	ASSERT_EQ(0, sm_info(fd, &a));
	ASSERT_EQ(0, sm_info(fd2, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	EXPECT_EQ(16, b.out_max_entries);
	EXPECT_EQ(0, strcmp(self->name, b.out_name));

	/* The map outlives the fd that created it. */
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, sm_put_str(fd2, "k", "three", NULL));
	ASSERT_EQ(0, close(fd2));
}

TEST_F(named, open_read_only)
{
	struct snapmap_info before, info;
	struct snapmap_batch_op op;
	__u64 v = 0;
	__u32 done = 0;
	int fd, ro;

	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", &v));
	ro = sm_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, sm_info(fd, &before));

	EXPECT_VALUE(ro, "k", 1, "v", 1, v);
	EXPECT_EQ(-EBADF, sm_put_str(ro, "k", "w", NULL));
	EXPECT_EQ(-EBADF, sm_del_str(ro, "k", NULL));
	EXPECT_EQ(-EBADF, sm_clear(ro, NULL));
	memset(&op, 0, sizeof(op));
	op.opcode = SNAPMAP_BATCH_DEL;
	op.key = SM_PTR("k");
	op.key_len = 1;
	ASSERT_EQ(0, sm_batch(ro, 0, &op, 1, &done));
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EBADF, op.out_result);
	ASSERT_EQ(0, sm_info(ro, &info));
	EXPECT_MAP_UNCHANGED(before, info);

	/* The writer's changes show through the read-only fd. */
	ASSERT_EQ(0, sm_put_str(fd, "k", "w", &v));
	EXPECT_VALUE(ro, "k", 1, "w", 1, v);
	EXPECT_EQ(0, close(fd));
	/* And it alone keeps the map alive. */
	EXPECT_VALUE(ro, "k", 1, "w", 1, v);
	EXPECT_EQ(-EEXIST, sm_create(self->ctl, 0, 0, 0, 0, 0, self->name));
	EXPECT_EQ(0, close(ro));
}

TEST_F(named, create_bad_names)
{
	static const char *const bad[] = {
		"a/b", "/", "a b", " ", "a\tb", "a\nb", "a:b", "a*", "a?",
		"a\\b", "a+b", "a@b", "~", "a,b", "a%b", "\x7f", "a\x01",
		"caf\xc3\xa9",	/* UTF-8 */
		"\xe9", "\xc0", "\xff", "\xaa", "\xb5", "\xdf",	/* Latin-1 */
	};
	struct snapmap_create arg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, sm_create(self->ctl, 0, 0, 0, 0, 0,
					     bad[i])) {
			TH_LOG("name \"%s\" (%u)", bad[i], i);
		}
		EXPECT_EQ(-EINVAL, sm_open(self->ctl, bad[i], 0)) {
			TH_LOG("name \"%s\" (%u)", bad[i], i);
		}
	}

	/* SNAPMAP_NAME_LEN characters and no NUL. */
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	memset(arg.name, 'a', sizeof(arg.name));
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &arg));
	/* Unterminated even where the name is right after a valid one. */
	memcpy(arg.name, self->name, strlen(self->name));
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &arg));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
}

TEST_F(named, create_good_names)
{
	static const char *const good[] = {
		"a", "Z", "0", "-", "_", ".", "..", "...", "a.b-c_d",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	};
	char longest[SNAPMAP_NAME_LEN];
	struct snapmap_info info;
	unsigned int i;
	int fd, fd2;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const char *name = good[i];

		fd = sm_create(self->ctl, 0, 0, 0, 0, 0, name);
		EXPECT_LE(0, fd) {
			TH_LOG("name \"%s\"", name);
		}
		if (fd < 0)
			continue;
		fd2 = sm_open(self->ctl, name, SNAPMAP_OPEN_RDONLY);
		EXPECT_LE(0, fd2);
		if (fd2 >= 0)
			close(fd2);
		close(fd);
	}

	/* SNAPMAP_NAME_LEN - 1 characters and the NUL. */
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memcpy(longest, self->name, strlen(self->name));
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, longest);
	ASSERT_LE(0, fd);
	fd2 = sm_open(self->ctl, longest, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sm_info(fd2, &info));
	EXPECT_EQ(0, strcmp(longest, info.out_name));
	/* One character less is another name. */
	longest[sizeof(longest) - 2] = '\0';
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, longest, 0));
	EXPECT_EQ(0, close(fd2));
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, open_bad_args)
{
	struct snapmap_open arg;
	__u64 tail = 0;
	int fd, fd2;

	fd = sm_create(self->ctl, 0, 0, 0, 0, 0666, self->name);
	ASSERT_LE(0, fd);

	/* No such name, an empty one, an unterminated one. */
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, "perm_test-no-such-map", 0));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, "perm_test-no-such-map",
				   SNAPMAP_OPEN_RDONLY));
	EXPECT_EQ(-EINVAL, sm_open(self->ctl, "", 0));
	EXPECT_EQ(-EINVAL, sm_open(self->ctl, "", SNAPMAP_OPEN_RDONLY));
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	memset(arg.name, 'a', sizeof(arg.name));
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_OPEN, &arg));

	/* Unknown flags. */
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	strcpy(arg.name, self->name);
	arg.flags = 1U << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_OPEN, &arg));
	arg.flags = SNAPMAP_OPEN_RDONLY | 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_OPEN, &arg));

	/* Sizes. */
	arg.flags = 0;
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN, &arg,
					  sizeof(arg), 0, 0, NULL));
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN, &arg,
					  sizeof(arg), sizeof(arg) - 1, 0,
					  NULL));
	EXPECT_EQ(-EINVAL, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN, &arg,
					  sizeof(arg), 8, 0, NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN, &arg,
					 sizeof(arg), sizeof(arg) + 1, 1,
					 NULL));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	fd2 = sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN, &arg, sizeof(arg),
			     sizeof(arg) + 8, 0, &tail);
	EXPECT_LE(0, fd2);
	EXPECT_EQ(0, tail);
	if (fd2 >= 0)
		close(fd2);
	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_OPEN, NULL));
	EXPECT_EQ(0, close(fd));
}

/* CREATE and OPEN: argument errors before the registry's state. */
TEST_F(named, errno_order)
{
	struct snapmap_create create;
	struct snapmap_open open_arg;
	unsigned long long cap = 0;
	int fd;

	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd);

	memset(&create, 0, sizeof(create));
	create.size = sizeof(create);
	strcpy(create.name, self->name);
	create.flags = SNAPMAP_CREATE_PERSISTENT << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &create));
	create.flags = 0;
	create.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &create));
	create.__reserved = 0;
	create.mode = 01000;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE, &create));
	create.mode = 0;
	if (!sm_param("max_key_len", &cap) && cap < UINT32_MAX) {
		create.max_key_len = cap + 1;
		EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_CREATE,
					   &create));
		create.max_key_len = 0;
	}
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_CREATE,
					 &create, sizeof(create),
					 sizeof(create) + 8, 1, NULL));

	memset(&open_arg, 0, sizeof(open_arg));
	open_arg.size = sizeof(open_arg);
	strcpy(open_arg.name, "perm_test-no-such-map");
	open_arg.flags = 1U << 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_OPEN, &open_arg));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_OPEN,
					 &open_arg, sizeof(open_arg),
					 sizeof(open_arg) + 8, 1, NULL));
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, mode_0600_other)
{
	int fd = create_with_key(self, 0600);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(-EACCES, self->res->ro);
	EXPECT_EQ(0, close(fd));
}

/* A mode of 0 is 0600. */
TEST_F(named, mode_0_other)
{
	int fd = create_with_key(self, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(-EACCES, self->res->ro);
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, mode_0644_other)
{
	int fd = create_with_key(self, 0644);
	char buf[4];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(0, self->res->ro_get);
	EXPECT_EQ(-EBADF, self->res->ro_put);
	EXPECT_EQ(-ENOENT, sm_get(fd, "child", 5, buf, sizeof(buf), NULL,
				  NULL));
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, mode_0666_other)
{
	int fd = create_with_key(self, 0666);
	__u32 len = 0;
	char buf[4];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(0, self->res->rw);
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(0, self->res->ro_get);
	EXPECT_EQ(-EBADF, self->res->ro_put);
	EXPECT_EQ(0, self->res->rw_get);
	EXPECT_EQ(0, self->res->rw_put);
	/* The other user's write is in the map. */
	EXPECT_EQ(0, sm_get(fd, "child", 5, buf, sizeof(buf), &len, NULL));
	EXPECT_EQ(2, len);
	EXPECT_EQ(0, memcmp(buf, "rw", 2));
	EXPECT_EQ(0, close(fd));
}

/* Read-write needs both bits: write alone grants nothing. */
TEST_F(named, mode_write_only_other)
{
	int fd = create_with_key(self, 0602);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(-EACCES, self->res->ro);
	EXPECT_EQ(0, close(fd));
}

/*
 * Group bits, for a map whose group is SHARED_GID: the caller's gid or one
 * of its supplementary groups matches.
 */
TEST_F(named, mode_0640_group)
{
	const gid_t shared = SHARED_GID;
	struct snapmap_info info;
	int fd;

	/* The map's group is its creator's. */
	ASSERT_EQ(0, setresgid(SHARED_GID, SHARED_GID, SHARED_GID));
	fd = create_with_key(self, 0640);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(SHARED_GID, info.out_gid);
	EXPECT_EQ(0, info.out_uid);

	/* The primary group. */
	ASSERT_EQ(0, open_as(self, OTHER_UID, SHARED_GID, 0, NULL));
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(0, self->res->ro_get);
	EXPECT_EQ(-EACCES, self->res->rw);

	/* A supplementary group. */
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 1, &shared));
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(-EACCES, self->res->rw);

	/* Not in the group: the other bits. */
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(-EACCES, self->res->ro);
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(0, close(fd));
}

TEST_F(named, mode_0660_group)
{
	const gid_t shared = SHARED_GID;
	int fd;

	ASSERT_EQ(0, setresgid(SHARED_GID, SHARED_GID, SHARED_GID));
	fd = create_with_key(self, 0660);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 1, &shared));
	EXPECT_EQ(0, self->res->rw);
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(0, self->res->rw_put);
	EXPECT_EQ(0, close(fd));
}

/* Like a file: a group member gets the group bits, not the other bits. */
TEST_F(named, group_class_before_other)
{
	const gid_t shared = SHARED_GID;
	int fd;

	ASSERT_EQ(0, setresgid(SHARED_GID, SHARED_GID, SHARED_GID));
	fd = create_with_key(self, 0606);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 1, &shared));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(-EACCES, self->res->ro);
	ASSERT_EQ(0, open_as(self, OTHER_UID, OTHER_GID, 0, NULL));
	EXPECT_EQ(0, self->res->rw);
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(0, close(fd));
}

/* In a child: create the map, then open it by name, as its owner. */
static int create_then_open(void *arg)
{
	struct open_arg *a = arg;
	int ctl, fd;

	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return 1;
	fd = sm_create(ctl, 0, 0, 0, 0, a->mode, a->name);
	if (fd < 0)
		return 2;
	if (sm_put_str(fd, "k", "v", NULL))
		return 4;
	try_open(arg);
	close(fd);
	return 0;
}

/* The owner gets the owner bits, even when the others get more. */
TEST_F(named, owner_class)
{
	struct open_arg arg = { .name = self->name, .res = self->res };

	/* A non-root owner of a 0600 map opens it both ways. */
	arg.mode = 0600;
	ASSERT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL,
			       create_then_open, &arg));
	EXPECT_EQ(0, self->res->rw);
	EXPECT_EQ(0, self->res->ro);
	EXPECT_EQ(0, self->res->ro_get);
	EXPECT_EQ(0, self->res->rw_put);

	/* Owner bits read-only, everyone else's read-write. */
	arg.mode = 0466;
	ASSERT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL,
			       create_then_open, &arg));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(0, self->res->ro);

	/* No owner bits at all. */
	arg.mode = 0066;
	ASSERT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL,
			       create_then_open, &arg));
	EXPECT_EQ(-EACCES, self->res->rw);
	EXPECT_EQ(-EACCES, self->res->ro);

	/* The map died with the child: its name is free. */
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
}

/* In a child: report the owner of a map it creates. */
static int report_owner(void *arg)
{
	struct open_res *r = arg;
	struct snapmap_info info;
	int ctl, fd;

	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return 1;
	fd = sm_create(ctl, 0, 0, 0, 0, 0, NULL);
	if (fd < 0)
		return 2;
	if (sm_info(fd, &info))
		return 3;
	r->rw = info.out_uid;
	r->ro = info.out_gid;
	r->rw_get = info.out_mode;
	return 0;
}

TEST_F(named, owner_is_creator)
{
	ASSERT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, report_owner,
			       self->res));
	EXPECT_EQ(OWNER_UID, self->res->rw);
	EXPECT_EQ(OWNER_GID, self->res->ro);
	EXPECT_EQ(0600, self->res->rw_get);
}

/* CAP_SYS_ADMIN opens any map, whatever its mode. */
TEST_F(named, cap_sys_admin_overrides)
{
	struct snapmap_info info;
	int fd, fd2;

	/* A map owned by OWNER_UID, created while root's euid is that. */
	ASSERT_EQ(0, setresuid(-1, OWNER_UID, -1));
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->name);
	ASSERT_EQ(0, setresuid(-1, 0, -1));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(OWNER_UID, info.out_uid);

	fd2 = sm_open(self->ctl, self->name, 0);
	EXPECT_LE(0, fd2);
	if (fd2 >= 0)
		close(fd2);
	fd2 = sm_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY);
	EXPECT_LE(0, fd2);
	if (fd2 >= 0)
		close(fd2);
	EXPECT_EQ(0, close(fd));

	/* Root's own map with no write bit for anyone. */
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0400, self->name);
	ASSERT_LE(0, fd);
	fd2 = sm_open(self->ctl, self->name, 0);
	EXPECT_LE(0, fd2);
	if (fd2 >= 0) {
		EXPECT_EQ(0, sm_put_str(fd2, "k", "v", NULL));
		close(fd2);
	}
	EXPECT_EQ(0, close(fd));
}

/* The owner is matched by fsuid. */
TEST_F(named, fsuid_decides)
{
	int fd, status;
	pid_t pid;

	ASSERT_EQ(0, setresuid(-1, OWNER_UID, -1));
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0600, self->name);
	ASSERT_EQ(0, setresuid(-1, 0, -1));
	ASSERT_LE(0, fd);

	self->res->rw = NOT_RUN;
	self->res->ro = NOT_RUN;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct open_res *r = self->res;
		int ctl, rw;

		/* Real and effective uid another user, fsuid the owner. */
		if (setgroups(0, NULL) ||
		    setresgid(OTHER_GID, OTHER_GID, OTHER_GID) ||
		    setresuid(OTHER_UID, OTHER_UID, OWNER_UID))
			_exit(SM_RUN_AS_NOCRED);
		ctl = snapmap_open_ctl();
		if (ctl < 0)
			_exit(1);
		rw = sm_open(ctl, self->name, 0);
		r->ro = rw < 0 ? rw : 0;	/* fsuid still OTHER_UID */
		if (rw >= 0)
			close(rw);
		setfsuid(OWNER_UID);
		if (setfsuid(-1) != OWNER_UID)
			_exit(2);
		rw = sm_open(ctl, self->name, 0);
		r->rw = rw < 0 ? rw : 0;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-EACCES, self->res->ro);
	EXPECT_EQ(0, self->res->rw);
	EXPECT_EQ(0, close(fd));
}

/* In a child: create a map named @arg; 0 or the errno. */
static int create_named(void *arg)
{
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0)
		return 100;
	fd = sm_create(ctl, 0, 0, 0, 0, 0, arg);
	return fd < 0 ? -fd : 0;
}

/* In a child: open a map named @arg; 0 or the errno. */
static int open_named(void *arg)
{
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0)
		return 100;
	fd = sm_open(ctl, arg, SNAPMAP_OPEN_RDONLY);
	return fd < 0 ? -fd : 0;
}

/* A name is taken whoever asks: EEXIST, not EACCES. */
TEST_F(named, other_user_names)
{
	int fd = create_with_key(self, 0600);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EEXIST, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
				    create_named, self->name));
	EXPECT_EQ(ENOENT, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
				    open_named, "perm_test-no-such-map"));
	EXPECT_EQ(EINVAL, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
				    open_named, "bad name"));
	EXPECT_EQ(0, close(fd));
	/* Free again: another user may take it. */
	EXPECT_EQ(0, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL, create_named,
			       self->name));
}

TEST_HARNESS_MAIN
