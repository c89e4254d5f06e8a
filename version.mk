# SPDX-License-Identifier: GPL-2.0
#
# The versions, each from its one source: the package's (the module's
# MODULE_VERSION, accmemctl --version, accmem.pc) is dkms.conf's
# PACKAGE_VERSION; the library's is in its header. Included by the
# Makefiles; Kbuild reads dkms.conf the same way.
ACCMEM_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ACCMEM_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(ACCMEM_TOP)/dkms.conf)
LIB_MAJOR := $(shell sed -n 's/^\#define ACCMEM_LIB_VERSION_MAJOR[[:space:]]*//p' $(ACCMEM_TOP)/include/accmem/accmem.h)
LIB_MINOR := $(shell sed -n 's/^\#define ACCMEM_LIB_VERSION_MINOR[[:space:]]*//p' $(ACCMEM_TOP)/include/accmem/accmem.h)
LIB_SONAME := libaccmem.so.$(LIB_MAJOR)
LIB_REALNAME := libaccmem.so.$(LIB_MAJOR).$(LIB_MINOR).0
