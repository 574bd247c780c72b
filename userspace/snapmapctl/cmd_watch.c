// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: watch, a map's changes streamed to standard output as they
 * happen; and mirror, a map kept a copy of another through a snapshot and
 * a watch.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsnapmap.h"
#include "output.h"
#include "snapmapctl.h"

static const char *const change_names[] = {
	[SNAPMAP_CHANGE_PUT] = "put",
	[SNAPMAP_CHANGE_DEL] = "del",
	[SNAPMAP_CHANGE_CLEAR] = "clear",
	[SNAPMAP_CHANGE_TXN] = "txn",
};

/* Set by SIGINT, SIGTERM and SIGHUP: finish the line, and stop. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/*
 * Stop on the usual signals, without SA_RESTART: a read waiting for a
 * change returns EINTR, and the command ends cleanly.
 */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* One change, as a line of text or of JSON. */
static void print_change(const struct opts *o,
			 const struct snapmap_change_entry *c)
{
	bool hex = o->enc == ARG_HEX;
	struct json j;

	if (o->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_u64(&j, "version", c->version);
		json_str(&j, "op", change_names[c->type]);
		if (c->type == SNAPMAP_CHANGE_TXN)
			json_u64(&j, "count", c->count);
		if (c->key)
			json_bytes(&j, "key", c->key, c->key_len, hex);
		if (c->value)
			json_bytes(&j, "value", c->value, c->value_len, hex);
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	printf("%llu\t%s", (unsigned long long)c->version,
	       change_names[c->type]);
	if (c->type == SNAPMAP_CHANGE_TXN)
		printf("\t%u", c->count);
	if (c->key) {
		putchar('\t');
		put_human(stdout, c->key, c->key_len, hex);
	}
	if (c->value) {
		putchar('\t');
		put_human(stdout, c->value, c->value_len, hex);
	}
	putchar('\n');
}

/* The watch's meaning of an errno, for messages. */
static const char *watch_strerror(int err)
{
	switch (err) {
	case ESTALE:
		return "the watch fell behind and changes were lost; watch again from a snapshot";
	case EINVAL:
		return "invalid version (above the map's?), prefix or --wakeup-bytes (too large?)";
	}
	return sm_strerror(err, ERR_OTHER);
}

/* How late --wakeup-bytes shows a change when --wakeup-ms is not given. */
#define WAKEUP_MS_DEFAULT 100

/*
 * The next change, as snapmap_watch_next() gives it.  With --wakeup-bytes
 * the watch fd is non-blocking: the module says it is readable only once
 * enough changes are ready, so poll waits for that at most --wakeup-ms,
 * and the read after it takes whatever there is, as with SO_RCVLOWAT.
 */
static int watch_next_within(const struct opts *o, struct snapmap_watch *w,
			     struct snapmap_change_entry *c)
{
	struct pollfd pfd = { .fd = snapmap_watch_fd(w), .events = POLLIN };
	int ms = o->wakeup_ms ?: WAKEUP_MS_DEFAULT;
	int err;

	for (;;) {
		err = snapmap_watch_next(w, c);
		if (err != -EAGAIN || !o->wakeup_bytes)
			return err;
		/* Caught up: what was printed goes out before the wait. */
		fflush(stdout);
		if (stop_signal)
			return -EINTR;
		if (poll(&pfd, 1, ms) < 0)
			return -errno;
	}
}

int cmd_watch(struct opts *o, int argc, char **argv)
{
	SNAPMAP_OPTS(snapmap_watch_opts, wopts);
	const char *name = argv[0];
	struct snapmap_change_entry c;
	struct snapmap_watch *w;
	void *prefix = NULL;
	__u32 prefix_len = 0, txn_left = 0;
	__u64 count = 0;
	int ret, fd, err;

	(void)argc;
	ret = check_map_name(o, name);
	if (ret)
		return ret;
	if (o->wakeup_ms && !o->wakeup_bytes)
		return usage_error(o, "--wakeup-ms goes with --wakeup-bytes");
	if (o->prefix) {
		ret = decode_arg(o, "prefix", o->prefix, &prefix, &prefix_len);
		if (ret)
			return ret;
	}
	fd = open_map(o, name, false);
	if (fd < 0) {
		free(prefix);
		return EXIT_FAIL;
	}
	if (o->has_since) {
		wopts.flags = SNAPMAP_WATCH_SINCE;
		wopts.since = o->since;
	}
	wopts.prefix = prefix;
	wopts.prefix_len = prefix_len;
	wopts.wakeup_bytes = o->wakeup_bytes;
	err = snapmap_watch_open(fd, &wopts, &w);
	/* The watch holds the map by itself. */
	close(fd);
	free(prefix);
	if (err) {
		error_errno(o->cmd, -err, ERR_OTHER, "map '%s': %s", name,
			    watch_strerror(-err));
		return EXIT_FAIL;
	}
	if (o->wakeup_bytes &&
	    fcntl(snapmap_watch_fd(w), F_SETFL, O_NONBLOCK)) {
		error_errno(o->cmd, errno, ERR_OTHER, "map '%s': %s", name,
			    strerror(errno));
		snapmap_watch_close(w);
		return EXIT_FAIL;
	}
	catch_stop_signals();
	if (!o->json && !o->no_header)
		printf("# map '%s': changes above version %llu\n", name,
		       (unsigned long long)snapmap_watch_version(w));
	fflush(stdout);

	while (!stop_signal && (!o->changes || count < o->changes)) {
		err = watch_next_within(o, w, &c);
		if (err < 0)
			break;
		print_change(o, &c);
		/*
		 * Each change as it comes, for whoever reads the pipe; a
		 * burst of --wakeup-bytes once it is all printed.
		 */
		if (!o->wakeup_bytes)
			fflush(stdout);
		/* A transaction counts once, after its last write. */
		if (c.type == SNAPMAP_CHANGE_TXN)
			txn_left = c.count;
		else if (txn_left)
			txn_left--;
		if (!txn_left)
			count++;
		err = 0;
	}
	snapmap_watch_close(w);
	if (err && !(err == -EINTR && stop_signal)) {
		error_errno(o->cmd, -err, ERR_OTHER,
			    "map '%s': %s, after %llu changes", name,
			    watch_strerror(-err), (unsigned long long)count);
		return EXIT_FAIL;
	}
	return finish_stdout(o);
}

/* The changes of one transaction of the source, as one of the copy's. */
#define MIRROR_TXN_MAX SNAPMAP_TXN_MAX_OPS

/**
 * struct mirror - a map kept a copy of another
 * @src: the source's name
 * @dst: the copy's name
 * @src_fd: the source, read-only
 * @dst_fd: the copy
 * @ops: the writes of the transaction being gathered
 * @bufs: copies of their keys and values, which the next change read
 *        overwrites in the watch's buffer
 * @nr_ops: writes gathered
 * @txn_left: writes still to come of the transaction, 0 if none is open
 * @txn_version: its version
 */
struct mirror {
	const char *src;
	const char *dst;
	int src_fd;
	int dst_fd;
	struct snapmap_txn_op ops[MIRROR_TXN_MAX];
	void *bufs[MIRROR_TXN_MAX];
	unsigned int nr_ops;
	__u32 txn_left;
	__u64 txn_version;
};

/* Clear the copy and load it with the snapshot @snap of the source. */
static int mirror_load(struct mirror *m, struct snapmap_snapshot *snap)
{
	struct snapmap_entry e;
	int err;

	err = snapmap_clear(m->dst_fd, NULL);
	while (!err && (err = snapmap_snapshot_next(snap, &e)) > 0)
		err = snapmap_put(m->dst_fd, e.key, e.key_len, e.value,
				  e.value_len, 0, NULL);
	return err;
}

static void mirror_drop_txn(struct mirror *m)
{
	while (m->nr_ops)
		free(m->bufs[--m->nr_ops]);
	m->txn_left = 0;
}

/* Gather one write of the transaction; run it when it is whole. */
static int mirror_txn_write(struct mirror *m,
			    const struct snapmap_change_entry *c)
{
	struct snapmap_txn_op *op = &m->ops[m->nr_ops];
	unsigned char *buf;
	int err;

	if (c->version != m->txn_version || m->nr_ops == MIRROR_TXN_MAX)
		return -EIO;
	buf = malloc((size_t)c->key_len + c->value_len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, c->key, c->key_len);
	if (c->value_len)
		memcpy(buf + c->key_len, c->value, c->value_len);
	m->bufs[m->nr_ops++] = buf;
	if (c->type == SNAPMAP_CHANGE_PUT)
		snapmap_txn_put(op, buf, c->key_len, buf + c->key_len,
				c->value_len);
	else
		snapmap_txn_del(op, buf, c->key_len);
	if (--m->txn_left)
		return 0;
	err = snapmap_txn(m->dst_fd, NULL, 0, m->ops, m->nr_ops, NULL, NULL);
	mirror_drop_txn(m);
	return err;
}

/* Apply one change of the source to the copy. */
static int mirror_apply(struct mirror *m, const struct snapmap_change_entry *c)
{
	int err;

	if (m->txn_left) {
		if (c->type != SNAPMAP_CHANGE_PUT &&
		    c->type != SNAPMAP_CHANGE_DEL)
			return -EIO;
		return mirror_txn_write(m, c);
	}
	switch (c->type) {
	case SNAPMAP_CHANGE_PUT:
		return snapmap_put(m->dst_fd, c->key, c->key_len, c->value,
				   c->value_len, 0, NULL);
	case SNAPMAP_CHANGE_DEL:
		err = snapmap_del(m->dst_fd, c->key, c->key_len, NULL);
		/* Absent already: the copy has what the source has. */
		return err == -ENOENT ? 0 : err;
	case SNAPMAP_CHANGE_CLEAR:
		return snapmap_clear(m->dst_fd, NULL);
	case SNAPMAP_CHANGE_TXN:
		m->txn_left = c->count;
		m->txn_version = c->version;
		return 0;
	}
	return -EIO;
}

/*
 * Follow the source into the copy until @limit changes (0: no end), a
 * signal, or an error; -ESTALE when the watch fell behind.
 */
static int mirror_follow(struct mirror *m, struct snapmap_watch *w,
			 __u64 *count, __u64 limit)
{
	struct snapmap_change_entry c;
	int err = 0;

	while (!stop_signal && (!limit || *count < limit)) {
		err = snapmap_watch_next(w, &c);
		if (err < 0)
			break;
		err = mirror_apply(m, &c);
		if (err)
			break;
		/* The writes of a transaction count once it is run. */
		if (!m->txn_left)
			(*count)++;
	}
	mirror_drop_txn(m);
	return err;
}

int cmd_mirror(struct opts *o, int argc, char **argv)
{
	struct mirror m = { .src = argv[0], .dst = argv[1] };
	struct snapmap_snapshot *snap;
	struct snapmap_watch *w;
	__u64 count = 0;
	int ret, err;

	(void)argc;
	ret = check_map_name(o, m.src) ?: check_map_name(o, m.dst);
	if (ret)
		return ret;
	m.src_fd = open_map(o, m.src, false);
	if (m.src_fd < 0)
		return EXIT_FAIL;
	m.dst_fd = open_map(o, m.dst, true);
	if (m.dst_fd < 0) {
		close(m.src_fd);
		return EXIT_FAIL;
	}
	catch_stop_signals();
	do {
		err = snapmap_watch_snapshot(m.src_fd, NULL, &w, &snap);
		if (err) {
			error_errno(o->cmd, -err, ERR_OTHER, "map '%s': %s",
				    m.src, watch_strerror(-err));
			break;
		}
		err = mirror_load(&m, snap);
		snapmap_snapshot_close(snap);
		if (!err) {
			if (!o->quiet)
				fprintf(stderr, "snapmapctl: mirror: '%s' loaded from '%s' at version %llu\n",
					m.dst, m.src,
					(unsigned long long)snapmap_watch_version(w));
			err = mirror_follow(&m, w, &count, o->changes);
		}
		snapmap_watch_close(w);
		/* Fell behind: load the copy again, and go on. */
	} while (err == -ESTALE && !stop_signal);
	close(m.dst_fd);
	close(m.src_fd);
	if (err && !(err == -EINTR && stop_signal)) {
		error_errno(o->cmd, -err, ERR_OTHER,
			    "'%s' into '%s': %s, after %llu changes", m.src,
			    m.dst, watch_strerror(-err),
			    (unsigned long long)count);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
