#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows inside the guest, with snapmap.ko loaded.
set -e
echo "# /dev/snapmap is here:"
ls -l /dev/snapmap | sed 's/^/#   /'
echo "# the API handshake, as snapmapctl reports it:"
snapmapctl version | sed 's/^/#   /'
