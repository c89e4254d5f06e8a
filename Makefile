# SPDX-License-Identifier: GPL-2.0
#
# accmem - out-of-tree build wrapper.
#
#   make                      build accmem.ko for the running kernel (KDIR)
#                             and the user space: libaccmem, accmemctl,
#                             accmem-bench, the examples (make user)
#   make KERNEL=6.1|6.12      build for one of the Debian kernels the harness
#                             manages (scripts/kernel downloads it into the
#                             cache, never installs it), or for a debug
#                             kernel (KERNEL=6.12-debug|latest, built by
#                             scripts/debug-kernel)
#   make check-debug          the suite on the two debug kernels only
#   make check                build and run the whole test suite in QEMU on
#                             6.1, 6.12, 6.12-debug and latest (7.x)
#   make demo                 boot the VM and show the device at work
#   make lint                 checkpatch --strict, sparse, the man pages,
#                             the documentation build
#   make docs                 Documentation/ as HTML in build/docs (Sphinx
#                             with the kernel's kernel-doc, from
#                             linux-source-6.12 at build time)
#   make bench                benchmarks against udmabuf and the system heap
#   make install              the module (then depmod), libaccmem, its
#                             headers, accmem.pc, accmemctl, man pages, the
#                             udev rule, modprobe.d and modules-load.d
#                             examples; DESTDIR and PREFIX (/usr/local) as
#                             usual, install-module and install-user for
#                             either half
#   make uninstall            removes what install installed
#   make install-check        installs into a scratch DESTDIR and builds the
#                             examples against it with pkg-config
#   make clean

KERNEL ?=
ifneq ($(KERNEL),)
KENV := $(shell scripts/kernel env $(KERNEL))
KVER := $(patsubst KVER=%,%,$(filter KVER=%,$(KENV)))
KDIR := $(patsubst KDIR=%,%,$(filter KDIR=%,$(KENV)))
else
KDIR ?= /lib/modules/$(shell uname -r)/build
KVER := $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
endif

BUILD ?= $(CURDIR)/build/$(KVER)
SOURCES := Kbuild dkms.conf $(wildcard src/*.c src/*.h src/tests/*.c src/tests/*.h) \
	include/uapi/linux/accmem.h
TEST_SOURCES := $(wildcard selftests/importer/*.c selftests/importer/*.h) \
	selftests/importer/Kbuild selftests/accmem_test_compat.h \
	$(wildcard selftests/rdma_pinned/*.c selftests/rdma_pinned/*.h) \
	selftests/rdma_pinned/Kbuild
KBUILD_FLAGS ?= W=1

include version.mk

# Install locations. The uAPI header goes under the prefix's include
# directory, in accmem/uapi/ (never /usr/include/linux, linux-libc-dev's):
# accmem.pc's Cflags find both headers.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/accmem
UDEVRULESDIR ?= /etc/udev/rules.d
INSTALL_MOD_DIR ?= extra
DEPMOD ?= depmod

.PHONY: all modules test-modules check check-debug demo lint docs bench install \
	clean selftests user lib tools examples install-module install-user \
	uninstall uninstall-module uninstall-user install-check

all: modules user

# User space, no kernel needed: the library, the tools, the examples.
user: lib tools examples

lib:
	$(MAKE) -C lib OUTPUT=$(CURDIR)/build/lib

tools: lib
	$(MAKE) -C tools OUTPUT=$(CURDIR)/build/tools

# The examples against the tree's libaccmem (installed, they use pkg-config).
examples: lib
	$(MAKE) -C examples OUTPUT=$(CURDIR)/build/examples \
		ACCMEM_CFLAGS="-I$(CURDIR)/include -I$(CURDIR)/include/uapi" \
		ACCMEM_LIBS="$(CURDIR)/build/lib/libaccmem.a" \
		ACCMEM_DEPS="$(CURDIR)/build/lib/libaccmem.a $(CURDIR)/include/accmem/accmem.h $(CURDIR)/include/uapi/linux/accmem.h"

# Each kernel gets its own copy of the sources so builds do not collide.
modules:
	@test -n "$(KVER)" || { echo "no kernel headers at $(KDIR)" >&2; exit 1; }
	@mkdir -p $(BUILD)
	@cp -u --parents $(SOURCES) $(BUILD)/
	$(MAKE) -C $(KDIR) M=$(BUILD) $(KBUILD_FLAGS) modules

# Test-only modules (the dma-buf test importer and the RDMA core pinned
# import), never installed.
test-modules:
	@test -n "$(KVER)" || { echo "no kernel headers at $(KDIR)" >&2; exit 1; }
	@mkdir -p $(BUILD)
	@cp -u --parents $(TEST_SOURCES) $(BUILD)/
	$(MAKE) -C $(KDIR) M=$(BUILD)/selftests/importer $(KBUILD_FLAGS) modules
	$(MAKE) -C $(KDIR) M=$(BUILD)/selftests/rdma_pinned $(KBUILD_FLAGS) modules

selftests: user
	$(MAKE) -C selftests

check:
	scripts/check

check-debug:
	ACCMEM_KERNELS="6.12-debug latest" ACCMEM_NO_IOMMU_RUN=1 scripts/check

demo:
	scripts/demo

lint:
	scripts/lint

docs:
	scripts/docs

bench:
	scripts/bench

install: install-module install-user

# The module; then depmod, unless into a DESTDIR (a package runs it when
# installed).
install-module: modules
	$(MAKE) -C $(KDIR) M=$(BUILD) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	$(if $(DESTDIR),@echo "install: DESTDIR set: no depmod",$(DEPMOD) -a $(KVER))

# accmem.pc's paths relative to its prefix where they are under it, so
# that pkg-config --define-variable=prefix=... relocates them.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

install-user: user
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/accmem/uapi/linux \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man4 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 build/tools/accmemctl $(DESTDIR)$(SBINDIR)/accmemctl
	install -m 0644 build/lib/libaccmem.a $(DESTDIR)$(LIBDIR)/libaccmem.a
	install -m 0755 build/lib/$(LIB_REALNAME) $(DESTDIR)$(LIBDIR)/$(LIB_REALNAME)
	ln -sf $(LIB_REALNAME) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libaccmem.so
	install -m 0644 include/accmem/accmem.h $(DESTDIR)$(INCLUDEDIR)/accmem/accmem.h
	install -m 0644 include/uapi/linux/accmem.h \
		$(DESTDIR)$(INCLUDEDIR)/accmem/uapi/linux/accmem.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|' \
		-e 's|@VERSION@|$(ACCMEM_VERSION)|' lib/accmem.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/accmem.pc
	install -m 0644 man/libaccmem.3 $(DESTDIR)$(MANDIR)/man3/libaccmem.3
	install -m 0644 man/accmem.4 $(DESTDIR)$(MANDIR)/man4/accmem.4
	install -m 0644 man/accmemctl.8 $(DESTDIR)$(MANDIR)/man8/accmemctl.8
	install -m 0644 dist/60-accmem.rules $(DESTDIR)$(UDEVRULESDIR)/60-accmem.rules
	install -m 0644 dist/modprobe.conf $(DESTDIR)$(DOCDIR)/examples/modprobe.d-accmem.conf
	install -m 0644 dist/modules-load.conf $(DESTDIR)$(DOCDIR)/examples/modules-load.d-accmem.conf
	install -m 0644 examples/Makefile examples/rdma-write.c \
		examples/drm-import.c $(DESTDIR)$(DOCDIR)/examples/
ifeq ($(DESTDIR),)
	-ldconfig
	-getent group accmem >/dev/null || groupadd --system accmem
	-udevadm control --reload && udevadm trigger --subsystem-match=misc \
		--sysname-match='accmem*'
endif

uninstall: uninstall-module uninstall-user

uninstall-module:
	@test -n "$(KVER)" || { echo "no kernel headers at $(KDIR)" >&2; exit 1; }
	rm -f $(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)/accmem.ko*
	$(if $(DESTDIR),@echo "uninstall: DESTDIR set: no depmod",$(DEPMOD) -a $(KVER))

uninstall-user:
	rm -f $(DESTDIR)$(SBINDIR)/accmemctl $(DESTDIR)$(LIBDIR)/libaccmem.a \
		$(DESTDIR)$(LIBDIR)/$(LIB_REALNAME) \
		$(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
		$(DESTDIR)$(LIBDIR)/libaccmem.so \
		$(DESTDIR)$(INCLUDEDIR)/accmem/accmem.h \
		$(DESTDIR)$(INCLUDEDIR)/accmem/uapi/linux/accmem.h \
		$(DESTDIR)$(PKGCONFIGDIR)/accmem.pc \
		$(DESTDIR)$(MANDIR)/man3/libaccmem.3 \
		$(DESTDIR)$(MANDIR)/man4/accmem.4 \
		$(DESTDIR)$(MANDIR)/man8/accmemctl.8 \
		$(DESTDIR)$(UDEVRULESDIR)/60-accmem.rules
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir -p $(DESTDIR)$(INCLUDEDIR)/accmem/uapi/linux 2>/dev/null
ifeq ($(DESTDIR),)
	-ldconfig
endif

install-check:
	scripts/install-check

clean:
	rm -rf build
	$(MAKE) -C selftests clean
	$(MAKE) -C lib clean
	$(MAKE) -C tools clean
