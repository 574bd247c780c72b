// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap_bench: watches.  What watchers cost a writer, and how soon a
 * change reaches a watcher.
 *
 * Throughput: one thread PUTs random present keys of a 10k-entry map,
 * timed, while one other thread drains every watch of the map with epoll
 * (so that the watchers take the other vCPU, whatever their number),
 * against the same writer on a map that never had a watch ("none") and on
 * one whose watches were all closed ("0").  A watch is woken for each
 * change by default, and by the module's timer instead while its reader
 * keeps finding several at once (watch_coalesce_us); "1-each" is one
 * watch with that timer off, woken by a writer for every change its
 * reader waits for; "1-wakeup" is one watch woken once 4 KiB of records
 * are ready (wakeup_bytes), whose reader also reads what there is when
 * epoll has been quiet for 10 ms, as such a reader must.  Each watcher
 * must have read every change, checked after the window.  The figure
 * also counts the draining thread's wake-ups: the times it slept (its
 * voluntary context switches) and epoll woke it with a watch ready, not
 * by its timeout; a writer paid for each of them, but for those of the
 * module's timer.  Two controls on a map with no watch
 * tell what the watch costs from what the other thread costs: "busy",
 * the other thread reading /dev/zero, in the kernel writing to user
 * memory as a watcher's reader does; "pipe", the writer also writing
 * each change's record to a pipe that the other thread drains with epoll,
 * the feed a program builds for itself without watches.  Where there is
 * nothing to drain ("none", "0"), the other thread sleeps until the
 * window's end: each of a process's ioctls takes and drops a reference to
 * its file once the process has a second thread, and the writer pays for
 * that in every row alike.  A watch's log is full when the window opens,
 * as it is once a watch has run for a while: each change then also takes
 * the oldest record out.  So every row first PUTs as many changes as the
 * buffer holds records, and the watches timed open after them, while a
 * watch that came first, and never reads, keeps them; it is closed before
 * the window.
 *
 * Latency: a writer PUTs, a watcher blocked in read(2) wakes with the
 * record, and answers through a pipe before the next PUT: the time from
 * just before the PUT to the record read.  The baseline is the same
 * round through a pipe alone: a byte written, a reader blocked in read(2)
 * woken, the floor of any wake-up on this host.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/snapmap.h>

#include "bench.h"

#define PTR(p) ((__u64)(uintptr_t)(p))

/*
 * More repetitions than the other figures: a ratio of two vCPUs in
 * wall-clock time moves with how the host schedules their threads.  With
 * medians of 5, even the control (0 watchers against none) moved by up to
 * a tenth from one run to the next; medians of 11 move less.
 */
#define WATCH_REPS 11
#define WATCH_ENTRIES 10000
/* PUTs per throughput measurement: about half a second of the writer. */
#define WATCH_PUTS 100000
/* Each record of a PUT of a 16-byte key and value. */
#define WATCH_RECORD SNAPMAP_CHANGE_SIZE(KEY_LEN, VALUE_LEN)
/* Rounds per latency measurement. */
#define WATCH_ROUNDS 1000
#define WATCH_MAX 16
/*
 * The buffer of each watch: four times the module's default, so that a
 * reader the host keeps off its CPU for a while loses nothing (in one of
 * three runs of the figure with buffers of 2 MiB, a watch lost changes).
 * WATCH_FILL PUTs fill it: the records the log keeps are larger than
 * those read.
 */
#define WATCH_BUFFER (4U << 20)
#define WATCH_FILL (WATCH_BUFFER / WATCH_RECORD)
/* The wakeup_bytes of "1-wakeup", and how late its reader may read. */
#define WATCH_WAKEUP 4096
#define WATCH_WAKEUP_MS 10

/* What the other thread does while the writer is timed. */
enum watch_other {
	OTHER_WATCHES,	/* drains the watches; if none, sleeps */
	OTHER_BUSY,	/* reads /dev/zero until the writer is done */
	OTHER_PIPE,	/* drains a pipe the writer writes each record to */
};

/* The configurations of the throughput figure: watches open. */
static const struct {
	const char *name;
	int watches;	/* -1: the map had watches, all closed */
	__u64 wakeup;	/* wakeup_bytes of each */
	enum watch_other other;
	bool each;	/* the module's timer off: woken for every change */
} watch_cfgs[] = {
	{ "none", 0, 0, OTHER_WATCHES, false },
	{ "0", -1, 0, OTHER_WATCHES, false },
	{ "1", 1, 0, OTHER_WATCHES, false },
	{ "1-each", 1, 0, OTHER_WATCHES, true },
	{ "1-wakeup", 1, WATCH_WAKEUP, OTHER_WATCHES, false },
	{ "16", WATCH_MAX, 0, OTHER_WATCHES, false },
	{ "busy", 0, 0, OTHER_BUSY, false },
	{ "pipe", 0, 0, OTHER_PIPE, false },
};
#define NR_WATCH_CFGS (sizeof(watch_cfgs) / sizeof(watch_cfgs[0]))

static int watch_open(int fd, bool nonblock, __u64 wakeup)
{
	struct snapmap_watch_arg w = {
		.size = sizeof(w),
		.buffer_bytes = WATCH_BUFFER,
		.wakeup_bytes = wakeup,
	};
	int wfd = ioctl(fd, SNAPMAP_IOC_WATCH, &w);

	if (wfd < 0)
		die("SNAPMAP_IOC_WATCH");
	if (nonblock && fcntl(wfd, F_SETFL, O_NONBLOCK))
		die("O_NONBLOCK");
	return wfd;
}

/**
 * struct drain - the thread that reads every watch of a measurement
 * @wfd: the watches, or for "pipe" the pipe's read end
 * @n: their number
 * @timeout: how long epoll may be quiet before the thread reads every
 *           watch anyway, in ms; -1 if it need not
 * @want: the records each must read before the thread stops
 * @got: the records each read
 * @wakes: how many times the thread slept and a write woke it
 */
struct drain {
	int wfd[WATCH_MAX];
	int n;
	int timeout;
	uint64_t want;
	uint64_t got[WATCH_MAX];
	uint64_t wakes;
};

static void *drain_run(void *arg)
{
	static unsigned char buf[1 << 16];
	struct epoll_event ev[WATCH_MAX];
	struct drain *d = arg;
	uint64_t timeouts = 0;
	struct rusage ru;
	int ep, i, k, done = 0;
	ssize_t len;
	long slept;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage");
	slept = ru.ru_nvcsw;
	for (i = 0; i < d->n; i++) {
		ev[0] = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, d->wfd[i], &ev[0]))
			die("EPOLL_CTL_ADD");
	}
	while (done < d->n) {
		k = epoll_wait(ep, ev, WATCH_MAX,
			       d->timeout < 0 ? 60000 : d->timeout);
		if (k < 0 || (!k && d->timeout < 0))
			die("epoll_wait: no change for a minute");
		if (!k) {
			/* Quiet for too long: whatever there is, every watch. */
			for (i = 0; i < d->n; i++)
				ev[i].data.u32 = i;
			k = d->n;
			timeouts++;
		}
		for (i = 0; i < k; i++) {
			int w = ev[i].data.u32;

			while ((len = read(d->wfd[w], buf, sizeof(buf))) > 0)
				d->got[w] += len / WATCH_RECORD;
			if (errno != EAGAIN)
				die("read of a watch");
		}
		done = 0;
		for (i = 0; i < d->n; i++)
			done += d->got[i] == d->want;
	}
	close(ep);
	/* Every sleep ended with a write's wake-up or with the timeout. */
	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage");
	d->wakes = ru.ru_nvcsw - slept - timeouts;
	return NULL;
}

#define COALESCE_US "/sys/module/snapmap/parameters/watch_coalesce_us"

static unsigned long coalesce_get(void)
{
	FILE *f = fopen(COALESCE_US, "r");
	unsigned long us;

	if (!f || fscanf(f, "%lu", &us) != 1 || fclose(f))
		die(COALESCE_US);
	return us;
}

static void coalesce_set(unsigned long us)
{
	FILE *f = fopen(COALESCE_US, "w");

	if (!f || fprintf(f, "%lu\n", us) < 0 || fclose(f))
		die(COALESCE_US);
}

/* "busy": the kernel writes to user memory until *@arg is true. */
static void *busy_run(void *arg)
{
	static unsigned char buf[1 << 16];
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	atomic_bool *stop = arg;

	if (fd < 0)
		die("/dev/zero");
	while (!atomic_load(stop))
		if (read(fd, buf, sizeof(buf)) != sizeof(buf))
			die("read of /dev/zero");
	close(fd);
	return NULL;
}

/* No watch to drain: wait for the writer to let *@arg go. */
static void *idle_run(void *arg)
{
	pthread_mutex_t *window = arg;

	pthread_mutex_lock(window);
	pthread_mutex_unlock(window);
	return NULL;
}

/*
 * One throughput measurement of configuration @cfg: PUTs per second, and
 * in @wakes the wake-ups of the draining thread per 1000 PUTs.
 */
static double watch_measure(unsigned int cfg, uint64_t *state,
			    double *wakes)
{
	static const unsigned char rec[WATCH_RECORD];
	static uint32_t idx[WATCH_PUTS];
	enum watch_other other = watch_cfgs[cfg].other;
	unsigned long saved = 0;
	struct drain d = {
		.n = watch_cfgs[cfg].watches,
		.timeout = watch_cfgs[cfg].wakeup ? WATCH_WAKEUP_MS : -1,
		.want = WATCH_PUTS,
	};
	int fd, filler = -1, pipefd[2] = { -1, -1 };
	pthread_mutex_t window = PTHREAD_MUTEX_INITIALIZER;
	bool busy = other == OTHER_BUSY;
	atomic_bool stop = false;
	pthread_t thread;
	double start, t;
	unsigned int i;
	int err;

	fd = sm_new();
	sm_fill(fd, WATCH_ENTRIES);
	if (watch_cfgs[cfg].each) {
		saved = coalesce_get();
		coalesce_set(0);
	}
	if (d.n < 0) {
		/* A map that had a watch: it came and went. */
		close(watch_open(fd, false, 0));
		d.n = 0;
	}
	/* The log full, as a watch's that has run for a while. */
	if (d.n)
		filler = watch_open(fd, false, 0);
	for (i = 0; i < WATCH_FILL; i++)
		if (sm_put(fd, keys[i % WATCH_ENTRIES],
			   vals[(i + 1) % WATCH_ENTRIES]))
			die("SNAPMAP_IOC_PUT");
	for (i = 0; i < (unsigned int)d.n; i++)
		d.wfd[i] = watch_open(fd, true, watch_cfgs[cfg].wakeup);
	if (filler >= 0)
		close(filler);
	if (other == OTHER_PIPE) {
		if (pipe2(pipefd, O_CLOEXEC) ||
		    fcntl(pipefd[0], F_SETFL, O_NONBLOCK))
			die("pipe");
		d.wfd[d.n++] = pipefd[0];
	}
	for (i = 0; i < WATCH_PUTS; i++)
		idx[i] = next_rand(state) % WATCH_ENTRIES;
	pthread_mutex_lock(&window);
	if (d.n)
		err = pthread_create(&thread, NULL, drain_run, &d);
	else if (busy)
		err = pthread_create(&thread, NULL, busy_run, &stop);
	else
		err = pthread_create(&thread, NULL, idle_run, &window);
	if (err) {
		errno = err;
		die("pthread_create");
	}

	start = now();
	for (i = 0; i < WATCH_PUTS; i++) {
		if (sm_put(fd, keys[idx[i]], vals[(idx[i] + i) % WATCH_ENTRIES]))
			die("SNAPMAP_IOC_PUT");
		/* A pipe takes a write of up to PIPE_BUF bytes whole. */
		if (pipefd[1] >= 0 &&
		    write(pipefd[1], rec, sizeof(rec)) != sizeof(rec))
			die("write to the pipe");
	}
	t = now() - start;

	atomic_store(&stop, true);
	pthread_mutex_unlock(&window);
	/* Every watcher read every change: nothing lost, nothing more. */
	if (pthread_join(thread, NULL))
		die("pthread_join");
	for (i = 0; i < (unsigned int)d.n; i++) {
		if (d.got[i] != WATCH_PUTS)
			die("a watcher missed changes");
		close(d.wfd[i]);
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	close(fd);
	if (watch_cfgs[cfg].each)
		coalesce_set(saved);
	*wakes = d.wakes * 1000.0 / WATCH_PUTS;
	return WATCH_PUTS / t;
}

/**
 * struct ping - one side of the latency rounds
 * @fd: the watch fd, or the pipe's read end for the baseline
 * @ack: where the reader answers
 * @sent: when the writer sent the round, just before its PUT or write
 * @lat: the latency of each round, in microseconds
 */
struct ping {
	int fd;
	int ack;
	_Atomic double sent;
	double lat[WATCH_ROUNDS];
};

static void *ping_read(void *arg)
{
	unsigned char buf[256];
	struct ping *p = arg;
	unsigned int r;

	for (r = 0; r < WATCH_ROUNDS; r++) {
		if (read(p->fd, buf, sizeof(buf)) <= 0)
			die("read of the ping");
		p->lat[r] = (now() - atomic_load(&p->sent)) * 1e6;
		if (write(p->ack, "", 1) != 1)
			die("ack");
	}
	return NULL;
}

/*
 * @rounds of a write, then a wait for the reader's answer; the median and
 * 99th percentile of the latencies in @p50 and @p99.  @map is the map to
 * PUT into, or -1 to write into the pipe @pipe_w.
 */
static void ping_measure(int map, int pipe_w, int fd, double *p50,
			 double *p99)
{
	struct ping *p = calloc(1, sizeof(*p));
	unsigned char c;
	pthread_t thread;
	int ack[2];
	unsigned int r;

	if (!p || pipe(ack))
		die("ping");
	p->fd = fd;
	p->ack = ack[1];
	if (pthread_create(&thread, NULL, ping_read, p))
		die("pthread_create");
	for (r = 0; r < WATCH_ROUNDS; r++) {
		atomic_store(&p->sent, now());
		if (map >= 0 ? sm_put(map, keys[r % WATCH_ENTRIES],
				      vals[r % WATCH_ENTRIES]) :
			       write(pipe_w, "", 1) != 1)
			die("ping");
		if (read(ack[0], &c, 1) != 1)
			die("ack");
	}
	if (pthread_join(thread, NULL))
		die("pthread_join");
	qsort(p->lat, WATCH_ROUNDS, sizeof(p->lat[0]), cmp_double);
	*p50 = p->lat[WATCH_ROUNDS / 2];
	*p99 = p->lat[WATCH_ROUNDS * 99 / 100];
	close(ack[0]);
	close(ack[1]);
	free(p);
}

/*
 * Whether this CPU count measures row @k.  On one CPU (the instruction
 * count run) only the rows whose other thread sleeps: the others need a
 * CPU for each thread, and a watcher's reader that shares the writer's
 * falls behind it by as much as the scheduler lets the writer run, which
 * no buffer need hold.
 */
static bool watch_row(unsigned int k)
{
	return sysconf(_SC_NPROCESSORS_ONLN) > 1 ||
	       (watch_cfgs[k].watches <= 0 &&
		watch_cfgs[k].other == OTHER_WATCHES);
}

void fig_watch(void)
{
	static double tput[NR_WATCH_CFGS][WATCH_REPS];
	static double wakes[NR_WATCH_CFGS][WATCH_REPS];
	static double lat[2][2][WATCH_REPS];
	uint64_t state = 15;
	unsigned int r, o, k;
	int fd, wfd, pipefd[2];

	printf("# watch: one writer PUTs %u random present keys of a %u-entry map; one other thread drains every watch with epoll (none, 0: sleeps; busy: reads /dev/zero; pipe: drains a pipe the writer writes each record to); 1-each: watch_coalesce_us 0; order rotated every repetition\n",
	       WATCH_PUTS, WATCH_ENTRIES);
	for (r = 0; r < WATCH_REPS; r++)
		for (o = 0; o < NR_WATCH_CFGS; o++) {
			k = (o + r) % NR_WATCH_CFGS;
			if (watch_row(k))
				tput[k][r] = watch_measure(k, &state,
							   &wakes[k][r]);
		}
	for (k = 0; k < NR_WATCH_CFGS; k++)
		if (watch_row(k))
			report("watch", watch_cfgs[k].name, "snapmap", tput[k],
			       WATCH_REPS, "ops/s");
	for (k = 0; k < NR_WATCH_CFGS; k++)
		if (watch_row(k) && (watch_cfgs[k].watches > 0 ||
				     watch_cfgs[k].other == OTHER_PIPE))
			report("watch-wakes", watch_cfgs[k].name, "snapmap",
			       wakes[k], WATCH_REPS, "per-1000-PUTs");

	printf("# watch-latency: %u rounds of a PUT and its record read by a watcher blocked in read(2), against a byte through a pipe\n",
	       WATCH_ROUNDS);
	for (r = 0; r < WATCH_REPS; r++) {
		fd = sm_new();
		sm_fill(fd, WATCH_ENTRIES);
		wfd = watch_open(fd, false, 0);
		ping_measure(fd, -1, wfd, &lat[0][0][r], &lat[0][1][r]);
		close(wfd);
		close(fd);
		if (pipe(pipefd))
			die("pipe");
		ping_measure(-1, pipefd[1], pipefd[0], &lat[1][0][r],
			     &lat[1][1][r]);
		close(pipefd[0]);
		close(pipefd[1]);
	}
	report("watch-latency", "p50", "snapmap", lat[0][0], WATCH_REPS, "us");
	report("watch-latency", "p99", "snapmap", lat[0][1], WATCH_REPS, "us");
	report("watch-latency", "p50", "pipe", lat[1][0], WATCH_REPS, "us");
	report("watch-latency", "p99", "pipe", lat[1][1], WATCH_REPS, "us");
}
