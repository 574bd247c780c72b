#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows inside the guest, with snapmap.ko loaded.
set -e

say() {
	echo
	echo "== $*"
}

say "The loaded module"
snapmapctl version

say "Writers hammer map 'demo' while it is read whole, over and over"
moving_key -r 500 -n demo -c demo-clone -x '
	snapmapctl save demo /tmp/demo.smap
	echo "save    ATOMIC snapshot of demo written to /tmp/demo.smap while the writers ran"
	snapmapctl ls'

say "In Go: a sync.Map and a snapmap map under the same writers, copied whole"
syncmap_vs_snapmap -copies 300

say "The saved snapshot, checked, then restored into a new map"
snapmapctl load --check /tmp/demo.smap | grep -E 'file|snapshot|records'
snapmapctl load /tmp/demo.smap demo-restored -- snapmapctl ls
