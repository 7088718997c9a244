# xenbox: top-level Makefile, with Buildroot's habits.
#
#   make <board>_defconfig   start a configuration from configs/
#   make menuconfig          edit it (kconfig-frontends)
#   make savedefconfig       write the minimal config back to its defconfig
#   make defconfig DEFCONFIG=FILE   start from any defconfig file
#   make source              download every pinned source into dl/
#   make                     build; artifacts land in output/images/
#   make size                binary size by component, checked against budget
#   make install             the binary, a systemd unit, an example config
#                            (DESTDIR, PREFIX=/usr/local; docs/BUILDING.md)
#   make deb                 the same as output/images/xenbox_<version>_amd64.deb
#   make check               every test suite (installs what it needs)
#   make run                 build the USB image and boot it under QEMU
#
# O=DIR puts the configuration and every build product in DIR (default
# output/), DL_DIR=DIR the downloads (default dl/).  Nothing below `make
# source` reaches the network.

TOPDIR := $(CURDIR)
O ?= $(TOPDIR)/output
override O := $(abspath $(O))
DL_DIR ?= $(TOPDIR)/dl
override DL_DIR := $(abspath $(DL_DIR))
export DL_DIR

CONFIG       := $(O)/.config
AUTOCONF     := $(O)/auto.conf
AUTOHEADER   := $(O)/autoconf.h
BUILD_DIR    := $(O)/build
STAGING_DIR  := $(O)/staging
HOST_DIR     := $(O)/host
IMAGES_DIR   := $(O)/images
LOCK         := $(TOPDIR)/package/sources.lock

# Reproducibility: one timestamp for everything, taken from the last commit.
SOURCE_DATE_EPOCH ?= $(shell git -C $(TOPDIR) log -1 --format=%ct 2>/dev/null || echo 1767225600)
export SOURCE_DATE_EPOCH
export LC_ALL := C
export TZ := UTC
export srctree := $(TOPDIR)

# Q= for quiet; V=1 for the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.DEFAULT_GOAL := all
.PHONY: all world source check unit-check size clean distclean help \
	menuconfig savedefconfig olddefconfig printvars FORCE

# --------------------------------------------------------------------------
# Configuration (kconfig-frontends from Debian)

KCONFIG_ENV := KCONFIG_CONFIG=$(CONFIG) KCONFIG_AUTOCONFIG=$(AUTOCONF) \
	KCONFIG_AUTOHEADER=$(AUTOHEADER) srctree=$(TOPDIR)
# conf writes include/config/ dependency files below its working directory,
# so it runs inside $(O).
KCONF = mkdir -p $(O)/include/config && cd $(O) && $(KCONFIG_ENV)

%_defconfig: $(TOPDIR)/configs/%_defconfig FORCE
	$(Q)mkdir -p $(O)
	$(Q)$(KCONF) kconfig-conf --defconfig=$< $(TOPDIR)/Kconfig >/dev/null
	$(Q)echo $< >$(O)/.defconfig
	@echo "configuration written to $(CONFIG) from $(notdir $<)"

# `make defconfig DEFCONFIG=FILE`: start from any defconfig file.
defconfig: FORCE
	$(Q)test -n "$(DEFCONFIG)" || { echo "usage: make defconfig DEFCONFIG=FILE" >&2; exit 1; }
	$(Q)mkdir -p $(O)
	$(Q)$(KCONF) kconfig-conf --defconfig=$(abspath $(DEFCONFIG)) $(TOPDIR)/Kconfig >/dev/null
	$(Q)echo $(abspath $(DEFCONFIG)) >$(O)/.defconfig
	@echo "configuration written to $(CONFIG) from $(DEFCONFIG)"

menuconfig: | $(O)
	$(Q)$(KCONF) kconfig-mconf $(TOPDIR)/Kconfig

olddefconfig: | $(O)
	$(Q)$(KCONF) kconfig-conf --olddefconfig $(TOPDIR)/Kconfig

savedefconfig: $(CONFIG)
	$(Q)out=$${DEFCONFIG:-$$(cat $(O)/.defconfig 2>/dev/null || echo $(O)/defconfig)}; \
	$(KCONF) kconfig-conf --savedefconfig=$$out $(TOPDIR)/Kconfig && \
	echo "saved to $$out"

$(O):
	$(Q)mkdir -p $@

$(CONFIG):
	@echo "No configuration in $(O). Start one, e.g.:" >&2
	@echo "    make qemu_x86_64_defconfig" >&2
	@ls $(TOPDIR)/configs | sed 's/^/      make /' >&2
	@exit 1

# auto.conf and autoconf.h follow .config.
$(AUTOCONF) $(AUTOHEADER): $(CONFIG) $(shell find $(TOPDIR) -name Kconfig -not -path '$(O)/*' 2>/dev/null)
	$(Q)$(KCONF) kconfig-conf --silentoldconfig $(TOPDIR)/Kconfig >/dev/null
	$(Q)touch $(AUTOCONF) $(AUTOHEADER)

# Goals that need no configuration.
NOCONFIG_GOALS := %_defconfig defconfig menuconfig olddefconfig source clean distclean \
	help check run run-host printvars
ifneq ($(filter-out $(NOCONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include $(AUTOCONF)
endif

# --------------------------------------------------------------------------
# Sources: package/sources.lock, fetched by support/download.sh.

source:
	$(Q)$(TOPDIR)/support/download.sh $(LOCK) $(DL_DIR)

# Path of a locked file in dl/: $(call dl-file,NAME)
dl-file = $(DL_DIR)/$(1)/$(shell awk '$$1=="$(1)"{n=split($$4,a,"/"); print a[n]}' $(LOCK) | sed 's/%2b/+/g; s/%7e/~/g')
dl-version = $(shell awk '$$1=="$(1)"{print $$2}' $(LOCK))

# --------------------------------------------------------------------------
# Toolchains.  Target: static musl, -Os, sections, gc.  Host: glibc with
# sanitizers, for the unit tests.

TARGET_CC := musl-gcc
TARGET_AR := ar
PREFIX_MAP := -ffile-prefix-map=$(TOPDIR)=. -ffile-prefix-map=$(O)=output \
	-ffile-prefix-map=$(DL_DIR)=dl
TARGET_CFLAGS := -Os -pipe -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-ident \
	-fno-stack-protector -D_GNU_SOURCE $(PREFIX_MAP)
TARGET_LDFLAGS := -static -Wl,--gc-sections -Wl,--build-id=none \
	-Wl,-z,noseparate-code -Wl,--hash-style=gnu
# Link-time optimisation (CONFIG_XB_LTO) of the xenbox binary: its own
# objects (XB_LTO_CFLAGS), the archives linked into it (PKG_LTO_CFLAGS in
# their recipes; fat, so a link without LTO still finds code) and the link
# (XB_LTO_LDFLAGS: the optimisation level and the sections that --gc-sections
# and `make size` need, given again because the link compiles; and one
# partition: the whole program optimised as one unit is 4.8 KB smaller than
# GCC's default split into parallel pieces, for a link about as long on two
# cores).
XB_LTO_CFLAGS  := $(if $(CONFIG_XB_LTO),-flto -ffat-lto-objects)
PKG_LTO_CFLAGS := $(if $(CONFIG_XB_LTO),-flto -ffat-lto-objects)
XB_LTO_LDFLAGS := $(if $(CONFIG_XB_LTO),-flto=auto -flto-partition=one -Os \
	-ffunction-sections -fdata-sections)

HOST_CC := gcc
HOST_CFLAGS := -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE \
	-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow
HOST_LDFLAGS := -fsanitize=address,undefined,float-cast-overflow

export TARGET_CC TARGET_AR TARGET_CFLAGS TARGET_LDFLAGS HOST_CC

# --------------------------------------------------------------------------
# Packages (third-party) and our own sources.

include $(sort $(wildcard $(TOPDIR)/package/*/*.mk))
include $(TOPDIR)/src/xenbox.mk
include $(TOPDIR)/tests/tests.mk
include $(wildcard $(TOPDIR)/board/*.mk $(TOPDIR)/board/*/*.mk)
include $(wildcard $(TOPDIR)/bench/*/*.mk)
include $(TOPDIR)/support/install/install.mk

all: $(IMAGES_DIR)/xenbox $(XBIO_IMAGE)
world: all

clean:
	rm -rf $(BUILD_DIR) $(STAGING_DIR) $(HOST_DIR) $(IMAGES_DIR)

distclean:
	rm -rf $(O)

printvars:
	@$(foreach v,$(sort $(filter-out .% MAKEFILE_LIST,$(.VARIABLES))), \
		$(if $(filter file,$(origin $(v))),$(info $(v)=$($(v)))))

help:
	@sed -n '2,19p' $(TOPDIR)/Makefile | sed 's/^# \{0,1\}//'
	@echo "Defconfigs:"; ls $(TOPDIR)/configs | sed 's/^/    make /'

FORCE:

# `make run`: build the USB image (configuring $(O) for it if new) and boot
# it under QEMU; `make run-host`: the daemon on this machine (sim backend).
run:
	$(Q)O=$(O) UEFI=$(UEFI) $(TOPDIR)/support/run.sh
run-host:
	$(Q)$(TOPDIR)/support/run-host.sh
.PHONY: run run-host
