# Our own sources, built two ways:
#   target: static musl, -Os, linked with the staged packages -> images/xenbox
#   host:   glibc with ASan+UBSan, for unit and integration tests
#
# Each src/<dir>/build.mk adds its files to the lists below, keyed by the
# Kconfig symbol that switches them on:
#   xb-srcs-$(CONFIG_XB_FOO)        += dir/file.c   both flavours
#   xb-target-srcs-$(CONFIG_XB_FOO) += dir/file.c   target only (Xen backend)
# The helper binary xenbox-io (CONFIG_XB_IO, docs/STORAGE.md 5.1) has its
# own lists: its files and every file they link (it shares no object list
# with the daemon, only sources), and the applets that are not the daemon,
# which go into xenbox-io with CONFIG_XB_IO and into xenbox without it:
#   xb-io-srcs-$(CONFIG_XB_FOO)            += dir/file.c
#   xb-applet-srcs-$(CONFIG_XB_FOO)        += dir/file.c   both flavours
#   xb-applet-target-srcs-$(CONFIG_XB_FOO) += dir/file.c   target only
# Packages (package/*/*.mk) add their archives to XB_TARGET_LIBS/XB_HOST_LIBS
# and their install stamps to XB_TARGET_DEPS/XB_HOST_DEPS.

XB_VERSION := $(shell cat $(TOPDIR)/VERSION 2>/dev/null || echo 0.0)

xb-srcs-y := main.c applet.c
xb-target-srcs-y :=
xb-io-srcs-y :=
xb-applet-srcs-y :=
xb-applet-target-srcs-y :=
include $(sort $(wildcard $(TOPDIR)/src/*/build.mk))

ifeq ($(CONFIG_XB_IO),y)
XBIO_SRCS        := $(sort $(xb-io-srcs-y) $(xb-applet-srcs-y))
XBIO_TARGET_SRCS := $(sort $(XBIO_SRCS) $(xb-applet-target-srcs-y))
else
xb-srcs-y        += $(xb-applet-srcs-y)
xb-target-srcs-y += $(xb-applet-target-srcs-y)
XBIO_SRCS :=
XBIO_TARGET_SRCS :=
endif

XB_SRCS        := $(sort $(xb-srcs-y))
XB_TARGET_SRCS := $(sort $(xb-srcs-y) $(xb-target-srcs-y))

XB_TDIR := $(BUILD_DIR)/xenbox
XB_HDIR := $(HOST_DIR)/build/xenbox

XB_WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Werror=implicit-function-declaration -std=gnu11
XB_CPPFLAGS = -I$(TOPDIR)/src -I$(XB_GEN) -include $(AUTOHEADER) -DXB_VERSION='"$(XB_VERSION)"'

# Generated headers: the datamodel's field indexes as constants (FLD(VM,
# power_state)), read from the one declaration in api/model.c.
XB_GEN := $(O)/gen
XB_GEN_HDRS += $(XB_GEN)/dm_fields.h
$(XB_GEN)/dm_fields.h: $(TOPDIR)/src/api/model.c $(TOPDIR)/support/gen-fields.awk
	@mkdir -p $(dir $@)
	@echo "  GEN     $(notdir $@)"
	$(Q)awk -f $(TOPDIR)/support/gen-fields.awk $< >$@.tmp && mv $@.tmp $@

ifeq ($(CONFIG_XB_DEBUG),y)
XB_TARGET_OPT := -O1 -g
else
XB_TARGET_OPT := -DNDEBUG
endif

XB_TARGET_OBJS := $(patsubst %.c,$(XB_TDIR)/%.o,$(XB_TARGET_SRCS))
XB_HOST_OBJS   := $(patsubst %.c,$(XB_HDIR)/%.o,$(filter-out main.c,$(XB_SRCS)))
# xenbox-io: the same objects where the sources are the same (one flavour
# of compile flags each); on the host its own archive holds only the files
# the daemon's has not, and the rest comes from libxenbox.a.
XBIO_TARGET_OBJS := $(patsubst %.c,$(XB_TDIR)/%.o,$(XBIO_TARGET_SRCS))
XBIO_HOST_OBJS   := $(patsubst %.c,$(XB_HDIR)/%.o,$(filter-out io/main.c $(XB_SRCS),$(XBIO_SRCS)))
XB_ALL_TARGET_OBJS := $(sort $(XB_TARGET_OBJS) $(XBIO_TARGET_OBJS))
XB_ALL_HOST_OBJS   := $(sort $(XB_HOST_OBJS) $(XBIO_HOST_OBJS))

-include $(XB_ALL_TARGET_OBJS:.o=.d) $(XB_ALL_HOST_OBJS:.o=.d) $(XB_HDIR)/main.d $(XB_HDIR)/io/main.d

# Objects depend on the staged headers of the packages they may include.
$(XB_ALL_TARGET_OBJS): $(XB_TDIR)/%.o: $(TOPDIR)/src/%.c $(AUTOHEADER) | $(XB_TARGET_DEPS) $(XB_GEN_HDRS) $(LINUX_INC)/.stamp
	@mkdir -p $(dir $@)
	@echo "  CC      $*.c"
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $(XB_LTO_CFLAGS) $(XB_TARGET_OPT) $(XB_WARN) $(XB_CPPFLAGS) \
		-I$(STAGING_DIR)/include -isystem $(LINUX_INC) $(XB_TARGET_INCLUDES) -MMD -MP -c -o $@ $<

$(XB_ALL_HOST_OBJS) $(XB_HDIR)/main.o $(XB_HDIR)/io/main.o: $(XB_HDIR)/%.o: $(TOPDIR)/src/%.c $(AUTOHEADER) | $(XB_HOST_DEPS) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $*.c"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(XB_WARN) $(XB_CPPFLAGS) -DXB_HOST_BUILD \
		-I$(HOST_DIR)/include -MMD -MP -c -o $@ $<

# The link map feeds `make size`.
$(XB_TDIR)/xenbox.unstripped: $(XB_TARGET_OBJS) $(XB_TARGET_DEPS)
	@echo "  LD      xenbox"
	$(Q)+$(TARGET_CC) $(TARGET_LDFLAGS) $(XB_LTO_LDFLAGS) -Wl,-Map=$(XB_TDIR)/xenbox.map -o $@ \
		$(XB_TARGET_OBJS) $(XB_TARGET_LIBS) -lpthread

$(IMAGES_DIR)/xenbox: $(XB_TDIR)/xenbox.unstripped
	@mkdir -p $(dir $@)
	$(Q)strip --strip-all -R .comment -R .note -o $@ $<
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# Host flavour: an archive for the unit tests and an ASan daemon binary.
$(HOST_DIR)/lib/libxenbox.a: $(XB_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcD $@ $^

$(HOST_DIR)/bin/xenbox: $(XB_HDIR)/main.o $(HOST_DIR)/lib/libxenbox.a $(XB_HOST_DEPS)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  xenbox"
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(XB_HDIR)/main.o \
		-Wl,--whole-archive $(HOST_DIR)/lib/libxenbox.a -Wl,--no-whole-archive \
		$(XB_HOST_LIBS) -lpthread -lm

host-xenbox: $(HOST_DIR)/bin/xenbox $(if $(XBIO_SRCS),$(HOST_DIR)/bin/xenbox-io)
.PHONY: host-xenbox

# xenbox-io: static musl like xenbox (its own link map for `make size`);
# on the host an ASan build beside bin/xenbox, where xenbox finds it.
XBIO_IMAGE := $(if $(XBIO_SRCS),$(IMAGES_DIR)/xenbox-io)
XBIO_HOST_LIB := $(if $(XBIO_SRCS),$(HOST_DIR)/lib/libxenbox-io.a)

$(XB_TDIR)/xenbox-io.unstripped: $(XBIO_TARGET_OBJS)
	@echo "  LD      xenbox-io"
	$(Q)+$(TARGET_CC) $(TARGET_LDFLAGS) $(XB_LTO_LDFLAGS) -Wl,-Map=$(XB_TDIR)/xenbox-io.map -o $@ \
		$(XBIO_TARGET_OBJS)

$(IMAGES_DIR)/xenbox-io: $(XB_TDIR)/xenbox-io.unstripped
	@mkdir -p $(dir $@)
	$(Q)strip --strip-all -R .comment -R .note -o $@ $<
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

$(HOST_DIR)/lib/libxenbox-io.a: $(XBIO_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcD $@ $^

$(HOST_DIR)/bin/xenbox-io: $(XB_HDIR)/io/main.o $(XBIO_HOST_LIB) $(HOST_DIR)/lib/libxenbox.a
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  xenbox-io"
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(XB_HDIR)/io/main.o \
		-Wl,--whole-archive $(XBIO_HOST_LIB) -Wl,--no-whole-archive \
		$(HOST_DIR)/lib/libxenbox.a -lpthread -lm

size: $(IMAGES_DIR)/xenbox $(XBIO_IMAGE)
	$(Q)python3 $(TOPDIR)/support/size.py --map $(XB_TDIR)/xenbox.map \
		--binary $(IMAGES_DIR)/xenbox --unstripped $(XB_TDIR)/xenbox.unstripped \
		--budget-kb $(CONFIG_XB_SIZE_BUDGET_KB) $(if $(SIZE_TOP),--top $(SIZE_TOP))
ifneq ($(XBIO_IMAGE),)
	@echo
	@echo "xenbox-io:"
	$(Q)python3 $(TOPDIR)/support/size.py --map $(XB_TDIR)/xenbox-io.map \
		--binary $(IMAGES_DIR)/xenbox-io --unstripped $(XB_TDIR)/xenbox-io.unstripped \
		--budget-kb 0 $(if $(SIZE_TOP),--top $(SIZE_TOP))
endif
