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
 * Look @key up through the open sample file @fd ("lookup", "lookup_rcu"
 * or "snapshot_lookup"): the value goes to @value, NUL-terminated, its
 * version to @version.  Returns 0 or the -errno of the kernel API.
 */
static int sample_lookup_fd(int fd, const char *key, char *value,
			    size_t size, __u64 *version)
{
	char buf[ANSWER_LEN + 1], *space;
	int n, ret;

	ret = sm_ret(write(fd, key, strlen(key)));
	if (ret < 0)
		return ret;
	n = sample_read(fd, buf, sizeof(buf));
	if (n < 0)
		return n;
	/* "<version> <value>\n" */
	space = strchr(buf, ' ');
	if (!space || n < 2 || buf[n - 1] != '\n' ||
	    (size_t)(buf + n - 1 - (space + 1)) >= size)
		return -EIO;
	*version = strtoull(buf, NULL, 10);
	memcpy(value, space + 1, buf + n - 1 - (space + 1));
	value[buf + n - 1 - (space + 1)] = '\0';
	return 0;
}

/* The same through a sample file @file opened for this lookup alone. */
static int sample_lookup(const char *file, const char *key, char *value,
			 size_t size, __u64 *version)
{
	int fd, ret;

	fd = sample_open(file);
	if (fd < 0)
		return -errno;
	ret = sample_lookup_fd(fd, key, value, size, version);
	close(fd);
	return ret;
}

/* What the sample's txn file answers when no entry was named. */
#define NONE_NAMED -1

/*
 * Run the transaction @cmd, an entry per line, through the sample's txn
 * file: 0 or the -errno of snapmap_txn() (or of the sample's parser).
 * Once snapmap_txn() ran, whatever it returned, its version goes to
 * @version and the entry it named (NONE_NAMED: none) to @failed.
 */
static int sample_txn(const char *cmd, __u64 *version, int *failed)
{
	char buf[64], named[16];
	unsigned long long v;
	int fd, n, ret;

	fd = sample_open("txn");
	if (fd < 0)
		return -errno;
	ret = sm_ret(write(fd, cmd, strlen(cmd)));
	if (ret >= 0)
		ret = ret == (int)strlen(cmd) ? 0 : -EIO;
	n = sample_read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return ret ?: n;
	/* "<version> <failed>\n" */
	if (sscanf(buf, "%llu %15s\n", &v, named) != 2)
		return -EIO;
	*version = v;
	*failed = strcmp(named, "none") ? atoi(named) : NONE_NAMED;
	return ret;
}

/* What the sample's find file reports of its map. */
struct sample_found {
	char name[SNAPMAP_NAME_LEN];
	unsigned long long entries;
	unsigned long long version;
	unsigned long long id;
	unsigned int snapshots;
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
	if (sscanf(buf, "name %63s\nentries %llu\nversion %llu\nid %llu\nsnapshots %u\n",
		   found->name, &found->entries, &found->version, &found->id,
		   &found->snapshots) != 5)
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

/* The rig loads the sample module: without it, the test fails. */
FIXTURE_SETUP(kapi)
{
	self->ctl = -1;
	self->map = -1;
	ASSERT_EQ(0, access(SAMPLE_DIR, F_OK))
		TH_LOG("snapmap_sample.ko is not loaded");
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
	int writes;
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
		__atomic_store_n(&f->writes, i + 1, __ATOMIC_RELEASE);
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

	ASSERT_EQ(0, sm_put_str(self->map, "flip.key", "start", NULL));
	fd = sample_open("lookup_rcu");
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, write(fd, "flip.key", 8));
	ASSERT_EQ(0, pthread_create(&thread, NULL, flipper_run, &f));
	/*
	 * Reads start once the flipper has written, so that they see its
	 * values even when the thread is slow to be scheduled.
	 */
	for (i = 0; i < 10000 && !__atomic_load_n(&f.writes, __ATOMIC_ACQUIRE);
	     i++)
		usleep(1000);

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

/*
 * A transaction made in the kernel: its conditions hold, and each of its
 * writes shows to user space at the one version it returned, to GET and
 * to a BATCH at one version alike; the key only a condition named is as
 * it was.
 */
TEST_F(kapi, kernel_txn)
{
	char cmd[256], value[SAMPLE_MAX_VALUE_LEN + 1], a[16], n[16];
	struct snapmap_batch_op ops[3];
	struct snapmap_batch batch = {
		.size = sizeof(batch), .flags = SNAPMAP_BATCH_SNAPSHOT,
		.count = 3, .op_size = sizeof(ops[0]), .ops = SM_PTR(ops),
	};
	__u64 va = 0, vb = 0, version = 0, v = 0;
	int failed = 0;

	ASSERT_EQ(0, sm_put_str(self->map, "txn.a", "old a", &va));
	ASSERT_EQ(0, sm_put_str(self->map, "txn.b", "b", &vb));
	ASSERT_EQ(0, sm_put_str(self->map, "txn.c", "doomed", NULL));
	/* Left by a run that failed, if any. */
	sm_del_str(self->map, "txn.new", NULL);

	snprintf(cmd, sizeof(cmd),
		 "=txn.a=old a\n@txn.b=%llu\n!txn.new\n?txn.c\n"
		 "+txn.a=new a\n+txn.new=fresh\n-txn.c\n",
		 (unsigned long long)vb);
	ASSERT_EQ(0, sample_txn(cmd, &version, &failed));
	EXPECT_EQ(NONE_NAMED, failed);
	EXPECT_LT(vb, version);

	ASSERT_EQ(0, user_get(self->map, "txn.a", value, sizeof(value), &v));
	EXPECT_STREQ("new a", value);
	EXPECT_EQ(version, v);
	ASSERT_EQ(0, user_get(self->map, "txn.new", value, sizeof(value), &v));
	EXPECT_STREQ("fresh", value);
	EXPECT_EQ(version, v);
	EXPECT_EQ(-ENOENT, user_get(self->map, "txn.c", value, sizeof(value),
				    NULL));
	ASSERT_EQ(0, user_get(self->map, "txn.b", value, sizeof(value), &v));
	EXPECT_STREQ("b", value);
	EXPECT_EQ(vb, v);
	/* The kernel's own lookup agrees. */
	ASSERT_EQ(0, sample_lookup("lookup", "txn.new", value, sizeof(value),
				   &v));
	EXPECT_STREQ("fresh", value);
	EXPECT_EQ(version, v);

	/* Read at one version from user space: all of it, at its version. */
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 5,
		.value_len = sizeof(a), .key = SM_PTR("txn.a"),
		.value = SM_PTR(a),
	};
	ops[1] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 7,
		.value_len = sizeof(n), .key = SM_PTR("txn.new"),
		.value = SM_PTR(n),
	};
	ops[2] = (struct snapmap_batch_op){
		.opcode = SNAPMAP_BATCH_GET, .key_len = 5,
		.value_len = sizeof(n), .key = SM_PTR("txn.c"),
		.value = SM_PTR(n),
	};
	ASSERT_EQ(0, ioctl(self->map, SNAPMAP_IOC_BATCH, &batch));
	EXPECT_EQ(3, batch.out_done);
	EXPECT_LT(version, batch.out_version);
	EXPECT_EQ(0, ops[0].out_result);
	EXPECT_EQ(version, ops[0].out_version);
	EXPECT_EQ(0, ops[1].out_result);
	EXPECT_EQ(version, ops[1].out_version);
	EXPECT_EQ(-ENOENT, ops[2].out_result);

	/* Run again, its first condition no longer holds. */
	EXPECT_EQ(-ECANCELED, sample_txn(cmd, &v, &failed));
	EXPECT_EQ(0, failed);

	EXPECT_EQ(0, sm_del_str(self->map, "txn.a", NULL));
	EXPECT_EQ(0, sm_del_str(self->map, "txn.b", NULL));
	EXPECT_EQ(0, sm_del_str(self->map, "txn.new", NULL));
}

/*
 * A transaction made in the kernel whose condition does not hold, or
 * whose entry is bad: the error and the entry at fault reach user space,
 * counting the conditions first, and nothing is written.
 */
TEST_F(kapi, kernel_txn_fails_named)
{
	char cmd[512], value[SAMPLE_MAX_VALUE_LEN + 1];
	struct snapmap_info before, after;
	__u64 v1 = 0, version = 1, v = 0;
	int failed = 0;

	ASSERT_EQ(0, sm_put_str(self->map, "txnf.k", "v1", &v1));
	sm_del_str(self->map, "txnf.other", NULL);
	ASSERT_EQ(0, sm_info(self->map, &before));

	/* The third condition asks for another version. */
	snprintf(cmd, sizeof(cmd),
		 "?txnf.k\n=txnf.k=v1\n@txnf.k=%llu\n+txnf.k=v2\n"
		 "+txnf.other=x",
		 (unsigned long long)v1 + 1);
	EXPECT_EQ(-ECANCELED, sample_txn(cmd, &version, &failed));
	EXPECT_EQ(2, failed);
	EXPECT_EQ(0, version);

	/* A value that differs by its length alone. */
	version = 1;
	EXPECT_EQ(-ECANCELED, sample_txn("+txnf.other=x\n=txnf.k=v", &version,
					 &failed));
	EXPECT_EQ(0, failed);
	EXPECT_EQ(0, version);

	/* A second write to a key: the second is named, after the one check. */
	EXPECT_EQ(-EINVAL, sample_txn("!txnf.other\n+txnf.k=a\n-txnf.k",
				      &version, &failed));
	EXPECT_EQ(2, failed);

	/* A value over the map's limit. */
	snprintf(cmd, sizeof(cmd), "+txnf.other=x\n+txnf.k=%0*d",
		 SAMPLE_MAX_VALUE_LEN + 1, 0);
	EXPECT_EQ(-EMSGSIZE, sample_txn(cmd, &version, &failed));
	EXPECT_EQ(1, failed);

	ASSERT_EQ(0, sm_info(self->map, &after));
	EXPECT_MAP_UNCHANGED(before, after);
	ASSERT_EQ(0, user_get(self->map, "txnf.k", value, sizeof(value), &v));
	EXPECT_STREQ("v1", value);
	EXPECT_EQ(v1, v);
	EXPECT_EQ(-ENOENT, user_get(self->map, "txnf.other", value,
				    sizeof(value), NULL));
	EXPECT_EQ(0, sm_del_str(self->map, "txnf.k", NULL));
}

/*
 * snapmap_snapshot_lookup() on the snapshot the snapshot_lookup file took
 * at open: a key's value and version as they were then, however user
 * space and the kernel changed them since; a key written since is not
 * there, one deleted since still is.
 */
TEST_F(kapi, snapshot_lookup_old_value)
{
	char value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 vk = 0, vg = 0, vt = 0, v = 0;
	int fd, failed;

	ASSERT_EQ(0, sm_put_str(self->map, "snapl.k", "before", &vk));
	ASSERT_EQ(0, sm_put_str(self->map, "snapl.gone", "here", &vg));
	ASSERT_EQ(0, sm_put_str(self->map, "snapl.t", "t1", &vt));
	sm_del_str(self->map, "snapl.new", NULL);

	fd = sample_open("snapshot_lookup");
	ASSERT_LE(0, fd);
	/* Before any key is written, there is nothing to look up. */
	EXPECT_EQ(-EINVAL, sample_read(fd, value, sizeof(value)));

	ASSERT_EQ(0, sm_put_str(self->map, "snapl.k", "after", NULL));
	ASSERT_EQ(0, sm_del_str(self->map, "snapl.gone", NULL));
	ASSERT_EQ(0, sm_put_str(self->map, "snapl.new", "new", NULL));
	ASSERT_EQ(0, sample_txn("+snapl.t=t2\n-snapl.k", &v, &failed));

	ASSERT_EQ(0, sample_lookup_fd(fd, "snapl.k", value, sizeof(value),
				      &v));
	EXPECT_STREQ("before", value);
	EXPECT_EQ(vk, v);
	ASSERT_EQ(0, sample_lookup_fd(fd, "snapl.gone", value, sizeof(value),
				      &v));
	EXPECT_STREQ("here", value);
	EXPECT_EQ(vg, v);
	ASSERT_EQ(0, sample_lookup_fd(fd, "snapl.t", value, sizeof(value),
				      &v));
	EXPECT_STREQ("t1", value);
	EXPECT_EQ(vt, v);
	EXPECT_EQ(-ENOENT, sample_lookup_fd(fd, "snapl.new", value,
					    sizeof(value), &v));
	/* The map itself has moved on. */
	EXPECT_EQ(-ENOENT, user_get(self->map, "snapl.k", value,
				    sizeof(value), NULL));
	ASSERT_EQ(0, sample_lookup("lookup", "snapl.t", value, sizeof(value),
				   &v));
	EXPECT_STREQ("t2", value);
	/* A file opened now holds a snapshot of its own. */
	EXPECT_EQ(-ENOENT, sample_lookup("snapshot_lookup", "snapl.k", value,
					 sizeof(value), &v));
	ASSERT_EQ(0, sample_lookup("snapshot_lookup", "snapl.new", value,
				   sizeof(value), &v));
	EXPECT_STREQ("new", value);
	EXPECT_EQ(0, close(fd));

	EXPECT_EQ(0, sm_del_str(self->map, "snapl.t", NULL));
	EXPECT_EQ(0, sm_del_str(self->map, "snapl.new", NULL));
}

/*
 * A persistent map made through the kernel API: it outlives the
 * reference its maker dropped, user space opens it, and the kernel API
 * deletes it.
 */
TEST_F(kapi, persistent)
{
	char name[SNAPMAP_NAME_LEN];
	struct snapmap_info info;
	int fd;

	snprintf(name, sizeof(name), "kapi-persist-%d", (int)getpid());
	ASSERT_EQ(0, sample_cmd("persist", name, NULL));
	fd = sm_open(self->ctl, name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(SNAPMAP_MAP_PERSISTENT, info.out_map_flags);
	EXPECT_EQ(0666, info.out_mode);
	EXPECT_EQ(0, sm_put_str(fd, "k", "v", NULL));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-EEXIST, sample_cmd("persist", name, NULL));

	/* Deleted by the kernel API: gone for everyone. */
	snprintf(name, sizeof(name), "-kapi-persist-%d", (int)getpid());
	EXPECT_EQ(0, sample_cmd("persist", name, NULL));
	EXPECT_EQ(-ENOENT, sample_cmd("persist", name, NULL));
	EXPECT_EQ(-ENOENT, sm_open(self->ctl, name + 1, 0));
	/* And its rules hold in the kernel too: a name, a known flag. */
	EXPECT_EQ(-EINVAL, sample_cmd("persist", "-", NULL));
	EXPECT_EQ(-EINVAL, sample_cmd("persist", "bad name", NULL));
}

/* find-by-name in the kernel and INFO from user space agree. */
TEST_F(kapi, find)
{
	struct sample_found found;
	struct snapmap_info info;
	int sfd;

	ASSERT_EQ(0, sm_put_str(self->map, "find.key", "counted", NULL));

	ASSERT_EQ(0, sample_find(&found));
	ASSERT_EQ(0, sm_info(self->map, &info));
	EXPECT_STREQ(SAMPLE_MAP, found.name);
	EXPECT_EQ(info.out_entries, found.entries);
	EXPECT_EQ(info.out_version, found.version);
	EXPECT_EQ(info.out_id, found.id);
	EXPECT_EQ(info.out_snapshots, found.snapshots);
	EXPECT_LE(2, found.entries);

	/* A snapshot user space holds counts for the kernel too. */
	sfd = sm_snapshot(self->map, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, sample_find(&found));
	ASSERT_EQ(0, sm_info(self->map, &info));
	EXPECT_EQ(info.out_snapshots, found.snapshots);
	EXPECT_LE(1, found.snapshots);
	ASSERT_EQ(0, close(sfd));

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
	EXPECT_EQ(0, sm_run_as(65534, 65534, 0, NULL, open_as_nobody, NULL));
}

/*
 * The snapshot file: the text of an ATOMIC snapshot the module took at
 * open, "<version> <key>=<value>\n" per record, then "entries <n>\n" and
 * "version <V>\n".
 */

/* The sample map's entry limit: no snapshot of it holds more records. */
#define SAMPLE_MAX_ENTRIES 64

/* One record, of a snapshot's text or of a user-space snapshot. */
struct text_rec {
	char key[SAMPLE_MAX_KEY_LEN + 1];
	char value[SAMPLE_MAX_VALUE_LEN + 1];
	__u64 version;
};

/* The records of a snapshot, and for the text, its last two lines. */
struct snap_set {
	struct text_rec recs[SAMPLE_MAX_ENTRIES];
	int n;
	unsigned long long entries;
	unsigned long long version;
};

/*
 * Read the open snapshot file @fd from where it stands to its end, with
 * reads of @chunk bytes, into a NUL-terminated buffer at *@textp (free()
 * it).  Returns the text's length, or -errno of the read that failed.
 */
static ssize_t snap_text_read(int fd, size_t chunk, char **textp)
{
	size_t cap = 4096, used = 0;
	char *text = malloc(cap), *p;
	ssize_t n;

	*textp = NULL;
	if (!text)
		return -ENOMEM;
	for (;;) {
		if (cap - used < chunk + 1) {
			p = realloc(text, cap * 2);
			if (!p) {
				free(text);
				return -ENOMEM;
			}
			text = p;
			cap *= 2;
		}
		n = read(fd, text + used, chunk);
		if (n < 0) {
			n = -errno;
			free(text);
			return n;
		}
		if (!n)
			break;
		used += n;
	}
	text[used] = '\0';
	*textp = text;
	return used;
}

/* Find @key among the records of @set: its index, or -1. */
static int snap_find(const struct snap_set *set, const char *key)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->recs[i].key, key))
			return i;
	return -1;
}

/*
 * Add a record to @set, or replace the record of its key, as a PUT of
 * @key with @value at @version does to the map.  -ENOSPC if @set is full,
 * -EMSGSIZE if the key or value is longer than the map accepts.
 */
static int snap_put(struct snap_set *set, const char *key, size_t key_len,
		    const char *value, size_t value_len, __u64 version)
{
	struct text_rec *rec;
	char name[SAMPLE_MAX_KEY_LEN + 1];
	int i;

	if (key_len > SAMPLE_MAX_KEY_LEN || value_len > SAMPLE_MAX_VALUE_LEN)
		return -EMSGSIZE;
	memcpy(name, key, key_len);
	name[key_len] = '\0';
	i = snap_find(set, name);
	if (i < 0) {
		if (set->n == SAMPLE_MAX_ENTRIES)
			return -ENOSPC;
		i = set->n++;
	}
	rec = &set->recs[i];
	memcpy(rec->key, name, key_len + 1);
	memcpy(rec->value, value, value_len);
	rec->value[value_len] = '\0';
	rec->version = version;
	return 0;
}

/* Remove @key's record from @set, as a DEL does to the map. */
static void snap_del(struct snap_set *set, const char *key)
{
	int i = snap_find(set, key);

	if (i >= 0)
		set->recs[i] = set->recs[--set->n];
}

/*
 * Parse the text of the snapshot file into @set: records, then exactly
 * "entries <n>\n" and "version <V>\n".  Returns 0, or -EPROTO when the
 * text is not that, or a key appears twice.
 */
static int snap_text_parse(const char *text, struct snap_set *set)
{
	const char *line = text, *nl, *sp, *eq;
	char key[SAMPLE_MAX_KEY_LEN + 1];
	size_t key_len;
	__u64 version;
	char *end;

	memset(set, 0, sizeof(*set));
	while ((nl = strchr(line, '\n'))) {
		if (!strncmp(line, "entries ", 8))
			break;
		/* "<version> <key>=<value>" */
		version = strtoull(line, &end, 10);
		sp = end;
		if (sp == line || sp >= nl || *sp != ' ')
			return -EPROTO;
		eq = memchr(sp + 1, '=', nl - (sp + 1));
		key_len = eq ? eq - (sp + 1) : 0;
		if (!key_len || key_len > SAMPLE_MAX_KEY_LEN)
			return -EPROTO;
		memcpy(key, sp + 1, key_len);
		key[key_len] = '\0';
		if (snap_find(set, key) >= 0 ||
		    snap_put(set, key, key_len, eq + 1, nl - (eq + 1),
			     version))
			return -EPROTO;
		line = nl + 1;
	}
	if (sscanf(line, "entries %llu\nversion %llu\n", &set->entries,
		   &set->version) != 2)
		return -EPROTO;
	/* Nothing after the version line. */
	nl = strchr(line, '\n');
	if (!nl || !(nl = strchr(nl + 1, '\n')) || nl[1])
		return -EPROTO;
	return 0;
}

/*
 * Take an ATOMIC snapshot of the map @map from user space and put its
 * records in @set; its version goes to @set->version.  Returns 0 or
 * -errno.
 */
static int user_snapshot(int map, struct snap_set *set)
{
	struct snapmap_snapshot_info info;
	struct sm_record rec;
	size_t off = 0, size;
	__u64 version = 0;
	void *buf;
	ssize_t len;
	int sfd, ret;

	memset(set, 0, sizeof(*set));
	sfd = sm_snapshot(map, 0, &version);
	if (sfd < 0)
		return sfd;
	len = sm_read_all(sfd, 65536, &buf);
	ret = len < 0 ? len : sm_snapshot_info(sfd, &info);
	close(sfd);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	while (off < (size_t)len) {
		size = sm_record_parse((unsigned char *)buf + off, len - off,
				       &rec);
		if (!size || snap_put(set, (const char *)rec.key, rec.key_len,
				      (const char *)rec.value, rec.value_len,
				      rec.version)) {
			free(buf);
			return -EPROTO;
		}
		off += size;
	}
	free(buf);
	set->entries = info.out_entries;
	set->version = version;
	return 0;
}

/*
 * Expect @got to hold exactly the records of @want, in any order: the
 * same keys, each with the same value and version.
 */
#define EXPECT_SAME_RECORDS(want, got)					\
	do {								\
		int __i, __j;						\
		EXPECT_EQ((want)->n, (got)->n);				\
		for (__i = 0; __i < (want)->n; __i++) {			\
			__j = snap_find(got, (want)->recs[__i].key);	\
			EXPECT_LE(0, __j)				\
				TH_LOG("%s is missing",			\
				       (want)->recs[__i].key);		\
			if (__j < 0)					\
				continue;				\
			EXPECT_STREQ((want)->recs[__i].value,		\
				     (got)->recs[__j].value);		\
			EXPECT_EQ((want)->recs[__i].version,		\
				  (got)->recs[__j].version);		\
		}							\
	} while (0)

/* A value of @len bytes for write number @i of @key, printable. */
static void make_value(char *buf, size_t len, const char *key, int i)
{
	size_t n;

	n = snprintf(buf, len + 1, "%s#%d:", key, i);
	if (n < len)
		memset(buf + n, 'a' + i % 26, len - n);
	buf[len] = '\0';
}

struct snap_writer {
	int map;
	int nkeys;
	int stop;
	int err;
};

/*
 * Keep writing while the snapshot is read: replace "snap.k<i>", delete
 * "snap.k1", put "snap.extra" back and forth, until told to stop.
 */
static void *snap_writer_run(void *arg)
{
	struct snap_writer *w = arg;
	char key[32], value[SAMPLE_MAX_VALUE_LEN + 1];
	int i, ret;

	for (i = 0; !__atomic_load_n(&w->stop, __ATOMIC_RELAXED); i++) {
		snprintf(key, sizeof(key), "snap.k%d", i % w->nkeys);
		make_value(value, 100, key, 1000 + i);
		ret = sm_put_str(w->map, key, value, NULL);
		if (!ret && i % 3 == 0)
			ret = sm_put_str(w->map, "snap.extra", value, NULL);
		if (!ret && i % 3 == 1)
			ret = sm_del_str(w->map, "snap.extra", NULL);
		if (!ret && i % 5 == 0) {
			ret = sm_del_str(w->map, "snap.k1", NULL);
			if (ret == -ENOENT)
				ret = 0;
		}
		if (ret) {
			w->err = ret;
			break;
		}
	}
	return NULL;
}

#define SNAP_KEYS 16

/*
 * The snapshot file shows the map exactly as it was when the file was
 * opened, while user space keeps writing: every key written before, with
 * the value and version its PUT returned, none written after, and a
 * version above all of theirs.
 */
TEST_F(kapi, snapshot_file_frozen)
{
	char key[32], value[SAMPLE_MAX_VALUE_LEN + 1], *text = NULL;
	struct snap_set *want, *got;
	struct snap_writer w = { .map = self->map, .nkeys = SNAP_KEYS };
	__u64 version, last = 0, after = 0;
	pthread_t thread;
	ssize_t len;
	int fd, i;

	want = calloc(1, sizeof(*want));
	got = calloc(1, sizeof(*got));
	ASSERT_TRUE(want != NULL);
	ASSERT_TRUE(got != NULL);

	/* What is in the map already, the module's own key among it. */
	ASSERT_EQ(0, user_snapshot(self->map, want));
	EXPECT_LE(0, snap_find(want, GREETING_KEY));

	/* Values of 100 bytes: the text takes several passes to make. */
	for (i = 0; i < SNAP_KEYS; i++) {
		snprintf(key, sizeof(key), "snap.k%d", i);
		make_value(value, 100, key, i);
		ASSERT_EQ(0, sm_put_str(self->map, key, value, &version));
		ASSERT_EQ(0, snap_put(want, key, strlen(key), value,
				      strlen(value), version));
		last = version;
	}
	/* A key replaced twice and one deleted, before the snapshot. */
	ASSERT_EQ(0, sm_put_str(self->map, "snap.k2", "", &version));
	ASSERT_EQ(0, snap_put(want, "snap.k2", 7, "", 0, version));
	ASSERT_EQ(0, sm_put_str(self->map, "snap.gone", "soon", NULL));
	ASSERT_EQ(0, sm_del_str(self->map, "snap.gone", &last));
	snap_del(want, "snap.gone");

	fd = sample_open("snapshot");
	ASSERT_LE(0, fd);

	/* Writes after open(2) returned: none of them may show. */
	for (i = 0; i < SNAP_KEYS; i++) {
		snprintf(key, sizeof(key), "snap.k%d", i);
		make_value(value, 100, key, 100 + i);
		ASSERT_EQ(0, sm_put_str(self->map, key, value,
					i ? NULL : &after));
	}
	ASSERT_EQ(0, sm_del_str(self->map, "snap.k3", NULL));
	ASSERT_EQ(0, sm_put_str(self->map, "snap.gone", "back", NULL));
	ASSERT_EQ(0, sm_put_str(self->map, "snap.new", "new", NULL));

	/* And more while it is read, a few bytes at a time. */
	ASSERT_EQ(0, pthread_create(&thread, NULL, snap_writer_run, &w));
	len = snap_text_read(fd, 61, &text);
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, w.err);
	ASSERT_LT(0, len) {
		TH_LOG("read: %s", strerror(-len));
	}
	/* More than one pass of the module's 1024-byte buffer. */
	EXPECT_LT(1024, len);

	ASSERT_EQ(0, snap_text_parse(text, got)) {
		TH_LOG("not the snapshot file's format:\n%s", text);
	}
	EXPECT_SAME_RECORDS(want, got);
	EXPECT_EQ(got->n, got->entries);

	/* V is above every version shown, and below every later write. */
	for (i = 0; i < got->n; i++)
		EXPECT_LT(got->recs[i].version, got->version);
	EXPECT_LT(last, got->version);
	EXPECT_GT(after, got->version);

	/* At the end, reads return 0 and keep doing so. */
	EXPECT_EQ(0, read(fd, value, sizeof(value)));
	EXPECT_EQ(0, read(fd, value, sizeof(value)));
	EXPECT_EQ(0, close(fd));

	free(text);
	for (i = 0; i < SNAP_KEYS; i++) {
		snprintf(key, sizeof(key), "snap.k%d", i);
		sm_del_str(self->map, key, NULL);
	}
	sm_del_str(self->map, "snap.gone", NULL);
	sm_del_str(self->map, "snap.new", NULL);
	sm_del_str(self->map, "snap.extra", NULL);
	free(want);
	free(got);
}

/*
 * A snapshot taken in the kernel and one taken from user space right
 * after it, with no write in between, hold the same records.  Reading the
 * file again from offset 0 gives the same text, whatever the read size.
 */
TEST_F(kapi, snapshot_file_matches_user_snapshot)
{
	char key[SAMPLE_MAX_KEY_LEN + 1], value[SAMPLE_MAX_VALUE_LEN + 1];
	char *text = NULL, *again = NULL;
	struct snap_set *kernel, *user, *later;
	ssize_t len, len2;
	int fd, fd2, i;

	kernel = calloc(1, sizeof(*kernel));
	user = calloc(1, sizeof(*user));
	later = calloc(1, sizeof(*later));
	ASSERT_TRUE(kernel != NULL);
	ASSERT_TRUE(user != NULL);
	ASSERT_TRUE(later != NULL);

	/* Values from empty to the map's longest. */
	for (i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "match.k%d", i);
		make_value(value, i * SAMPLE_MAX_VALUE_LEN / 11, key, i);
		ASSERT_EQ(0, sm_put_str(self->map, key, value, NULL));
	}
	ASSERT_EQ(0, sm_del_str(self->map, "match.k5", NULL));
	/* The longest key. */
	memset(key, 'K', SAMPLE_MAX_KEY_LEN);
	key[SAMPLE_MAX_KEY_LEN] = '\0';
	ASSERT_EQ(0, sm_put_str(self->map, key, "long key", NULL));

	fd = sample_open("snapshot");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, user_snapshot(self->map, user));

	len = snap_text_read(fd, 4096, &text);
	ASSERT_LT(0, len) {
		TH_LOG("read: %s", strerror(-len));
	}
	ASSERT_EQ(0, snap_text_parse(text, kernel)) {
		TH_LOG("not the snapshot file's format:\n%s", text);
	}
	EXPECT_SAME_RECORDS(user, kernel);
	EXPECT_EQ(user->entries, kernel->entries);
	EXPECT_LT(kernel->version, user->version);
	EXPECT_GT(0, snap_find(kernel, "match.k5"));
	EXPECT_LE(0, snap_find(kernel, key));

	/* From offset 0 again, one byte at a time: the same text. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	len2 = snap_text_read(fd, 1, &again);
	ASSERT_EQ(len, len2);
	EXPECT_EQ(0, memcmp(text, again, len));
	free(again);

	/* pread() at offset 0 starts over too; elsewhere it is refused. */
	ASSERT_EQ(1, pread(fd, value, 1, 0));
	EXPECT_EQ(text[0], value[0]);
	EXPECT_ERRNO(EINVAL, pread(fd, value, 1, 5));
	EXPECT_ERRNO(EINVAL, lseek(fd, 3, SEEK_SET));
	EXPECT_EQ(1, pread(fd, value, 1, 1));
	EXPECT_EQ(text[1], value[0]);

	/* A second open file holds a snapshot of its own, taken later. */
	ASSERT_EQ(0, sm_put_str(self->map, "match.k0", "changed", NULL));
	fd2 = sample_open("snapshot");
	ASSERT_LE(0, fd2);
	ASSERT_LT(0, snap_text_read(fd2, 4096, &again));
	ASSERT_EQ(0, snap_text_parse(again, later));
	i = snap_find(later, "match.k0");
	ASSERT_LE(0, i);
	EXPECT_STREQ("changed", later->recs[i].value);
	EXPECT_LT(user->version, later->version);
	EXPECT_EQ(0, close(fd2));
	free(again);

	/* The first file's snapshot has not moved. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	len2 = snap_text_read(fd, 4096, &again);
	ASSERT_EQ(len, len2);
	EXPECT_EQ(0, memcmp(text, again, len));
	free(again);
	EXPECT_EQ(0, close(fd));

	free(text);
	for (i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "match.k%d", i);
		sm_del_str(self->map, key, NULL);
	}
	memset(key, 'K', SAMPLE_MAX_KEY_LEN);
	key[SAMPLE_MAX_KEY_LEN] = '\0';
	EXPECT_EQ(0, sm_del_str(self->map, key, NULL));
	free(kernel);
	free(user);
	free(later);
}

#define STALE_KEYS 16
#define STALE_ROUNDS 64

/*
 * The versions a snapshot keeps count against the map's byte limit: when
 * user-space snapshots and writes take the map over it, the kernel's
 * snapshot, the oldest, is invalidated and its reads fail with ESTALE.
 */
TEST_F(kapi, snapshot_file_stale)
{
	char key[32], value[SAMPLE_MAX_VALUE_LEN + 1], buf[64];
	int fd, i, round, snaps[STALE_ROUNDS], nsnaps = 0, err = 0;

	for (i = 0; i < STALE_KEYS; i++) {
		snprintf(key, sizeof(key), "stale.k%d", i);
		make_value(value, SAMPLE_MAX_VALUE_LEN, key, 0);
		ASSERT_EQ(0, sm_put_str(self->map, key, value, NULL));
	}
	fd = sample_open("snapshot");
	ASSERT_LE(0, fd);
	ASSERT_LT(0, pread(fd, buf, sizeof(buf), 0));

	/*
	 * Each round replaces every key while the snapshots taken so far
	 * keep the versions they hold: a round pins about 5 KiB, and the
	 * map takes 64 KiB.
	 */
	for (round = 1; round < STALE_ROUNDS; round++) {
		for (i = 0; i < STALE_KEYS; i++) {
			snprintf(key, sizeof(key), "stale.k%d", i);
			make_value(value, SAMPLE_MAX_VALUE_LEN, key, round);
			ASSERT_EQ(0, sm_put_str(self->map, key, value, NULL));
		}
		if (pread(fd, buf, sizeof(buf), 0) < 0) {
			err = errno;
			break;
		}
		snaps[nsnaps] = sm_snapshot(self->map, 0, NULL);
		ASSERT_LE(0, snaps[nsnaps]);
		nsnaps++;
	}
	ASSERT_EQ(ESTALE, err) {
		TH_LOG("no ESTALE after %d rounds", round);
	}
	/* It stays stale, whichever way it is read. */
	EXPECT_ERRNO(ESTALE, pread(fd, buf, sizeof(buf), 0));
	EXPECT_ERRNO(ESTALE, read(fd, buf, sizeof(buf)));

	EXPECT_EQ(0, close(fd));
	while (nsnaps)
		EXPECT_EQ(0, close(snaps[--nsnaps]));
	for (i = 0; i < STALE_KEYS; i++) {
		snprintf(key, sizeof(key), "stale.k%d", i);
		EXPECT_EQ(0, sm_del_str(self->map, key, NULL));
	}
}

/*
 * The clone file: snapmap_clone() in the kernel, the clone opened by name
 * from user space.  It holds what the source held at the clone's version,
 * versions included, and does not follow the source's later writes.
 */
TEST_F(kapi, clone_file)
{
	char key[32], value[SAMPLE_MAX_VALUE_LEN + 1], name[SNAPMAP_NAME_LEN];
	char buf[64], got[SAMPLE_MAX_VALUE_LEN + 1];
	struct snap_set *source, *copy;
	__u64 versions[8], cversion = 0, version, v;
	struct snapmap_info info, sinfo;
	int clone, fd, i, j;

	source = calloc(1, sizeof(*source));
	copy = calloc(1, sizeof(*copy));
	ASSERT_TRUE(source != NULL);
	ASSERT_TRUE(copy != NULL);

	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "clone.k%d", i);
		make_value(value, 10 * i, key, i);
		ASSERT_EQ(0, sm_put_str(self->map, key, value, &versions[i]));
	}
	ASSERT_EQ(0, sm_del_str(self->map, "clone.k7", NULL));

	/* A name of its own in each run, the 32-bit one included. */
	snprintf(name, sizeof(name), "snapmap_sample.clone.%d", getpid());
	fd = sample_open("clone");
	ASSERT_LE(0, fd);
	/* Before any clone there is no version to tell. */
	EXPECT_EQ(-ENODATA, sample_read(fd, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)strlen(name), write(fd, name, strlen(name)));
	ASSERT_LT(0, sample_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(1, sscanf(buf, "%llu\n", (unsigned long long *)&cversion));
	for (i = 0; i < 7; i++)
		EXPECT_LT(versions[i], cversion);

	/* The source as it is now, which is as it was at the clone. */
	ASSERT_EQ(0, user_snapshot(self->map, source));
	ASSERT_EQ(0, sm_info(self->map, &sinfo));

	clone = sm_open(self->ctl, name, 0);
	ASSERT_LE(0, clone);
	ASSERT_EQ(0, sm_info(clone, &info));
	EXPECT_STREQ(name, info.out_name);
	EXPECT_EQ(0666, info.out_mode);
	EXPECT_EQ(sinfo.out_max_key_len, info.out_max_key_len);
	EXPECT_EQ(sinfo.out_max_value_len, info.out_max_value_len);
	EXPECT_EQ(sinfo.out_max_entries, info.out_max_entries);
	EXPECT_EQ(sinfo.out_max_bytes, info.out_max_bytes);
	EXPECT_EQ(sinfo.out_entries, info.out_entries);

	/* GET each key of the source from the clone. */
	for (i = 0; i < source->n; i++) {
		EXPECT_EQ(0, user_get(clone, source->recs[i].key, got,
				      sizeof(got), &version));
		EXPECT_STREQ(source->recs[i].value, got);
		EXPECT_EQ(source->recs[i].version, version);
		EXPECT_LT(version, cversion);
	}
	/* And the clone holds nothing else. */
	ASSERT_EQ(0, user_snapshot(clone, copy));
	EXPECT_SAME_RECORDS(source, copy);
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "clone.k%d", i);
		make_value(value, 10 * i, key, i);
		j = snap_find(copy, key);
		ASSERT_LE(0, j);
		EXPECT_STREQ(value, copy->recs[j].value);
		EXPECT_EQ(versions[i], copy->recs[j].version);
	}
	EXPECT_EQ(-ENOENT, user_get(clone, "clone.k7", got, sizeof(got),
				    NULL));

	/* Writes to the source afterwards do not reach the clone. */
	ASSERT_EQ(0, sm_put_str(self->map, "clone.k0", "changed", NULL));
	ASSERT_EQ(0, sm_del_str(self->map, "clone.k1", NULL));
	ASSERT_EQ(0, sm_put_str(self->map, "clone.k7", "back", NULL));
	ASSERT_EQ(0, sample_cmd("update", "clone.k2=from the kernel", NULL));
	ASSERT_EQ(0, user_snapshot(clone, copy));
	EXPECT_SAME_RECORDS(source, copy);
	EXPECT_EQ(-ENOENT, user_get(clone, "clone.k7", got, sizeof(got),
				    NULL));

	/* The clone's own writes come after everything it copied. */
	ASSERT_EQ(0, sm_put_str(clone, "clone.k3", "own", &v));
	EXPECT_LT(cversion, v);

	/* The module holds the clone: it outlives user space's fds. */
	EXPECT_EQ(0, close(clone));
	clone = sm_open(self->ctl, name, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, clone);
	EXPECT_VALUE(clone, "clone.k3", 8, "own", 3, v);
	EXPECT_EQ(0, close(clone));

	/* The API's errors; the last clone's version stays. */
	EXPECT_EQ(-1, write(fd, name, strlen(name)));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, write(fd, "bad name", 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, "\n", 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_LT(0, sample_read(fd, buf, sizeof(buf)));
	ASSERT_EQ(1, sscanf(buf, "%llu\n", (unsigned long long *)&version));
	EXPECT_EQ(cversion, version);
	EXPECT_EQ(0, close(fd));

	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "clone.k%d", i);
		sm_del_str(self->map, key, NULL);
	}
	free(source);
	free(copy);
}

/*
 * The sample's watch file follows the map through snapmap_watch_open()
 * and snapmap_watch_next(): each change from its open on, once, in the
 * order of the versions, a transaction's writes after the count of them.
 */
TEST_F(kapi, watch_file)
{
	char buf[1024], want[512];
	__u64 v1, v2, v3, vt;
	int fd, failed;
	ssize_t n;

	ASSERT_EQ(0, sm_put_str(self->map, "watch.before", "0", NULL));
	fd = open(SAMPLE_DIR "/watch", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EAGAIN, read(fd, buf, sizeof(buf)));

	ASSERT_EQ(0, sm_put_str(self->map, "watch.a", "1", &v1));
	ASSERT_EQ(0, sample_cmd("update", "watch.b=2", &v2));
	ASSERT_EQ(0, sm_del_str(self->map, "watch.a", &v3));
	ASSERT_EQ(0, sample_txn("+watch.c=3\n-watch.b\n-watch.absent", &vt,
				&failed));
	EXPECT_EQ(NONE_NAMED, failed);
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	snprintf(want, sizeof(want),
		 "%llu put watch.a=1\n%llu put watch.b=2\n%llu del watch.a\n"
		 "%llu txn 2\n%llu put watch.c=3\n%llu del watch.b\n",
		 (unsigned long long)v1, (unsigned long long)v2,
		 (unsigned long long)v3, (unsigned long long)vt,
		 (unsigned long long)vt, (unsigned long long)vt);
	EXPECT_STREQ(want, buf);
	EXPECT_ERRNO(EAGAIN, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, sm_del_str(self->map, "watch.c", NULL));
	EXPECT_EQ(0, sm_del_str(self->map, "watch.before", NULL));
}

TEST_HARNESS_MAIN
