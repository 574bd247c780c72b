// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap_kbench - snapmap's kernel API against a raw rhashtable
 *
 * A benchmark module, never part of snapmap.ko.  Reading
 * /sys/kernel/debug/snapmap_kbench/run runs the benchmark and returns its
 * results, one line per figure, in the format of bench/snapmap_bench.c:
 *
 *   fig kapi ROW SYSTEM MEDIAN MIN MAX ns
 *
 * The same 16-byte keys and values go into a plain rhashtable (fixed-size
 * keys, what a module would write for itself) and into a snapmap map:
 *
 * - lookup: rhashtable_lookup_fast() and a copy of the value, against
 *   snapmap_lookup() (copy-out) and snapmap_lookup_rcu() (in place);
 * - insert: a new object and rhashtable_lookup_insert_fast(), against
 *   snapmap_update() of a new key, into an empty table;
 * - update: a new object and rhashtable_replace_fast() with the old one
 *   freed after a grace period, against snapmap_update() of a present key.
 *
 * Each figure is the median over kbench_reps repetitions of
 * kbench_ops operations on random keys, in nanoseconds per operation.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jhash.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include <snapmap/snapmap.h>

#define KB_KEY_LEN 16
#define KB_VALUE_LEN 16
#define KB_MAX_REPS 15
/* Time given to the tables' resizes after the inserts. */
#define KB_SETTLE_MS 300

static unsigned int kbench_entries = 100000;
module_param(kbench_entries, uint, 0644);
MODULE_PARM_DESC(kbench_entries, "keys in each table (default 100000)");

static unsigned int kbench_ops = 100000;
module_param(kbench_ops, uint, 0644);
MODULE_PARM_DESC(kbench_ops, "operations per measurement (default 100000)");

static unsigned int kbench_reps = 5;
module_param(kbench_reps, uint, 0644);
MODULE_PARM_DESC(kbench_reps, "repetitions of each measurement (default 5)");

/**
 * struct kb_obj - an object of the raw rhashtable
 * @node: link in the table
 * @rcu: frees the object after a grace period
 * @key: the key
 * @value: the value
 */
struct kb_obj {
	struct rhash_head node;
	struct rcu_head rcu;
	u8 key[KB_KEY_LEN];
	u8 value[KB_VALUE_LEN];
};

static const struct rhashtable_params kb_params = {
	.key_len = KB_KEY_LEN,
	.key_offset = offsetof(struct kb_obj, key),
	.head_offset = offsetof(struct kb_obj, node),
	.automatic_shrinking = true,
};

/**
 * struct kb_run - one run of the benchmark
 * @n: keys in each table
 * @ops: operations per measurement
 * @keys: key number i at i * KB_KEY_LEN
 * @order: the key numbers of the operations, random
 * @perm: every key number once, in random order: the order of inserts
 * @ht: the raw table
 * @map: the snapmap map
 * @value: where lookups copy values to
 */
struct kb_run {
	u32 n;
	u32 ops;
	u8 *keys;
	u32 *order;
	u32 *perm;
	struct rhashtable ht;
	struct snapmap *map;
	u8 value[KB_VALUE_LEN];
};

/* Serialises runs: one at a time. */
static DEFINE_MUTEX(kb_lock);
static struct dentry *kb_dir;

static const u8 *kb_key(struct kb_run *run, u32 i)
{
	return run->keys + (size_t)i * KB_KEY_LEN;
}

static void kb_free_obj(void *ptr, void *arg)
{
	kfree(ptr);
}

static int kb_raw_insert(struct kb_run *run, u32 i)
{
	struct kb_obj *obj = kmalloc(sizeof(*obj), GFP_KERNEL);
	int err;

	if (!obj)
		return -ENOMEM;
	memcpy(obj->key, kb_key(run, i), KB_KEY_LEN);
	memcpy(obj->value, kb_key(run, i), KB_VALUE_LEN);
	err = rhashtable_lookup_insert_fast(&run->ht, &obj->node, kb_params);
	if (err)
		kfree(obj);
	return err;
}

static int kb_raw_update(struct kb_run *run, u32 i)
{
	struct kb_obj *obj, *old;
	int err;

	obj = kmalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	memcpy(obj->key, kb_key(run, i), KB_KEY_LEN);
	memcpy(obj->value, kb_key(run, i), KB_VALUE_LEN);
	rcu_read_lock();
	old = rhashtable_lookup(&run->ht, obj->key, kb_params);
	err = old ? rhashtable_replace_fast(&run->ht, &old->node, &obj->node,
					    kb_params) : -ENOENT;
	rcu_read_unlock();
	if (err) {
		kfree(obj);
		return err;
	}
	kfree_rcu(old, rcu);
	return 0;
}

static int kb_raw_lookup(struct kb_run *run, u32 i)
{
	struct kb_obj *obj;
	int err = 0;

	rcu_read_lock();
	obj = rhashtable_lookup(&run->ht, kb_key(run, i), kb_params);
	if (obj)
		memcpy(run->value, obj->value, KB_VALUE_LEN);
	else
		err = -ENOENT;
	rcu_read_unlock();
	return err;
}

static int kb_copy_value(const void *value, u32 value_len, u64 version,
			 void *arg)
{
	memcpy(arg, value, min_t(u32, value_len, KB_VALUE_LEN));
	return 0;
}

enum kb_op {
	KB_RAW_LOOKUP, KB_SM_LOOKUP, KB_SM_LOOKUP_RCU,
	KB_RAW_INSERT, KB_SM_INSERT,
	KB_RAW_UPDATE, KB_SM_UPDATE,
	KB_NR_OPS
};

static const char *const kb_rows[KB_NR_OPS] = {
	"lookup", "lookup", "lookup", "insert", "insert", "update", "update",
};

static const char *const kb_systems[KB_NR_OPS] = {
	"rhashtable", "snapmap_lookup", "snapmap_lookup_rcu",
	"rhashtable", "snapmap_update", "rhashtable", "snapmap_update",
};

static int kb_one(struct kb_run *run, enum kb_op op, u32 i)
{
	u32 len;
	u64 version;

	switch (op) {
	case KB_RAW_LOOKUP:
		return kb_raw_lookup(run, i);
	case KB_SM_LOOKUP:
		return snapmap_lookup(run->map, kb_key(run, i), KB_KEY_LEN,
				      run->value, sizeof(run->value), &len,
				      &version);
	case KB_SM_LOOKUP_RCU:
		return snapmap_lookup_rcu(run->map, kb_key(run, i), KB_KEY_LEN,
					  kb_copy_value, run->value);
	case KB_RAW_INSERT:
		return kb_raw_insert(run, i);
	case KB_SM_INSERT:
	case KB_SM_UPDATE:
		return snapmap_update(run->map, kb_key(run, i), KB_KEY_LEN,
				      kb_key(run, i), KB_VALUE_LEN, 0, 0,
				      &version);
	case KB_RAW_UPDATE:
		return kb_raw_update(run, i);
	default:
		return -EINVAL;
	}
}

/* Empty tables of both kinds. */
static int kb_tables_new(struct kb_run *run)
{
	struct snapmap_attr attr = {
		.max_key_len = KB_KEY_LEN,
		.max_value_len = KB_VALUE_LEN,
	};
	int err;

	err = rhashtable_init(&run->ht, &kb_params);
	if (err)
		return err;
	run->map = snapmap_create(&attr);
	if (IS_ERR(run->map)) {
		rhashtable_destroy(&run->ht);
		return PTR_ERR(run->map);
	}
	return 0;
}

static void kb_tables_free(struct kb_run *run)
{
	rhashtable_free_and_destroy(&run->ht, kb_free_obj, NULL);
	snapmap_put(run->map);
}

/*
 * Time run->ops operations @op on the keys of run->order (for an insert,
 * on keys 0 .. run->n - 1 in random order, into empty tables).
 *
 * Return: nanoseconds per operation, or a negative errno.
 */
static s64 kb_time(struct kb_run *run, enum kb_op op)
{
	bool insert = op == KB_RAW_INSERT || op == KB_SM_INSERT;
	u32 count = insert ? run->n : run->ops, i;
	u64 start, elapsed;
	int err;

	start = ktime_get_ns();
	for (i = 0; i < count; i++) {
		err = kb_one(run, op, insert ? run->perm[i] : run->order[i]);
		if (err)
			return err;
		if (!(i % 256))
			cond_resched();
	}
	elapsed = ktime_get_ns() - start;
	return div_u64(elapsed, count);
}

static u32 kb_rand(u32 *state)
{
	*state = *state * 1103515245 + 12345;
	return *state >> 8;
}

static int kb_cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return (x > y) - (x < y);
}

/* Fill both tables with keys 0 .. run->n - 1. */
static int kb_fill(struct kb_run *run)
{
	u64 version;
	u32 i;
	int err;

	for (i = 0; i < run->n; i++) {
		err = kb_raw_insert(run, i) ?:
		      snapmap_update(run->map, kb_key(run, i), KB_KEY_LEN,
				     kb_key(run, i), KB_VALUE_LEN, 0, 0,
				     &version);
		if (err)
			return err;
		if (!(i % 256))
			cond_resched();
	}
	return 0;
}

static int kb_bench(struct seq_file *m, struct kb_run *run)
{
	static s64 t[KB_NR_OPS][KB_MAX_REPS];
	unsigned int reps = clamp_t(unsigned int, kbench_reps, 1, KB_MAX_REPS);
	unsigned int r, op;
	int err;
	s64 ns;

	for (r = 0; r < reps; r++) {
		/* Inserts into empty tables, which they leave full. */
		err = kb_tables_new(run);
		if (err)
			return err;
		for (op = KB_RAW_INSERT; op <= KB_SM_INSERT; op++) {
			ns = kb_time(run, op);
			if (ns < 0) {
				kb_tables_free(run);
				return ns;
			}
			t[op][r] = ns;
		}
		/*
		 * Let both tables finish growing (their rehash runs in a
		 * worker) and the grace periods pass before timing lookups.
		 */
		synchronize_rcu();
		msleep(KB_SETTLE_MS);
		for (op = 0; op < KB_NR_OPS; op++) {
			if (op == KB_RAW_INSERT || op == KB_SM_INSERT)
				continue;
			ns = kb_time(run, op);
			if (ns < 0) {
				kb_tables_free(run);
				return ns;
			}
			t[op][r] = ns;
		}
		kb_tables_free(run);
	}

	seq_printf(m, "# kapi: %u keys, %u ops per measurement, %u repetitions\n",
		   run->n, run->ops, reps);
	for (op = 0; op < KB_NR_OPS; op++) {
		sort(t[op], reps, sizeof(t[op][0]), kb_cmp_s64, NULL);
		seq_printf(m, "fig kapi %s %s %lld %lld %lld ns\n",
			   kb_rows[op], kb_systems[op], t[op][reps / 2],
			   t[op][0], t[op][reps - 1]);
	}
	return 0;
}

static int kb_run_show(struct seq_file *m, void *unused)
{
	struct kb_run *run;
	u32 i, j, state = 1;
	int err = -ENOMEM;

	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	run->n = max(kbench_entries, 1U);
	run->ops = max(kbench_ops, 1U);
	run->keys = kvmalloc_array(run->n, KB_KEY_LEN, GFP_KERNEL);
	run->order = kvmalloc_array(run->ops, sizeof(u32), GFP_KERNEL);
	run->perm = kvmalloc_array(run->n, sizeof(u32), GFP_KERNEL);
	if (!run->keys || !run->order || !run->perm)
		goto out;
	for (i = 0; i < run->n; i++) {
		snprintf(run->keys + (size_t)i * KB_KEY_LEN, KB_KEY_LEN,
			 "k-%013u", i);
		run->perm[i] = i;
	}
	for (i = 0; i < run->ops; i++)
		run->order[i] = kb_rand(&state) % run->n;
	for (i = run->n - 1; i > 0; i--) {
		j = kb_rand(&state) % (i + 1);
		swap(run->perm[i], run->perm[j]);
	}

	mutex_lock(&kb_lock);
	err = kb_bench(m, run);
	mutex_unlock(&kb_lock);
out:
	kvfree(run->perm);
	kvfree(run->order);
	kvfree(run->keys);
	kfree(run);
	return err;
}
DEFINE_SHOW_ATTRIBUTE(kb_run);

/* Fill both tables and look every key up: a sanity check at load. */
static int __init kb_selfcheck(void)
{
	struct kb_run *run;
	u8 keys[4 * KB_KEY_LEN] = {};
	u32 order[4] = { 0, 1, 2, 3 };
	int err;
	u32 i;

	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	run->n = 4;
	run->keys = keys;
	run->order = order;
	for (i = 0; i < 4; i++)
		snprintf(keys + i * KB_KEY_LEN, KB_KEY_LEN, "k-%013u", i);
	err = kb_tables_new(run);
	if (!err) {
		err = kb_fill(run);
		for (i = 0; i < 4 && !err; i++)
			err = kb_one(run, KB_RAW_LOOKUP, i) ?:
			      kb_one(run, KB_SM_LOOKUP, i) ?:
			      kb_one(run, KB_SM_LOOKUP_RCU, i) ?:
			      kb_one(run, KB_RAW_UPDATE, i) ?:
			      kb_one(run, KB_SM_UPDATE, i);
		kb_tables_free(run);
	}
	kfree(run);
	return err;
}

static int __init kb_init(void)
{
	int err = kb_selfcheck();

	if (err) {
		pr_err("self-check failed: %d\n", err);
		return err;
	}
	kb_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("run", 0400, kb_dir, NULL, &kb_run_fops);
	return 0;
}

static void __exit kb_exit(void)
{
	debugfs_remove(kb_dir);
	/* Objects replaced in a run are freed after a grace period. */
	rcu_barrier();
}

module_init(kb_init);
module_exit(kb_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("snapmap benchmark: kernel API against a raw rhashtable");
MODULE_AUTHOR("The snapmap developers");
