# SQLite: the amalgamation made from the full source tree, compiled twice,
# static musl for the target and glibc for the host (unit tests), with the
# same options.  docs/BUILDING.md explains every option.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_SQLITE),y)

SQLITE_VERSION  := $(call xb-upstream,sqlite3)
SQLITE_SOURCE   := $(call dl-file,sqlite3)
SQLITE_DIR      := $(BUILD_DIR)/sqlite3-$(SQLITE_VERSION)
SQLITE_HOST_DIR := $(HOST_DIR)/build/sqlite3-$(SQLITE_VERSION)

# SQL features the store does not use, each one a configuration SQLite's
# own tool/omittest.tcl builds and tests.
# Not among them: SQLITE_OMIT_ATTACH (3.46.1 fails to link with it) and
# SQLITE_OMIT_VIRTUALTABLE (it implies SQLITE_OMIT_ALTERTABLE, and the store
# adds columns with ALTER TABLE).
SQLITE_OMIT_FEATURES := \
	-DSQLITE_OMIT_AUTOINCREMENT \
	-DSQLITE_OMIT_AUTOMATIC_INDEX \
	-DSQLITE_OMIT_AUTORESET \
	-DSQLITE_OMIT_AUTOVACUUM \
	-DSQLITE_OMIT_BETWEEN_OPTIMIZATION \
	-DSQLITE_OMIT_BLOB_LITERAL \
	-DSQLITE_OMIT_CASE_SENSITIVE_LIKE_PRAGMA \
	-DSQLITE_OMIT_CAST \
	-DSQLITE_OMIT_CHECK \
	-DSQLITE_OMIT_COMPOUND_SELECT \
	-DSQLITE_OMIT_DATETIME_FUNCS \
	-DSQLITE_OMIT_FOREIGN_KEY \
	-DSQLITE_OMIT_HEX_INTEGER \
	-DSQLITE_OMIT_INTROSPECTION_PRAGMAS \
	-DSQLITE_OMIT_LIKE_OPTIMIZATION \
	-DSQLITE_OMIT_LOCALTIME \
	-DSQLITE_OMIT_OR_OPTIMIZATION \
	-DSQLITE_OMIT_QUICKBALANCE \
	-DSQLITE_OMIT_TRUNCATE_OPTIMIZATION \
	-DSQLITE_OMIT_UPSERT \
	-DSQLITE_OMIT_VIEW \
	-DSQLITE_OMIT_XFER_OPT \
	-DSQLITE_OMIT_ANALYZE \
	-DSQLITE_OMIT_COMPILEOPTION_DIAGS \
	-DSQLITE_OMIT_COMPLETE \
	-DSQLITE_OMIT_CTE \
	-DSQLITE_OMIT_DESERIALIZE \
	-DSQLITE_OMIT_EXPLAIN \
	-DSQLITE_OMIT_GENERATED_COLUMNS \
	-DSQLITE_OMIT_GET_TABLE \
	-DSQLITE_OMIT_INCRBLOB \
	-DSQLITE_OMIT_REINDEX \
	-DSQLITE_OMIT_TCL_VARIABLE \
	-DSQLITE_OMIT_TRACE \
	-DSQLITE_OMIT_TRIGGER \
	-DSQLITE_OMIT_UTF16 \
	-DSQLITE_OMIT_WINDOWFUNC

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
	-DSQLITE_OMIT_SHARED_CACHE \
	-DSQLITE_MAX_MMAP_SIZE=0 \
	-DSQLITE_UNTESTABLE \
	-DSQLITE_OMIT_FLAG_PRAGMAS \
	-DSQLITE_OMIT_TEMPDB \
	-DSQLITE_OMIT_MEMORYDB \
	$(SQLITE_OMIT_FEATURES)


# What configure would have found on Linux (musl and glibc alike); without
# HAVE_USLEEP/HAVE_NANOSLEEP the busy handler sleeps in whole seconds.
SQLITE_HAVE := -DHAVE_STDINT_H=1 -DHAVE_INTTYPES_H=1 -DHAVE_USLEEP=1 \
	-DHAVE_NANOSLEEP=1 -DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 \
	-DHAVE_GMTIME_R=1 -DHAVE_ISNAN=1 -DHAVE_STRCHRNUL=1 \
	-DHAVE_POSIX_FALLOCATE=1 -DHAVE_FCHOWN=1 -DHAVE_READLINK=1 \
	-DHAVE_LSTAT=1 -DHAVE_MALLOC_H=1 -DHAVE_MALLOC_USABLE_SIZE=1

# A combination of OMIT options can leave an internal function referenced
# but not compiled (gcc only warns): refuse such an object.
define sqlite-check-undefined
	$(Q)if nm -u $(1) | grep -w 'sqlite3[A-Za-z0-9_]*'; then \
		echo "sqlite3: the options above leave these undefined" >&2; rm -f $(1); exit 1; fi
endef

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

# Options change with this file: the generated sources are made anew then.
$(SQLITE_DIR)/sqlite3.c: $(SQLITE_DIR)/.stamp_configured $(TOPDIR)/package/sqlite3/sqlite3.mk
	@echo "  GEN     sqlite3.c (amalgamation)"
	$(Q)cd $(@D) && rm -rf sqlite3.c sqlite3.h parse.c parse.h keywordhash.h \
		opcodes.c opcodes.h tsrc .target_source fts5.c fts5.h lemon mkkeywordhash
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D) sqlite3.c OPTS="$(SQLITE_OPTS)" >$(@D)/amalgamation.out 2>&1 \
		|| { tail -30 $(@D)/amalgamation.out; exit 1; }
	$(Q)touch $@

# Target flavour.
$(SQLITE_DIR)/xb/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	@echo "  CC      sqlite3.c"
	$(Q)mkdir -p $(@D)
	$(Q)$(TARGET_CC) $(PKG_TARGET_CFLAGS) $(PKG_LTO_CFLAGS) $(SQLITE_OPTS) $(SQLITE_HAVE) \
		-DNDEBUG -c -o $@ $<
	$(call sqlite-check-undefined,$@)

$(SQLITE_DIR)/.stamp_installed: $(SQLITE_DIR)/xb/sqlite3.o
	$(call xb-ar,$(STAGING_DIR)/lib/libsqlite3.a,$<)
	$(Q)install -D -m 0644 $(SQLITE_DIR)/sqlite3.h $(STAGING_DIR)/include/sqlite3.h
	$(Q)touch $@

# Host flavour: same amalgamation and options.
$(SQLITE_HOST_DIR)/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	@echo "  HOSTCC  sqlite3.c"
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(PKG_HOST_CFLAGS) $(SQLITE_OPTS) $(SQLITE_HAVE) -c -o $@ $<
	$(call sqlite-check-undefined,$@)

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
