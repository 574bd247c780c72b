/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapmapctl: a progress line on stderr for long dumps, saves and loads.
 */

#ifndef _SNAPMAPCTL_PROGRESS_H
#define _SNAPMAPCTL_PROGRESS_H

#include <stdbool.h>
#include <time.h>
#include <linux/types.h>

/*
 * struct progress - one progress line
 * @on: whether it may be drawn at all (stderr is a terminal, no --quiet)
 * @shown: whether something is on the line now, to be cleared
 * @what: what is being done, e.g. "save 'foo'"
 * @unit: what @done counts, e.g. "records"
 * @total: how many there are; 0 if unknown
 * @start: when it started: nothing is drawn for quick operations
 * @last: when the line was last drawn, to limit the rate
 */
struct progress {
	bool on;
	bool shown;
	const char *what;
	const char *unit;
	__u64 total;
	struct timespec start;
	struct timespec last;
};

void progress_start(struct progress *p, bool enable, const char *what,
		    const char *unit, __u64 total);
void progress_update(struct progress *p, __u64 done);
/* Clears the line; the progress can be started again. */
void progress_end(struct progress *p);
/* Clears whichever line is shown, before an error message. */
void progress_clear_any(void);

#endif /* _SNAPMAPCTL_PROGRESS_H */
