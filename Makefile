# SPDX-License-Identifier: GPL-2.0
#
# snapmap: the kernel's build system reads Kbuild; this file is the entry
# point for people.  See README.md.

# The running kernel's headers, or else the stock Debian kernel's.
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),\
	     $(shell scripts/stock-kernel --kdir 2>/dev/null))

.PHONY: all modules userspace selftests check demo bench deps clean

all: modules userspace

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests

deps:
	scripts/install-deps

check:
	scripts/check

demo:
	scripts/demo

bench:
	scripts/bench

clean:
	$(if $(wildcard $(KDIR)),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	$(MAKE) -C bench clean
	rm -rf build
