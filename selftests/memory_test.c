// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap selftests: where a map's memory goes and what keeps the module
 * loaded.
 *
 * - every allocation of a map is charged to its creator's memory cgroup,
 *   deletions' tombstones included, and a map whose cgroup is full refuses
 *   writes with ENOMEM without the OOM killer touching anyone;
 * - the buffers a call needs for its keys, values and records are charged
 *   to the caller's memory cgroup, and fail with ENOMEM too when it is
 *   full;
 * - the per-entry memory of 16-byte keys and values, as INFO counts it
 *   and as the slab allocator and the memory cgroup see it (reported);
 * - the module cannot be unloaded while a map or a snapshot exists;
 * - debugfs lists the live maps;
 * - what a map frees it keeps for reuse only while writes go on.
 */

#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "snapmap_test.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_DIR CGROUP_ROOT "/snapmap-memory-test"
#define ENTRIES 20000

/* Read one number from a cgroup file. */
static long long cg_read(const char *file)
{
	char path[256], buf[64];
	long long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", CGROUP_DIR, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		val = strtoll(buf, NULL, 10);
	fclose(f);
	return val;
}

/* A counter of the cgroup's memory.events, or -1. */
static long long cg_event(const char *name)
{
	char path[256], line[128];
	size_t len = strlen(name);
	long long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.events", CGROUP_DIR);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			val = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return val;
}

/* A cgroup v2 with the memory controller, or a reason to skip. */
static const char *cg_setup(void)
{
	return sm_memcg_create(CGROUP_DIR, NULL);
}

static void cg_enter(const char *max)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (sm_write_file(CGROUP_DIR "/memory.max", max) ||
	    sm_write_file(CGROUP_DIR "/cgroup.procs", pid))
		_exit(100);
}

/* Fill @fd with 16-byte keys and values: i = 0 .. @n - 1. */
static int put_n(int fd, unsigned int n, unsigned int *done)
{
	char key[17], value[17];
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%012u", i);
		snprintf(value, sizeof(value), "val-%012u", i);
		ret = sm_put(fd, 0, key, 16, value, 16, 0, NULL);
		if (ret)
			break;
	}
	*done = i;
	return ret;
}

/* Bytes in use in the kmalloc caches, from /proc/slabinfo. */
static long long slab_kmalloc_bytes(void)
{
	char line[512], name[64];
	long long total = 0;
	unsigned long active, objs, size;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &objs,
			   &size) != 4)
			continue;
		if (!strncmp(name, "kmalloc-", 8) && strncmp(name, "kmalloc-rcl", 11))
			total += (long long)active * size;
	}
	fclose(f);
	return total;
}

/*
 * Run @child in a child process inside the test cgroup, limited to @max
 * bytes, with a fresh map made there (so charged there).  The child's exit
 * status is 0 for success, or says which of its checks failed.
 */
static void run_in_cgroup(struct __test_metadata *_metadata, const char *max,
			  int (*child)(int fd))
{
	const char *why = cg_setup();
	int status, fd;
	pid_t pid;

	ASSERT_TRUE(!why || sm_memcg_missing(why)) TH_LOG("%s", why);
	if (why)
		SKIP(return, "%s", why);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/*
		 * Every page the child has, made present (copied, where
		 * shared with the parent) and locked, charged outside the
		 * test cgroup: once the cgroup is full, a page fault would
		 * wake its OOM killer for the child's own memory, and
		 * reclaim would drop the code it runs.
		 */
		if (mlockall(MCL_CURRENT))
			_exit(101);
		cg_enter(max);
		fd = sm_create_default(snapmap_open_ctl());
		_exit(fd < 0 ? 100 : child(fd));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* Killed (by the OOM killer) is a failure too. */
	ASSERT_TRUE(WIFEXITED(status)) {
		TH_LOG("child died of signal %d", WTERMSIG(status));
	}
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Not even a try: the cgroup's OOM killer was never woken. */
	EXPECT_EQ(0, cg_event("oom"));
	rmdir(CGROUP_DIR);
}

/* Reports the per-entry cost three ways. */
static int fill_and_measure(int fd)
{
	long long before, after, slab_before, slab_after;
	struct snapmap_info info;
	unsigned int done;

	before = cg_read("memory.current");
	slab_before = slab_kmalloc_bytes();
	if (put_n(fd, ENTRIES, &done) || sm_info(fd, &info))
		return 1;
	after = cg_read("memory.current");
	slab_after = slab_kmalloc_bytes();

	printf("# %u entries of 16-byte keys and values:\n", ENTRIES);
	printf("#   INFO bytes:          %llu per entry\n",
	       (unsigned long long)info.out_bytes / ENTRIES);
	printf("#   memory cgroup:       %lld per entry\n",
	       (after - before) / ENTRIES);
	if (slab_before >= 0)
		printf("#   kmalloc slab caches: %lld per entry\n",
		       (slab_after - slab_before) / ENTRIES);
	fflush(stdout);
	/* Rounded up to slab sizes, charges are at least INFO's. */
	return after - before < (long long)info.out_bytes ? 2 : 0;
}

/* The map's allocations show in its creator's memory.current. */
TEST(charged_to_creator_memcg)
{
	run_in_cgroup(_metadata, "max", fill_and_measure);
}

/* Filling a cgroup takes a while under emulation. */
FIXTURE(slow) {
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

static int fill_until_full(int fd)
{
	struct snapmap_info info;
	unsigned int done;
	char value[16];

	if (put_n(fd, 1000000, &done) != -ENOMEM)
		return 1;
	/* Every write that succeeded is there, the failed one not. */
	if (sm_info(fd, &info) || info.out_entries != done)
		return 2;
	if (sm_get(fd, "key-000000000000", 16, value, sizeof(value), NULL,
		   NULL))
		return 3;
	/* Deleting needs no memory the full cgroup would refuse. */
	if (sm_clear(fd, NULL) || sm_info(fd, &info) || info.out_entries)
		return 4;
	return 0;
}

/*
 * A map whose creator's cgroup is full refuses writes with ENOMEM: no OOM
 * kill, nothing lost, reads work and the map can be emptied.  (Freed
 * versions are returned only after an RCU grace period, which user space
 * cannot wait for, so this does not check that room comes back.)
 */
TEST_F_TIMEOUT(slow, memcg_limit_refuses_writes, 300)
{
	run_in_cgroup(_metadata, "8M", fill_until_full);
}

/*
 * In a full cgroup, calls that need buffers for long keys and values (64
 * KiB: more than a slab page, so that the buffers come from vmalloc()), a
 * batch and a snapshot read each work or fail with ENOMEM; none wakes the
 * cgroup's OOM killer, whose first victim would be this process.
 */
static int full_cgroup_calls(int fd)
{
	static char key[200], value[65536], buf[65536];
	struct snapmap_batch_op ops[16];
	unsigned int done, i;
	void *rbuf;
	ssize_t n;
	int sfd, ret;

	memset(key, 'k', sizeof(key));
	memset(value, 'v', sizeof(value));
	/* The snapshot's fd and the read buffer, while there is room. */
	sfd = sm_snapshot(fd, 0, NULL);
	rbuf = malloc(1 << 21);
	if (sfd < 0 || !rbuf)
		return 10;
	/* Not 0: malloc() and memset(0) become a calloc() that touches nothing. */
	memset(rbuf, 1, 1 << 21);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < 16; i++) {
		ops[i].opcode = SNAPMAP_BATCH_PUT;
		ops[i].key_len = sizeof(key) - i;
		ops[i].value_len = 1000;
		ops[i].key = SM_PTR(key);
		ops[i].value = SM_PTR(value);
	}

	if (put_n(fd, 1000000, &done) != -ENOMEM)
		return 1;
	ret = sm_put(fd, 0, key, sizeof(key), value, sizeof(value), 0, NULL);
	if (ret && ret != -ENOMEM)
		return 2;
	ret = sm_get(fd, "key-000000000000", 16, buf, sizeof(buf), NULL, NULL);
	if (ret && ret != -ENOMEM)
		return 3;
	if (sm_batch(fd, 0, ops, 16, &done) || done != 16)
		return 4;
	for (i = 0; i < 16; i++)
		if (ops[i].out_result && ops[i].out_result != -ENOMEM)
			return 5;
	n = read(sfd, rbuf, 1 << 21);
	if (n < 0 && errno != ENOMEM)
		return 6;
	close(sfd);
	free(rbuf);
	return 0;
}

TEST_F_TIMEOUT(slow, full_memcg_no_oom_kill, 300)
{
	run_in_cgroup(_metadata, "8M", full_cgroup_calls);
}

/*
 * The buffer read(2) needs on a snapshot fd for a record longer than its
 * usual chunk is charged to the reader: in a full cgroup, reading a record
 * of a 1 MiB value (the default limit) into a 2 MiB buffer fails with
 * ENOMEM, and works again once the limit is lifted.
 */
static int read_into_full_cgroup(int fd)
{
	const size_t big = 1 << 20;
	unsigned int done;
	int sfd, max_fd;
	void *buf;
	ssize_t n;

	buf = malloc(2 * big);
	if (!buf)
		return 1;
	memset(buf, 1, 2 * big);
	if (sm_put(fd, 0, "key", 3, buf, big, 0, NULL))
		return 1;
	sfd = sm_snapshot(fd, 0, NULL);
	/* Opened now: a full cgroup has no room for another file. */
	max_fd = open(CGROUP_DIR "/memory.max", O_WRONLY | O_CLOEXEC);
	if (sfd < 0 || max_fd < 0)
		return 2;
	if (put_n(fd, 1000000, &done) != -ENOMEM)
		return 3;

	n = read(sfd, buf, 2 * big);
	if (n != -1 || errno != ENOMEM)
		return 4;
	if (write(max_fd, "max", 3) != 3)
		return 5;
	close(max_fd);
	n = read(sfd, buf, 2 * big);
	if (n != SNAPMAP_RECORD_SIZE(3, big))
		return 6;
	close(sfd);
	free(buf);
	return 0;
}

TEST_F_TIMEOUT(slow, read_buffer_charged, 300)
{
	run_in_cgroup(_metadata, "6M", read_into_full_cgroup);
}

#define TOMB_KEYS 4000
#define TOMB_ROUNDS 8
#define TOMB_BATCH 500

/* One op per key, of @opcode, in batches. */
static int batch_all(int fd, __u32 opcode)
{
	static struct snapmap_batch_op ops[TOMB_BATCH];
	static char keys[TOMB_BATCH][17];
	unsigned int i, j, done;

	for (i = 0; i < TOMB_KEYS; i += TOMB_BATCH) {
		memset(ops, 0, sizeof(ops));
		for (j = 0; j < TOMB_BATCH; j++) {
			snprintf(keys[j], sizeof(keys[j]), "key-%012u", i + j);
			ops[j].opcode = opcode;
			ops[j].key_len = 16;
			ops[j].key = SM_PTR(keys[j]);
			ops[j].value_len = opcode == SNAPMAP_BATCH_PUT ? 16 : 0;
			ops[j].value = SM_PTR(keys[j]);
		}
		if (sm_batch(fd, SNAPMAP_BATCH_STOP_ON_ERROR, ops, TOMB_BATCH,
			     &done) || done != TOMB_BATCH ||
		    ops[TOMB_BATCH - 1].out_result)
			return -1;
	}
	return 0;
}

/*
 * With a snapshot holding every key's first value, deleting every key,
 * taking a snapshot and writing them all again, round after round, pins a
 * tombstone per key and round: each later snapshot needs its round's
 * tombstone to hide the first value.  They count in INFO's bytes, and they
 * must count in the memory cgroup too: otherwise a user could keep as much
 * uncharged kernel memory as the map's byte limit.
 */
static int pin_tombstones(int fd)
{
	struct snapmap_info before, after;
	long long mem_before, mem_after;
	int sfd[TOMB_ROUNDS + 1];
	unsigned int r;

	if (batch_all(fd, SNAPMAP_BATCH_PUT))
		return 1;
	sfd[0] = sm_snapshot(fd, 0, NULL);
	if (sfd[0] < 0 || sm_info(fd, &before))
		return 1;
	mem_before = cg_read("memory.current");
	for (r = 1; r <= TOMB_ROUNDS; r++) {
		if (batch_all(fd, SNAPMAP_BATCH_DEL))
			return 2;
		sfd[r] = sm_snapshot(fd, 0, NULL);
		if (sfd[r] < 0 || batch_all(fd, SNAPMAP_BATCH_PUT))
			return 3;
	}
	mem_after = cg_read("memory.current");
	if (sm_info(fd, &after))
		return 4;
	printf("# %u tombstones pinned: INFO bytes +%llu, memory.current +%lld\n",
	       TOMB_KEYS * TOMB_ROUNDS,
	       (unsigned long long)(after.out_bytes - before.out_bytes),
	       mem_after - mem_before);
	fflush(stdout);
	for (r = 0; r <= TOMB_ROUNDS; r++)
		close(sfd[r]);
	return mem_after - mem_before < (long long)(after.out_bytes -
						    before.out_bytes) ? 5 : 0;
}

TEST_F_TIMEOUT(slow, tombstones_charged, 300)
{
	run_in_cgroup(_metadata, "max", pin_tombstones);
}

/*
 * A shared map: made in one memory cgroup, written from another.  Every
 * allocation for the map is charged to its creator's cgroup, whoever
 * writes: otherwise a process could pin its memory in another's map and
 * out of its own cgroup's reach.
 */
#define CG_A CGROUP_ROOT "/snapmap-memory-creator"
#define CG_B CGROUP_ROOT "/snapmap-memory-writer"
#define SHARED_NAME "memory-test.shared"
#define SHARED_ENTRIES 40000
#define SHARED_VALUE 200

static long long cg_current(const char *dir)
{
	char path[256], buf[64];
	long long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		val = strtoll(buf, NULL, 10);
	fclose(f);
	return val;
}

/*
 * Move the calling process into @dir, its pages locked where they are
 * charged now: only what it allocates from here on is charged there.
 */
static int cg_join(const char *dir)
{
	char path[256], pid[32];

	if (mlockall(MCL_CURRENT))
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return sm_write_file(path, pid);
}

/* One byte through a pipe: the parent and its children take turns. */
static int say(int fd)
{
	return write(fd, "x", 1) == 1 ? 0 : -1;
}

static int hear(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

/* In cgroup A: make the map, then hold it until told. */
static int shared_creator(int to_parent, int from_parent)
{
	int fd;

	if (cg_join(CG_A))
		return 1;
	fd = sm_create(snapmap_open_ctl(), 32, SHARED_VALUE, 0, 0, 0600,
		       SHARED_NAME);
	if (fd < 0 || say(to_parent) || hear(from_parent))
		return 2;
	return 0;
}

/* In cgroup B: open the map by name, fill it when told, then wait. */
static int shared_writer(int to_parent, int from_parent)
{
	static char key[17], value[SHARED_VALUE];
	unsigned int i;
	int fd;

	if (cg_join(CG_B))
		return 1;
	fd = sm_open(snapmap_open_ctl(), SHARED_NAME, 0);
	if (fd < 0 || say(to_parent) || hear(from_parent))
		return 2;
	memset(value, 'w', sizeof(value));
	for (i = 0; i < SHARED_ENTRIES; i++) {
		snprintf(key, sizeof(key), "key-%012u", i);
		if (sm_put(fd, 0, key, 16, value, sizeof(value), 0, NULL))
			return 3;
	}
	if (say(to_parent) || hear(from_parent))
		return 4;
	return 0;
}

static pid_t spawn(int (*fn)(int, int), int *to_child, int *from_child)
{
	int up[2], down[2];
	pid_t pid;

	if (pipe(up) || pipe(down))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(up[0]);
		close(down[1]);
		_exit(fn(up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	*from_child = up[0];
	*to_child = down[1];
	return pid;
}

TEST_F_TIMEOUT(slow, shared_map_charged_to_creator, 300)
{
	long long a0, a1, b0, b1;
	int a_in, a_out, b_in, b_out, status, ctl, fd;
	struct snapmap_info info;
	const char *why;
	pid_t a, b;

	why = sm_memcg_create(CG_A, NULL) ?: sm_memcg_create(CG_B, NULL);
	if (why)
		SKIP(return, "%s", why);
	a = spawn(shared_creator, &a_out, &a_in);
	ASSERT_LT(0, a);
	ASSERT_EQ(0, hear(a_in));
	b = spawn(shared_writer, &b_out, &b_in);
	ASSERT_LT(0, b);
	ASSERT_EQ(0, hear(b_in));

	a0 = cg_current(CG_A);
	b0 = cg_current(CG_B);
	ASSERT_EQ(0, say(b_out));
	/* B has written every entry and waits, its fd still open. */
	ASSERT_EQ(0, hear(b_in));
	a1 = cg_current(CG_A);
	b1 = cg_current(CG_B);

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_open(ctl, SHARED_NAME, SNAPMAP_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_info(fd, &info));
	EXPECT_EQ(SHARED_ENTRIES, info.out_entries);
	close(fd);
	close(ctl);

	ASSERT_EQ(0, say(b_out));
	ASSERT_EQ(b, waitpid(b, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("writer: status %#x", status);
	}
	ASSERT_EQ(0, say(a_out));
	ASSERT_EQ(a, waitpid(a, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("creator: status %#x", status);
	}

	printf("# %u entries written from cgroup B into a map made in A: INFO bytes %llu; memory.current of A +%lld, of B +%lld\n",
	       SHARED_ENTRIES, (unsigned long long)info.out_bytes, a1 - a0,
	       b1 - b0);
	fflush(stdout);
	ASSERT_LE(0, a0);
	ASSERT_LE(0, b0);
	/* A pays for the entries, at least what INFO counts... */
	EXPECT_LE((long long)info.out_bytes, a1 - a0);
	/*
	 * ...and B for none of them: what B may gain is its own few pages
	 * and the memory cgroup's per-CPU charge batches (64 pages a CPU),
	 * far less than an eighth of the map.
	 */
	EXPECT_GT((long long)info.out_bytes / 8, b1 - b0);
	rmdir(CG_A);
	rmdir(CG_B);
}

/*
 * Creating an ATOMIC snapshot is O(1) in the map's size, shown by what it
 * allocates and what it changes rather than by time, which TCG makes
 * meaningless:
 *
 * - 64 snapshots held open of a map of SNAP_ENTRIES entries are charged
 *   to the memory cgroup what 64 snapshots of a map of one entry are,
 *   within the cgroup's per-CPU charge batches: a copy, or any
 *   allocation per entry or per bucket, even of one byte, would add at
 *   least 64 * SNAP_ENTRIES bytes;
 * - each snapshot advances the map's version by exactly one and changes
 *   neither its entries nor its bytes: no entry is stamped or copied
 *   into the map's accounting;
 * - yet each of them holds all SNAP_ENTRIES entries.
 *
 * What this cannot show is a walk that touches every entry without
 * allocating or changing anything: the kernel API sweeps and the
 * benchmarks' creation-time figure look at that side.
 */
#define SNAP_ENTRIES 50000
#define SNAP_HELD 64

static int snapshots_of(int fd, int *sfd, long long *charged)
{
	struct snapmap_info before, after;
	long long m0, m1;
	unsigned int i;

	if (sm_info(fd, &before))
		return -1;
	m0 = cg_read("memory.current");
	for (i = 0; i < SNAP_HELD; i++) {
		sfd[i] = sm_snapshot(fd, 0, NULL);
		if (sfd[i] < 0)
			return -1;
	}
	m1 = cg_read("memory.current");
	if (m0 < 0 || m1 < 0 || sm_info(fd, &after))
		return -1;
	*charged = m1 - m0;
	if (after.out_version != before.out_version + SNAP_HELD ||
	    after.out_entries != before.out_entries ||
	    after.out_bytes != before.out_bytes)
		return -2;
	return 0;
}

static int snapshot_cost(int small)
{
	int big, sfd_small[SNAP_HELD], sfd_big[SNAP_HELD];
	struct snapmap_snapshot_info si;
	long long c_small, c_big;
	unsigned int done, i;

	big = sm_create_default(snapmap_open_ctl());
	if (big < 0 || put_n(big, SNAP_ENTRIES, &done) || put_n(small, 1, &done))
		return 1;
	/* Warm: the first snapshot and file of each cache. */
	close(sm_snapshot(small, 0, NULL));
	close(sm_snapshot(big, 0, NULL));
	if (snapshots_of(small, sfd_small, &c_small))
		return 2;
	if (snapshots_of(big, sfd_big, &c_big))
		return 3;
	printf("# %u ATOMIC snapshots held: of 1 entry, memory.current +%lld; of %u entries, +%lld\n",
	       SNAP_HELD, c_small, SNAP_ENTRIES, c_big);
	fflush(stdout);
	for (i = 0; i < SNAP_HELD; i++) {
		if (sm_snapshot_info(sfd_big[i], &si) ||
		    si.out_entries != SNAP_ENTRIES)
			return 4;
		close(sfd_small[i]);
		close(sfd_big[i]);
	}
	/* Two CPUs' charge batches of 64 pages, at most, either way. */
	if (c_big - c_small > 2 * 64 * 4096 + SNAP_HELD * 1024)
		return 5;
	return 0;
}

TEST_F_TIMEOUT(slow, snapshot_creation_is_o1, 300)
{
	run_in_cgroup(_metadata, "max", snapshot_cost);
}

static int unload_snapmap(void)
{
	return syscall(__NR_delete_module, "snapmap", O_NONBLOCK) ? -errno : 0;
}

/* Any fd of the module holds it: control, map and snapshot fds. */
TEST(module_held_by_fds)
{
	int ctl, fd, sfd;

	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	EXPECT_NE(0, unload_snapmap());

	fd = sm_create_default(ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(ctl));
	/* A map alone, no control fd. */
	EXPECT_NE(0, unload_snapmap());

	sfd = sm_snapshot(fd, 0, NULL);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, close(fd));
	/* A snapshot alone. */
	EXPECT_NE(0, unload_snapmap());
	ASSERT_EQ(0, close(sfd));
}

#define DEBUGFS_MAPS "/sys/kernel/debug/snapmap/maps"

/*
 * The last column of a named map's line in DEBUGFS_MAPS: the nodes and
 * versions it keeps for reuse; -1 if the map is not listed.
 */
static long long debugfs_cached(const char *map_name)
{
	unsigned long long entries, bytes, version, cached;
	unsigned int uid, gid, mode;
	long long found = -1;
	char line[256];
	char name[64];
	FILE *f;

	f = fopen(DEBUGFS_MAPS, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %u %u %o %llu %llu %llu %llu", name,
			   &uid, &gid, &mode, &entries, &bytes, &version,
			   &cached) == 8 && !strcmp(name, map_name))
			found = cached;
	fclose(f);
	return found;
}

#define TRIM_KEYS 500

/*
 * A map keeps the nodes and versions it frees, to reuse them after a
 * grace period, but only while writes go on: deleting keys leaves their
 * nodes and tombstones on the map's lists, and within seconds of the
 * last write the lists are down to the 32 objects per list and CPU they
 * keep when idle.  Only two lists are used here: 16-byte keys and values
 * make nodes of one size class and tombstones of another.
 */
TEST(freed_objects_trimmed_when_idle)
{
	const char *name = "memory-test.trim";
	long long cached, idle = 2 * 32 * sysconf(_SC_NPROCESSORS_CONF);
	char key[16] = {}, value[16] = {};
	int ctl, fd, i;

	ASSERT_EQ(0, access(DEBUGFS_MAPS, R_OK)) TH_LOG("no %s", DEBUGFS_MAPS);
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create(ctl, 0, 0, 0, 0, 0600, name);
	ASSERT_LE(0, fd);
	for (i = 0; i < TRIM_KEYS; i++) {
		memcpy(key, &i, sizeof(i));
		ASSERT_EQ(0, sm_put(fd, 0, key, sizeof(key), value,
				    sizeof(value), 0, NULL));
	}
	for (i = 0; i < TRIM_KEYS; i++) {
		memcpy(key, &i, sizeof(i));
		ASSERT_EQ(0, sm_del(fd, 0, key, sizeof(key), 0, NULL));
	}
	/* The trim runs a second after the first free beyond the 32. */
	cached = debugfs_cached(name);
	EXPECT_LT(idle, cached) TH_LOG("%lld objects kept, idle bound %lld",
				       cached, idle);

	for (i = 0; i < 300 && (cached = debugfs_cached(name)) > idle; i++)
		usleep(100 * 1000);
	EXPECT_GE(idle, cached) TH_LOG("%lld objects still kept after %d s",
				       cached, i / 10);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(ctl));
}

/* DEBUGFS_MAPS lists live maps, and only those. */
TEST(debugfs_lists_maps)
{
	const char *path = DEBUGFS_MAPS;
	char line[256];
	bool found = false;
	int ctl, fd;
	FILE *f;

	ASSERT_EQ(0, access(path, R_OK)) TH_LOG("no %s", path);
	ctl = snapmap_open_ctl();
	ASSERT_LE(0, ctl);
	fd = sm_create(ctl, 0, 0, 0, 0, 0640, "memory-test.listed");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sm_put_str(fd, "a", "1", NULL));
	ASSERT_EQ(0, sm_put_str(fd, "b", "2", NULL));

	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(fgets(line, sizeof(line), f) != NULL);
	EXPECT_EQ(0, strncmp(line, "name uid gid mode entries", 25));
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned int uid, gid, mode;
		unsigned long long entries, bytes, version;

		if (sscanf(line, "%63s %u %u %o %llu %llu %llu", name, &uid,
			   &gid, &mode, &entries, &bytes, &version) != 7)
			continue;
		if (strcmp(name, "memory-test.listed"))
			continue;
		found = true;
		EXPECT_EQ(getuid(), uid);
		EXPECT_EQ(0640, mode);
		EXPECT_EQ(2, entries);
		EXPECT_EQ(2, version);
		EXPECT_LT(0, bytes);
	}
	fclose(f);
	EXPECT_TRUE(found);

	ASSERT_EQ(0, close(fd));
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f))
		EXPECT_TRUE(strstr(line, "memory-test.listed") == NULL);
	fclose(f);
	ASSERT_EQ(0, close(ctl));
}

TEST_HARNESS_MAIN
