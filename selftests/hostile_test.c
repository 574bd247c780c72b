// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: a hostile user.
 *
 * User 65534, with no privilege, in a memory cgroup of 8 MiB, does what it
 * can to take kernel memory and other users' data:
 *
 * - it tries to open root's maps: a 0600 one not at all, a 0644 one only
 *   read-only (perm_test covers the mode bits in full);
 * - it makes maps until the per-user cap refuses one (EDQUOT);
 * - while there is room, it writes round after round of values and takes
 *   a snapshot after each, so that old versions stay pinned; then it
 *   fills every map until the cgroup is full and the map refuses writes
 *   with ENOMEM; then it deletes, which always works; then it reads a
 *   snapshot into a 2 MiB buffer.
 *
 * Holding all that, it lets a bystander run: root, outside the cgroup,
 * whose map takes 2000 writes and who can allocate and touch 64 MiB.
 * Then: the hostile process was not killed; its cgroup's OOM killer never
 * woke, and no OOM kill happened anywhere; its cgroup stayed within its
 * limit (but for deletions' tombstones, whose charge is forced); and the
 * kernel's uncharged kmalloc caches grew by a small fraction of what the
 * cgroup was charged: what the user made the module allocate was charged
 * to it.
 */

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "snapmap_test.h"

#define CGROUP_DIR "/sys/fs/cgroup/snapmap-hostile"
#define LIMIT (8 << 20)
#define NOBODY 65534
#define MAPS 4		/* the per-user cap for the test */
#define ROUNDS 8
#define ROUND_KEYS 250
#define VALUE 1000
#define PRIVATE "hostile_test.private"
#define SHARED "hostile_test.shared"

/* A number from a file of lines "name value", or a one-number file. */
static long long read_value(const char *path, const char *name)
{
	char line[256];
	size_t len = name ? strlen(name) : 0;
	long long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!name) {
			val = strtoll(line, NULL, 10);
			break;
		}
		if (!strncmp(line, name, len) && line[len] == ' ')
			val = strtoll(line + len + 1, NULL, 10);
	}
	fclose(f);
	return val;
}

/* Bytes in use in the kmalloc caches no memory cgroup is charged for. */
static long long uncharged_kmalloc(void)
{
	char line[512], name[64];
	unsigned long active, objs, size;
	long long total = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &objs,
			   &size) != 4)
			continue;
		if (!strncmp(name, "kmalloc-", 8) &&
		    strncmp(name, "kmalloc-cg-", 11) &&
		    strncmp(name, "kmalloc-rcl-", 12))
			total += (long long)active * size;
	}
	fclose(f);
	return total;
}

static const char *cg_setup(void)
{
	char limit[32];

	snprintf(limit, sizeof(limit), "%d", LIMIT);
	return sm_memcg_create(CGROUP_DIR, limit);
}

/*
 * The hostile user's deeds; 0, or which of them went other than it must.
 * It tells the parent through the eventfd @ready when it holds
 * everything, and waits on @go before letting go: eventfds, because a
 * pipe's write would want a page of the full cgroup.
 */
static int hostile(int ready, int go)
{
	static char value[VALUE], key[32], rbuf[1 << 21];
	int ctl, maps[MAPS + 1], snaps[ROUNDS], fd, sfd;
	unsigned int i, r, m, n;
	uint64_t fills = 0;
	int err;

	memset(value, 'h', sizeof(value));
	memset(rbuf, 1, sizeof(rbuf));
	ctl = snapmap_open_ctl();
	if (ctl < 0)
		return 1;

	/* Root's maps: one not at all, one read-only only. */
	if (sm_open(ctl, PRIVATE, 0) != -EACCES ||
	    sm_open(ctl, PRIVATE, SNAPMAP_OPEN_RDONLY) != -EACCES ||
	    sm_open(ctl, SHARED, 0) != -EACCES)
		return 2;
	fd = sm_open(ctl, SHARED, SNAPMAP_OPEN_RDONLY);
	if (fd < 0 || sm_put_str(fd, "k", "v", NULL) != -EBADF)
		return 3;
	close(fd);

	/* As many maps as the cap allows, and not one more. */
	for (m = 0; m <= MAPS; m++)
		maps[m] = sm_create_default(ctl);
	for (m = 0; m < MAPS; m++)
		if (maps[m] < 0)
			return 4;
	if (maps[MAPS] != -EDQUOT)
		return 5;

	/*
	 * Round after round of values, each pinned by a snapshot, while
	 * there is room: how many rounds fit depends on the kernel's slab
	 * sizes (KASAN's are larger), and a full cgroup refuses a snapshot
	 * as it refuses a write.  Two rounds at least, so that versions
	 * are pinned.
	 */
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < ROUND_KEYS; i++) {
			snprintf(key, sizeof(key), "round-%u", i);
			value[0] = r;
			err = sm_put(maps[0], 0, key, strlen(key), value,
				     sizeof(value), 0, NULL);
			if (err && err != -ENOMEM)
				return 6;
		}
		snaps[r] = sm_snapshot(maps[0], 0, NULL);
		if (snaps[r] == -ENOMEM && r >= 2)
			break;
		if (snaps[r] < 0)
			return 7;
	}

	/* Every map until the cgroup is full. */
	for (m = 0; m < MAPS; m++) {
		for (n = 0;; n++) {
			snprintf(key, sizeof(key), "fill-%u", n);
			err = sm_put(maps[m], 0, key, strlen(key), value,
				     sizeof(value), 0, NULL);
			if (err == -ENOMEM)
				break;
			if (err)
				return 8;
		}
		fills++;
	}

	/* Full: deleting works all the same, and pins tombstones. */
	for (i = 0; i < ROUND_KEYS; i += 2) {
		snprintf(key, sizeof(key), "round-%u", i);
		if (sm_del(maps[0], 0, key, strlen(key), 0, NULL))
			return 9;
	}
	/* A big read: its buffer is the reader's to pay for. */
	sfd = snaps[0];
	n = read(sfd, rbuf, sizeof(rbuf));
	if ((int)n < 0 && errno != ENOMEM && errno != ESTALE)
		return 10;

	/* Hold it all while the bystander runs. */
	if (write(ready, &fills, 8) != 8 || read(go, &fills, 8) != 8)
		return 11;
	return 0;
}

/* Root, outside the cgroup, while the hostile user holds everything. */
static int bystander(void)
{
	char key[32], value[100];
	unsigned int i;
	size_t size = 64 << 20;
	char *mem;
	int ctl, fd;

	ctl = snapmap_open_ctl();
	fd = sm_create_default(ctl);
	if (fd < 0)
		return 1;
	memset(value, 'b', sizeof(value));
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "bystander-%u", i);
		if (sm_put(fd, 0, key, strlen(key), value, sizeof(value), 0,
			   NULL))
			return 2;
	}
	if (sm_get(fd, "bystander-0", 11, value, sizeof(value), NULL, NULL))
		return 3;
	mem = malloc(size);
	if (!mem)
		return 4;
	memset(mem, 1, size);
	free(mem);
	close(fd);
	close(ctl);
	return 0;
}

FIXTURE(hostile) {
	int ctl;
	int private;
	int shared;
	unsigned long long cap;
};

FIXTURE_SETUP(hostile)
{
	self->private = -1;
	self->shared = -1;
	if (getuid())
		SKIP(return, "needs root to become another user");
	ASSERT_EQ(0, sm_param("max_maps_per_user", &self->cap));
	ASSERT_EQ(0, sm_set_param("max_maps_per_user", MAPS));
	self->ctl = snapmap_open_ctl();
	ASSERT_LE(0, self->ctl);
	self->private = sm_create(self->ctl, 0, 0, 0, 0, 0600, PRIVATE);
	ASSERT_LE(0, self->private);
	self->shared = sm_create(self->ctl, 0, 0, 0, 0, 0644, SHARED);
	ASSERT_LE(0, self->shared);
	ASSERT_EQ(0, sm_put_str(self->private, "secret", "root's", NULL));
}

FIXTURE_TEARDOWN(hostile)
{
	if (self->private >= 0)
		close(self->private);
	if (self->shared >= 0)
		close(self->shared);
	if (!getuid()) {
		close(self->ctl);
		sm_set_param("max_maps_per_user", self->cap);
	}
}

TEST_F_TIMEOUT(hostile, small_cgroup, 600)
{
	long long kmalloc_before, kmalloc_after, oom_kills;
	long long current;
	struct pollfd pfd[2] = {
		{ .events = POLLIN },
		{ .events = POLLIN },
	};
	uint64_t fills, one = 1;
	int ready, go, status;
	const char *why;
	char pid[32];
	pid_t child;

	why = cg_setup();
	ASSERT_TRUE(!why || sm_memcg_missing(why)) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);
	ready = eventfd(0, EFD_CLOEXEC);
	go = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, ready);
	ASSERT_LE(0, go);
	oom_kills = read_value("/proc/vmstat", "oom_kill");
	kmalloc_before = uncharged_kmalloc();
	/*
	 * Counts that cannot be read would make the checks below pass.  A
	 * kernel without VM event counters (the debug kernel) has no
	 * oom_kill in /proc/vmstat: the cgroup's own counts stand alone.
	 */
	ASSERT_LE(0, kmalloc_before);
	fflush(stdout);

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (sm_write_file(CGROUP_DIR "/cgroup.procs", pid) ||
		    setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		_exit(hostile(ready, go));
	}

	/*
	 * The hostile user holds all it could get, or gave up: it exits
	 * before signalling only with the step that went wrong, which must
	 * fail the test at once rather than leave it blocked on the eventfd.
	 */
	pfd[0].fd = ready;
	pfd[1].fd = syscall(SYS_pidfd_open, child, 0);
	ASSERT_LE(0, pfd[1].fd);
	ASSERT_LT(0, poll(pfd, 2, -1));
	close(pfd[1].fd);
	if (!(pfd[0].revents & POLLIN)) {
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFEXITED(status)) {
			TH_LOG("the hostile process died of signal %d",
			       WTERMSIG(status));
		}
		ASSERT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("the hostile process gave up at step %d",
			       WEXITSTATUS(status));
		}
	}
	fills = 0;
	EXPECT_EQ(8, read(ready, &fills, 8));
	EXPECT_LT(0, fills);
	kmalloc_after = uncharged_kmalloc();
	current = read_value(CGROUP_DIR "/memory.current", NULL);
	EXPECT_LE(0, kmalloc_after);
	EXPECT_LE(0, current);
	printf("# the hostile user filled %d maps: cgroup at %lld of %d bytes, uncharged kmalloc caches %+lld bytes\n",
	       (int)fills, current, LIMIT,
	       kmalloc_after - kmalloc_before);
	fflush(stdout);
	/* Within the limit, but for tombstones' forced charges. */
	EXPECT_GE(LIMIT + (1 << 20), current);
	/* What it made the module allocate was charged to it. */
	EXPECT_GE(current / 10 + (256 << 10),
		  kmalloc_after - kmalloc_before);
	/* The rest of the guest is fine. */
	EXPECT_EQ(0, bystander());
	EXPECT_EQ(8, write(go, &one, 8));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) {
		TH_LOG("the hostile process died of signal %d",
		       WTERMSIG(status));
	}
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, read_value(CGROUP_DIR "/memory.events", "oom"));
	EXPECT_EQ(0, read_value(CGROUP_DIR "/memory.events", "oom_kill"));
	if (oom_kills >= 0) {
		EXPECT_EQ(oom_kills, read_value("/proc/vmstat", "oom_kill"));
	} else {
		TH_LOG("no oom_kill in /proc/vmstat: OOM kills counted in the cgroup only");
	}
	close(ready);
	close(go);
	rmdir(CGROUP_DIR);
}

TEST_HARNESS_MAIN
