// SPDX-License-Identifier: GPL-2.0
/*
 * snapmapctl: a progress line on stderr.
 *
 * Drawn only on a terminal, never for an operation shorter than
 * PROGRESS_DELAY_MS, at most once every PROGRESS_PERIOD_MS, and cleared
 * when the operation ends, so that what remains on the terminal is the
 * command's own output and messages.
 */

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define PROGRESS_DELAY_MS	500
#define PROGRESS_PERIOD_MS	200

/* The line on the terminal now, if any, for progress_clear_any(). */
static struct progress *shown_progress;

static long long ms_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - then->tv_sec) * 1000LL +
	       (now.tv_nsec - then->tv_nsec) / 1000000;
}

void progress_start(struct progress *p, bool enable, const char *what,
		    const char *unit, __u64 total)
{
	p->on = enable && isatty(STDERR_FILENO);
	p->shown = false;
	p->what = what;
	p->unit = unit;
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void progress_update(struct progress *p, __u64 done)
{
	if (!p->on)
		return;
	if (ms_since(&p->start) < PROGRESS_DELAY_MS)
		return;
	if (p->shown && ms_since(&p->last) < PROGRESS_PERIOD_MS)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	if (p->total)
		fprintf(stderr, "\r%s: %llu/%llu %s (%llu%%)\033[K", p->what,
			(unsigned long long)done, (unsigned long long)p->total,
			p->unit, (unsigned long long)(done * 100 / p->total));
	else
		fprintf(stderr, "\r%s: %llu %s\033[K", p->what,
			(unsigned long long)done, p->unit);
	fflush(stderr);
	p->shown = true;
	shown_progress = p;
}

void progress_end(struct progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->shown = false;
	}
	if (shown_progress == p)
		shown_progress = NULL;
}

void progress_clear_any(void)
{
	if (shown_progress)
		progress_end(shown_progress);
}
