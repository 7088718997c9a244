# Our own sources, built two ways:
#   target: static musl, -Os, linked with the staged packages -> images/xenbox
#   host:   glibc with ASan+UBSan, for unit and integration tests
#
# Each src/<dir>/build.mk adds its files to the lists below, keyed by the
# Kconfig symbol that switches them on:
#   xb-srcs-$(CONFIG_XB_FOO)        += dir/file.c   both flavours
#   xb-target-srcs-$(CONFIG_XB_FOO) += dir/file.c   target only (Xen backend)
# Packages (package/*/*.mk) add their archives to XB_TARGET_LIBS/XB_HOST_LIBS
# and their install stamps to XB_TARGET_DEPS/XB_HOST_DEPS.

XB_VERSION := $(shell cat $(TOPDIR)/VERSION 2>/dev/null || echo 0.0)

xb-srcs-y := main.c
xb-target-srcs-y :=
include $(sort $(wildcard $(TOPDIR)/src/*/build.mk))

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
XB_GEN_HDRS := $(XB_GEN)/dm_fields.h
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

-include $(XB_TARGET_OBJS:.o=.d) $(XB_HOST_OBJS:.o=.d) $(XB_HDIR)/main.d

# Objects depend on the staged headers of the packages they may include.
$(XB_TARGET_OBJS): $(XB_TDIR)/%.o: $(TOPDIR)/src/%.c $(AUTOHEADER) | $(XB_TARGET_DEPS) $(XB_GEN_HDRS) $(LINUX_INC)/.stamp
	@mkdir -p $(dir $@)
	@echo "  CC      $*.c"
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) $(XB_LTO_CFLAGS) $(XB_TARGET_OPT) $(XB_WARN) $(XB_CPPFLAGS) \
		-I$(STAGING_DIR)/include -isystem $(LINUX_INC) $(XB_TARGET_INCLUDES) -MMD -MP -c -o $@ $<

$(XB_HOST_OBJS) $(XB_HDIR)/main.o: $(XB_HDIR)/%.o: $(TOPDIR)/src/%.c $(AUTOHEADER) | $(XB_HOST_DEPS) $(XB_GEN_HDRS)
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

host-xenbox: $(HOST_DIR)/bin/xenbox
.PHONY: host-xenbox

size: $(IMAGES_DIR)/xenbox
	$(Q)python3 $(TOPDIR)/support/size.py --map $(XB_TDIR)/xenbox.map \
		--binary $(IMAGES_DIR)/xenbox --unstripped $(XB_TDIR)/xenbox.unstripped \
		--budget-kb $(CONFIG_XB_SIZE_BUDGET_KB) $(if $(SIZE_TOP),--top $(SIZE_TOP))
