// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * moving_key - what an ATOMIC snapshot sees that a walk does not
 *
 * Writer threads each move one key along a chain of their own: put(k + 1),
 * then del(k), as fast as they can.  At every instant a chain has one key,
 * or two neighbours, never none and never two apart.  Next to the chains
 * the map holds a few thousand keys that do not change, so that reading
 * the whole map takes a while, as it does for a real map.
 *
 * Meanwhile the main thread reads the whole map, over and over, alternately
 * through an ATOMIC snapshot and through a WEAK walk, and counts the reads
 * that show a state the map was never in.  ATOMIC snapshots never do; a
 * walk of the live table does.  Then it clones the map while the writers
 * run and checks the clone the same way.
 *
 * usage: moving_key [-r READS] [-w WRITERS] [-k KEYS] [-n NAME]
 *                   [-c CLONE_NAME] [-x COMMAND]
 *   -r  reads of each kind (default 500)
 *   -w  writer threads (default 2)
 *   -k  keys that do not change (default 2000)
 *   -n  name the map, so that other programs can open it
 *   -c  name the clone
 *   -x  run COMMAND with sh -c at the end, while the writers still run and
 *       the maps are alive
 *
 * Exit status: 0 when no ATOMIC snapshot and no clone showed an impossible
 * state, 1 otherwise or on error.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsnapmap.h>

#define MAX_WRITERS 8
/* Records read per read(2): a consumer that reads at its own pace. */
#define READ_BUF_SIZE 4096

/* A key of a chain; the keys that do not change are text. */
struct chain_key {
	char tag[4];		/* "MOVE" */
	uint32_t chain;
	uint64_t pos;
};

static atomic_bool stop;

static void die(const char *what, int err)
{
	fprintf(stderr, "moving_key: %s: %s\n", what, strerror(-err));
	exit(1);
}

static struct chain_key chain_key(uint32_t chain, uint64_t pos)
{
	struct chain_key key = { .tag = { 'M', 'O', 'V', 'E' },
				 .chain = chain, .pos = pos };

	return key;
}

struct writer {
	pthread_t tid;
	int map_fd;
	uint32_t chain;
	uint64_t moves;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	struct chain_key key;
	uint64_t pos;
	int err;

	for (pos = 0; !atomic_load_explicit(&stop, memory_order_relaxed);
	     pos++) {
		key = chain_key(w->chain, pos + 1);
		err = snapmap_put(w->map_fd, &key, sizeof(key), "v", 1, 0,
				  NULL);
		if (err)
			die("put", err);
		key = chain_key(w->chain, pos);
		err = snapmap_del(w->map_fd, &key, sizeof(key), NULL);
		if (err)
			die("del", err);
	}
	w->moves = pos;
	return NULL;
}

/* What one read of the whole map saw of each chain. */
struct view {
	unsigned int seen[MAX_WRITERS];
	uint64_t pos[MAX_WRITERS][2];
	uint64_t fixed;
};

/* Read the whole map through @snap into @v. */
static void read_view(struct snapmap_snapshot *snap, struct view *v)
{
	struct snapmap_entry e;
	struct chain_key key;
	int ret;

	memset(v, 0, sizeof(*v));
	while ((ret = snapmap_snapshot_next(snap, &e)) > 0) {
		if (e.key_len != sizeof(key) || memcmp(e.key, "MOVE", 4)) {
			v->fixed++;
			continue;
		}
		memcpy(&key, e.key, sizeof(key));
		if (key.chain >= MAX_WRITERS)
			continue;
		if (v->seen[key.chain] < 2)
			v->pos[key.chain][v->seen[key.chain]] = key.pos;
		v->seen[key.chain]++;
	}
	if (ret < 0)
		die("reading a snapshot", ret);
}

/*
 * Whether @v is a state the map was in at some instant, as far as one
 * read can tell: every chain has one key or two neighbours, and every key
 * that does not change is there.
 */
static bool view_possible(const struct view *v, unsigned int writers,
			  unsigned int fixed)
{
	unsigned int c;

	if (v->fixed != fixed)
		return false;
	for (c = 0; c < writers; c++) {
		if (v->seen[c] == 1)
			continue;
		if (v->seen[c] == 2 &&
		    (v->pos[c][0] + 1 == v->pos[c][1] ||
		     v->pos[c][1] + 1 == v->pos[c][0]))
			continue;
		return false;
	}
	return true;
}

/* Describe what was wrong with @v, for the first impossible read. */
static void describe(const struct view *v, unsigned int writers,
		     unsigned int fixed, char *buf, size_t size)
{
	unsigned int c;

	if (v->fixed != fixed) {
		snprintf(buf, size, "%llu of the %u fixed keys",
			 (unsigned long long)v->fixed, fixed);
		return;
	}
	for (c = 0; c < writers; c++) {
		if (v->seen[c] == 0)
			snprintf(buf, size, "chain %u with no key at all", c);
		else if (v->seen[c] > 2)
			snprintf(buf, size, "chain %u with %u keys", c,
				 v->seen[c]);
		else if (v->seen[c] == 2 &&
			 v->pos[c][0] + 1 != v->pos[c][1] &&
			 v->pos[c][1] + 1 != v->pos[c][0])
			snprintf(buf, size, "chain %u at keys %llu and %llu",
				 c, (unsigned long long)v->pos[c][0],
				 (unsigned long long)v->pos[c][1]);
		else
			continue;
		return;
	}
}

struct tally {
	unsigned int reads;
	unsigned int impossible;
	char first[96];
};

/* Take one snapshot of @flags, read it whole and count it in @t. */
static void check_once(int map_fd, __u32 flags, unsigned int writers,
		       unsigned int fixed, struct tally *t)
{
	SNAPMAP_OPTS(snapmap_snapshot_opts, opts, .flags = flags,
		     .buf_size = READ_BUF_SIZE);
	struct snapmap_snapshot *snap;
	struct view v;
	int err;

	err = snapmap_snapshot_open(map_fd, &opts, &snap);
	if (err)
		die("snapshot", err);
	read_view(snap, &v);
	snapmap_snapshot_close(snap);

	t->reads++;
	if (view_possible(&v, writers, fixed))
		return;
	if (!t->impossible++)
		describe(&v, writers, fixed, t->first, sizeof(t->first));
}

static void print_tally(const char *what, const struct tally *t)
{
	printf("%-7s %5u reads, %4u impossible (%4.1f%%)%s%s\n", what,
	       t->reads, t->impossible, 100.0 * t->impossible / t->reads,
	       t->impossible ? ", e.g. " : "", t->impossible ? t->first : "");
}

/* Clone the map while the writers run, and check the clone whole. */
static int check_clone(int map_fd, const char *name, unsigned int writers,
		       unsigned int fixed, int *clone_fd)
{
	SNAPMAP_OPTS(snapmap_clone_opts, opts, .name = name, .mode = 0644);
	struct snapmap_snapshot *snap;
	struct view v;
	__u64 version;
	unsigned int c;
	int fd, err;

	fd = snapmap_clone(map_fd, &opts, &version);
	if (fd < 0)
		die("clone", fd);
	err = snapmap_snapshot_open(fd, NULL, &snap);
	if (err)
		die("snapshot of the clone", err);
	read_view(snap, &v);
	snapmap_snapshot_close(snap);

	printf("clone   taken at version %llu while the writers ran: ",
	       (unsigned long long)version);
	if (!view_possible(&v, writers, fixed)) {
		char what[96] = "";

		describe(&v, writers, fixed, what, sizeof(what));
		printf("IMPOSSIBLE, %s\n", what);
		return 1;
	}
	printf("%llu fixed keys, chains at", (unsigned long long)v.fixed);
	for (c = 0; c < writers; c++) {
		uint64_t low = v.pos[c][0];

		if (v.seen[c] == 2 && v.pos[c][1] < low)
			low = v.pos[c][1];
		printf(" %llu%s", (unsigned long long)low,
		       v.seen[c] == 2 ? "+1" : "");
	}
	printf("\n");
	*clone_fd = fd;
	return 0;
}

static void fill(int map_fd, unsigned int fixed, unsigned int writers)
{
	char key[32], value[32];
	struct chain_key ck;
	unsigned int i;
	int err;

	for (i = 0; i < fixed; i++) {
		snprintf(key, sizeof(key), "fixed-%05u", i);
		snprintf(value, sizeof(value), "value %u", i);
		err = snapmap_put(map_fd, key, strlen(key), value,
				  strlen(value), 0, NULL);
		if (err)
			die("put", err);
	}
	for (i = 0; i < writers; i++) {
		ck = chain_key(i, 0);
		err = snapmap_put(map_fd, &ck, sizeof(ck), "v", 1, 0, NULL);
		if (err)
			die("put", err);
	}
}

static unsigned int number(const char *arg, unsigned int min,
			   unsigned int max)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "moving_key: %s: not a number from %u to %u\n",
			arg, min, max);
		exit(1);
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned int reads = 500, writers = 2, fixed = 2000, i;
	const char *name = NULL, *clone_name = NULL, *command = NULL;
	struct writer w[MAX_WRITERS];
	struct tally atomic = {}, weak = {};
	int map_fd, clone_fd = -1, bad, opt;
	uint64_t moves = 0;

	while ((opt = getopt(argc, argv, "r:w:k:n:c:x:")) != -1) {
		switch (opt) {
		case 'r':
			reads = number(optarg, 1, 1000000);
			break;
		case 'w':
			writers = number(optarg, 1, MAX_WRITERS);
			break;
		case 'k':
			fixed = number(optarg, 0, 1000000);
			break;
		case 'n':
			name = optarg;
			break;
		case 'c':
			clone_name = optarg;
			break;
		case 'x':
			command = optarg;
			break;
		default:
			fprintf(stderr, "usage: moving_key [-r READS] [-w WRITERS] [-k KEYS]\n"
					"                  [-n NAME] [-c CLONE_NAME] [-x COMMAND]\n");
			return 1;
		}
	}

	SNAPMAP_OPTS(snapmap_create_opts, create, .name = name, .mode = 0644);
	map_fd = snapmap_create(-1, &create);
	if (map_fd < 0)
		die("create", map_fd);
	fill(map_fd, fixed, writers);

	for (i = 0; i < writers; i++) {
		w[i] = (struct writer){ .map_fd = map_fd, .chain = i };
		if (pthread_create(&w[i].tid, NULL, writer_run, &w[i]))
			die("pthread_create", -EAGAIN);
	}

	printf("%u writers each move a key along a chain (put k+1, del k),\n"
	       "next to %u fixed keys.  A state the map was really in has\n"
	       "every fixed key and each chain at one key or two neighbours.\n",
	       writers, fixed);
	for (i = 0; i < reads; i++) {
		check_once(map_fd, 0, writers, fixed, &atomic);
		check_once(map_fd, SNAPMAP_SNAPSHOT_WEAK, writers, fixed,
			   &weak);
	}
	print_tally("ATOMIC", &atomic);
	print_tally("WEAK", &weak);
	bad = atomic.impossible;
	bad += check_clone(map_fd, clone_name, writers, fixed, &clone_fd);

	if (command) {
		fflush(stdout);
		if (system(command))
			bad++;
	}

	atomic_store(&stop, true);
	for (i = 0; i < writers; i++) {
		pthread_join(w[i].tid, NULL);
		moves += w[i].moves;
	}
	printf("writers moved their keys %llu times meanwhile\n",
	       (unsigned long long)moves);
	if (clone_fd >= 0)
		close(clone_fd);
	close(map_fd);
	return bad ? 1 : 0;
}
