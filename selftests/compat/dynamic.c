// SPDX-License-Identifier: GPL-2.0
/*
 * A program of libsnapmap 1.2, linked as such programs were: against a
 * library with that release's version script (compat/libsnapmap-1.2.map),
 * so that each of its calls names the version it had then.  It runs on the
 * host with the shared library built now, every symbol bound at start-up
 * (LD_BIND_NOW): each function 1.2 exported must be there at its version.
 * The calls that need no module must do what 1.2's did, and write no byte
 * past 1.2's structures; lib_compat_test does the rest in the guest.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libsnapmap-1.2.h"

/* Every function of 1.2: binding them all checks each. */
static void *const functions[] = {
#define SYMBOL(f) (void *)&f,
#include "symbols.h"
#undef SYMBOL
};

#define CANARY 0xa5

static int failed;

static void check(int ok, const char *what)
{
	printf("%sok - %s\n", ok ? "" : "not ", what);
	if (!ok)
		failed++;
}

static int intact(const unsigned char *p, size_t len)
{
	while (len--)
		if (p[len] != CANARY)
			return 0;
	return 1;
}

/* A structure of 1.2's size, full of garbage, and a canary after it. */
#define GUARDED(type)							\
	struct {							\
		__typeof__(type) s;					\
		unsigned char canary[64];				\
	}
#define GUARD(g) memset(&(g), CANARY, sizeof(g))
#define INTACT(g) intact((g).canary, sizeof((g).canary))

/* A call that fails with @err, in its return value and in errno. */
#define FAILS(err, call) ({						\
	long __ret;							\
	errno = 0;							\
	__ret = (call);							\
	__ret == -(err) && errno == (err);				\
})

int main(void)
{
	GUARDED(struct snapmap_snapshot_info) sinfo;
	GUARDED(struct snapmap_change_entry) change;
	GUARDED(struct snapmap_txn_cond) c;
	GUARDED(struct snapmap_batch_op) op;
	GUARDED(struct snapmap_entry) entry;
	GUARDED(struct snapmap_info) info;
	GUARDED(struct snapmap_txn_op) w;
	GUARDED(struct snapmap_api) api;
	struct snapmap_map_desc *descs;
	__u32 txn_failed = 0;
	size_t i, bound = 0;

	for (i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		bound += functions[i] != NULL;
	printf("# %zu functions of libsnapmap 1.2 bound, library %s\n",
	       bound, snapmap_lib_version());
	check(bound == sizeof(functions) / sizeof(functions[0]),
	      "every function of 1.2 is bound");

	GUARD(op);
	snapmap_batch_get(&op.s, "k", 1, &op, 8);
	check(INTACT(op) && op.s.opcode == SNAPMAP_BATCH_GET &&
	      op.s.value_len == 8 && !op.s.flags && !op.s.out_result,
	      "snapmap_batch_get() fills 1.2's operation");
	GUARD(op);
	snapmap_batch_put(&op.s, "k", 1, "v", 1, SNAPMAP_PUT_NOEXIST);
	check(INTACT(op) && op.s.opcode == SNAPMAP_BATCH_PUT &&
	      op.s.flags == SNAPMAP_PUT_NOEXIST && !op.s.version,
	      "snapmap_batch_put() fills 1.2's operation");
	GUARD(op);
	snapmap_batch_del(&op.s, "k", 1);
	check(INTACT(op) && op.s.opcode == SNAPMAP_BATCH_DEL &&
	      op.s.key_len == 1 && !op.s.value,
	      "snapmap_batch_del() fills 1.2's operation");

	GUARD(c);
	snapmap_txn_if_version(&c.s, "k", 1, 42);
	check(INTACT(c) && c.s.kind == SNAPMAP_TXN_IF_VERSION &&
	      c.s.version == 42 && !c.s.value,
	      "snapmap_txn_if_version() fills 1.2's condition");
	GUARD(c);
	snapmap_txn_if_present(&c.s, "k", 1);
	check(INTACT(c) && c.s.kind == SNAPMAP_TXN_IF_PRESENT && !c.s.version,
	      "snapmap_txn_if_present() fills 1.2's condition");
	GUARD(c);
	snapmap_txn_if_absent(&c.s, "k", 1);
	check(INTACT(c) && c.s.kind == SNAPMAP_TXN_IF_ABSENT && !c.s.flags,
	      "snapmap_txn_if_absent() fills 1.2's condition");
	GUARD(c);
	snapmap_txn_if_value(&c.s, "k", 1, "vv", 2);
	check(INTACT(c) && c.s.kind == SNAPMAP_TXN_IF_VALUE &&
	      c.s.value_len == 2 && !c.s.version,
	      "snapmap_txn_if_value() fills 1.2's condition");
	GUARD(w);
	snapmap_txn_put(&w.s, "k", 1, "v", 1);
	check(INTACT(w) && w.s.opcode == SNAPMAP_TXN_PUT && w.s.value_len == 1,
	      "snapmap_txn_put() fills 1.2's write");
	GUARD(w);
	snapmap_txn_del(&w.s, "k", 1);
	check(INTACT(w) && w.s.opcode == SNAPMAP_TXN_DEL && !w.s.value,
	      "snapmap_txn_del() fills 1.2's write");

	/* Failures, with no module needed: errno set, nothing overrun. */
	GUARD(info);
	check(FAILS(EBADF, snapmap_info(-2, &info.s)) && INTACT(info),
	      "snapmap_info() on a bad fd");
	GUARD(api);
	check(FAILS(EBADF, snapmap_api(-2, &api.s)) && INTACT(api),
	      "snapmap_api() on a bad fd");
	check(FAILS(EBADF, snapmap_list(-2, &descs)) && !descs,
	      "snapmap_list() on a bad fd");
	GUARD(sinfo);
	check(FAILS(EINVAL, snapmap_snapshot_info(NULL, &sinfo.s)) &&
	      INTACT(sinfo), "snapmap_snapshot_info() of no snapshot");
	GUARD(entry);
	check(FAILS(EINVAL, snapmap_snapshot_next(NULL, &entry.s)) &&
	      INTACT(entry), "snapmap_snapshot_next() of no snapshot");
	GUARD(change);
	check(FAILS(EINVAL, snapmap_watch_next(NULL, &change.s)) &&
	      INTACT(change), "snapmap_watch_next() of no watch");
	snapmap_batch_get(&op.s, "k", 1, NULL, 0);
	check(FAILS(EBADF, snapmap_batch(-2, &op.s, 1, 0)),
	      "snapmap_batch() on a bad fd");
	check(FAILS(EBADF, snapmap_mget(-2, &op.s, 1, NULL)),
	      "snapmap_mget() on a bad fd");
	check(FAILS(EBADF, snapmap_txn(-2, &c.s, 1, &w.s, 1, NULL,
				       &txn_failed)) &&
	      txn_failed == SNAPMAP_TXN_NONE, "snapmap_txn() on a bad fd");

	printf("# %s\n", failed ? "FAILED" : "passed");
	return failed ? 1 : 0;
}
