# SPDX-License-Identifier: GPL-2.0
#
# accmem - out-of-tree build wrapper.
#
#   make                      build accmem.ko for the running kernel (KDIR)
#   make KERNEL=6.1|6.12      build for one of the Debian kernels the harness
#                             manages (scripts/kernel downloads it into the
#                             cache, never installs it), or for a debug
#                             kernel (KERNEL=6.12-debug|latest, built by
#                             scripts/debug-kernel)
#   make check-debug          the suite on the two debug kernels only
#   make check                build and run the whole test suite in QEMU on
#                             6.1, 6.12, 6.12-debug and latest (7.x)
#   make demo                 boot the VM and show the device at work
#   make lint                 checkpatch --strict and sparse
#   make bench                benchmarks against udmabuf and the system heap
#   make install              modules_install + the uAPI header
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
SOURCES := Kbuild $(wildcard src/*.c src/*.h src/tests/*.c src/tests/*.h) \
	include/uapi/linux/accmem.h
TEST_SOURCES := $(wildcard selftests/importer/*.c selftests/importer/*.h) \
	selftests/importer/Kbuild selftests/accmem_test_compat.h \
	$(wildcard selftests/rdma_pinned/*.c selftests/rdma_pinned/*.h) \
	selftests/rdma_pinned/Kbuild
KBUILD_FLAGS ?= W=1
INSTALL_HDR_PATH ?= /usr/include

.PHONY: all modules test-modules check check-debug demo lint bench install clean selftests

all: modules

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

selftests:
	$(MAKE) -C selftests

check:
	scripts/check

check-debug:
	ACCMEM_KERNELS="6.12-debug latest" ACCMEM_NO_IOMMU_RUN=1 scripts/check

demo:
	scripts/demo

lint:
	scripts/lint

bench:
	scripts/bench

install: modules
	$(MAKE) -C $(KDIR) M=$(BUILD) modules_install
	install -D -m 0644 include/uapi/linux/accmem.h \
		$(DESTDIR)$(INSTALL_HDR_PATH)/linux/accmem.h

clean:
	rm -rf build
	$(MAKE) -C selftests clean
