#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows inside the guest, with snapmap.ko loaded.
set -e
echo "# the loaded module, as snapmapctl reports it:"
snapmapctl version | sed 's/^/#   /'
echo "#"
echo "# a writer moves one key along (put k+1, del k) while snapshots are"
echo "# taken; the map never holds zero keys, nor two that are not neighbours:"
moving_key 1000 | sed 's/^/#   /'
