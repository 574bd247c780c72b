// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * batch - many GET, PUT and DEL operations in one call
 *
 * Loads a map with one batch of PUTs, then runs a mixed batch in which
 * some operations fail, and shows that each operation reports its own
 * result: a batch fails as a whole only for an error of the batch itself
 * (a bad count or pointer), never for one of its operations.  Last, the
 * same failing operation with SNAPMAP_BATCH_STOP_ON_ERROR: the batch stops
 * there and the operations after it do not run.
 *
 *   cc batch.c -o batch $(pkg-config --cflags --libs libsnapmap)
 *
 * usage: batch [KEYS]    (1 to 1000 keys, default 8)
 *
 * Exit status: 0 when every operation reported what it should, 1 on any
 * other outcome, 2 for a bad argument.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsnapmap.h>

#define MAX_KEYS 1000

static void die(const char *what, int err)
{
	fprintf(stderr, "batch: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* An operation's result as its errno's name: "OK", "ENOENT", ... */
static const char *result_name(int result)
{
	return result ? strerrorname_np(-result) : "OK";
}

int main(int argc, char **argv)
{
	static char keys[MAX_KEYS][16], values[MAX_KEYS][16];
	struct snapmap_batch_op ops[MAX_KEYS], mixed[4], stop[2];
	char got[16], absent_value[16];
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 8;
	__u32 no_value = 0;
	int map, ret, ran, i, bad = 0;

	if (argc > 2 || n < 1 || n > MAX_KEYS) {
		fprintf(stderr, "usage: batch [KEYS]  (1 to %d)\n", MAX_KEYS);
		return 2;
	}

	/* An unnamed map: it lives as long as this fd. */
	map = snapmap_create(-1, NULL);
	if (map < 0)
		die("create", map);

	/*
	 * One PUT per key, all in one call.  The keys and values are not
	 * copied by the helpers: they must stay valid until the call.
	 */
	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key%d", i);
		snprintf(values[i], sizeof(values[i]), "value%d", i);
		snapmap_batch_put(&ops[i], keys[i], strlen(keys[i]),
				  values[i], strlen(values[i]), 0);
	}
	ret = snapmap_batch(map, ops, n, 0);
	if (ret < 0)
		die("batch of PUTs", ret);
	for (i = 0; i < n; i++)
		if (ops[i].out_result)
			die("PUT in the batch", ops[i].out_result);
	printf("put %d keys in one batch\n", ret);

	/*
	 * A mixed batch: a GET that finds its key, a GET of an absent key,
	 * an insert-only PUT of a key that exists, and a DEL.
	 */
	snapmap_batch_get(&mixed[0], keys[0], strlen(keys[0]), got,
			  sizeof(got));
	snapmap_batch_get(&mixed[1], "absent", 6, absent_value,
			  sizeof(absent_value));
	snapmap_batch_put(&mixed[2], keys[0], strlen(keys[0]), "again", 5,
			  SNAPMAP_PUT_NOEXIST);
	snapmap_batch_del(&mixed[3], keys[n - 1], strlen(keys[n - 1]));
	ret = snapmap_batch(map, mixed, 4, 0);
	if (ret < 0)
		die("mixed batch", ret);
	printf("mixed batch: %d operations ran\n", ret);
	printf("  get %s: %s, value %.*s, version %llu\n", keys[0],
	       result_name(mixed[0].out_result), (int)mixed[0].out_value_len,
	       got, (unsigned long long)mixed[0].out_version);
	printf("  get absent: %s\n", result_name(mixed[1].out_result));
	printf("  put %s if absent: %s\n", keys[0],
	       result_name(mixed[2].out_result));
	printf("  del %s: %s\n", keys[n - 1], result_name(mixed[3].out_result));
	bad |= ret != 4 || mixed[0].out_result ||
	       mixed[0].out_value_len != strlen(values[0]) ||
	       memcmp(got, values[0], strlen(values[0])) ||
	       mixed[1].out_result != -ENOENT ||
	       mixed[2].out_result != -EEXIST || mixed[3].out_result;

	/*
	 * With SNAPMAP_BATCH_STOP_ON_ERROR the failed PUT is the last
	 * operation to run: the PUT after it is left alone, with its
	 * out_result untouched (zeroed here by the helper).
	 */
	snapmap_batch_put(&stop[0], keys[0], strlen(keys[0]), "again", 5,
			  SNAPMAP_PUT_NOEXIST);
	snapmap_batch_put(&stop[1], "never", 5, "written", 7, 0);
	ran = snapmap_batch(map, stop, 2, SNAPMAP_BATCH_STOP_ON_ERROR);
	if (ran < 0)
		die("batch that stops", ran);
	printf("stop on error: %d of 2 operations ran, the first: %s\n", ran,
	       result_name(stop[0].out_result));
	/* No value wanted, only whether the key is there. */
	ret = snapmap_get(map, "never", 5, NULL, &no_value, NULL);
	printf("  key never: %s\n", result_name(ret));
	bad |= ran != 1 || stop[0].out_result != -EEXIST || ret != -ENOENT;

	close(map);
	if (bad) {
		fprintf(stderr, "batch: an operation reported the wrong result\n");
		return 1;
	}
	return 0;
}
