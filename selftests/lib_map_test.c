// SPDX-License-Identifier: GPL-2.0
/*
 * libsnapmap selftests: maps as wholes.  snapmap_create() with its
 * defaults and with every option, snapmap_open() by name, read-only and
 * as another user, snapmap_list() (also while maps come and go),
 * snapmap_info(), snapmap_clone() with a name and a mode, and each error
 * their man pages list: EINVAL, E2BIG (lib_base_test), EEXIST, ENOENT,
 * EACCES, EDQUOT, ESTALE, and ENOMEM (of snapmap_list() for lack of
 * address space, of create and clone by fault injection).
 */

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include "lib_test.h"

/* Users of the tests run as someone else. */
#define OTHER_UID 65534
#define QUOTA_UID 4711

FIXTURE(map) {
	int ctl;
};

FIXTURE_SETUP(map)
{
	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
}

FIXTURE_TEARDOWN(map)
{
	EXPECT_EQ(0, close(self->ctl));
}

/* The description named @name among the @n at @descs, or NULL. */
static const struct snapmap_map_desc *
find_desc(const struct snapmap_map_desc *descs, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(descs[i].name, name))
			return &descs[i];
	return NULL;
}

TEST_F(map, create_defaults)
{
	unsigned long long cap = 0;
	struct snapmap_info info;
	int fd;

	fd = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0600, info.out_mode);
	EXPECT_EQ(geteuid(), info.out_uid);
	EXPECT_EQ(getegid(), info.out_gid);
	EXPECT_STREQ("", info.out_name);
	EXPECT_EQ(0, info.out_entries);
	EXPECT_EQ(0, info.out_version);
	/* 0 asks for the module's caps. */
	if (!sm_param("max_key_len", &cap)) {
		EXPECT_EQ(cap, info.out_max_key_len);
	}
	if (!sm_param("max_value_len", &cap)) {
		EXPECT_EQ(cap, info.out_max_value_len);
	}
	if (!sm_param("max_entries", &cap)) {
		EXPECT_EQ(cap, info.out_max_entries);
	}
	if (!sm_param("max_bytes", &cap)) {
		EXPECT_EQ(cap, info.out_max_bytes);
	}
	EXPECT_EQ(0, close(fd));
}

TEST_F(map, create_opts)
{
	char name[SNAPMAP_NAME_LEN], value[8];
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .max_key_len = 16,
		     .max_value_len = 32,
		     .max_entries = 100,
		     .max_bytes = 65536,
		     .mode = 0640,
		     .name = lib_name(name, "create-opts"));
	struct snapmap_info info;
	__u32 len = sizeof(value);
	__u64 version;
	int fd, rw, ro;

	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(16, info.out_max_key_len);
	EXPECT_EQ(32, info.out_max_value_len);
	EXPECT_EQ(100, info.out_max_entries);
	EXPECT_EQ(65536, info.out_max_bytes);
	EXPECT_EQ(0640, info.out_mode);
	EXPECT_STREQ(name, info.out_name);

	/* The same map, by name, read-write and read-only. */
	rw = LIB(snapmap_open(self->ctl, name, 0));
	ASSERT_LE(0, rw);
	EXPECT_EQ(O_RDWR, fcntl(rw, F_GETFL) & O_ACCMODE);
	ro = LIB(snapmap_open(-1, name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ro);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, LIB(snapmap_put(rw, "k", 1, "v", 1, 0, &version)));
	EXPECT_EQ(0, LIB(snapmap_get(ro, "k", 1, value, &len, NULL)));
	EXPECT_EQ(1, len);
	EXPECT_VALUE(fd, "k", 1, "v", 1, version);
	ASSERT_EQ(0, LIB(snapmap_info(ro, &info)));
	EXPECT_STREQ(name, info.out_name);
	EXPECT_EQ(1, info.out_entries);

	EXPECT_EQ(0, close(ro));
	EXPECT_EQ(0, close(rw));
	EXPECT_EQ(0, close(fd));
	/* Gone with its last fd, and its name with it. */
	EXPECT_EQ(-ENOENT, LIB(snapmap_open(self->ctl, name, 0)));
	fd = LIB(snapmap_create(-1, &opts));
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST_F(map, create_names)
{
	char name[SNAPMAP_NAME_LEN + 1];
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = name);
	struct snapmap_info info;
	int fd, fd2;

	/* The longest name: SNAPMAP_NAME_LEN - 1 characters. */
	memset(name, 0, sizeof(name));
	snprintf(name, sizeof(name), "lib-%d-", (int)getpid());
	memset(name + strlen(name), 'x', SNAPMAP_NAME_LEN - 1 - strlen(name));
	ASSERT_EQ(SNAPMAP_NAME_LEN - 1, strlen(name));
	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_STREQ(name, info.out_name);
	/* The name is taken. */
	EXPECT_EQ(-EEXIST, LIB(snapmap_create(self->ctl, &opts)));
	EXPECT_EQ(-EEXIST, LIB(snapmap_create(-1, &opts)));
	fd2 = LIB(snapmap_open(-1, name, 0));
	EXPECT_LE(0, fd2);
	close(fd2);
	/*
	 * One more character does not fit: EINVAL, where cutting it would
	 * have been EEXIST.
	 */
	name[SNAPMAP_NAME_LEN - 1] = 'x';
	EXPECT_EQ(-EINVAL, LIB(snapmap_create(self->ctl, &opts)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_open(self->ctl, name, 0)));
	EXPECT_EQ(0, close(fd));

	/* Characters outside [A-Za-z0-9._-]. */
	EXPECT_EQ(-EINVAL,
		  LIB(snapmap_create(self->ctl, &(struct snapmap_create_opts){
			.sz = sizeof(opts), .name = "a/b" })));
	EXPECT_EQ(-EINVAL,
		  LIB(snapmap_create(self->ctl, &(struct snapmap_create_opts){
			.sz = sizeof(opts), .name = "a b" })));
	EXPECT_EQ(-ENOENT, LIB(snapmap_open(self->ctl, "lib-no-such-map", 0)));

	/* "" and NULL make an unnamed map. */
	opts.name = "";
	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_STREQ("", info.out_name);
	EXPECT_EQ(0, close(fd));
	opts.name = NULL;
	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

/* Bad limits and modes are EINVAL, and create nothing. */
TEST_F(map, create_einval)
{
	char name[SNAPMAP_NAME_LEN];
	SNAPMAP_OPTS(snapmap_create_opts, opts,
		     .name = lib_name(name, "einval"));
	unsigned long long cap = 0;

	opts.mode = 01000;
	EXPECT_EQ(-EINVAL, LIB(snapmap_create(self->ctl, &opts)));
	opts.mode = 0;
	ASSERT_EQ(0, sm_param("max_key_len", &cap));
	opts.max_key_len = cap + 1;
	EXPECT_EQ(-EINVAL, LIB(snapmap_create(self->ctl, &opts)));
	opts.max_key_len = 0;
	ASSERT_EQ(0, sm_param("max_value_len", &cap));
	opts.max_value_len = cap + 1;
	EXPECT_EQ(-EINVAL, LIB(snapmap_create(-1, &opts)));
	opts.max_value_len = 0;
	ASSERT_EQ(0, sm_param("max_entries", &cap));
	opts.max_entries = cap + 1;
	EXPECT_EQ(-EINVAL, LIB(snapmap_create(-1, &opts)));
	opts.max_entries = 0;
	ASSERT_EQ(0, sm_param("max_bytes", &cap));
	opts.max_bytes = cap + 1;
	EXPECT_EQ(-EINVAL, LIB(snapmap_create(-1, &opts)));
	EXPECT_EQ(-ENOENT, LIB(snapmap_open(-1, name, 0)));
}

TEST_F(map, open_einval)
{
	char name[SNAPMAP_NAME_LEN];
	int fd;

	fd = LIB(snapmap_create(self->ctl, &(struct snapmap_create_opts){
		.sz = sizeof(struct snapmap_create_opts),
		.name = lib_name(name, "open-einval") }));
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, LIB(snapmap_open(self->ctl, NULL, 0)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_open(self->ctl, "", 0)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_open(self->ctl, "a/b", 0)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_open(self->ctl, name, 1U << 1)));
	EXPECT_EQ(-EINVAL, LIB(snapmap_open(-1, name, ~0U)));
	EXPECT_EQ(0, close(fd));
}

struct open_as {
	const char *name;
	__u32 flags;
};

/* In a child: snapmap_open()'s result, as an exit status. */
static int open_as_child(void *arg)
{
	struct open_as *o = arg;
	int fd = snapmap_open(-1, o->name, o->flags);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return -fd;
}

/* The map's mode is checked like a file's, for the library as well. */
TEST_F(map, open_eacces)
{
	char name[SNAPMAP_NAME_LEN];
	struct open_as o = { .name = lib_name(name, "eacces") };
	SNAPMAP_OPTS(snapmap_create_opts, opts, .mode = 0604, .name = name);
	int fd;

	fd = LIB(snapmap_create(self->ctl, &opts));
	ASSERT_LE(0, fd);
	o.flags = 0;
	EXPECT_EQ(EACCES, sm_run_as(OTHER_UID, OTHER_UID, 0, NULL,
				    open_as_child, &o));
	o.flags = SNAPMAP_OPEN_RDONLY;
	EXPECT_EQ(0, sm_run_as(OTHER_UID, OTHER_UID, 0, NULL, open_as_child,
			       &o));
	EXPECT_EQ(0, close(fd));
}

FIXTURE(quota) {
	int ctl;
	unsigned long long saved;
	bool restore;
};

FIXTURE_SETUP(quota)
{
	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, sm_param("max_maps_per_user", &self->saved));
	ASSERT_EQ(0, sm_set_param("max_maps_per_user", 2));
	self->restore = true;
}

FIXTURE_TEARDOWN(quota)
{
	if (self->restore) {
		EXPECT_EQ(0, sm_set_param("max_maps_per_user", self->saved));
	}
	close(self->ctl);
}

/* In a child: fill the user's quota, then go past it both ways. */
static int quota_child(void *arg)
{
	SNAPMAP_OPTS(snapmap_clone_opts, opts, .name = arg);
	int fd1, fd2;

	fd1 = snapmap_create(-1, NULL);
	fd2 = snapmap_create(-1, NULL);
	if (fd1 < 0 || fd2 < 0)
		return 1;
	if (snapmap_create(-1, NULL) != -EDQUOT)
		return 2;
	if (snapmap_clone(fd1, NULL, NULL) != -EDQUOT)
		return 3;
	/* Nothing was made: the name is still free. */
	if (snapmap_clone(fd1, &opts, NULL) != -EDQUOT ||
	    snapmap_open(-1, arg, 0) != -ENOENT)
		return 4;
	/* One closed gives one back. */
	close(fd2);
	fd2 = snapmap_clone(fd1, NULL, NULL);
	if (fd2 < 0)
		return 5;
	return 0;
}

TEST_F(quota, edquot)
{
	char name[SNAPMAP_NAME_LEN];

	EXPECT_EQ(0, sm_run_as(QUOTA_UID, QUOTA_UID, 0, NULL, quota_child,
			       lib_name(name, "quota")));
}

TEST_F(map, list)
{
	static const __u32 modes[] = { 0600, 0640, 0604 };
	char names[3][SNAPMAP_NAME_LEN], tag[8];
	struct snapmap_map_desc *descs;
	const struct snapmap_map_desc *d;
	SNAPMAP_OPTS(snapmap_create_opts, opts);
	struct snapmap_info info;
	int fds[3], unnamed, n, n2, i;

	for (i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "list%d", i);
		opts.name = lib_name(names[i], tag);
		opts.mode = modes[i];
		fds[i] = LIB(snapmap_create(self->ctl, &opts));
		ASSERT_LE(0, fds[i]);
	}
	unnamed = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, unnamed);

	n = LIB(snapmap_list(self->ctl, &descs));
	ASSERT_LE(3, n);
	ASSERT_TRUE(descs != NULL);
	for (i = 0; i < 3; i++) {
		d = find_desc(descs, n, names[i]);
		ASSERT_TRUE(d != NULL) {
			TH_LOG("%s not listed", names[i]);
		}
		EXPECT_EQ(geteuid(), d->uid);
		EXPECT_EQ(getegid(), d->gid);
		EXPECT_EQ(modes[i], d->mode);
	}
	/* Named maps only: every description has a name. */
	for (i = 0; i < n; i++) {
		EXPECT_NE(0, descs[i].name[0]);
		EXPECT_GT(SNAPMAP_NAME_LEN, strnlen(descs[i].name,
						    SNAPMAP_NAME_LEN));
	}
	free(descs);

	/* A name goes with its map; ctl_fd -1. */
	EXPECT_EQ(0, close(fds[1]));
	n2 = LIB(snapmap_list(-1, &descs));
	EXPECT_EQ(n - 1, n2);
	EXPECT_TRUE(find_desc(descs, n2, names[0]) != NULL);
	EXPECT_TRUE(find_desc(descs, n2, names[1]) == NULL);
	EXPECT_TRUE(find_desc(descs, n2, names[2]) != NULL);
	free(descs);

	/* The count is what INFO of each can tell, too. */
	ASSERT_EQ(0, LIB(snapmap_info(fds[2], &info)));
	EXPECT_EQ(0604, info.out_mode);

	EXPECT_EQ(-EINVAL, LIB(snapmap_list(self->ctl, NULL)));
	EXPECT_EQ(0, close(unnamed));
	EXPECT_EQ(0, close(fds[2]));
	EXPECT_EQ(0, close(fds[0]));
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
 * No memory for the array of descriptions: ENOMEM, and NULL.  The process
 * may not grow its address space while it asks, and the heap was trimmed
 * before, so an array of hundreds of descriptions cannot be had.
 */
TEST_F_TIMEOUT(map, list_enomem, 120)
{
	char name[SNAPMAP_NAME_LEN], tag[16];
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = name);
	struct snapmap_map_desc *descs = (void *)1;
	struct rlimit saved, rl;
	int fds[300], i, n;
	size_t vm;

	for (i = 0; i < 300; i++) {
		snprintf(tag, sizeof(tag), "enomem%d", i);
		lib_name(name, tag);
		fds[i] = LIB(snapmap_create(self->ctl, &opts));
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(1, mallopt(M_TOP_PAD, 0));
	malloc_trim(0);
	vm = vm_size();
	if (!vm)
		SKIP(return, "no VmSize in /proc/self/status");
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, &saved));
	rl = saved;
	rl.rlim_cur = vm;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &rl));
	n = snapmap_list(self->ctl, &descs);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &saved));
	EXPECT_EQ(-ENOMEM, n);
	EXPECT_TRUE(descs == NULL);

	n = LIB(snapmap_list(self->ctl, &descs));
	EXPECT_LE(300, n);
	free(descs);
	for (i = 0; i < 300; i++)
		EXPECT_EQ(0, close(fds[i]));
}

struct churn {
	pthread_t thread;
	int stop;
	int done;
	unsigned int made;
	int err;
};

/* Named maps created and closed as fast as can be, until told to stop. */
static void *churn_fn(void *arg)
{
	char name[SNAPMAP_NAME_LEN], tag[16];
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = name);
	struct churn *c = arg;
	int fds[8], i;

	while (!LOAD(&c->stop)) {
		for (i = 0; i < 8; i++) {
			snprintf(tag, sizeof(tag), "churn%d", i);
			lib_name(name, tag);
			fds[i] = snapmap_create(-1, &opts);
			if (fds[i] < 0) {
				c->err = fds[i];
				STORE(&c->done, 1);
				return NULL;
			}
			STORE(&c->made, c->made + 1);
		}
		for (i = 0; i < 8; i++)
			close(fds[i]);
	}
	STORE(&c->done, 1);
	return NULL;
}

/*
 * While named maps come and go, every listing holds the maps that live
 * throughout, and no name twice: the count-then-fill loop copes with maps
 * created between its two calls.
 */
TEST_F_TIMEOUT(map, list_while_creating, 120)
{
	char names[4][SNAPMAP_NAME_LEN], tag[16];
	SNAPMAP_OPTS(snapmap_create_opts, opts);
	struct snapmap_map_desc *descs;
	struct churn c = { 0 };
	int fds[4], n, i, j, round, bad = 0;

	for (i = 0; i < 4; i++) {
		snprintf(tag, sizeof(tag), "steady%d", i);
		opts.name = lib_name(names[i], tag);
		fds[i] = LIB(snapmap_create(self->ctl, &opts));
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, pthread_create(&c.thread, NULL, churn_fn, &c));

	/* Until a few hundred maps came and went while listings ran. */
	for (round = 0;
	     (LOAD(&c.made) < 400 || round < 100) && !LOAD(&c.done) && !bad;
	     round++) {
		n = LIB(snapmap_list(self->ctl, &descs));
		ASSERT_LE(4, n);
		for (i = 0; i < 4; i++)
			if (!find_desc(descs, n, names[i]))
				bad++;
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (!strcmp(descs[i].name, descs[j].name))
					bad++;
		free(descs);
	}
	STORE(&c.stop, 1);
	pthread_join(c.thread, NULL);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, c.err);
	TH_LOG("%d listings while %u maps were created", round, c.made);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_F(map, info)
{
	struct snapmap_info info;
	char value[4];
	__u32 len;
	__u64 v1, v2, v3;
	int fd;

	fd = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_put(fd, "a", 1, "1", 1, 0, &v1)));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "b", 1, "22", 2, 0, &v2)));
	len = sizeof(value);
	ASSERT_EQ(0, LIB(snapmap_get(fd, "a", 1, value, &len, NULL)));
	len = sizeof(value);
	EXPECT_EQ(-ENOENT, LIB(snapmap_get(fd, "c", 1, value, &len, NULL)));
	ASSERT_EQ(0, LIB(snapmap_del(fd, "a", 1, &v3)));

	ASSERT_EQ(0, LIB(snapmap_info(fd, &info)));
	EXPECT_EQ(1, info.out_entries);
	EXPECT_LT(0, info.out_bytes);
	EXPECT_EQ(v3, info.out_version);
	EXPECT_LT(v2, v3);
	EXPECT_LT(v1, v2);
	EXPECT_EQ(2, info.out_gets);
	EXPECT_EQ(2, info.out_puts);
	EXPECT_EQ(1, info.out_dels);
	EXPECT_EQ(-EINVAL, LIB(snapmap_info(fd, NULL)));
	EXPECT_EQ(0, close(fd));
}

/* Read every record of an ATOMIC snapshot of @fd into a checksum. */
static int snapshot_sum(int fd, unsigned long long *sum, unsigned int *n)
{
	struct snapmap_snapshot *snap;
	struct snapmap_entry e;
	__u32 i;
	int ret;

	*sum = 0;
	*n = 0;
	ret = snapmap_snapshot_open(fd, NULL, &snap);
	if (ret)
		return ret;
	while ((ret = snapmap_snapshot_next(snap, &e)) > 0) {
		(*n)++;
		for (i = 0; i < e.key_len; i++)
			*sum += ((const unsigned char *)e.key)[i] * (i + 1);
		for (i = 0; i < e.value_len; i++)
			*sum += ((const unsigned char *)e.value)[i] * (i + 7);
		*sum += e.version * 31;
	}
	snapmap_snapshot_close(snap);
	return ret;
}

TEST_F(map, clone)
{
	struct snapmap_info src, info;
	unsigned long long sum1, sum2;
	unsigned int n1, n2, i;
	char key[16], value[16];
	__u64 last = 0, cv = 0, v;
	int fd, cfd;

	fd = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, fd);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "key%u", i);
		snprintf(value, sizeof(value), "value%u", i * i);
		ASSERT_EQ(0, LIB(snapmap_put(fd, key, strlen(key), value,
					     strlen(value), 0, &last)));
	}
	ASSERT_EQ(0, LIB(snapmap_del(fd, "key7", 4, &last)));

	cfd = LIB(snapmap_clone(fd, NULL, &cv));
	ASSERT_LE(0, cfd);
	/* It holds exactly the writes below its version. */
	EXPECT_LT(last, cv);
	ASSERT_EQ(0, LIB(snapmap_info(fd, &src)));
	ASSERT_EQ(0, LIB(snapmap_info(cfd, &info)));
	EXPECT_EQ(99, info.out_entries);
	EXPECT_EQ(src.out_bytes, info.out_bytes);
	EXPECT_EQ(src.out_max_key_len, info.out_max_key_len);
	EXPECT_EQ(src.out_max_value_len, info.out_max_value_len);
	EXPECT_EQ(src.out_max_entries, info.out_max_entries);
	EXPECT_EQ(src.out_max_bytes, info.out_max_bytes);
	EXPECT_EQ(0600, info.out_mode);
	EXPECT_STREQ("", info.out_name);
	/* Same keys, values and versions. */
	ASSERT_EQ(0, snapshot_sum(fd, &sum1, &n1));
	ASSERT_EQ(0, snapshot_sum(cfd, &sum2, &n2));
	EXPECT_EQ(99, n1);
	EXPECT_EQ(n1, n2);
	EXPECT_EQ(sum1, sum2);

	/* Its own writes come after what it copied; the source's stay. */
	ASSERT_EQ(0, LIB(snapmap_put(cfd, "key1", 4, "x", 1, 0, &v)));
	EXPECT_LT(cv, v);
	EXPECT_VALUE(fd, "key1", 4, "value1", 6, 2);
	/* NULL for the version. */
	EXPECT_EQ(0, close(cfd));
	cfd = LIB(snapmap_clone(fd, NULL, NULL));
	EXPECT_LE(0, cfd);
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));
}

TEST_F(map, clone_name_mode)
{
	char src_name[SNAPMAP_NAME_LEN], name[SNAPMAP_NAME_LEN + 1];
	SNAPMAP_OPTS(snapmap_create_opts, copts,
		     .name = lib_name(src_name, "clone-src"));
	SNAPMAP_OPTS(snapmap_clone_opts, opts, .mode = 0640,
		     .name = lib_name(name, "clone-dst"));
	struct snapmap_map_desc *descs;
	const struct snapmap_map_desc *d;
	struct snapmap_info info;
	int fd, cfd, ofd, n;

	fd = LIB(snapmap_create(self->ctl, &copts));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k", 1, "v", 1, 0, NULL)));
	cfd = LIB(snapmap_clone(fd, &opts, NULL));
	ASSERT_LE(0, cfd);
	EXPECT_EQ(O_RDWR, fcntl(cfd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, LIB(snapmap_info(cfd, &info)));
	EXPECT_EQ(0640, info.out_mode);
	EXPECT_STREQ(name, info.out_name);
	EXPECT_EQ(1, info.out_entries);

	/* Listed and opened by its name. */
	n = LIB(snapmap_list(-1, &descs));
	ASSERT_LE(2, n);
	d = find_desc(descs, n, name);
	ASSERT_TRUE(d != NULL);
	EXPECT_EQ(0640, d->mode);
	free(descs);
	ofd = LIB(snapmap_open(self->ctl, name, SNAPMAP_OPEN_RDONLY));
	ASSERT_LE(0, ofd);
	EXPECT_VALUE(ofd, "k", 1, "v", 1, 1);
	EXPECT_EQ(0, close(ofd));

	/* Names taken, by the source or by the clone itself. */
	EXPECT_EQ(-EEXIST, LIB(snapmap_clone(fd, &opts, NULL)));
	opts.name = src_name;
	EXPECT_EQ(-EEXIST, LIB(snapmap_clone(fd, &opts, NULL)));
	/* Too long, bad characters, bad mode. */
	memset(name, 'y', SNAPMAP_NAME_LEN);
	name[SNAPMAP_NAME_LEN] = 0;
	opts.name = name;
	EXPECT_EQ(-EINVAL, LIB(snapmap_clone(fd, &opts, NULL)));
	opts.name = "a:b";
	EXPECT_EQ(-EINVAL, LIB(snapmap_clone(fd, &opts, NULL)));
	opts.name = NULL;
	opts.mode = 01000;
	EXPECT_EQ(-EINVAL, LIB(snapmap_clone(fd, &opts, NULL)));
	EXPECT_EQ(0, close(cfd));
	EXPECT_EQ(0, close(fd));
}

struct overwriter {
	pthread_t thread;
	int fd;
	unsigned int keys;
	int stop;
	unsigned long writes;
	int err;
};

/* Overwrite the keys of a full map over and over, until told to stop. */
static void *overwriter_fn(void *arg)
{
	struct overwriter *w = arg;
	char key[16], value[48];
	unsigned int i;
	int ret;

	memset(value, 'w', sizeof(value));
	while (!LOAD(&w->stop)) {
		for (i = 0; i < w->keys; i++) {
			snprintf(key, sizeof(key), "k%u", i);
			value[0] = 'a' + w->writes % 26;
			ret = snapmap_put(w->fd, key, strlen(key), value,
					  sizeof(value), 0, NULL);
			if (ret) {
				w->err = ret;
				return NULL;
			}
			w->writes++;
		}
	}
	return NULL;
}

/*
 * A clone copies an ATOMIC snapshot of its source.  When writers take the
 * source over its byte limit while the copy is made, the snapshot goes
 * stale and so does the clone: ESTALE, and no map is made.  Writes never
 * fail for it.
 */
TEST_F_TIMEOUT(map, clone_estale, 300)
{
	char name[SNAPMAP_NAME_LEN], key[16], value[48];
	SNAPMAP_OPTS(snapmap_create_opts, copts, .max_bytes = 1 << 20);
	SNAPMAP_OPTS(snapmap_clone_opts, opts, .name = name);
	struct overwriter w = { 0 };
	unsigned int ok = 0, stale = 0, other = 0, i;
	int fd, ret = 0;

	lib_name(name, "clone-stale");
	fd = LIB(snapmap_create(self->ctl, &copts));
	ASSERT_LE(0, fd);
	memset(value, 'v', sizeof(value));
	for (i = 0; ; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		ret = snapmap_put(fd, key, strlen(key), value, sizeof(value),
				  0, NULL);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOSPC, ret);
	w.fd = fd;
	w.keys = i;
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, overwriter_fn, &w));

	for (i = 0; i < 200 && !stale; i++) {
		ret = snapmap_clone(fd, &opts, NULL);
		if (ret >= 0) {
			ok++;
			close(ret);
		} else if (ret == -ESTALE) {
			stale++;
			/* Nothing made, the name is free. */
			EXPECT_EQ(-ENOENT, LIB(snapmap_open(-1, name, 0)));
		} else {
			other++;
			TH_LOG("clone: %s", strerror(-ret));
		}
	}
	STORE(&w.stop, 1);
	pthread_join(w.thread, NULL);
	TH_LOG("%u clones of %u keys: %u made, %u stale, while %lu writes ran",
	       i, w.keys, ok, stale, w.writes);
	EXPECT_EQ(0, w.err);
	EXPECT_EQ(0, other);
	EXPECT_LT(0, stale);
	EXPECT_EQ(0, close(fd));
}

/*
 * The module's allocations failing one by one, with the kernel's fault
 * injection (fail-nth: the n-th fault point this thread meets fails):
 * create and clone fail with ENOMEM when an allocation fails (or EFAULT
 * when the injected failure is a user copy), leave nothing behind, and
 * work again right after.  Needs a kernel with fault injection, as the
 * debug kernel; skipped elsewhere.
 */
#define FAULT_DIR "/sys/kernel/debug/"

static const char *const fault_knobs[] = {
	"failslab/ignore-gfp-wait",
	"failslab/verbose",
	"fail_usercopy/verbose",
	"fail_page_alloc/verbose",
};

FIXTURE(failnth) {
	int ctl;
	int nth;
	char saved[ARRAY_SIZE(fault_knobs)][16];
};

static int read_knob(const char *knob, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), FAULT_DIR "%s", knob);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	return 0;
}

static int write_knob(const char *knob, const char *val)
{
	char path[128];
	ssize_t len = strlen(val);
	int fd, ret = 0;

	snprintf(path, sizeof(path), FAULT_DIR "%s", knob);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE_SETUP(failnth)
{
	char path[64];
	unsigned int i;

	self->ctl = LIB(snapmap_ctl_open());
	ASSERT_LE(0, self->ctl);
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth",
		 (int)gettid());
	self->nth = open(path, O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "no fault injection (%s)", path);
	if (read_knob(fault_knobs[0], self->saved[0], sizeof(self->saved[0])))
		SKIP(return, "no failslab");
	/* Allocations that may sleep fail too; no stack dump for each. */
	for (i = 0; i < ARRAY_SIZE(fault_knobs); i++) {
		if (read_knob(fault_knobs[i], self->saved[i],
			      sizeof(self->saved[i])))
			continue;
		EXPECT_EQ(0, write_knob(fault_knobs[i], i ? "0" : "N"));
	}
}

FIXTURE_TEARDOWN(failnth)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fault_knobs); i++)
		if (self->saved[i][0])
			write_knob(fault_knobs[i], self->saved[i]);
	if (self->nth >= 0)
		close(self->nth);
	close(self->ctl);
}

/* Make the @n-th fault point this thread meets fail; 0 disarms. */
static void fail_nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	/*
	 * Disarming copies from user memory, itself a fault point: it may
	 * fail as the last one counted down, and disarms all the same.
	 */
	if (pwrite(fd, buf, len, 0) != len && (n || errno != EFAULT))
		abort();
}

/*
 * Whether the fault point armed was reached.  Reading copies to user
 * memory, a fault point too: if that is the one, it was not reached
 * before.
 */
static bool fail_nth_reached(int fd)
{
	char buf[16] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	return strtoul(buf, NULL, 10) == 0;
}

struct fail_call {
	int (*fn)(struct fail_call *call);
	int ctl;
	int fd;
	const char *name;
};

/*
 * Run @call with the 1st, 2nd, ... fault point failing, until it meets
 * fewer fault points than that: each failure must be ENOMEM or EFAULT
 * with no map made (no map has the name), and at least one must be
 * ENOMEM.  A success (an allocation with a fallback) is closed again.
 */
static void expect_fail_nth(struct __test_metadata *_metadata, int nth,
			    struct fail_call *call, const char *what)
{
	unsigned int n, enomem = 0;
	bool reached;
	int ret;

	for (n = 1; n < 1000; n++) {
		fail_nth_arm(nth, n);
		ret = call->fn(call);
		reached = fail_nth_reached(nth);
		fail_nth_arm(nth, 0);
		if (ret >= 0) {
			EXPECT_EQ(0, close(ret));
			if (!reached)
				break;
			continue;
		}
		EXPECT_TRUE(reached) {
			TH_LOG("%s: %d with no fault injected", what, ret);
		}
		enomem += ret == -ENOMEM;
		EXPECT_TRUE(ret == -ENOMEM || ret == -EFAULT) {
			TH_LOG("%s: fault point %u: %d", what, n, ret);
		}
		EXPECT_EQ(-ENOENT, LIB(snapmap_open(call->ctl, call->name, 0)));
	}
	EXPECT_GT(1000, n);
	EXPECT_LT(0, enomem);
	TH_LOG("%s: %u fault points, %u of them ENOMEM", what, n - 1, enomem);
}

static int fail_create(struct fail_call *call)
{
	SNAPMAP_OPTS(snapmap_create_opts, opts, .name = call->name);

	return snapmap_create(call->ctl, &opts);
}

static int fail_clone(struct fail_call *call)
{
	SNAPMAP_OPTS(snapmap_clone_opts, opts, .name = call->name);

	return snapmap_clone(call->fd, &opts, NULL);
}

TEST_F(failnth, create_clone_enomem)
{
	char name[SNAPMAP_NAME_LEN];
	struct fail_call call = {
		.ctl = self->ctl,
		.name = lib_name(name, "failnth"),
	};
	int fd;

	call.fn = fail_create;
	expect_fail_nth(_metadata, self->nth, &call, "create");

	fd = LIB(snapmap_create(self->ctl, NULL));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k1", 2, "v1", 2, 0, NULL)));
	ASSERT_EQ(0, LIB(snapmap_put(fd, "k2", 2, "v2", 2, 0, NULL)));
	call.fn = fail_clone;
	call.fd = fd;
	expect_fail_nth(_metadata, self->nth, &call, "clone");
	/* Intact. */
	EXPECT_VALUE(fd, "k2", 2, "v2", 2, 2);
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
