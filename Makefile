# SPDX-License-Identifier: GPL-2.0
#
# snapmap: the kernel's build system reads Kbuild; this file is the entry
# point for people.  See README.md.

# The running kernel's headers, or else the stock Debian kernel's.
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),\
	     $(shell scripts/stock-kernel --kdir 2>/dev/null))

# make fuzz and make stress: how long, in seconds; the fuzzer's seed and
# its most iterations, if asked for.
DURATION ?= 600
SEED ?=
ITERATIONS ?=

.PHONY: all modules userspace selftests check demo deps clean fuzz stress

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

fuzz:
	SEED=$(SEED) ITERATIONS=$(ITERATIONS) scripts/long-run fuzz $(DURATION)

stress:
	scripts/long-run stress $(DURATION)

clean:
	$(if $(wildcard $(KDIR)),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf build
