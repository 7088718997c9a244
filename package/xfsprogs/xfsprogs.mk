# mkfs.xfs, static musl, for the USB image (docs/STORAGE.md 2.2): xfsprogs'
# own build system, but only mkfs/ and what it links (libfrog, libxfs,
# libxcmd).  Without libblkid (--disable-blkid): mkfs.xfs then cannot see
# old signatures, so xenbox runs it with -f after its own blank check.
# libuuid is uuid.c here (the seven calls xfsprogs makes), liburcu and inih
# come from package/userspace-rcu and package/inih, all in XFS_SYSROOT.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_XFSPROGS),y)

XFSPROGS_VERSION := $(call xb-upstream,xfsprogs)
XFSPROGS_SOURCE  := $(call dl-file,xfsprogs)
XFSPROGS_DIR     := $(BUILD_DIR)/xfsprogs-$(XFSPROGS_VERSION)
XFSPROGS_MKFS    := $(IMAGES_DIR)/xfsprogs/mkfs.xfs

XFSPROGS_CFLAGS := $(PKG_TARGET_CFLAGS) -I$(XFS_SYSROOT)/include -isystem $(LINUX_INC)
# libtool drops a plain -static from a program's link: -all-static is its
# word for it.  Given at make time only (configure's probes link with gcc).
XFSPROGS_LDFLAGS := -all-static -L$(XFS_SYSROOT)/lib $(filter-out -static,$(TARGET_LDFLAGS))

$(XFSPROGS_DIR)/.stamp_extracted: $(XFSPROGS_SOURCE) $(TOPDIR)/package/xfsprogs/xfsprogs.mk
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(XFS_SYSROOT)/lib/libuuid.a: $(TOPDIR)/package/xfsprogs/uuid.c $(TOPDIR)/package/xfsprogs/include/uuid/uuid.h
	@echo "  CC      uuid.c (libuuid for mkfs.xfs)"
	$(Q)mkdir -p $(XFS_SYSROOT)/include/uuid $(XFSPROGS_DIR)
	$(Q)install -m 0644 $(TOPDIR)/package/xfsprogs/include/uuid/uuid.h $(XFS_SYSROOT)/include/uuid/uuid.h
	$(Q)$(TARGET_CC) $(PKG_TARGET_CFLAGS) -Wall -Wextra -Werror -I$(XFS_SYSROOT)/include \
		-c -o $(XFS_SYSROOT)/uuid.o $<
	$(call xb-ar,$@,$(XFS_SYSROOT)/uuid.o)

XFSPROGS_CONF_OPTS := --host=x86_64-linux-musl --build=x86_64-linux-gnu \
	--disable-shared --enable-static --disable-blkid --disable-gettext \
	--disable-scrub --disable-libicu --disable-editline --disable-termcap \
	--disable-lib64

$(XFSPROGS_DIR)/.stamp_configured: $(XFSPROGS_DIR)/.stamp_extracted $(XFS_SYSROOT)/lib/libuuid.a \
		$(URCU_DIR)/.stamp_installed $(INIH_DIR)/.stamp_installed | $(LINUX_INC)/.stamp
	@echo "  CONFIG  xfsprogs $(XFSPROGS_VERSION)"
	$(Q)cd $(@D) && CC="$(TARGET_CC)" CFLAGS="$(XFSPROGS_CFLAGS)" CPPFLAGS="-I$(XFS_SYSROOT)/include -isystem $(LINUX_INC)" \
		LDFLAGS="-static -L$(XFS_SYSROOT)/lib" ./configure $(XFSPROGS_CONF_OPTS) \
		>config.out 2>&1 || { tail -30 config.out; exit 1; }
	$(Q)grep -q '^ENABLE_BLKID[[:space:]]*= no' $(@D)/include/builddefs
	$(Q)touch $@

# headers (include/xfs), then mkfs with the libraries it needs.
$(XFSPROGS_DIR)/.stamp_built: $(XFSPROGS_DIR)/.stamp_configured
	@echo "  BUILD   mkfs.xfs (xfsprogs $(XFSPROGS_VERSION))"
	$(Q)$(PKG_ENV) $(MAKE) -C $(@D) headers >/dev/null
	$(Q)$(PKG_ENV) $(MAKE) -C $(@D) mkfs LOADERFLAGS="$(XFSPROGS_LDFLAGS)" >$(@D)/build.out 2>&1 \
		|| { tail -30 $(@D)/build.out; exit 1; }
	$(Q)touch $@

$(XFSPROGS_MKFS): $(XFSPROGS_DIR)/.stamp_built
	$(Q)mkdir -p $(@D)
	$(Q)strip --strip-all -R .comment -R .note -o $@.tmp $(XFSPROGS_DIR)/mkfs/mkfs.xfs
	$(Q)! readelf -l $@.tmp | grep -q INTERP || { echo "xfsprogs: mkfs.xfs is not static" >&2; exit 1; }
	$(Q)mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

xfsprogs: $(XFSPROGS_MKFS)
all: $(XFSPROGS_MKFS)
.PHONY: xfsprogs

endif
