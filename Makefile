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

.PHONY: all modules userspace selftests check check-arm64 check-kernels \
	check-install demo bench \
	deps clean \
	install install-module install-userspace \
	uninstall uninstall-module uninstall-userspace fuzz stress

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

check-arm64:
	scripts/check --arch arm64

check-kernels:
	scripts/check --kernels all

check-install:
	scripts/check-install

demo:
	scripts/demo

bench:
	scripts/bench

# Installing, as a user does it without DKMS: `make && sudo make install`.
# DESTDIR stages the files for a package; then the group, depmod, ldconfig
# and udev are left to the package's scripts.  The user-space paths
# (PREFIX, BINDIR, LIBDIR, INCLUDEDIR, MANDIR, PKGCONFIGDIR) are those of
# userspace/Makefile.
DESTDIR ?=
UDEVRULESDIR ?= /lib/udev/rules.d
# The release of the kernel at KDIR: its modules' directory.  (Debian's
# headers hold another one in include/config/kernel.release.)
KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

install: install-module install-userspace

# snapmap.ko into /lib/modules/KVER/extra, with the sample consumer
# module beside it (kmod/sample/), as modules_install puts them.
install-module:
	@test -f snapmap.ko || \
		{ echo "make $@: snapmap.ko is not built (run make first)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),,depmod -a $(KVER))

# The library, its headers, pkg-config file and man pages, snapmapctl, and
# the udev rule that gives /dev/snapmap to group snapmap (created here).
install-userspace:
	$(MAKE) -C userspace install
	install -D -m 0644 udev/60-snapmap.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-snapmap.rules
ifeq ($(DESTDIR),)
	getent group snapmap >/dev/null || groupadd --system snapmap
	-udevadm control --reload 2>/dev/null
	-test ! -e /sys/class/misc/snapmap || \
		udevadm trigger --action=change /sys/class/misc/snapmap
endif

uninstall: uninstall-module uninstall-userspace

uninstall-module:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/snapmap.ko \
		$(DESTDIR)/lib/modules/$(KVER)/extra/kmod/sample/snapmap_sample.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

# Group snapmap stays: files may still belong to it.
uninstall-userspace:
	$(MAKE) -C userspace uninstall
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-snapmap.rules

fuzz:
	SEED=$(SEED) ITERATIONS=$(ITERATIONS) scripts/long-run fuzz $(DURATION)

stress:
	scripts/long-run stress $(DURATION)

# DKMS runs this too, in a copy of the module's sources only (the
# snapmap-dkms package's): the other directories are cleaned where they
# are.
clean:
	$(if $(wildcard $(KDIR)),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(foreach d,userspace selftests bench,$(if $(wildcard $(d)/Makefile),\
		$(MAKE) -C $(d) clean;))
	rm -rf build
