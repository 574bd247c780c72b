// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: persistent maps (SNAPMAP_CREATE_PERSISTENT) and
 * SNAPMAP_IOC_DELETE, map ids, SNAPMAP_LIST_ALL, the snapshot counters of
 * SNAPMAP_IOC_INFO, and the fdinfo of map, snapshot and watch fds.
 *
 * Persistent maps outlive this process's fds and the process itself:
 * every test deletes what it made, and checks with the module's own list
 * that nothing is left.  The other users are children that drop every
 * privilege (sm_run_as()).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "snapmap_test.h"

#define OWNER_UID 1000
#define OWNER_GID 1000
#define OTHER_UID 65534
#define OTHER_GID 65534

#define CGROUP_DIR "/sys/fs/cgroup/snapmap-persist-test"

/* CREATE with @flags and @mode, named @name (NULL for none). */
static int create_flags(int ctl, __u32 flags, __u32 mode, const char *name)
{
	struct snapmap_create arg = {
		.size = sizeof(arg),
		.flags = flags,
		.mode = mode,
	};

	if (name)
		sm_copy_name(arg.name, name);
	return sm_ret(ioctl(ctl, SNAPMAP_IOC_CREATE, &arg));
}

static int create_persistent(int ctl, __u32 mode, const char *name)
{
	return create_flags(ctl, SNAPMAP_CREATE_PERSISTENT, mode, name);
}

static int delete_map(int ctl, const char *name)
{
	struct snapmap_delete arg = { .size = sizeof(arg) };

	sm_copy_name(arg.name, name);
	return sm_ret(ioctl(ctl, SNAPMAP_IOC_DELETE, &arg));
}

/* LIST with @flags into @descs (room for @room): the count, or -errno. */
static int list_maps(int ctl, __u32 flags, struct snapmap_map_desc *descs,
		     __u32 room)
{
	struct snapmap_list arg = {
		.size = sizeof(arg),
		.flags = flags,
		.count = room,
		.desc_size = sizeof(*descs),
		.descs = SM_PTR(descs),
	};
	int ret = sm_ret(ioctl(ctl, SNAPMAP_IOC_LIST, &arg));

	return ret ? ret : (int)arg.out_count;
}

#define ROOM 512

/*
 * The description of the map of id @id in a LIST with @flags, into @out:
 * 1 if listed, 0 if not, or -errno.
 */
static int find_listed(int ctl, __u32 flags, __u64 id,
		       struct snapmap_map_desc *out)
{
	struct snapmap_map_desc *descs = calloc(ROOM, sizeof(*descs));
	int n, i, found = 0;

	if (!descs)
		return -ENOMEM;
	n = list_maps(ctl, flags, descs, ROOM);
	for (i = 0; i < n && i < ROOM; i++) {
		if (descs[i].id == id) {
			*out = descs[i];
			found = 1;
		}
	}
	free(descs);
	return n < 0 ? n : found;
}

/* The id of the map behind @fd, or 0. */
static __u64 map_id(int fd)
{
	struct snapmap_info info;

	return sm_info(fd, &info) ? 0 : info.out_id;
}

/* Persistent maps listed, of any name: what a test must leave at zero. */
static int count_persistent(int ctl)
{
	struct snapmap_map_desc *descs = calloc(ROOM, sizeof(*descs));
	int n, i, count = 0;

	if (!descs)
		return -ENOMEM;
	n = list_maps(ctl, SNAPMAP_LIST_ALL, descs, ROOM);
	for (i = 0; i < n && i < ROOM; i++)
		count += !!(descs[i].map_flags & SNAPMAP_MAP_PERSISTENT);
	free(descs);
	return n < 0 ? n : count;
}

/*
 * The value of @key in the fdinfo of @fd, as text, into @val: 0, or
 * -ENOENT if there is no such line.
 */
static int fdinfo(int fd, const char *key, char *val, size_t size)
{
	char path[64], buf[4096], *line, *save;
	size_t klen = strlen(key);
	int ret;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = sm_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    line[klen + 1] == '\t') {
			snprintf(val, size, "%s", line + klen + 2);
			return 0;
		}
	}
	return -ENOENT;
}

/* A number of the fdinfo of @fd, or ~0ULL if it has none. */
static unsigned long long fdinfo_num(int fd, const char *key)
{
	char val[128];

	if (fdinfo(fd, key, val, sizeof(val)))
		return ~0ULL;
	return strtoull(val, NULL, 0);
}

/* The module's reference count, as /sys/module shows it, or -1. */
static long module_refcnt(void)
{
	char buf[32];

	if (sm_read_file("/sys/module/snapmap/refcnt", buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

FIXTURE(persist) {
	int ctl;
	int persistent;
	char name[SNAPMAP_NAME_LEN];
};

FIXTURE_SETUP(persist)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	snprintf(self->name, sizeof(self->name), "persist_test-%d",
		 (int)getpid());
	self->persistent = count_persistent(self->ctl);
	ASSERT_LE(0, self->persistent);
}

FIXTURE_TEARDOWN(persist)
{
	/* Whatever a failed test left, it leaves no more. */
	delete_map(self->ctl, self->name);
	EXPECT_EQ(self->persistent, count_persistent(self->ctl));
	EXPECT_EQ(0, close(self->ctl));
}

TEST_F(persist, api)
{
	struct snapmap_api api = { .size = sizeof(api) };

	ASSERT_EQ(0, ioctl(self->ctl, SNAPMAP_IOC_API, &api));
	/* Persistent maps came with version 4, and stay. */
	EXPECT_LE(4, SNAPMAP_ABI_VERSION);
	EXPECT_EQ(SNAPMAP_ABI_VERSION, api.out_abi_version);
	EXPECT_TRUE(api.out_features & SNAPMAP_FEATURE_PERSISTENT);
	EXPECT_TRUE(api.out_ioctls & (1ULL << SNAPMAP_CMD_DELETE));
	EXPECT_EQ(1ULL << 6, SNAPMAP_FEATURE_PERSISTENT);
	EXPECT_EQ(4, SNAPMAP_CMD_DELETE);
}

/* A flag it does not know, and PERSISTENT without a name: EINVAL. */
TEST_F(persist, create_flags_einval)
{
	int maps = SM_COUNT_MAPS();

	EXPECT_EQ(-EINVAL, create_persistent(self->ctl, 0, NULL));
	EXPECT_EQ(-EINVAL, create_persistent(self->ctl, 0, ""));
	EXPECT_EQ(-EINVAL, create_flags(self->ctl,
					SNAPMAP_CREATE_PERSISTENT << 1, 0,
					self->name));
	EXPECT_EQ(-EINVAL, create_flags(self->ctl, 1U << 31, 0, self->name));
	EXPECT_EQ(-EINVAL, create_flags(self->ctl, ~0U, 0, self->name));
	/* A bad name with the flag: EINVAL too, and nothing made. */
	EXPECT_EQ(-EINVAL, create_persistent(self->ctl, 0, "no/slash"));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
	EXPECT_EQ(maps, SM_COUNT_MAPS());
}

/* A persistent map's name is as unique as any: EEXIST both ways. */
TEST_F(persist, create_eexist)
{
	int fd, fd2;

	fd = create_persistent(self->ctl, 0, self->name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EEXIST, create_persistent(self->ctl, 0, self->name));
	EXPECT_EQ(-EEXIST, sm_create(self->ctl, 0, 0, 0, 0, 0, self->name));
	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	fd2 = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EEXIST, create_persistent(self->ctl, 0, self->name));
	EXPECT_EQ(0, close(fd2));
	EXPECT_EQ(0, close(fd));
}

/* Closed and opened again by name: the same map, contents and all. */
TEST_F(persist, survives_close)
{
	struct snapmap_map_desc desc;
	struct snapmap_info info;
	__u64 v, id;
	int fd, ctl2;

	fd = create_persistent(self->ctl, 0640, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "kept", &v));
	id = map_id(fd);
	ASSERT_NE(0, id);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(SNAPMAP_MAP_PERSISTENT, info.out_map_flags);
	ASSERT_EQ(0, close(fd));
	/* And the control fd it was made through. */
	ASSERT_EQ(0, close(self->ctl));
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);

	ASSERT_EQ(1, find_listed(self->ctl, 0, id, &desc));
	EXPECT_EQ(0, strcmp(self->name, desc.name));
	EXPECT_EQ(SNAPMAP_MAP_PERSISTENT, desc.map_flags);
	EXPECT_EQ(0640, desc.mode);

	ctl2 = snapmap_open_ctl();
	ASSERT_LE(0, ctl2);
	fd = sm_open(ctl2, self->name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(id, map_id(fd));
	EXPECT_VALUE(fd, "k", 1, "kept", 4, v);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(0, close(ctl2));

	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(0, find_listed(self->ctl, SNAPMAP_LIST_ALL, id, &desc));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
}

/* Every error of DELETE, each changing nothing. */
TEST_F(persist, delete_errors)
{
	struct snapmap_delete arg = { .size = sizeof(arg) };
	int fd;

	fd = create_persistent(self->ctl, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));

	sm_copy_name(arg.name, self->name);
	/* size: too short, or an unknown non-zero tail. */
	arg.size = offsetof(struct snapmap_delete, name);
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_DELETE, &arg));
	arg.size = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_DELETE, &arg));
	EXPECT_EQ(-E2BIG, sm_ioctl_sized(self->ctl, SNAPMAP_IOC_DELETE, &arg,
					 sizeof(arg), sizeof(arg) + 8, 1,
					 NULL));
	arg.size = sizeof(arg);
	/* Unknown flags. */
	arg.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_DELETE, &arg));
	arg.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_DELETE, &arg));
	arg.flags = 0;
	/* User memory. */
	EXPECT_ERRNO(EFAULT, ioctl(self->ctl, SNAPMAP_IOC_DELETE, NULL));
	/* Names that are no names. */
	EXPECT_EQ(-EINVAL, delete_map(self->ctl, ""));
	EXPECT_EQ(-EINVAL, delete_map(self->ctl, "a b"));
	memset(arg.name, 'x', sizeof(arg.name));
	EXPECT_ERRNO(EINVAL, ioctl(self->ctl, SNAPMAP_IOC_DELETE, &arg));
	/* No such map. */
	EXPECT_EQ(-ENOENT, delete_map(self->ctl, "persist_test-none"));
	/* Not on a map fd: a command of the control fd only. */
	fd = sm_open(self->ctl, self->name, 0);
	ASSERT_LE(0, fd);
	memset(arg.name, 0, sizeof(arg.name));
	sm_copy_name(arg.name, self->name);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, SNAPMAP_IOC_DELETE, &arg));
	EXPECT_EQ(0, close(fd));

	/* All of that left the map as it was. */
	fd = sm_open(self->ctl, self->name, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(-ENOENT, delete_map(self->ctl, self->name));
}

/*
 * DELETE of a persistent map that fds still hold: the name goes at once,
 * and may be taken again; the fds keep working on the map, now unnamed
 * and no longer persistent, which dies with the last of them.
 */
TEST_F(persist, delete_while_open)
{
	struct snapmap_map_desc desc;
	struct snapmap_info info;
	int fd, fd2, maps;
	__u64 v, id;

	maps = SM_COUNT_MAPS();
	fd = create_persistent(self->ctl, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "old", &v));
	id = map_id(fd);
	EXPECT_EQ(maps + 1, SM_COUNT_MAPS());

	ASSERT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
	EXPECT_EQ(-ENOENT, delete_map(self->ctl, self->name));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_name[0]);
	EXPECT_EQ(0, info.out_map_flags);
	EXPECT_EQ(id, info.out_id);
	/* Listed no more by name, still with LIST_ALL, as unnamed. */
	EXPECT_EQ(0, find_listed(self->ctl, 0, id, &desc));
	ASSERT_EQ(1, find_listed(self->ctl, SNAPMAP_LIST_ALL, id, &desc));
	EXPECT_EQ(0, desc.name[0]);
	EXPECT_EQ(0, desc.map_flags);

	/* The name again, for a new map, another one. */
	fd2 = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd2);
	EXPECT_NE(id, map_id(fd2));
	EXPECT_EQ(-ENOENT, sm_get(fd2, "k", 1, NULL, 0, NULL, NULL));
	EXPECT_EQ(0, close(fd2));

	/* The old fd works on. */
	EXPECT_VALUE(fd, "k", 1, "old", 3, v);
	EXPECT_EQ(0, sm_put_str(fd, "k2", "new", NULL));
	EXPECT_EQ(maps + 1, SM_COUNT_MAPS());
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(maps, SM_COUNT_MAPS());
}

/*
 * DELETE of a map that is not persistent removes its name all the same,
 * as unlink(2) does: fds keep the map.
 */
TEST_F(persist, delete_not_persistent)
{
	struct snapmap_info info;
	int fd, maps;

	maps = SM_COUNT_MAPS();
	fd = sm_create(self->ctl, 0, 0, 0, 0, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));
	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_name[0]);
	EXPECT_EQ(1, info.out_entries);
	EXPECT_EQ(maps + 1, SM_COUNT_MAPS());
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(maps, SM_COUNT_MAPS());
}

struct as_user {
	const char *name;
	int persistent;	/* create persistent, not just named */
	__u32 mode;
};

static int child_create(void *arg)
{
	const struct as_user *a = arg;
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0)
		return 1;
	fd = create_flags(ctl, a->persistent ? SNAPMAP_CREATE_PERSISTENT : 0,
			  a->mode, a->name);
	if (fd < 0)
		return fd == -EDQUOT ? 3 : 2;
	if (sm_put_str(fd, "by", "child", NULL))
		return 4;
	/* The map is left to the registry: no fd, no process. */
	return 0;
}

/* DELETE as another user: its errno, negated, as the exit status. */
static int child_delete(void *arg)
{
	const struct as_user *a = arg;
	int ctl = snapmap_open_ctl(), ret;

	if (ctl < 0)
		return 1;
	ret = delete_map(ctl, a->name);
	return -ret;
}

/* OPEN read-write as another user: its errno as the exit status. */
static int child_open(void *arg)
{
	const struct as_user *a = arg;
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0)
		return 1;
	fd = sm_open(ctl, a->name, 0);
	return fd < 0 ? -fd : 0;
}

/*
 * A map made by a process that is gone, found by another user; deleted
 * by its owner or CAP_SYS_ADMIN alone, whatever its mode grants.
 */
TEST_F(persist, delete_permission)
{
	struct as_user a = { .name = self->name, .persistent = 1,
			     .mode = 0666 };
	struct snapmap_info info;
	int fd;

	ASSERT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	/* The creator exited; its map did not. */
	fd = sm_open(self->ctl, self->name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(OWNER_UID, info.out_uid);
	EXPECT_VALUE(fd, "by", 2, "child", 5, info.out_version);
	EXPECT_EQ(0, close(fd));

	/* Another user may open it (0666), not delete it. */
	EXPECT_EQ(0, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL, child_open, &a));
	EXPECT_EQ(EACCES, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
				    child_delete, &a));
	/* Nor may a member of its group. */
	EXPECT_EQ(EACCES, sm_run_as(OTHER_UID, OWNER_GID, 0, NULL,
				    child_delete, &a));
	fd = sm_open(self->ctl, self->name, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
	/* Its owner may, from another process. */
	EXPECT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_delete,
			       &a));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
	/* No such map, for anyone. */
	EXPECT_EQ(ENOENT, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
				    child_delete, &a));

	/* CAP_SYS_ADMIN may delete a map of another user's. */
	ASSERT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, self->name, 0));
}

/* Persistent maps count against max_maps_per_user, fd or none. */
TEST_F(persist, max_maps_per_user)
{
	char names[3][SNAPMAP_NAME_LEN + 8];
	struct as_user a = { .persistent = 1 };
	static unsigned long long cap;
	int i;

	ASSERT_EQ(0, sm_param("max_maps_per_user", &cap));
	ASSERT_EQ(0, sm_set_param("max_maps_per_user", 2));
	for (i = 0; i < 3; i++)
		snprintf(names[i], sizeof(names[i]), "persist-cap-%d.%d",
			 (int)getpid(), i);
	a.name = names[0];
	EXPECT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	a.name = names[1];
	EXPECT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	/* Two maps with no fd and no process: the user's cap is reached. */
	a.name = names[2];
	EXPECT_EQ(3, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	a.persistent = 0;
	EXPECT_EQ(3, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	/* One deleted, one more may be made. */
	EXPECT_EQ(0, delete_map(self->ctl, names[0]));
	a.persistent = 1;
	EXPECT_EQ(0, sm_run_as(OWNER_UID, OWNER_GID, 0, NULL, child_create,
			       &a));
	EXPECT_EQ(0, sm_set_param("max_maps_per_user", cap));
	EXPECT_EQ(0, delete_map(self->ctl, names[1]));
	EXPECT_EQ(0, delete_map(self->ctl, names[2]));
}

/*
 * A persistent map holds the module, as an fd does: /sys/module's count
 * has one more for it, and delete_module() fails, until DELETE.
 */
TEST_F(persist, holds_module)
{
	long before, held;
	int fd;

	before = module_refcnt();
	ASSERT_LT(0, before);
	fd = create_persistent(self->ctl, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	held = module_refcnt();
	EXPECT_EQ(before + 1, held);
	EXPECT_ERRNO(EWOULDBLOCK, syscall(__NR_delete_module, "snapmap",
					  O_NONBLOCK));
	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(before, module_refcnt());

	/* A deleted name that an fd still holds: the fd alone holds it. */
	fd = create_persistent(self->ctl, 0, self->name);
	ASSERT_LE(0, fd);
	EXPECT_EQ(before + 2, module_refcnt());
	EXPECT_EQ(0, delete_map(self->ctl, self->name));
	EXPECT_EQ(before + 1, module_refcnt());
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(before, module_refcnt());
}

/* memory.current of the test cgroup, or -1. */
static long long cg_current(void)
{
	char buf[64];

	if (sm_read_file(CGROUP_DIR "/memory.current", buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

#define BIG_VALUES 256
#define BIG_VALUE 4000

static int child_fill_persistent(void *arg)
{
	const char *name = arg;
	static char value[BIG_VALUE];
	char pid[32], key[16];
	int ctl, fd, i;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (sm_write_file(CGROUP_DIR "/cgroup.procs", pid))
		return 1;
	ctl = snapmap_open_ctl();
	fd = create_persistent(ctl, 0, name);
	if (fd < 0)
		return 2;
	memset(value, 'v', sizeof(value));
	for (i = 0; i < BIG_VALUES; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (sm_put(fd, 0, key, strlen(key), value, sizeof(value), 0,
			   NULL))
			return 3;
	}
	return 0;
}

/*
 * A persistent map stays charged to the memory cgroup of its creator
 * after the creator is gone, and the charge goes when it is deleted.
 */
TEST_F(persist, memcg_charge)
{
	const char *why = sm_memcg_create(CGROUP_DIR, NULL);
	const long long data = (long long)BIG_VALUES * BIG_VALUE;
	long long before, after, gone;
	double deadline;
	int status;
	pid_t pid;

	ASSERT_TRUE(!why || sm_memcg_missing(why)) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);
	before = cg_current();
	ASSERT_LE(0, before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(child_fill_persistent(self->name));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* The child's own memory went with it; the map's did not. */
	after = cg_current();
	EXPECT_LE(before + data, after) {
		TH_LOG("memory.current %lld before, %lld after", before,
		       after);
	}
	ASSERT_EQ(0, delete_map(self->ctl, self->name));
	/* Freed after a grace period: wait for it, within bounds. */
	deadline = sm_now() + SM_WAIT_SECONDS;
	do {
		gone = cg_current();
		if (gone <= after - data)
			break;
		sched_yield();
	} while (sm_now() < deadline);
	EXPECT_GE(after - data, gone) {
		TH_LOG("memory.current %lld after the map, %lld deleted",
		       after, gone);
	}
	EXPECT_EQ(0, rmdir(CGROUP_DIR));
}

/* Ids: one per map, never reused, growing. */
TEST_F(persist, ids)
{
	__u64 a, b, c;
	int fa, fb, fc;

	fa = sm_create_default(self->ctl);
	fb = sm_create_default(self->ctl);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	a = map_id(fa);
	b = map_id(fb);
	EXPECT_LT(0, a);
	EXPECT_LT(a, b);
	EXPECT_EQ(0, close(fb));
	fc = sm_create_default(self->ctl);
	ASSERT_LE(0, fc);
	c = map_id(fc);
	EXPECT_LT(b, c);
	EXPECT_EQ(0, close(fa));
	EXPECT_EQ(0, close(fc));
}

/* What LIST_ALL shows another user: that user's own maps, no others. */
struct list_res {
	int ret;
	int sees_root_unnamed;
	int sees_own_unnamed;
	int sees_root_named;
};

struct list_arg {
	__u64 root_unnamed;
	__u64 root_named;
	struct list_res *res;
};

static int child_list_all(void *arg)
{
	struct list_arg *a = arg;
	struct snapmap_map_desc desc;
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0)
		return 1;
	fd = sm_create_default(ctl);
	if (fd < 0)
		return 2;
	a->res->sees_root_unnamed = find_listed(ctl, SNAPMAP_LIST_ALL,
						a->root_unnamed, &desc);
	a->res->sees_own_unnamed = find_listed(ctl, SNAPMAP_LIST_ALL,
					       map_id(fd), &desc);
	a->res->sees_root_named = find_listed(ctl, SNAPMAP_LIST_ALL,
					      a->root_named, &desc);
	return 0;
}

TEST_F(persist, list_all)
{
	struct snapmap_map_desc desc, *old;
	struct list_res *res;
	struct list_arg arg;
	struct snapmap_list list = { .size = sizeof(list) };
	int fd, named, n, i;
	__u64 id;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	id = map_id(fd);
	named = sm_create(self->ctl, 0, 0, 0, 0, 0644, self->name);
	ASSERT_LE(0, named);

	/* Without the flag, the named maps only. */
	EXPECT_EQ(0, find_listed(self->ctl, 0, id, &desc));
	EXPECT_EQ(1, find_listed(self->ctl, 0, map_id(named), &desc));
	ASSERT_EQ(1, find_listed(self->ctl, SNAPMAP_LIST_ALL, id, &desc));
	EXPECT_EQ(0, desc.name[0]);
	EXPECT_EQ(geteuid(), desc.uid);
	EXPECT_EQ(0600, desc.mode);
	EXPECT_EQ(0, desc.map_flags);
	EXPECT_EQ(0, desc.__reserved2);
	/* LIST_ALL counts more than LIST. */
	EXPECT_LT(list_maps(self->ctl, 0, NULL, 0),
		  list_maps(self->ctl, SNAPMAP_LIST_ALL, NULL, 0));

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(res != MAP_FAILED);
	arg.root_unnamed = id;
	arg.root_named = map_id(named);
	arg.res = res;
	ASSERT_EQ(0, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL, child_list_all,
			       &arg));
	EXPECT_EQ(0, res->sees_root_unnamed);
	EXPECT_EQ(1, res->sees_own_unnamed);
	EXPECT_EQ(1, res->sees_root_named);
	munmap(res, sizeof(*res));

	/*
	 * A caller of the first version's size gets the first 80 bytes of
	 * each description, the rest of its buffer untouched.
	 */
	n = list_maps(self->ctl, SNAPMAP_LIST_ALL, NULL, 0);
	ASSERT_LT(0, n);
	old = malloc((n + 1) * sizeof(*old));
	ASSERT_TRUE(old != NULL);
	memset(old, 0xa5, (n + 1) * sizeof(*old));
	list.flags = SNAPMAP_LIST_ALL;
	list.count = n;
	list.desc_size = SNAPMAP_MAP_DESC_SIZE_VER0;
	list.descs = SM_PTR(old);
	ASSERT_EQ(0, ioctl(self->ctl, SNAPMAP_IOC_LIST, &list));
	n = list.out_count < (__u32)n ? list.out_count : (__u32)n;
	for (i = n * SNAPMAP_MAP_DESC_SIZE_VER0;
	     i < (int)((n + 1) * sizeof(*old)); i++)
		ASSERT_EQ(0xa5, ((unsigned char *)old)[i]);
	free(old);

	EXPECT_EQ(0, close(named));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, find_listed(self->ctl, SNAPMAP_LIST_ALL, id, &desc));
}

/* INFO as the first version's size: no byte past it written. */
TEST_F(persist, info_old_size)
{
	unsigned char buf[sizeof(struct snapmap_info) + 8];
	struct snapmap_info *info = (void *)buf;
	__u32 i;
	int fd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	memset(buf + SNAPMAP_INFO_SIZE_VER0, 0x5a,
	       sizeof(buf) - SNAPMAP_INFO_SIZE_VER0);
	info->size = SNAPMAP_INFO_SIZE_VER0;
	ASSERT_EQ(0, ioctl(fd, SNAPMAP_IOC_INFO, info));
	for (i = SNAPMAP_INFO_SIZE_VER0; i < sizeof(buf); i++)
		ASSERT_EQ(0x5a, buf[i]);
	EXPECT_EQ(0600, info->out_mode);
	EXPECT_EQ(0, close(fd));
}

/*
 * Fill the small map @fd to its byte limit with 48-byte values, then make
 * a little room: the number of keys, or -1.
 */
static int fill_small(int fd)
{
	char key[16], value[48];
	int n, ret;

	memset(value, 'f', sizeof(value));
	for (n = 0; n < 1000; n++) {
		snprintf(key, sizeof(key), "key-%d", n);
		ret = sm_put(fd, 0, key, strlen(key), value, sizeof(value), 0,
			     NULL);
		if (ret == -ENOSPC)
			break;
		if (ret)
			return -1;
	}
	if (n < 4 || n == 1000)
		return -1;
	snprintf(key, sizeof(key), "key-%d", --n);
	if (sm_del(fd, 0, key, strlen(key), 0, NULL))
		return -1;
	snprintf(key, sizeof(key), "key-%d", --n);
	return sm_del(fd, 0, key, strlen(key), 0, NULL) ? -1 : n;
}

/*
 * Overwrite the @n keys of fill_small() until the snapshot @sfd goes
 * stale: the versions it pins take the map over its byte limit.
 */
static int make_stale(int fd, int n, int sfd)
{
	char key[16], value[48], buf[256];
	int round, i;

	for (round = 0; round < 100; round++) {
		for (i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "key-%d", i);
			memset(value, 'a' + round % 26, sizeof(value));
			if (sm_put(fd, 0, key, strlen(key), value,
				   sizeof(value), 0, NULL))
				return -2;
		}
		if (lseek(sfd, 0, SEEK_SET))
			return -1;
		if (read(sfd, buf, sizeof(buf)) < 0)
			return errno == ESTALE ? 0 : -3;
	}
	return -4;
}

/*
 * The snapshot counters of INFO: open, stale, invalidated ever, and the
 * bytes open snapshots pin; with each snapshot's fdinfo.
 */
TEST_F(persist, info_snapshot_counters)
{
	struct snapmap_info info;
	int fd, weak, s1, s2, keys;
	__u64 got, v2;

	fd = sm_create(self->ctl, 16, 64, 0, 8192, 0, NULL);
	ASSERT_LE(0, fd);
	keys = fill_small(fd);
	ASSERT_LT(0, keys);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_snapshots);
	EXPECT_EQ(0, info.out_stale_snapshots);
	EXPECT_EQ(0, info.out_invalidated);
	EXPECT_EQ(0, info.out_pinned_bytes);

	weak = sm_snapshot(fd, SNAPMAP_SNAPSHOT_WEAK, NULL);
	ASSERT_LE(0, weak);
	s1 = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, s1);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_snapshots);
	EXPECT_EQ(0, info.out_pinned_bytes);
	EXPECT_EQ(0, fdinfo_num(s1, "stale"));
	EXPECT_EQ(0, fdinfo_num(s1, "weak"));
	EXPECT_EQ(1, fdinfo_num(weak, "weak"));
	EXPECT_EQ(0, fdinfo_num(weak, "snapshot_version"));

	/* A key overwritten: its old version pinned for s1. */
	ASSERT_EQ(0, sm_put_str(fd, "key-0", "second", NULL));
	/* A version pinned is not live. */
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_LT(0, info.out_pinned_bytes);
	EXPECT_GT(info.out_bytes, info.out_pinned_bytes);

	ASSERT_EQ(0, make_stale(fd, keys, s1));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_snapshots);
	EXPECT_EQ(1, info.out_stale_snapshots);
	EXPECT_EQ(1, info.out_invalidated);
	EXPECT_EQ(1, fdinfo_num(s1, "stale"));

	/* A new one, then the stale one closed: invalidated stays. */
	s2 = sm_snapshot(fd, 0, &v2);
	ASSERT_LE(0, s2);
	EXPECT_EQ(v2, fdinfo_num(s2, "snapshot_version"));
	EXPECT_EQ(0, close(s1));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(2, info.out_snapshots);
	EXPECT_EQ(0, info.out_stale_snapshots);
	EXPECT_EQ(1, info.out_invalidated);

	EXPECT_EQ(0, close(weak));
	EXPECT_EQ(0, close(s2));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_snapshots);
	EXPECT_EQ(1, info.out_invalidated);
	/* What they pinned goes in the background. */
	ASSERT_EQ(0, sm_wait_bytes(fd, info.out_bytes - info.out_pinned_bytes,
				   &got));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(0, info.out_pinned_bytes);
	EXPECT_EQ(0, close(fd));
}

/* fdinfo of a map fd: the map's name, id, size and version. */
TEST_F(persist, fdinfo_map)
{
	struct snapmap_info info;
	char val[128];
	int fd, unnamed;

	fd = create_persistent(self->ctl, 0, self->name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "k", "v", NULL));
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(info.out_id, fdinfo_num(fd, "map_id"));
	ASSERT_EQ(0, fdinfo(fd, "map_name", val, sizeof(val)));
	EXPECT_STREQ(self->name, val);
	EXPECT_EQ(SNAPMAP_MAP_PERSISTENT, fdinfo_num(fd, "map_flags"));
	EXPECT_EQ(1, fdinfo_num(fd, "entries"));
	EXPECT_EQ(info.out_bytes, fdinfo_num(fd, "bytes"));
	EXPECT_EQ(info.out_version, fdinfo_num(fd, "version"));
	/* The kernel's own lines are there too, before. */
	EXPECT_EQ(0, fdinfo(fd, "flags", val, sizeof(val)));

	ASSERT_EQ(0, delete_map(self->ctl, self->name));
	ASSERT_EQ(0, fdinfo(fd, "map_name", val, sizeof(val)));
	EXPECT_STREQ("", val);
	EXPECT_EQ(0, fdinfo_num(fd, "map_flags"));

	unnamed = sm_create_default(self->ctl);
	ASSERT_LE(0, unnamed);
	EXPECT_EQ(map_id(unnamed), fdinfo_num(unnamed, "map_id"));
	EXPECT_EQ(0, fdinfo_num(unnamed, "entries"));
	EXPECT_EQ(0, fdinfo_num(unnamed, "version"));
	EXPECT_EQ(0, close(unnamed));
	EXPECT_EQ(0, close(fd));
}

/* fdinfo of a watch fd: its map, start, how far it was read, buffer. */
TEST_F(persist, fdinfo_watch)
{
	unsigned long long def = 0;
	char buf[4096];
	__u64 start, v1, v2;
	int fd, w, wd;

	fd = sm_create_default(self->ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "before", "x", NULL));
	w = sm_watch(fd, 0, 0, NULL, 0, 8192, &start, NULL);
	ASSERT_LE(0, w);
	EXPECT_EQ(map_id(fd), fdinfo_num(w, "map_id"));
	EXPECT_EQ(start, fdinfo_num(w, "watch_start"));
	EXPECT_EQ(start, fdinfo_num(w, "watch_read"));
	EXPECT_EQ(8192, fdinfo_num(w, "watch_buffer"));
	EXPECT_EQ(0, fdinfo_num(w, "watch_wakeup"));

	ASSERT_EQ(0, sm_put_str(fd, "a", "1", &v1));
	ASSERT_EQ(0, sm_put_str(fd, "b", "2", &v2));
	ASSERT_LT(0, read(w, buf, sizeof(buf)));
	EXPECT_EQ(v2, fdinfo_num(w, "watch_read"));
	EXPECT_EQ(v2, fdinfo_num(w, "version"));
	EXPECT_EQ(start, fdinfo_num(w, "watch_start"));

	/* The default buffer, as the module parameter says. */
	ASSERT_EQ(0, sm_param("watch_buffer_bytes", &def));
	if (def < SNAPMAP_WATCH_MIN_BUFFER)
		def = SNAPMAP_WATCH_MIN_BUFFER;
	wd = sm_watch(fd, 0, 0, NULL, 0, 0, NULL, NULL);
	ASSERT_LE(0, wd);
	EXPECT_EQ(def, fdinfo_num(wd, "watch_buffer"));
	EXPECT_EQ(0, close(wd));
	EXPECT_EQ(0, close(w));
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
