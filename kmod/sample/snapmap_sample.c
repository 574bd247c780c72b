// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap_sample - a kernel module using snapmap's exported API
 *
 * At load it creates a named map, "snapmap_sample", that user space can
 * open with SNAPMAP_IOC_OPEN, and writes one key into it.  It holds the
 * map's reference until it is unloaded.
 *
 * /sys/kernel/debug/snapmap_sample/ lets a test drive the kernel API.
 * Each write(2) is one command; one trailing newline is ignored, so that
 * "echo key > lookup" works.  A command that fails returns the API's
 * negative errno from write(2) or read(2).  Reading at offset 0 runs the
 * file's query again; reading further continues the same answer.
 *
 * =============== ===================== ================================
 * file            write                 read
 * =============== ===================== ================================
 * lookup          ``key``               ``<version> <value>\n`` of the
 *                                       key written last, by
 *                                       snapmap_lookup()
 * lookup_rcu      ``key``               the same, by snapmap_lookup_rcu()
 * update          ``key=value``         ``<version>\n`` of the last
 *                 (snapmap_update())    successful write on this open
 *                                       file
 * cas             ``key=value@version`` as update
 *                 (snapmap_cas())
 * delete          ``key``               as update
 *                 (snapmap_delete())
 * find            -                     ``name``, ``entries``,
 *                                       ``version``, ``id`` and
 *                                       ``snapshots`` (open) lines, by
 *                                       snapmap_find() and
 *                                       snapmap_get_info()
 * snapshot        -                     the ATOMIC snapshot taken at
 *                                       open: ``<version> <key>=<value>\n``
 *                                       per record, then
 *                                       ``entries <n>\n`` and
 *                                       ``version <V>\n``
 * clone           ``name``              ``<version>\n`` of the snapshot
 *                 (snapmap_clone())     the last clone made on this open
 *                                       file was copied from
 * txn             a transaction, an     ``<version> <failed>\n`` of the
 *                 entry per line        last transaction run on this
 *                 (snapmap_txn())       open file: its version (0 if it
 *                                       failed or wrote nothing) and the
 *                                       entry it named, or ``none``
 * snapshot_lookup ``key``               ``<version> <value>\n`` of the
 *                                       key in the ATOMIC snapshot taken
 *                                       at open, by
 *                                       snapmap_snapshot_lookup()
 * persist         ``name``: a           -
 *                 persistent map,
 *                 mode 0666
 *                 (snapmap_create());
 *                 ``-name``: its name
 *                 deleted
 *                 (snapmap_unlink())
 * =============== ===================== ================================
 *
 * A key ends at the first '=' and a version starts after the last '@', so
 * keys cannot hold '=' while values may hold anything.
 *
 * Each line of a transaction is one entry, its first character saying
 * which: ``?key`` the key is present, ``!key`` absent, ``=key=value`` it
 * has that value, ``@key=version`` that version (conditions); ``+key=value``
 * put, ``-key`` delete (writes).  Conditions are checked in the order
 * given, then writes; the failed entry counts them so, conditions first, as
 * snapmap_txn() does.  At most SAMPLE_TXN_MAX of each (-E2BIG beyond).
 *
 * snapshot takes an ATOMIC snapshot of the map with snapmap_snapshot_open()
 * when it is opened, and keeps it until it is closed: writers may go on,
 * the file shows the map as it was at open, in the snapshot's order.  The
 * records are handed out a buffer at a time by snapmap_snapshot_next();
 * read(2) continues where the last read ended, and reading at offset 0
 * starts over on the same snapshot.  The text is one line per record, so
 * it reads unambiguously only while values are printable text without
 * newlines, as the tests write them.  When the snapshot is invalidated to
 * keep the map within its byte limit, the text handed out so far stays
 * right, and every read that needs more of it fails with -ESTALE.
 *
 * watch follows the map's changes with snapmap_watch_open() from the
 * moment it is opened, until it is closed.  read(2) yields the changes
 * ready, one line each: ``<version> put <key>=<value>\n``, ``<version> del
 * <key>\n``, ``<version> clear\n``, and ``<version> txn <count>\n`` before
 * the writes of a transaction; it waits for the first one unless the file
 * is non-blocking (-EAGAIN).  Text handed out is not handed out again; a
 * watch that lost a change fails every read with -ESTALE.  The changes
 * are taken by snapmap_watch_next(), a buffer at a time.
 *
 * clone copies the map with snapmap_clone() into a new map of that name,
 * mode 0666, that user space can open.  The module holds each clone until
 * it is unloaded, at most SAMPLE_MAX_CLONES of them (-EBUSY beyond).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <snapmap/snapmap.h>

#define SAMPLE_NAME		"snapmap_sample"
#define SAMPLE_MAX_KEY_LEN	64
#define SAMPLE_MAX_VALUE_LEN	256
#define SAMPLE_MAX_ENTRIES	64
#define SAMPLE_MAX_BYTES	(64 * 1024)

#define SAMPLE_GREETING_KEY	"kernel.greeting"
#define SAMPLE_GREETING		"hello from the kernel"

/* Digits of the largest u64. */
#define SAMPLE_U64_LEN		20
/* The longest command but a transaction: "key=value@version\n". */
#define SAMPLE_ONE_MAX		(SAMPLE_MAX_KEY_LEN + 1 + SAMPLE_MAX_VALUE_LEN + \
				 1 + SAMPLE_U64_LEN + 1)
/* Most conditions, and most writes, of one transaction of the txn file. */
#define SAMPLE_TXN_MAX		4
/* The longest command: a transaction whose every entry is of that size. */
#define SAMPLE_CMD_MAX		(2 * SAMPLE_TXN_MAX * (1 + SAMPLE_ONE_MAX))
/* The longest answer: "version value\n". */
#define SAMPLE_OUT_MAX		(SAMPLE_U64_LEN + 1 + SAMPLE_MAX_VALUE_LEN + 1)

/* The longest line of the snapshot file: "version key=value\n". */
#define SAMPLE_LINE_MAX		(SAMPLE_U64_LEN + 1 + SAMPLE_MAX_KEY_LEN + 1 + \
				 SAMPLE_MAX_VALUE_LEN + 1)
/* Its last lines: "entries n\nversion V\n". */
#define SAMPLE_TRAILER_MAX	(sizeof("entries") + SAMPLE_U64_LEN + 1 + \
				 sizeof("version") + SAMPLE_U64_LEN + 1)
/*
 * Text of the snapshot file made per pass of snapmap_snapshot_next(); a
 * few lines, so that reading a map of any size takes several passes.
 */
#define SAMPLE_SNAP_BUF		1024

/* Most clones the module holds at once. */
#define SAMPLE_MAX_CLONES	16

/* The map; set at load, dropped at unload, after the files are gone. */
static struct snapmap *sample_map;
static struct dentry *sample_dir;

/* The clones made through the clone file, dropped at unload. */
static DEFINE_MUTEX(sample_clones_lock);
static struct snapmap *sample_clones[SAMPLE_MAX_CLONES];

struct sample_file;

/**
 * struct sample_op - what one debugfs file does
 * @name: the file's name
 * @mode: its permission bits
 * @run: carry out the command in &sample_file.cmd; NULL if the file takes
 *       none
 * @show: put the file's answer in &sample_file.out
 * @snapshot: the file holds an ATOMIC snapshot of the map, taken at open
 */
struct sample_op {
	const char *name;
	umode_t mode;
	int (*run)(struct sample_file *sf, size_t len);
	int (*show)(struct sample_file *sf);
	bool snapshot;
};

/**
 * struct sample_file - state of one open debugfs file
 * @op: what the file does; set at open, never changed
 * @snap: the snapshot taken at open if @op says so, else NULL; closed at
 *        release, never changed in between
 * @lock: serialises the callers sharing this open file; protects the
 *        members below it
 * @key_len: length of @key, 0 before a key was written
 * @has_version: @version holds the version of a successful write or
 *               clone, or of the last transaction
 * @failed: the entry the last transaction named, or %SNAPMAP_TXN_NONE
 * @out_len: length of the answer in @out
 * @version: version of the last successful write on this open file, or
 *           of the snapshot the last clone made on it was copied from, or
 *           of the last transaction (0 if it failed)
 * @key: the key written to lookup, lookup_rcu or snapshot_lookup
 * @value: the value looked up
 * @cmd: the command being run, NUL-terminated
 * @out: the answer being read
 */
struct sample_file {
	const struct sample_op *op;
	struct snapmap_snapshot *snap;
	struct mutex lock;	/* protects the members below */
	u32 key_len;
	bool has_version;
	unsigned int failed;
	size_t out_len;
	u64 version;
	u8 key[SAMPLE_MAX_KEY_LEN];
	u8 value[SAMPLE_MAX_VALUE_LEN];
	char cmd[SAMPLE_CMD_MAX + 1];
	char out[SAMPLE_OUT_MAX];
};

/* Split "key=value" at the first '='. */
static int sample_split(char *cmd, size_t len, char **value, size_t *key_len,
			size_t *value_len)
{
	char *eq = memchr(cmd, '=', len);

	if (!eq)
		return -EINVAL;
	*key_len = eq - cmd;
	*value = eq + 1;
	*value_len = len - *key_len - 1;
	return 0;
}

static void sample_set_version(struct sample_file *sf, u64 version)
{
	sf->version = version;
	sf->has_version = true;
}

/* lookup, lookup_rcu: remember the key. */
static int sample_set_key(struct sample_file *sf, size_t len)
{
	if (!len)
		return -EINVAL;
	if (len > sizeof(sf->key))
		return -EMSGSIZE;
	memcpy(sf->key, sf->cmd, len);
	sf->key_len = len;
	return 0;
}

/* update: "key=value" */
static int sample_update(struct sample_file *sf, size_t len)
{
	size_t key_len, value_len;
	char *value;
	u64 version;
	int err;

	err = sample_split(sf->cmd, len, &value, &key_len, &value_len);
	if (err)
		return err;
	err = snapmap_update(sample_map, sf->cmd, key_len, value, value_len, 0,
			     0, &version);
	if (!err)
		sample_set_version(sf, version);
	return err;
}

/* cas: "key=value@version", the version after the last '@' */
static int sample_cas(struct sample_file *sf, size_t len)
{
	size_t key_len, value_len;
	u64 expected, version;
	char *value;
	int err;

	err = sample_split(sf->cmd, len, &value, &key_len, &value_len);
	if (err)
		return err;
	while (value_len && value[value_len - 1] != '@')
		value_len--;
	if (!value_len)
		return -EINVAL;
	value_len--;
	err = kstrtou64(value + value_len + 1, 10, &expected);
	if (err)
		return err;
	err = snapmap_cas(sample_map, sf->cmd, key_len, value, value_len,
			  expected, &version);
	if (!err)
		sample_set_version(sf, version);
	return err;
}

/* delete: "key" */
static int sample_delete(struct sample_file *sf, size_t len)
{
	u64 version;
	int err;

	err = snapmap_delete(sample_map, sf->cmd, len, 0, 0, &version);
	if (!err)
		sample_set_version(sf, version);
	return err;
}

/* Answer "<version> <value>\n" with the value in &sample_file.value. */
static void sample_out_value(struct sample_file *sf, u64 version,
			     u32 value_len)
{
	sf->out_len = scnprintf(sf->out, sizeof(sf->out), "%llu ", version);
	memcpy(sf->out + sf->out_len, sf->value, value_len);
	sf->out_len += value_len;
	sf->out[sf->out_len++] = '\n';
}

/* lookup: copy the value out with snapmap_lookup() */
static int sample_show_lookup(struct sample_file *sf)
{
	u32 value_len;
	u64 version;
	int err;

	if (!sf->key_len)
		return -EINVAL;
	err = snapmap_lookup(sample_map, sf->key, sf->key_len, sf->value,
			     sizeof(sf->value), &value_len, &version);
	if (err)
		return err;
	sample_out_value(sf, version, value_len);
	return 0;
}

/**
 * struct sample_rcu_arg - where sample_copy_rcu() copies the value
 * @buf: the buffer
 * @size: its size
 * @len: set to the value's length
 * @version: set to the entry's version
 */
struct sample_rcu_arg {
	void *buf;
	u32 size;
	u32 len;
	u64 version;
};

/*
 * The callback of snapmap_lookup_rcu().  It runs under rcu_read_lock() and
 * sees the map's own copy of the value, valid only until it returns: it
 * copies the value into a buffer its caller owns and must not sleep.
 */
static int sample_copy_rcu(const void *value, u32 value_len, u64 version,
			   void *arg)
{
	struct sample_rcu_arg *out = arg;

	if (value_len > out->size)
		return -ERANGE;
	memcpy(out->buf, value, value_len);
	out->len = value_len;
	out->version = version;
	return 0;
}

/* lookup_rcu: look at the value in place with snapmap_lookup_rcu() */
static int sample_show_lookup_rcu(struct sample_file *sf)
{
	struct sample_rcu_arg arg = {
		.buf = sf->value,
		.size = sizeof(sf->value),
	};
	int err;

	if (!sf->key_len)
		return -EINVAL;
	err = snapmap_lookup_rcu(sample_map, sf->key, sf->key_len,
				 sample_copy_rcu, &arg);
	if (err)
		return err;
	sample_out_value(sf, arg.version, arg.len);
	return 0;
}

/* update, cas, delete: the version of the last successful write */
static int sample_show_version(struct sample_file *sf)
{
	if (!sf->has_version)
		return -ENODATA;
	sf->out_len = scnprintf(sf->out, sizeof(sf->out), "%llu\n",
				sf->version);
	return 0;
}

/*
 * find: reach the map by its name, as a module that did not create it
 * would, and report what snapmap_get_info() says of it.
 */
static int sample_show_find(struct sample_file *sf)
{
	struct snapmap_info info = {};
	struct snapmap *map;

	map = snapmap_find(SAMPLE_NAME);
	if (IS_ERR(map))
		return PTR_ERR(map);
	snapmap_get_info(map, &info);
	snapmap_put(map);

	sf->out_len = scnprintf(sf->out, sizeof(sf->out),
				"name %s\nentries %llu\nversion %llu\nid %llu\nsnapshots %u\n",
				info.out_name, info.out_entries,
				info.out_version, info.out_id,
				info.out_snapshots);
	return 0;
}

/*
 * clone: "name".  snapmap_clone() copies an ATOMIC snapshot of the map,
 * versions included, without stopping its writers, and registers the copy
 * under the name only once it is complete.  The module keeps the clone's
 * reference, so that the clone outlives the files user space opens on it.
 */
static int sample_clone(struct sample_file *sf, size_t len)
{
	const struct snapmap_attr attr = {
		.mode = 0666,
		.name = sf->cmd,
	};
	struct snapmap *clone;
	unsigned int slot;
	u64 version;
	int err = 0;

	/* An unnamed clone could not be opened; a NUL would cut the name. */
	if (!len || strlen(sf->cmd) != len)
		return -EINVAL;

	mutex_lock(&sample_clones_lock);
	for (slot = 0; slot < ARRAY_SIZE(sample_clones); slot++)
		if (!sample_clones[slot])
			break;
	if (slot == ARRAY_SIZE(sample_clones)) {
		err = -EBUSY;
		goto out;
	}
	clone = snapmap_clone(sample_map, &attr, &version);
	if (IS_ERR(clone)) {
		err = PTR_ERR(clone);
		goto out;
	}
	sample_clones[slot] = clone;
	sample_set_version(sf, version);
out:
	mutex_unlock(&sample_clones_lock);
	return err;
}

/**
 * struct sample_txn - a transaction of the txn file, as it is parsed
 * @checks: its conditions, pointing into &sample_file.cmd
 * @writes: its writes, pointing into &sample_file.cmd
 * @nr_checks: the number of @checks
 * @nr_writes: the number of @writes
 */
struct sample_txn {
	struct snapmap_txn_check checks[SAMPLE_TXN_MAX];
	struct snapmap_txn_write writes[SAMPLE_TXN_MAX];
	unsigned int nr_checks;
	unsigned int nr_writes;
};

/*
 * One line of a transaction, NUL-terminated: "?key", "!key",
 * "=key=value", "@key=version", "+key=value" or "-key".
 */
static int sample_txn_entry(struct sample_txn *txn, char *line, size_t len)
{
	struct snapmap_txn_check *check;
	size_t key_len, value_len = 0;
	char op, *key, *value = NULL;
	int err;

	if (!len)
		return -EINVAL;
	op = line[0];
	key = line + 1;
	key_len = len - 1;
	if (op == '=' || op == '@' || op == '+') {
		err = sample_split(key, len - 1, &value, &key_len, &value_len);
		if (err)
			return err;
	}
	if (op == '+' || op == '-') {
		if (txn->nr_writes == SAMPLE_TXN_MAX)
			return -E2BIG;
		txn->writes[txn->nr_writes++] = (struct snapmap_txn_write) {
			.opcode = op == '+' ? SNAPMAP_TXN_PUT : SNAPMAP_TXN_DEL,
			.key_len = key_len,
			.value_len = value_len,
			.key = key,
			.value = value,
		};
		return 0;
	}
	if (txn->nr_checks == SAMPLE_TXN_MAX)
		return -E2BIG;
	check = &txn->checks[txn->nr_checks];
	*check = (struct snapmap_txn_check) {
		.key_len = key_len,
		.key = key,
	};
	switch (op) {
	case '?':
		check->kind = SNAPMAP_TXN_IF_PRESENT;
		break;
	case '!':
		check->kind = SNAPMAP_TXN_IF_ABSENT;
		break;
	case '=':
		check->kind = SNAPMAP_TXN_IF_VALUE;
		check->value = value;
		check->value_len = value_len;
		break;
	case '@':
		check->kind = SNAPMAP_TXN_IF_VERSION;
		err = kstrtou64(value, 10, &check->version);
		if (err)
			return err;
		break;
	default:
		return -EINVAL;
	}
	txn->nr_checks++;
	return 0;
}

/*
 * txn: an entry per line.  snapmap_txn() checks every condition and makes
 * every write with the locks of all the keys held: a reader sees all of
 * the writes or none, at one version.  Its version, and the entry it
 * names when a condition does not hold, are kept for the reader whatever
 * it returned.
 */
static int sample_txn(struct sample_file *sf, size_t len)
{
	char *line = sf->cmd, *end = sf->cmd + len, *nl;
	struct sample_txn txn = {};
	int err;

	while (line < end) {
		nl = memchr(line, '\n', end - line) ?: end;
		*nl = '\0';
		err = sample_txn_entry(&txn, line, nl - line);
		if (err)
			return err;
		line = nl + 1;
	}
	err = snapmap_txn(sample_map, txn.checks, txn.nr_checks, txn.writes,
			  txn.nr_writes, &sf->version, &sf->failed);
	sf->has_version = true;
	return err;
}

/* txn: "<version> <failed>\n" of the last transaction */
static int sample_show_txn(struct sample_file *sf)
{
	if (!sf->has_version)
		return -ENODATA;
	if (sf->failed == SNAPMAP_TXN_NONE)
		sf->out_len = scnprintf(sf->out, sizeof(sf->out),
					"%llu none\n", sf->version);
	else
		sf->out_len = scnprintf(sf->out, sizeof(sf->out),
					"%llu %u\n", sf->version, sf->failed);
	return 0;
}

/*
 * snapshot_lookup: copy the value the key had when the file was opened
 * out of its snapshot with snapmap_snapshot_lookup(), however the map
 * changed since.
 */
static int sample_show_snapshot_lookup(struct sample_file *sf)
{
	u32 value_len;
	u64 version;
	int err;

	if (!sf->key_len)
		return -EINVAL;
	err = snapmap_snapshot_lookup(sf->snap, sf->key, sf->key_len,
				      sf->value, sizeof(sf->value), &value_len,
				      &version);
	if (err)
		return err;
	sample_out_value(sf, version, value_len);
	return 0;
}

/*
 * persist: "name" makes a persistent map of that name and drops the
 * module's own reference at once: the map lives on, held by snapmap's
 * registry alone, as one made from user space does after its fds close.
 * "-name" deletes the name, and the map with it.
 */
static int sample_persist(struct sample_file *sf, size_t len)
{
	struct snapmap_attr attr = {
		.mode = 0666,
		.flags = SNAPMAP_CREATE_PERSISTENT,
	};
	struct snapmap *map;

	if (!len || strlen(sf->cmd) != len)
		return -EINVAL;
	if (sf->cmd[0] == '-')
		return snapmap_unlink(sf->cmd + 1);
	attr.name = sf->cmd;
	map = snapmap_create(&attr);
	if (IS_ERR(map))
		return PTR_ERR(map);
	snapmap_put(map);
	return 0;
}

/* Nothing to read back. */
static int sample_show_nothing(struct sample_file *sf)
{
	return -ENODATA;
}

static const struct sample_op sample_ops[] = {
	{ "lookup", 0600, sample_set_key, sample_show_lookup },
	{ "lookup_rcu", 0600, sample_set_key, sample_show_lookup_rcu },
	{ "update", 0600, sample_update, sample_show_version },
	{ "cas", 0600, sample_cas, sample_show_version },
	{ "delete", 0600, sample_delete, sample_show_version },
	{ "find", 0400, NULL, sample_show_find },
	{ "clone", 0600, sample_clone, sample_show_version },
	{ "txn", 0600, sample_txn, sample_show_txn },
	{ "snapshot_lookup", 0600, sample_set_key,
	  sample_show_snapshot_lookup, .snapshot = true },
	{ "persist", 0600, sample_persist, sample_show_nothing },
};

static int sample_open(struct inode *inode, struct file *file)
{
	struct sample_file *sf;
	int err;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL);
	if (!sf)
		return -ENOMEM;
	sf->op = inode->i_private;
	if (sf->op->snapshot) {
		sf->snap = snapmap_snapshot_open(sample_map, 0);
		if (IS_ERR(sf->snap)) {
			err = PTR_ERR(sf->snap);
			kfree(sf);
			return err;
		}
	}
	mutex_init(&sf->lock);
	file->private_data = sf;
	return 0;
}

static int sample_release(struct inode *inode, struct file *file)
{
	struct sample_file *sf = file->private_data;

	if (sf->snap)
		snapmap_snapshot_close(sf->snap);
	mutex_destroy(&sf->lock);
	kfree(sf);
	return 0;
}

static ssize_t sample_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct sample_file *sf = file->private_data;
	size_t len = count;
	int err;

	if (!sf->op->run)
		return -EINVAL;
	if (count > SAMPLE_CMD_MAX)
		return -EMSGSIZE;

	mutex_lock(&sf->lock);
	if (copy_from_user(sf->cmd, buf, count)) {
		err = -EFAULT;
		goto out;
	}
	if (len && sf->cmd[len - 1] == '\n')
		len--;
	sf->cmd[len] = '\0';
	err = sf->op->run(sf, len);
out:
	mutex_unlock(&sf->lock);
	return err ? err : count;
}

static ssize_t sample_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct sample_file *sf = file->private_data;
	ssize_t ret;

	mutex_lock(&sf->lock);
	if (*ppos == 0) {
		sf->out_len = 0;
		ret = sf->op->show(sf);
		if (ret) {
			sf->out_len = 0;
			goto out;
		}
	}
	ret = simple_read_from_buffer(buf, count, ppos, sf->out, sf->out_len);
out:
	mutex_unlock(&sf->lock);
	return ret;
}

static const struct file_operations sample_fops = {
	.owner = THIS_MODULE,
	.open = sample_open,
	.release = sample_release,
	.read = sample_read,
	.write = sample_write,
	.llseek = default_llseek,
};

/**
 * enum sample_snap_state - how far the snapshot file's text has got
 * @SAMPLE_SNAP_RECORDS: records are still to come
 * @SAMPLE_SNAP_TRAILER: every record is out; the last lines are to come
 * @SAMPLE_SNAP_DONE: the whole text is out, or in the buffer
 */
enum sample_snap_state {
	SAMPLE_SNAP_RECORDS,
	SAMPLE_SNAP_TRAILER,
	SAMPLE_SNAP_DONE,
};

/**
 * struct sample_snap_file - state of one open snapshot file
 * @snap: the ATOMIC snapshot taken at open, closed at release
 * @lock: serialises the readers sharing this open file; protects the
 *        members below it
 * @state: how far the text has got
 * @pos: file offset of the end of the text handed out
 * @len: bytes of text in @buf
 * @off: bytes of @buf handed out
 * @buf: text made by the last pass, as whole lines
 */
struct sample_snap_file {
	struct snapmap_snapshot *snap;
	struct mutex lock;	/* protects the members below */
	enum sample_snap_state state;
	loff_t pos;
	size_t len;
	size_t off;
	char buf[SAMPLE_SNAP_BUF];
};

/*
 * The callback of snapmap_snapshot_next(): one line per record.  It runs
 * under rcu_read_lock() and sees the map's own copies of the key and
 * value, valid only until it returns, so it copies them into the file's
 * buffer and must not sleep.  When the line does not fit, it stops the
 * walk with a positive number: the next pass is offered the same record.
 */
static int sample_snap_record(const void *key, u32 key_len,
			      const void *value, u32 value_len, u64 version,
			      void *arg)
{
	struct sample_snap_file *ss = arg;
	char num[SAMPLE_U64_LEN + 2];
	size_t num_len, need;
	char *p;

	num_len = scnprintf(num, sizeof(num), "%llu ", version);
	need = num_len + key_len + 1 + value_len + 1;
	if (need > sizeof(ss->buf))
		return -EMSGSIZE;
	if (need > sizeof(ss->buf) - ss->len)
		return 1;

	p = ss->buf + ss->len;
	memcpy(p, num, num_len);
	p += num_len;
	memcpy(p, key, key_len);
	p += key_len;
	*p++ = '=';
	memcpy(p, value, value_len);
	p += value_len;
	*p = '\n';
	ss->len += need;
	return 0;
}

/* Make the next buffer of text, which the reader has drained. */
static int sample_snap_fill(struct sample_snap_file *ss)
{
	struct snapmap_snapshot_info info = {};
	int ret;

	ss->len = 0;
	ss->off = 0;
	if (ss->state == SAMPLE_SNAP_RECORDS) {
		ret = snapmap_snapshot_next(ss->snap, sample_snap_record, ss);
		if (ret < 0) {
			/* Stale: what the pass made is dropped, as is the rest. */
			ss->len = 0;
			return ret;
		}
		if (ret > 0)
			return 0;	/* the buffer is full */
		ss->state = SAMPLE_SNAP_TRAILER;
	}
	if (ss->state == SAMPLE_SNAP_TRAILER &&
	    sizeof(ss->buf) - ss->len >= SAMPLE_TRAILER_MAX) {
		/* Counts the records, the first time. */
		ret = snapmap_snapshot_get_info(ss->snap, &info);
		if (ret) {
			ss->len = 0;
			return ret;
		}
		ss->len += scnprintf(ss->buf + ss->len,
				     sizeof(ss->buf) - ss->len,
				     "entries %llu\nversion %llu\n",
				     info.out_entries, info.out_version);
		ss->state = SAMPLE_SNAP_DONE;
	}
	return 0;
}

/* Start the text over, on the same snapshot. */
static void sample_snap_restart(struct sample_snap_file *ss)
{
	snapmap_snapshot_rewind(ss->snap);
	ss->state = SAMPLE_SNAP_RECORDS;
	ss->pos = 0;
	ss->len = 0;
	ss->off = 0;
}

/*
 * snapshot: the snapshot is taken here, so it holds every write that
 * completed before open(2) returned and none that started after.
 */
static int sample_snap_open(struct inode *inode, struct file *file)
{
	struct sample_snap_file *ss;
	int err;

	BUILD_BUG_ON(SAMPLE_SNAP_BUF < SAMPLE_LINE_MAX);
	BUILD_BUG_ON(SAMPLE_SNAP_BUF < SAMPLE_TRAILER_MAX);

	ss = kzalloc(sizeof(*ss), GFP_KERNEL);
	if (!ss)
		return -ENOMEM;
	ss->snap = snapmap_snapshot_open(sample_map, 0);
	if (IS_ERR(ss->snap)) {
		err = PTR_ERR(ss->snap);
		kfree(ss);
		return err;
	}
	mutex_init(&ss->lock);
	file->private_data = ss;
	return 0;
}

static int sample_snap_release(struct inode *inode, struct file *file)
{
	struct sample_snap_file *ss = file->private_data;

	/* Lets the map free the versions only this snapshot kept. */
	snapmap_snapshot_close(ss->snap);
	mutex_destroy(&ss->lock);
	kfree(ss);
	return 0;
}

/*
 * Records are copied into the buffer under RCU by snapmap_snapshot_next(),
 * and from the buffer to user space here, outside RCU, where a page fault
 * may sleep.
 */
static ssize_t sample_snap_read(struct file *file, char __user *buf,
				size_t count, loff_t *ppos)
{
	struct sample_snap_file *ss = file->private_data;
	ssize_t ret;
	size_t n;

	mutex_lock(&ss->lock);
	if (*ppos != ss->pos) {
		/* Only a read at offset 0, to start over, may go elsewhere. */
		if (*ppos) {
			ret = -EINVAL;
			goto out;
		}
		sample_snap_restart(ss);
	}
	if (ss->off == ss->len && ss->state != SAMPLE_SNAP_DONE) {
		ret = sample_snap_fill(ss);
		if (ret)
			goto out;
	}
	n = min(count, ss->len - ss->off);
	if (copy_to_user(buf, ss->buf + ss->off, n)) {
		ret = -EFAULT;
		goto out;
	}
	ss->off += n;
	ss->pos += n;
	*ppos = ss->pos;
	ret = n;
out:
	mutex_unlock(&ss->lock);
	return ret;
}

/* The text has no offsets to seek to but its start. */
static loff_t sample_snap_llseek(struct file *file, loff_t offset, int whence)
{
	if (whence != SEEK_SET || offset)
		return -EINVAL;
	file->f_pos = 0;
	return 0;
}

static const struct file_operations sample_snap_fops = {
	.owner = THIS_MODULE,
	.open = sample_snap_open,
	.release = sample_snap_release,
	.read = sample_snap_read,
	.llseek = sample_snap_llseek,
};

/**
 * struct sample_watch_file - state of one open watch file
 * @watch: the watch opened at open, closed at release
 * @lock: serialises the readers sharing this open file; protects the
 *        members below it
 * @len: bytes of text in @buf
 * @off: bytes of @buf handed out
 * @buf: lines of changes taken from the watch
 */
struct sample_watch_file {
	struct snapmap_watch *watch;
	struct mutex lock;	/* protects the members below */
	size_t len;
	size_t off;
	char buf[SAMPLE_SNAP_BUF];
};

/*
 * The callback of snapmap_watch_next(): one line per change, into the
 * file's buffer.  When the line does not fit, it stops with a positive
 * number, and the next call is offered the same change.
 */
static int sample_watch_change(const struct snapmap_change *change,
			       const void *key, const void *value, void *arg)
{
	static const char *const names[] = {
		[SNAPMAP_CHANGE_PUT] = "put", [SNAPMAP_CHANGE_DEL] = "del",
		[SNAPMAP_CHANGE_CLEAR] = "clear", [SNAPMAP_CHANGE_TXN] = "txn",
	};
	struct sample_watch_file *sw = arg;
	char head[SAMPLE_U64_LEN * 2 + 16];
	size_t head_len, need;
	char *p;

	if (change->type >= ARRAY_SIZE(names) || !names[change->type])
		return -EPROTO;
	head_len = scnprintf(head, sizeof(head), "%llu %s", change->version,
			     names[change->type]);
	if (change->type == SNAPMAP_CHANGE_TXN)
		head_len += scnprintf(head + head_len,
				      sizeof(head) - head_len, " %u",
				      change->count);
	need = head_len + 1 + change->key_len + 1 + change->value_len + 1;
	if (need > sizeof(sw->buf))
		return -EMSGSIZE;
	if (need > sizeof(sw->buf) - sw->len)
		return 1;

	p = sw->buf + sw->len;
	memcpy(p, head, head_len);
	p += head_len;
	if (change->type == SNAPMAP_CHANGE_PUT ||
	    change->type == SNAPMAP_CHANGE_DEL) {
		*p++ = ' ';
		memcpy(p, key, change->key_len);
		p += change->key_len;
	}
	if (change->type == SNAPMAP_CHANGE_PUT) {
		*p++ = '=';
		memcpy(p, value, change->value_len);
		p += change->value_len;
	}
	*p++ = '\n';
	sw->len = p - sw->buf;
	return 0;
}

/* watch: the watch starts at open, with the map's version then. */
static int sample_watch_open(struct inode *inode, struct file *file)
{
	const struct snapmap_watch_attr attr = {};
	struct sample_watch_file *sw;
	u64 start;
	int err;

	sw = kzalloc(sizeof(*sw), GFP_KERNEL);
	if (!sw)
		return -ENOMEM;
	sw->watch = snapmap_watch_open(sample_map, &attr, &start, NULL);
	if (IS_ERR(sw->watch)) {
		err = PTR_ERR(sw->watch);
		kfree(sw);
		return err;
	}
	mutex_init(&sw->lock);
	file->private_data = sw;
	return 0;
}

static int sample_watch_release(struct inode *inode, struct file *file)
{
	struct sample_watch_file *sw = file->private_data;

	snapmap_watch_close(sw->watch);
	mutex_destroy(&sw->lock);
	kfree(sw);
	return 0;
}

/*
 * Changes are taken into the buffer by snapmap_watch_next(), and copied
 * from there to user space; the wait for the first is outside the file's
 * lock, so that a reader waiting does not hold up another.
 */
static ssize_t sample_watch_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct sample_watch_file *sw = file->private_data;
	ssize_t ret;
	size_t n;

	for (;;) {
		mutex_lock(&sw->lock);
		if (sw->off == sw->len) {
			sw->len = 0;
			sw->off = 0;
			ret = snapmap_watch_next(sw->watch, sample_watch_change,
						 sw);
			if (ret < 0)
				goto out;
		}
		if (sw->len)
			break;
		mutex_unlock(&sw->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = snapmap_watch_wait(sw->watch);
		if (ret)
			return ret;
	}
	n = min(count, sw->len - sw->off);
	if (copy_to_user(buf, sw->buf + sw->off, n)) {
		ret = -EFAULT;
		goto out;
	}
	sw->off += n;
	ret = n;
out:
	mutex_unlock(&sw->lock);
	return ret;
}

static const struct file_operations sample_watch_fops = {
	.owner = THIS_MODULE,
	.open = sample_watch_open,
	.release = sample_watch_release,
	.read = sample_watch_read,
};

static int __init sample_init(void)
{
	const struct snapmap_attr attr = {
		.max_key_len = SAMPLE_MAX_KEY_LEN,
		.max_value_len = SAMPLE_MAX_VALUE_LEN,
		.max_entries = SAMPLE_MAX_ENTRIES,
		.max_bytes = SAMPLE_MAX_BYTES,
		.mode = 0666,
		.name = SAMPLE_NAME,
	};
	unsigned int i;
	u64 version;
	int err;

	sample_map = snapmap_create(&attr);
	if (IS_ERR(sample_map)) {
		err = PTR_ERR(sample_map);
		pr_err("cannot create map %s: %d\n", SAMPLE_NAME, err);
		return err;
	}

	err = snapmap_update(sample_map, SAMPLE_GREETING_KEY,
			     strlen(SAMPLE_GREETING_KEY), SAMPLE_GREETING,
			     strlen(SAMPLE_GREETING), 0, 0, &version);
	if (err) {
		pr_err("cannot write %s: %d\n", SAMPLE_GREETING_KEY, err);
		snapmap_put(sample_map);
		return err;
	}

	/* Failing to create debugfs files is not an error: they are for tests. */
	sample_dir = debugfs_create_dir(SAMPLE_NAME, NULL);
	for (i = 0; i < ARRAY_SIZE(sample_ops); i++)
		debugfs_create_file(sample_ops[i].name, sample_ops[i].mode,
				    sample_dir, (void *)&sample_ops[i],
				    &sample_fops);
	debugfs_create_file("snapshot", 0400, sample_dir, NULL,
			    &sample_snap_fops);
	debugfs_create_file("watch", 0400, sample_dir, NULL,
			    &sample_watch_fops);

	pr_info("map %s created, %s at version %llu\n", SAMPLE_NAME,
		SAMPLE_GREETING_KEY, version);
	return 0;
}

static void __exit sample_exit(void)
{
	unsigned int i;

	/* Waits for the file operations running; none can start after it. */
	debugfs_remove_recursive(sample_dir);
	/* Each open file held the module: no snapshot or watch is left open. */
	mutex_lock(&sample_clones_lock);
	for (i = 0; i < ARRAY_SIZE(sample_clones); i++) {
		if (sample_clones[i])
			snapmap_put(sample_clones[i]);
		sample_clones[i] = NULL;
	}
	mutex_unlock(&sample_clones_lock);
	snapmap_put(sample_map);
}

module_init(sample_init);
module_exit(sample_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The snapmap developers");
MODULE_DESCRIPTION("Sample consumer of the snapmap kernel API");
MODULE_VERSION("0.1.0");
