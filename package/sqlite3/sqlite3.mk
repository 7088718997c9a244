# SQLite: the amalgamation made from the full source tree, compiled twice,
# static musl for the target and glibc for the host (unit tests), with the
# same options.  docs/BUILDING.md explains every option.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_SQLITE),y)

SQLITE_VERSION  := $(call xb-upstream,sqlite3)
SQLITE_SOURCE   := $(call dl-file,sqlite3)
SQLITE_DIR      := $(BUILD_DIR)/sqlite3-$(SQLITE_VERSION)
SQLITE_HOST_DIR := $(HOST_DIR)/build/sqlite3-$(SQLITE_VERSION)

# Compile-time options.  They are also passed while the amalgamation is
# generated, so that the parser (lemon) and the keyword hash are made for
# the same set of omissions.
SQLITE_OPTS := \
	-DSQLITE_THREADSAFE=2 \
	-DSQLITE_DEFAULT_MEMSTATUS=0 \
	-DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 \
	-DSQLITE_DQS=0 \
	-DSQLITE_LIKE_DOESNT_MATCH_BLOBS \
	-DSQLITE_MAX_EXPR_DEPTH=0 \
	-DSQLITE_STRICT_SUBTYPE=1 \
	-DSQLITE_USE_ALLOCA \
	-DSQLITE_OMIT_AUTHORIZATION \
	-DSQLITE_OMIT_DECLTYPE \
	-DSQLITE_OMIT_DEPRECATED \
	-DSQLITE_OMIT_JSON \
	-DSQLITE_OMIT_LOAD_EXTENSION \
	-DSQLITE_OMIT_PROGRESS_CALLBACK \
	-DSQLITE_OMIT_SHARED_CACHE

# What configure would have found on Linux (musl and glibc alike); without
# HAVE_USLEEP/HAVE_NANOSLEEP the busy handler sleeps in whole seconds.
SQLITE_HAVE := -DHAVE_STDINT_H=1 -DHAVE_INTTYPES_H=1 -DHAVE_USLEEP=1 \
	-DHAVE_NANOSLEEP=1 -DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 \
	-DHAVE_GMTIME_R=1 -DHAVE_ISNAN=1 -DHAVE_STRCHRNUL=1 \
	-DHAVE_POSIX_FALLOCATE=1 -DHAVE_FCHOWN=1 -DHAVE_READLINK=1 \
	-DHAVE_LSTAT=1 -DHAVE_MALLOC_H=1 -DHAVE_MALLOC_USABLE_SIZE=1

$(SQLITE_DIR)/.stamp_extracted: $(SQLITE_SOURCE)
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

# The generator tools (lemon, mkkeywordhash) run on the build machine, so
# configure sees the host compiler; tclsh drives the rest.
$(SQLITE_DIR)/.stamp_configured: $(SQLITE_DIR)/.stamp_extracted
	@command -v tclsh >/dev/null || { echo "sqlite3: tclsh is needed (apt-get install tcl)" >&2; exit 1; }
	@echo "  CONFIG  sqlite3 $(SQLITE_VERSION)"
	$(Q)cd $(@D) && CC="$(HOST_CC)" CFLAGS="-O2" ./configure --disable-tcl \
		--disable-readline --disable-shared --disable-load-extension \
		--disable-math --disable-json >config.out 2>&1 \
		|| { tail -30 config.out; exit 1; }
	$(Q)touch $@

$(SQLITE_DIR)/sqlite3.c: $(SQLITE_DIR)/.stamp_configured
	@echo "  GEN     sqlite3.c (amalgamation)"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D) sqlite3.c OPTS="$(SQLITE_OPTS)" >$(@D)/amalgamation.out 2>&1 \
		|| { tail -30 $(@D)/amalgamation.out; exit 1; }
	$(Q)touch $@

# Target flavour.
$(SQLITE_DIR)/xb/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	@echo "  CC      sqlite3.c"
	$(Q)mkdir -p $(@D)
	$(Q)$(TARGET_CC) $(PKG_TARGET_CFLAGS) $(SQLITE_OPTS) $(SQLITE_HAVE) \
		-DNDEBUG -c -o $@ $<

$(SQLITE_DIR)/.stamp_installed: $(SQLITE_DIR)/xb/sqlite3.o
	$(call xb-ar,$(STAGING_DIR)/lib/libsqlite3.a,$<)
	$(Q)install -D -m 0644 $(SQLITE_DIR)/sqlite3.h $(STAGING_DIR)/include/sqlite3.h
	$(Q)touch $@

# Host flavour: same amalgamation and options.
$(SQLITE_HOST_DIR)/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	@echo "  HOSTCC  sqlite3.c"
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(PKG_HOST_CFLAGS) $(SQLITE_OPTS) $(SQLITE_HAVE) -c -o $@ $<

$(SQLITE_HOST_DIR)/.stamp_installed: $(SQLITE_HOST_DIR)/sqlite3.o
	$(call xb-ar,$(HOST_DIR)/lib/libsqlite3.a,$<)
	$(Q)install -D -m 0644 $(SQLITE_DIR)/sqlite3.h $(HOST_DIR)/include/sqlite3.h
	$(Q)touch $@

sqlite3: $(SQLITE_DIR)/.stamp_installed $(SQLITE_HOST_DIR)/.stamp_installed
.PHONY: sqlite3

XB_TARGET_LIBS += $(STAGING_DIR)/lib/libsqlite3.a
XB_TARGET_DEPS += $(SQLITE_DIR)/.stamp_installed
XB_HOST_LIBS   += $(HOST_DIR)/lib/libsqlite3.a
XB_HOST_DEPS   += $(SQLITE_HOST_DIR)/.stamp_installed

endif
