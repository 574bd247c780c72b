#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the rig's own selftest: a program whose KTAP plan its
# results do not match (a case that never reported, one reported twice),
# and which still exits 0.  The run must fail.
echo "TAP version 13"
echo "1..3"
echo "ok 1 short_plan.first"
echo "ok 1 short_plan.again"
echo "# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0"
