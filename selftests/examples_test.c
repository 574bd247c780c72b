// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: the example programs of userspace/examples, run as
 * programs.
 *
 * Each example's exit status, and the lines of its output that show what
 * it is there to show: the results of a batch's operations, an exact total
 * from a CAS retry loop, a snapshot read through a read-only fd (by a user
 * who may only read), the module's features as the handshake reports them
 * and the fallback taken when one is missing.  The maps an example reads
 * are made and checked here with raw ioctls, and the features compared
 * with a handshake of the test's own.
 *
 * The examples are looked for in $PATH (the test guest has them in /bin);
 * a missing one fails its case.
 */

#include <stdbool.h>

#include "snapmap_test.h"

#define OTHER_UID 65534
#define OTHER_GID 65534

/* The named map readonly_consumer reads. */
#define RO_MAP "examples_ro"

struct result {
	int status;	/* exit status, or 128 + signal */
	char *out;	/* NUL-terminated */
	char *err;
};

static const char *example_path(const char *name)
{
	static char path[4096];
	const char *p;
	size_t n;

	for (p = getenv("PATH") ?: "/bin:/usr/bin"; *p; p += n + !!p[n]) {
		n = strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/%s", (int)n, p, name);
		if (!access(path, X_OK))
			return path;
	}
	return NULL;
}

static char *read_back(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *buf = malloc(n + 1);

	if (!buf)
		return NULL;
	if (pread(fd, buf, n, 0) != n)
		n = 0;
	buf[n] = '\0';
	return buf;
}

/*
 * Run the example at @path with @argv (NULL-terminated, the program's
 * name first), as @uid unless it is 0, its output into @r.
 */
static int run_v(struct result *r, const char *path, uid_t uid,
		 const char *const *argv)
{
	int fds[2], i, status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 2; i++) {
		fds[i] = memfd_create("examples_test", MFD_CLOEXEC);
		if (fds[i] < 0)
			return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(fds[0], 1);
		dup2(fds[1], 2);
		if (uid && (setgroups(0, NULL) ||
			    setresgid(OTHER_GID, OTHER_GID, OTHER_GID) ||
			    setresuid(uid, uid, uid)))
			_exit(125);
		execv(path, (char **)argv);
		_exit(126);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	r->out = read_back(fds[0]);
	r->err = read_back(fds[1]);
	for (i = 0; i < 2; i++)
		close(fds[i]);
	return r->out && r->err ? 0 : -1;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* Run example @name with its arguments, as @uid; fails if it is missing. */
#define RUN_AS(r, uid, name, ...)					\
	do {								\
		const char *__path = example_path(name);		\
									\
		ASSERT_NE(NULL, __path) {				\
			TH_LOG("no program %s in $PATH", name);		\
		}							\
		ASSERT_EQ(0, run_v(&(r), __path, uid,			\
			(const char *const[]){ name, ##__VA_ARGS__, NULL })); \
	} while (0)
#define RUN(r, name, ...) RUN_AS(r, 0, name, ##__VA_ARGS__)

#define EXPECT_STATUS(st, r)						\
	do {								\
		EXPECT_EQ(st, (r).status) {				\
			TH_LOG("stdout: %s", (r).out);			\
			TH_LOG("stderr: %s", (r).err);			\
		}							\
	} while (0)

/* @needle is one whole line of @text. */
static bool has_line(const char *text, const char *needle)
{
	size_t len = strlen(needle);
	const char *p;

	for (p = text; (p = strstr(p, needle)); p++)
		if ((p == text || p[-1] == '\n') &&
		    (p[len] == '\n' || !p[len]))
			return true;
	return false;
}

#define EXPECT_LINE(text, line)						\
	do {								\
		EXPECT_TRUE(has_line(text, line)) {			\
			TH_LOG("no line '%s' in:\n%s", line, text);	\
		}							\
	} while (0)

#define EXPECT_HAS(text, needle)					\
	do {								\
		EXPECT_TRUE(strstr(text, needle) != NULL) {		\
			TH_LOG("'%s' not in:\n%s", needle, text);	\
		}							\
	} while (0)

/* hello: a put, a get with its version, a snapshot that misses later writes. */
TEST(hello)
{
	struct result r;

	RUN(r, "hello");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "greeting = hello (version ");
	EXPECT_LINE(r.out, "  greeting = hello");
	EXPECT_LINE(r.out, "  subject = world");
	/* Written after the snapshot was taken. */
	EXPECT_EQ(NULL, strstr(r.out, "not in the snapshot"));
	EXPECT_EQ(NULL, strstr(r.out, "subject = snapmap"));
	EXPECT_HAS(r.out, "holds 3 keys");
	result_free(&r);
}

/* moving_key: no ATOMIC snapshot and no clone shows an impossible state. */
TEST(moving_key)
{
	struct result r;

	RUN(r, "moving_key", "-r", "20", "-k", "200");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "ATOMIC     20 reads,    0 impossible");
	EXPECT_HAS(r.out, "clone   taken at version ");
	EXPECT_EQ(NULL, strstr(r.out, "IMPOSSIBLE"));
	result_free(&r);
}

/* batch: each operation's own result; STOP_ON_ERROR stops after the first. */
TEST(batch)
{
	struct result r;

	RUN(r, "batch", "5");
	EXPECT_STATUS(0, r);
	EXPECT_LINE(r.out, "put 5 keys in one batch");
	EXPECT_LINE(r.out, "mixed batch: 4 operations ran");
	EXPECT_HAS(r.out, "  get key0: OK, value value0, version ");
	EXPECT_LINE(r.out, "  get absent: ENOENT");
	EXPECT_LINE(r.out, "  put key0 if absent: EEXIST");
	EXPECT_LINE(r.out, "  del key4: OK");
	EXPECT_LINE(r.out,
		    "stop on error: 1 of 2 operations ran, the first: EEXIST");
	EXPECT_LINE(r.out, "  key never: ENOENT");
	EXPECT_STREQ("", r.err);
	result_free(&r);
}

TEST(batch_bad_argument)
{
	struct result r;

	RUN(r, "batch", "0");
	EXPECT_STATUS(2, r);
	EXPECT_HAS(r.err, "usage: batch");
	EXPECT_STREQ("", r.out);
	result_free(&r);
}

/* cas_counter: threads race on one key, and not one increment is lost. */
TEST(cas_counter)
{
	struct result r;

	RUN(r, "cas_counter", "-t", "4", "-n", "250");
	EXPECT_STATUS(0, r);
	EXPECT_HAS(r.out, "4 threads, 250 increments each, ");
	EXPECT_HAS(r.out, "counter = 1000 (expected 1000) at version ");
	EXPECT_STREQ("", r.err);
	result_free(&r);
}

TEST(cas_counter_bad_argument)
{
	struct result r;

	RUN(r, "cas_counter", "-t", "0");
	EXPECT_STATUS(2, r);
	EXPECT_HAS(r.err, "usage: cas_counter");
	result_free(&r);
}

/* A named map with @mode, three keys, one of them binary, held by @fd. */
FIXTURE(ro)
{
	int ctl;
	int fd;
	__u64 last;	/* version of the last write */
};

FIXTURE_SETUP(ro)
{
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->fd = sm_create(self->ctl, 0, 0, 0, 0, 0644, RO_MAP);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sm_put_str(self->fd, "alpha", "one", NULL));
	ASSERT_EQ(0, sm_put_str(self->fd, "beta", "two", NULL));
	ASSERT_EQ(0, sm_put(self->fd, 0, "bin", 3, "\x01\\z", 3, 0,
			    &self->last));
}

FIXTURE_TEARDOWN(ro)
{
	close(self->fd);
	close(self->ctl);
}

#define RO_SUMMARY RO_MAP ": 3 entries at version "

/* The snapshot's lines; the fd refused the example's PUT. */
static void check_consumer_output(struct __test_metadata *_metadata,
				  FIXTURE_DATA(ro) *self, struct result *r)
{
	const char *summary = strstr(r->out, RO_SUMMARY);

	EXPECT_STATUS(0, *r);
	EXPECT_LINE(r->out, "alpha = one");
	EXPECT_LINE(r->out, "beta = two");
	EXPECT_LINE(r->out, "bin = \\x01\\x5cz");
	EXPECT_NE(NULL, summary) {
		TH_LOG("no '%s' in:\n%s", RO_SUMMARY, r->out);
	}
	/* The snapshot holds the last write: its version is above it. */
	if (summary)
		EXPECT_LT(self->last, strtoull(summary + strlen(RO_SUMMARY),
					       NULL, 10));
	/* The PUT it tried on its read-only fd wrote nothing. */
	EXPECT_EQ(-ENOENT, sm_get(self->fd, "k", 1, NULL, 0, NULL, NULL));
}

TEST_F(ro, owner)
{
	struct result r;

	RUN(r, "readonly_consumer", RO_MAP);
	check_consumer_output(_metadata, self, &r);
	result_free(&r);
}

/*
 * As another user: 0 if the map opens read-only but not for writing (mode
 * 0644 grants others the read bit alone), 1 otherwise.
 */
static int other_opens_read_only(void *arg)
{
	int ctl = snapmap_open_ctl(), fd;

	if (ctl < 0 || sm_open(ctl, RO_MAP, 0) != -EACCES)
		return 1;
	fd = sm_open(ctl, RO_MAP, SNAPMAP_OPEN_RDONLY);
	return fd < 0;
}

TEST_F(ro, other_user)
{
	struct result r;

	ASSERT_EQ(0, sm_run_as(OTHER_UID, OTHER_GID, 0, NULL,
			       other_opens_read_only, NULL));
	RUN_AS(r, OTHER_UID, "readonly_consumer", RO_MAP);
	check_consumer_output(_metadata, self, &r);
	result_free(&r);
}

TEST_F(ro, missing_map)
{
	struct result r;

	RUN(r, "readonly_consumer", "examples_no_such_map");
	EXPECT_STATUS(1, r);
	EXPECT_HAS(r.err, "open examples_no_such_map: No such file or directory");
	EXPECT_STREQ("", r.out);
	result_free(&r);
}

TEST(readonly_consumer_no_read_permission)
{
	struct result r;
	int ctl, fd;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create(ctl, 0, 0, 0, 0, 0600, RO_MAP "_private");
	ASSERT_LE(0, fd);
	RUN_AS(r, OTHER_UID, "readonly_consumer", RO_MAP "_private");
	EXPECT_STATUS(1, r);
	EXPECT_HAS(r.err, "Permission denied");
	result_free(&r);
	close(fd);
	close(ctl);
}

/* What the handshake says, on the test's own control fd. */
static void handshake(struct __test_metadata *_metadata,
		      struct snapmap_api *api)
{
	int ctl = snapmap_open_ctl();

	ASSERT_LE(0, ctl);
	memset(api, 0, sizeof(*api));
	api->size = sizeof(*api);
	ASSERT_EQ(0, ioctl(ctl, SNAPMAP_IOC_API, api));
	close(ctl);
}

/* The feature lines of feature_probe's output, from @features. */
static void check_features(struct __test_metadata *_metadata,
			   const char *out, __u64 features)
{
	static const struct {
		const char *name;
		__u64 bit;
		unsigned int abi;
	} known[] = {
		{ "named-maps", SNAPMAP_FEATURE_NAMED_MAPS, 1 },
		{ "versions", SNAPMAP_FEATURE_VERSIONS, 1 },
		{ "atomic-snapshots", SNAPMAP_FEATURE_ATOMIC_SNAPSHOTS, 1 },
		{ "clone", SNAPMAP_FEATURE_CLONE, 1 },
		{ "txn", SNAPMAP_FEATURE_TXN, 2 },
		{ "watch", SNAPMAP_FEATURE_WATCH, 3 },
		{ "persistent", SNAPMAP_FEATURE_PERSISTENT, 4 },
		{ "watch-wakeup", SNAPMAP_FEATURE_WATCH_WAKEUP, 5 },
	};
	char line[80];
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		snprintf(line, sizeof(line), "  %-17s %s (ABI version %u)",
			 known[i].name,
			 features & known[i].bit ? "yes" : "no ", known[i].abi);
		EXPECT_LINE(out, line);
	}
}

TEST(feature_probe)
{
	struct snapmap_api api;
	struct result r;
	char line[80];

	handshake(_metadata, &api);
	RUN(r, "feature_probe");
	EXPECT_STATUS(0, r);
	snprintf(line, sizeof(line),
		 "module ABI version %u, this program's header %d",
		 api.out_abi_version, SNAPMAP_ABI_VERSION);
	EXPECT_LINE(r.out, line);
	check_features(_metadata, r.out, api.out_features);
	/* The module and the program share a header: it names them all. */
	EXPECT_EQ(NULL, strstr(r.out, "features unknown here"));
	EXPECT_LINE(r.out, api.out_ioctls & (1ULL << SNAPMAP_CMD_WATCH) ?
		    "  watch command: yes" : "  watch command: no");
	/* This module has transactions: the batch at one version. */
	ASSERT_TRUE(api.out_features & SNAPMAP_FEATURE_TXN);
	EXPECT_HAS(r.out, "read with mget: alpha=1 beta=2, both as they were");
	result_free(&r);
}

/* Without the feature, the fallback every module has: a snapshot. */
TEST(feature_probe_fallback)
{
	struct snapmap_api api;
	struct result r;

	handshake(_metadata, &api);
	RUN(r, "feature_probe", "--without", "txn", "--without", "watch");
	EXPECT_STATUS(0, r);
	check_features(_metadata, r.out, api.out_features &
		       ~(SNAPMAP_FEATURE_TXN | SNAPMAP_FEATURE_WATCH));
	EXPECT_HAS(r.out, "read with a snapshot: alpha=1 beta=2, both as");
	EXPECT_EQ(NULL, strstr(r.out, "mget"));
	result_free(&r);
}

TEST(feature_probe_bad_argument)
{
	struct result r;

	RUN(r, "feature_probe", "--without", "no-such-feature");
	EXPECT_STATUS(2, r);
	EXPECT_HAS(r.err, "usage: feature_probe");
	result_free(&r);
}

TEST_HARNESS_MAIN
