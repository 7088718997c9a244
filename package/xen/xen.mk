# Xen tools libraries (libxenctrl, libxenguest, libxenstore and what they
# need), static with musl, and optionally static xenstored, xenconsoled and
# the xenstore client.
# The facts behind this recipe: docs/BUILDING.md, "xen".
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_XEN),y)

XEN_VERSION    := $(call xb-upstream,xen)
XEN_SOURCE     := $(call dl-file,xen)
XEN_DEB_SOURCE := $(call dl-file,xen-debian)
XEN_DIR        := $(BUILD_DIR)/xen-$(XEN_VERSION)

# musl-gcc sees only musl's headers; Xen's privcmd interface needs the
# kernel's (package/pkg-utils.mk: LINUX_INC).
XEN_LINUX_INC := $(LINUX_INC)

# The one Debian patch we carry: 256 MiB XZ memory limit for kernels made
# with Linux >= 6.12 (it fails with "Memory usage limit reached" otherwise).
# It changes liblzma's decoder, which xenbox no longer builds (below): kept
# so that the tree is Debian's.
XEN_DEB_PATCH := debian/patches/*increase-LZMA_BLOCK_SIZE*

# XZ kernels are decompressed by Xen's own decoder (xen/common/xz), not
# liblzma: xb_unxz.c, compiled in tools/libs/guest, is the bzImage
# loader's xc_try_xz_decode, which the patch makes it call (-DXB_UNXZ).
# The patch also makes the refusal of LZMA (.lzma) kernels say so.
XEN_PATCHES := $(TOPDIR)/package/xen/xen-unxz.patch
XEN_UNXZ    := $(TOPDIR)/package/xen/xb_unxz.c

# zlib is staged first.  (Its recipe is read after this one, so its stamp
# is named here rather than taken from a variable.)  Order-only: Xen's
# archives hold none of its code (only xenbox's link does), so zlib built
# anew with other flags rebuilds no Xen.
XEN_DEPENDENCIES := $(BUILD_DIR)/zlib-$(call xb-upstream,zlib)/.stamp_installed

# Libraries, in build order (each needs the headers of those before it).
XEN_LIBS := toolcore toollog evtchn gnttab call foreignmemory devicemodel \
	ctrl guest store

# Link order that resolves statically (a library before what it uses).
XEN_ARCHIVES := libxenguest.a libxenctrl.a libxenstore.a libxendevicemodel.a \
	libxenforeignmemory.a libxengnttab.a libxenevtchn.a libxencall.a \
	libxentoollog.a libxentoolcore.a

# The kernel loaders register themselves from constructors and export no
# symbol: an archive member nobody references is never linked, and
# xc_dom_parse_image then finds "no loader".  They are staged as objects
# and linked explicitly.
XEN_LOADERS := xg_dom_bzimageloader.o xg_dom_elfloader.o xg_dom_hvmloader.o \
	xg_dom_binloader.o
# Linked the same way: the XZ decoder the bzImage loader calls.
XEN_OBJECTS := $(XEN_LOADERS) xb_unxz.o

# Our flags go last (EXTRA_CFLAGS_XEN_TOOLS comes after Xen's -O2).
XEN_CFLAGS := $(filter-out -D_GNU_SOURCE,$(PKG_TARGET_CFLAGS)) $(PKG_LTO_CFLAGS) \
	-DXB_UNXZ

# CC is not saved by configure: every make gets it.  nosharedlibs: archives
# only.  NO_HEADERS_CHK: skip compiling each public header alone.
XEN_MAKE_OPTS := CC="$(TARGET_CC)" nosharedlibs=y debug=n NO_HEADERS_CHK=y \
	XEN_TARGET_ARCH=x86_64 XEN_COMPILE_ARCH=x86_64 XEN_OS=Linux \
	EXTRA_CFLAGS_XEN_TOOLS="$(XEN_CFLAGS)"

# Checks of configure that musl cannot pass and that concern nothing we
# build (libxl, xentop, python bindings) are answered from the cache, and
# so are those of the kernel decompressors we do not link (liblzma, bzip2,
# LZO; zstd is found by pkg-config, which sees nothing), so that nothing
# found elsewhere turns them on.
XEN_CONF_ENV := ac_cv_header_lzma_h=no ac_cv_header_bzlib_h=no \
	ac_cv_header_lzo_lzo1x_h=no \
	ac_cv_header_uuid_uuid_h=yes ac_cv_lib_uuid_uuid_clear=yes \
	ac_cv_header_ncurses_h=yes ac_cv_lib_ncurses_clear=yes \
	ac_cv_header_argp_h=yes ac_cv_header_Python_h=yes \
	ac_cv_func_PyArg_ParseTuple=yes \
	PKG_CONFIG_LIBDIR=$(XEN_DIR)/xb-no-pkgconfig PKG_CONFIG_PATH= \
	PYTHON=/usr/bin/python3 IASL=/bin/false

XEN_CONF_OPTS := --prefix=/usr --disable-xen --disable-docs --disable-stubdom \
	--disable-ocamltools --disable-golang --disable-seabios --disable-pvshim \
	--disable-xsmpolicy --disable-monitors --disable-ipxe --disable-rombios \
	--disable-qemu-traditional --with-system-qemu=/bin/false \
	--disable-werror --disable-systemd

$(XEN_DIR)/.stamp_extracted: $(XEN_SOURCE) $(XEN_DEB_SOURCE) $(XEN_PATCHES) $(XEN_UNXZ)
	$(call xb-extract,$<,$(@D))
	@echo "  PATCH   xen: $(XEN_DEB_PATCH)"
	$(Q)rm -rf $(@D)/xb-debian && mkdir -p $(@D)/xb-debian
	$(Q)tar -xf $(XEN_DEB_SOURCE) -C $(@D)/xb-debian --wildcards '$(XEN_DEB_PATCH)'
	$(Q)set -- $(@D)/xb-debian/$(XEN_DEB_PATCH); [ $$# -eq 1 ] && [ -f "$$1" ] \
		|| { echo "xen: expected one $(XEN_DEB_PATCH) in $(notdir $(XEN_DEB_SOURCE))" >&2; exit 1; }; \
		patch -d $(@D) -p1 -s <"$$1"
	$(Q)set -e; for p in $(XEN_PATCHES); do \
		echo "  PATCH   xen: $$(basename $$p)"; patch -d $(@D) -p1 -s <$$p; done
	$(Q)cp $(XEN_UNXZ) $(@D)/tools/libs/guest/
	$(Q)touch $@

# configure links test programs: libxl's yajl check adds -lyajl to LIBS even
# when its answer is cached, so a stub archive exists for configure only.
$(XEN_DIR)/.stamp_configured: $(XEN_DIR)/.stamp_extracted | $(XEN_DEPENDENCIES) $(LINUX_INC)/.stamp
	@echo "  CONFIG  xen $(XEN_VERSION)"
	$(Q)mkdir -p $(@D)/xb-stub $(@D)/xb-no-pkgconfig
	$(Q)echo 'void yajl_alloc(void); void yajl_alloc(void) {}' >$(@D)/xb-stub/yajl.c
	$(Q)$(TARGET_CC) -c -o $(@D)/xb-stub/yajl.o $(@D)/xb-stub/yajl.c
	$(Q)ar rcsD $(@D)/xb-stub/libyajl.a $(@D)/xb-stub/yajl.o
	$(Q)cd $(@D) && env $(XEN_CONF_ENV) CC="$(TARGET_CC)" CFLAGS="$(XEN_CFLAGS)" \
		LDFLAGS="-L$(@D)/xb-stub" ./configure $(XEN_CONF_OPTS) \
		PREPEND_INCLUDES="$(XEN_LINUX_INC) $(STAGING_DIR)/include" \
		PREPEND_LIB="$(STAGING_DIR)/lib" >config.out 2>&1 \
		|| { tail -40 config.out tools/config.log 2>/dev/null | tail -60; exit 1; }
	$(Q)! grep -E -- '-DHAVE_(LZMA|BZLIB|LZO1X|ZSTD)' $(@D)/config/Tools.mk || \
		{ echo "xen: configure found a decompression library" >&2; exit 1; }
	$(Q)touch $@

# libxenstore's archive is normally built without threads (-DUSE_PTHREAD is
# given to the shared object only): then the fd of xs_fileno() never
# signals watch events.  CFLAGS_xs.o puts it back for the static xs.o.
$(XEN_DIR)/.stamp_built: $(XEN_DIR)/.stamp_configured
	@echo "  BUILD   xen $(XEN_VERSION) tools/include"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/include $(XEN_MAKE_OPTS) >$(@D)/build.out 2>&1 \
		|| { tail -40 $(@D)/build.out; exit 1; }
	$(Q)rm -rf $(@D)/xb-install
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/include $(XEN_MAKE_OPTS) \
		install DESTDIR=$(@D)/xb-install >>$(@D)/build.out 2>&1 \
		|| { tail -40 $(@D)/build.out; exit 1; }
	$(Q)set -e; for lib in $(XEN_LIBS); do \
		echo "  BUILD   xen $(XEN_VERSION) tools/libs/$$lib"; \
		$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/libs/$$lib $(XEN_MAKE_OPTS) \
			CFLAGS_xs.o=-DUSE_PTHREAD install DESTDIR=$(@D)/xb-install \
			>>$(@D)/build.out 2>&1 || { tail -40 $(@D)/build.out; exit 1; }; \
	done
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/libs/guest $(XEN_MAKE_OPTS) xb_unxz.o \
		>>$(@D)/build.out 2>&1 || { tail -40 $(@D)/build.out; exit 1; }
	$(Q)touch $@

$(XEN_DIR)/.stamp_installed: $(XEN_DIR)/.stamp_built
	$(Q)mkdir -p $(STAGING_DIR)/include $(STAGING_DIR)/lib/xen-loaders
	$(Q)cp -R $(@D)/xb-install/usr/include/. $(STAGING_DIR)/include/
	$(Q)cp $(addprefix $(@D)/xb-install/usr/lib/,$(XEN_ARCHIVES)) $(STAGING_DIR)/lib/
	$(Q)cp $(addprefix $(@D)/tools/libs/guest/,$(XEN_OBJECTS)) $(STAGING_DIR)/lib/xen-loaders/
	$(Q)touch $@

XEN_TARGET_LIBS := $(addprefix $(STAGING_DIR)/lib/xen-loaders/,$(XEN_OBJECTS)) \
	$(addprefix $(STAGING_DIR)/lib/,$(XEN_ARCHIVES))

# ---- xenstored and xenconsoled ------------------------------------------
# Xen's makefiles link only the archives they name directly; every archive
# is appended as a group, and the binaries are static, gc'ed and stripped.
XEN_DAEMON_LDFLAGS := $(TARGET_LDFLAGS) -Wl,--start-group \
	$(addprefix $(XEN_DIR)/xb-install/usr/lib/,$(XEN_ARCHIVES)) \
	-Wl,--end-group -lpthread

# After .stamp_installed, not only .stamp_built: the daemons compile with
# $(STAGING_DIR)/include first on their path (configure's PREPEND_INCLUDES),
# which .stamp_installed rewrites; built beside it under -j, xenstored saw
# staging's xen/kexec.h before its xen.h was copied (CI, 'xen.h: No such file').
$(XEN_DIR)/.stamp_daemons: $(XEN_DIR)/.stamp_built $(XEN_DIR)/.stamp_installed
	@echo "  BUILD   xen $(XEN_VERSION) xenstored xenconsoled"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/xenstore $(XEN_MAKE_OPTS) \
		APPEND_LDFLAGS="$(XEN_DAEMON_LDFLAGS)" xenstored >>$(@D)/build.out 2>&1 \
		|| { tail -40 $(@D)/build.out; exit 1; }
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/console/daemon $(XEN_MAKE_OPTS) \
		APPEND_LDFLAGS="$(XEN_DAEMON_LDFLAGS)" xenconsoled >>$(@D)/build.out 2>&1 \
		|| { tail -40 $(@D)/build.out; exit 1; }
	$(Q)touch $@

$(IMAGES_DIR)/xen-tools/xenstored: $(XEN_DIR)/.stamp_daemons
	$(Q)mkdir -p $(@D)
	$(Q)strip --strip-all -R .comment -R .note -o $@ $(XEN_DIR)/tools/xenstore/xenstored
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

$(IMAGES_DIR)/xen-tools/xenconsoled: $(XEN_DIR)/.stamp_daemons
	$(Q)mkdir -p $(@D)
	$(Q)strip --strip-all -R .comment -R .note -o $@ $(XEN_DIR)/tools/console/daemon/xenconsoled
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# The xenstore client: Xen's tools/xenstore multi-call `xenstore`
# (xenstore-read, -write, ... by argv[0]: $(XEN_XENSTORE_COMMANDS)),
# linked like the daemons, whose objects it shares (so built after them).
# Not in `all`: the system images (board/board.mk) ask for it.
XEN_XENSTORE_COMMANDS := read write ls list rm exists chmod watch
XEN_XENSTORE_CLIENT   := $(IMAGES_DIR)/xen-tools/xenstore

$(XEN_DIR)/.stamp_xenstore_client: $(XEN_DIR)/.stamp_daemons
	@echo "  BUILD   xen $(XEN_VERSION) xenstore client"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/tools/xenstore $(XEN_MAKE_OPTS) \
		APPEND_LDFLAGS="$(XEN_DAEMON_LDFLAGS)" xenstore >>$(@D)/build.out 2>&1 \
		|| { tail -40 $(@D)/build.out; exit 1; }
	$(Q)touch $@

$(XEN_XENSTORE_CLIENT): $(XEN_DIR)/.stamp_xenstore_client
	$(Q)mkdir -p $(@D)
	$(Q)strip --strip-all -R .comment -R .note -o $@ $(XEN_DIR)/tools/xenstore/xenstore
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

XEN_IMAGES := $(if $(filter y,$(CONFIG_XB_PACKAGE_XEN_DAEMONS)), \
	$(IMAGES_DIR)/xen-tools/xenstored $(IMAGES_DIR)/xen-tools/xenconsoled)

xen: $(XEN_DIR)/.stamp_installed $(XEN_IMAGES)
.PHONY: xen
all: $(XEN_IMAGES)

# Archives go before libz (package/zlib is included after this file, so it
# appends after us).
XB_TARGET_LIBS     += $(XEN_TARGET_LIBS)
XB_TARGET_DEPS     += $(XEN_DIR)/.stamp_installed
XB_TARGET_INCLUDES += -D__XEN_TOOLS__

endif
