#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the rig's own selftest: make the guest hang after its
# summary.  snapmap_splat's reboot notifier blocks the power-off for good,
# and a process left behind writes on the results port (as the guest's
# /init chose it) once the power-off has begun, so after the summary.  This script itself succeeds; the run
# must not.
set -e
dir=/sys/kernel/debug/snapmap_splat
echo 1 > $dir/hang
(
	until grep -q 1 $dir/hanging 2>/dev/null; do
		sleep 1
	done
	echo "rig: written after the summary" > "${SNAPMAP_RESULTS:-/dev/ttyS1}"
) </dev/null >/dev/null 2>&1 &
echo "# triggered: a power-off that never ends, output after the summary"
