// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: the kernel API, through the sample consumer module
 * kmod/sample/snapmap_sample.ko.
 *
 * The sample module creates the named map "snapmap_sample" and exposes the
 * kernel API in /sys/kernel/debug/snapmap_sample/.  These tests open the
 * same map from user space with SNAPMAP_IOC_OPEN and check that what one
 * side writes, the other reads, with the same versions.  Without the
 * sample module every test is skipped.
 */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snapmap_test.h"

#define SAMPLE_MAP "snapmap_sample"
#define SAMPLE_DIR "/sys/kernel/debug/snapmap_sample"

/* The sample module's limits. */
#define SAMPLE_MAX_KEY_LEN 64
#define SAMPLE_MAX_VALUE_LEN 256

#define GREETING_KEY "kernel.greeting"
#define GREETING "hello from the kernel"

/* Longest answer of a sample file: "<version> <value>\n". */
#define ANSWER_LEN (20 + 1 + SAMPLE_MAX_VALUE_LEN + 1)

static int sample_open(const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), SAMPLE_DIR "/%s", file);
	return open(path, O_RDWR | O_CLOEXEC);
}

/*
 * Read the answer of the open sample file @fd from offset 0 into @buf,
 * NUL-terminated.  Returns its length or -errno.
 */
static int sample_read(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/*
 * Write @cmd to the sample file @file: 0 or the -errno of the kernel API.
 * When @version is not NULL, read back the version of the write.
 */
static int sample_cmd(const char *file, const char *cmd, __u64 *version)
{
	char buf[64];
	int fd, ret;

	fd = sample_open(file);
	if (fd < 0)
		return -errno;
	ret = sm_ret(write(fd, cmd, strlen(cmd)));
	if (ret >= 0)
		ret = ret == (int)strlen(cmd) ? 0 : -EIO;
	if (ret == 0 && version) {
		ret = sample_read(fd, buf, sizeof(buf));
		if (ret > 0)
			ret = sscanf(buf, "%llu\n",
				     (unsigned long long *)version) == 1 ?
			      0 : -EIO;
	}
	close(fd);
	return ret;
}

/*
 * Look @key up through the sample file @file ("lookup" or "lookup_rcu"):
 * the value goes to @value, NUL-terminated, its version to @version.
 * Returns 0 or the -errno of the kernel API.
 */
static int sample_lookup(const char *file, const char *key, char *value,
			 size_t size, __u64 *version)
{
	char buf[ANSWER_LEN + 1], *space;
	int fd, n, ret;

	fd = sample_open(file);
	if (fd < 0)
		return -errno;
	ret = sm_ret(write(fd, key, strlen(key)));
	if (ret < 0)
		goto out;
	n = sample_read(fd, buf, sizeof(buf));
	ret = n;
	if (n < 0)
		goto out;
	/* "<version> <value>\n" */
	ret = -EIO;
	space = strchr(buf, ' ');
	if (!space || n < 2 || buf[n - 1] != '\n' ||
	    (size_t)(buf + n - 1 - (space + 1)) >= size)
		goto out;
	*version = strtoull(buf, NULL, 10);
	memcpy(value, space + 1, buf + n - 1 - (space + 1));
	value[buf + n - 1 - (space + 1)] = '\0';
	ret = 0;
out:
	close(fd);
	return ret;
}

/* What the sample's find file reports of its map. */
struct sample_found {
	char name[SNAPMAP_NAME_LEN];
	unsigned long long entries;
	unsigned long long version;
};

static int sample_find(struct sample_found *found)
{
	char buf[ANSWER_LEN + 1];
	int fd, ret;

	fd = sample_open("find");
	if (fd < 0)
		return -errno;
	ret = sample_read(fd, buf, sizeof(buf));
	close(fd);
	if (ret < 0)
		return ret;
	if (sscanf(buf, "name %63s\nentries %llu\nversion %llu\n",
		   found->name, &found->entries, &found->version) != 3)
		return -EIO;
	return 0;
}

/* GET a string value from user space, NUL-terminated in @value. */
static int user_get(int map, const char *key, char *value, size_t size,
		    __u64 *version)
{
	__u32 len;
	int ret;

	ret = sm_get(map, key, strlen(key), value, size - 1, &len, version);
	if (ret == 0)
		value[len] = '\0';
	return ret;
}

FIXTURE(kapi) {
	int ctl;
	int map;
};

/*
 * Without the sample module the setup leaves both fds at -1 and each test
 * skips itself: the 6.1 harness runs a test's body even when its setup
 * called SKIP().
 */
#define NO_SAMPLE "snapmap_sample.ko is not loaded"

FIXTURE_SETUP(kapi)
{
	self->ctl = -1;
	self->map = -1;
	if (access(SAMPLE_DIR, F_OK))
		return;
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->map = sm_open(self->ctl, SAMPLE_MAP, 0);
	ASSERT_LE(0, self->map);
}

FIXTURE_TEARDOWN(kapi)
{
	if (self->map >= 0)
		EXPECT_EQ(0, close(self->map));
	if (self->ctl >= 0)
		EXPECT_EQ(0, close(self->ctl));
}

/* The key the module wrote at load, read from both sides. */
TEST_F(kapi, greeting)
{
	char value[SAMPLE_MAX_VALUE_LEN + 1], kvalue[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 version = 0, kversion = 0;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, user_get(self->map, GREETING_KEY, value, sizeof(value),
			      &version));
	EXPECT_STREQ(GREETING, value);
	EXPECT_LT(0, version);

	ASSERT_EQ(0, sample_lookup("lookup", GREETING_KEY, kvalue,
				   sizeof(kvalue), &kversion));
	EXPECT_STREQ(GREETING, kvalue);
	EXPECT_EQ(version, kversion);
}

/* The map the module created is reachable by name with its limits. */
TEST_F(kapi, map_info)
{
	struct snapmap_info info;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_info(self->map, &info));
	EXPECT_STREQ(SAMPLE_MAP, info.out_name);
	EXPECT_EQ(SAMPLE_MAX_KEY_LEN, info.out_max_key_len);
	EXPECT_EQ(SAMPLE_MAX_VALUE_LEN, info.out_max_value_len);
	EXPECT_EQ(0666, info.out_mode);
	EXPECT_LE(1, info.out_entries);
}

/* A value put from user space, read by the kernel both ways. */
TEST_F(kapi, user_put_kernel_lookup)
{
	const char *key = "user.key";
	const char *val = "from user space = @ anywhere";
	char value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 version = 0, kversion = 0;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, key, val, &version));
	EXPECT_LT(0, version);

	ASSERT_EQ(0, sample_lookup("lookup", key, value, sizeof(value),
				   &kversion));
	EXPECT_STREQ(val, value);
	EXPECT_EQ(version, kversion);

	kversion = 0;
	ASSERT_EQ(0, sample_lookup("lookup_rcu", key, value, sizeof(value),
				   &kversion));
	EXPECT_STREQ(val, value);
	EXPECT_EQ(version, kversion);

	/* An empty value is a value. */
	ASSERT_EQ(0, sm_put_str(self->map, key, "", &version));
	ASSERT_EQ(0, sample_lookup("lookup_rcu", key, value, sizeof(value),
				   &kversion));
	EXPECT_STREQ("", value);
	EXPECT_EQ(version, kversion);

	EXPECT_EQ(0, sm_del_str(self->map, key, NULL));
}

/* A value written by the kernel, read from user space. */
TEST_F(kapi, kernel_update_user_get)
{
	char value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 before = 0, kversion = 0, version = 0;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "kernel.key", "old", &before));

	ASSERT_EQ(0, sample_cmd("update", "kernel.key=from the kernel",
				&kversion));
	EXPECT_LT(before, kversion);

	ASSERT_EQ(0, user_get(self->map, "kernel.key", value, sizeof(value),
			      &version));
	EXPECT_STREQ("from the kernel", value);
	EXPECT_EQ(kversion, version);

	/* A trailing newline, as echo writes it, is not part of the value. */
	ASSERT_EQ(0, sample_cmd("update", "kernel.key=echoed\n", &kversion));
	ASSERT_EQ(0, user_get(self->map, "kernel.key", value, sizeof(value),
			      &version));
	EXPECT_STREQ("echoed", value);
	EXPECT_EQ(kversion, version);

	EXPECT_EQ(0, sm_del_str(self->map, "kernel.key", NULL));
}

/* The kernel API's errors reach user space unchanged. */
TEST_F(kapi, kernel_update_errors)
{
	char cmd[SAMPLE_MAX_KEY_LEN + SAMPLE_MAX_VALUE_LEN + 8];
	char value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 version = 0, after = 0;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "limits.key", "kept", &version));

	/* A value one byte over the map's limit: nothing changes. */
	snprintf(cmd, sizeof(cmd), "limits.key=%0*d",
		 SAMPLE_MAX_VALUE_LEN + 1, 0);
	EXPECT_EQ(-EMSGSIZE, sample_cmd("update", cmd, NULL));
	/* An empty key. */
	EXPECT_EQ(-EINVAL, sample_cmd("update", "=value", NULL));

	ASSERT_EQ(0, user_get(self->map, "limits.key", value, sizeof(value),
			      &after));
	EXPECT_STREQ("kept", value);
	EXPECT_EQ(version, after);

	EXPECT_EQ(0, sm_del_str(self->map, "limits.key", NULL));
}

/* Compare-and-swap from the kernel on a key user space wrote. */
TEST_F(kapi, kernel_cas)
{
	char cmd[128], value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 version = 0, kversion = 0, now = 0;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "cas.key", "v1", &version));

	/* The wrong version: ECANCELED, and the entry is untouched. */
	snprintf(cmd, sizeof(cmd), "cas.key=v2@%llu",
		 (unsigned long long)version + 1);
	EXPECT_EQ(-ECANCELED, sample_cmd("cas", cmd, NULL));
	snprintf(cmd, sizeof(cmd), "cas.key=v2@%llu",
		 (unsigned long long)version - 1);
	EXPECT_EQ(-ECANCELED, sample_cmd("cas", cmd, NULL));
	ASSERT_EQ(0, user_get(self->map, "cas.key", value, sizeof(value),
			      &now));
	EXPECT_STREQ("v1", value);
	EXPECT_EQ(version, now);

	/* The right version: replaced, with a newer version. */
	snprintf(cmd, sizeof(cmd), "cas.key=v2@%llu",
		 (unsigned long long)version);
	ASSERT_EQ(0, sample_cmd("cas", cmd, &kversion));
	EXPECT_LT(version, kversion);
	ASSERT_EQ(0, user_get(self->map, "cas.key", value, sizeof(value),
			      &now));
	EXPECT_STREQ("v2", value);
	EXPECT_EQ(kversion, now);

	/* The version it replaced is no longer good. */
	EXPECT_EQ(-ECANCELED, sample_cmd("cas", cmd, NULL));

	/* A value holding '@': the version follows the last one. */
	snprintf(cmd, sizeof(cmd), "cas.key=a@b@%llu",
		 (unsigned long long)kversion);
	ASSERT_EQ(0, sample_cmd("cas", cmd, &version));
	ASSERT_EQ(0, user_get(self->map, "cas.key", value, sizeof(value),
			      &now));
	EXPECT_STREQ("a@b", value);
	EXPECT_EQ(version, now);

	/* User space's CAS sees the kernel's version. */
	EXPECT_EQ(0, sm_put(self->map, SNAPMAP_PUT_IF_VERSION, "cas.key", 7,
			    "v3", 2, version, &now));

	EXPECT_EQ(0, sm_del_str(self->map, "cas.key", NULL));

	/* An absent key has no version to match. */
	snprintf(cmd, sizeof(cmd), "cas.key=v4@%llu", (unsigned long long)now);
	EXPECT_EQ(-ECANCELED, sample_cmd("cas", cmd, NULL));
	EXPECT_EQ(-ENOENT, user_get(self->map, "cas.key", value,
				    sizeof(value), NULL));
}

/* A key user space wrote, deleted by the kernel. */
TEST_F(kapi, kernel_delete)
{
	char value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 version = 0, kversion = 0;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "del.key", "doomed", &version));
	ASSERT_EQ(0, sample_cmd("delete", "del.key", &kversion));
	EXPECT_LT(version, kversion);

	EXPECT_EQ(-ENOENT, user_get(self->map, "del.key", value,
				    sizeof(value), NULL));
	EXPECT_EQ(-ENOENT, sample_lookup("lookup", "del.key", value,
					 sizeof(value), &version));
	EXPECT_EQ(-ENOENT, sample_lookup("lookup_rcu", "del.key", value,
					 sizeof(value), &version));
	EXPECT_EQ(-ENOENT, sample_cmd("delete", "del.key", NULL));
}

/* A key the kernel deletes between two reads of one open lookup file. */
TEST_F(kapi, lookup_reread)
{
	char buf[ANSWER_LEN + 1], want[ANSWER_LEN + 1];
	__u64 version = 0;
	int fd;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "reread.key", "here", &version));
	fd = sample_open("lookup_rcu");
	ASSERT_LE(0, fd);
	ASSERT_EQ(10, write(fd, "reread.key", 10));

	snprintf(want, sizeof(want), "%llu here\n",
		 (unsigned long long)version);
	ASSERT_EQ((int)strlen(want), sample_read(fd, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);

	ASSERT_EQ(0, sm_del_str(self->map, "reread.key", NULL));
	/* Reading from offset 0 looks the key up again. */
	EXPECT_EQ(-ENOENT, sample_read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, close(fd));
}

struct flipper {
	int map;
	int stop;
	int err;
};

/* Replace "flip.key" with a whole value of 'a's, then of 'b's, until told. */
static void *flipper_run(void *arg)
{
	struct flipper *f = arg;
	char value[SAMPLE_MAX_VALUE_LEN];
	int i;

	for (i = 0; !__atomic_load_n(&f->stop, __ATOMIC_RELAXED); i++) {
		memset(value, i & 1 ? 'b' : 'a', sizeof(value));
		f->err = sm_put(f->map, 0, "flip.key", 8, value,
				sizeof(value), 0, NULL);
		if (f->err)
			break;
	}
	return NULL;
}

/*
 * The zero-copy lookup sees the map's own copy of a value while user space
 * keeps replacing it: each read holds one whole value, never a mix.
 */
TEST_F(kapi, lookup_rcu_whole_values)
{
	char buf[ANSWER_LEN + 1], *value;
	struct flipper f = { .map = self->map };
	int fd, i, n, seen_a = 0, seen_b = 0;
	pthread_t thread;
	size_t sp;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "flip.key", "start", NULL));
	fd = sample_open("lookup_rcu");
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, write(fd, "flip.key", 8));
	ASSERT_EQ(0, pthread_create(&thread, NULL, flipper_run, &f));

	for (i = 0; i < 2000; i++) {
		n = sample_read(fd, buf, sizeof(buf));
		ASSERT_LT(0, n);
		/* "<version> <value>\n" */
		sp = strcspn(buf, " ");
		ASSERT_GT(n, sp);
		value = buf + sp + 1;
		if (!strcmp(value, "start\n"))
			continue;
		ASSERT_EQ(SAMPLE_MAX_VALUE_LEN + 1, strlen(value));
		ASSERT_TRUE(value[0] == 'a' || value[0] == 'b');
		ASSERT_EQ(SAMPLE_MAX_VALUE_LEN,
			  strspn(value, value[0] == 'a' ? "a" : "b"));
		if (value[0] == 'a')
			seen_a++;
		else
			seen_b++;
	}

	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, f.err);
	EXPECT_LT(0, seen_a + seen_b);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, sm_del_str(self->map, "flip.key", NULL));
}

/* find-by-name in the kernel and INFO from user space agree. */
TEST_F(kapi, find)
{
	struct sample_found found;
	struct snapmap_info info;

	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	ASSERT_EQ(0, sm_put_str(self->map, "find.key", "counted", NULL));

	ASSERT_EQ(0, sample_find(&found));
	ASSERT_EQ(0, sm_info(self->map, &info));
	EXPECT_STREQ(SAMPLE_MAP, found.name);
	EXPECT_EQ(info.out_entries, found.entries);
	EXPECT_EQ(info.out_version, found.version);
	EXPECT_LE(2, found.entries);

	/* A deletion from the kernel shows on both sides. */
	ASSERT_EQ(0, sample_cmd("delete", "find.key", NULL));
	ASSERT_EQ(0, sample_find(&found));
	ASSERT_EQ(0, sm_info(self->map, &info));
	EXPECT_EQ(info.out_entries, found.entries);
	EXPECT_EQ(info.out_version, found.version);
}

static int open_as_nobody(void *arg)
{
	int ctl, map;

	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return 1;
	map = sm_open(ctl, SAMPLE_MAP, 0);
	close(ctl);
	if (map < 0)
		return 2;
	close(map);
	return 0;
}

/* The module created the map with mode 0666: any user may open it. */
TEST_F(kapi, open_by_other_user)
{
	if (self->map < 0)
		SKIP(return, NO_SAMPLE);

	EXPECT_EQ(0, sm_run_as(65534, 65534, 0, NULL, open_as_nobody, NULL));
}

TEST_HARNESS_MAIN
