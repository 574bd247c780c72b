#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the runner's own selftest: break the kernel in every way the
# runner must catch.  This script itself succeeds; the run must not.
set -e
dir=/sys/kernel/debug/snapmap_splat
echo 1 > $dir/warn
echo 1 > $dir/leak
echo 1 > $dir/pin
echo 1 > /sys/module/snapmap_splat/parameters/knob
echo "# triggered: warn, leak, pin, a parameter left changed"
