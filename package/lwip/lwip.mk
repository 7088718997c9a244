# lwIP: core, IPv4, Ethernet/ARP, the netconn and socket APIs and the Unix
# port's sys_arch (pthreads), with our lwipopts.h.  Off unless selected.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_LWIP),y)

LWIP_VERSION := $(call xb-upstream,lwip)
LWIP_SOURCE  := $(call dl-file,lwip)
LWIP_DIR     := $(BUILD_DIR)/lwip-$(LWIP_VERSION)
LWIP_PKGDIR  := $(TOPDIR)/package/lwip

LWIP_SRCS := src/core/*.c src/core/ipv4/*.c src/api/*.c src/netif/ethernet.c \
	contrib/ports/unix/port/sys_arch.c
LWIP_INCLUDES := -I$(LWIP_PKGDIR) -I$(LWIP_DIR)/src/include \
	-I$(LWIP_DIR)/contrib/ports/unix/port/include

$(LWIP_DIR)/.stamp_extracted: $(LWIP_SOURCE)
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(LWIP_DIR)/.stamp_built: $(LWIP_DIR)/.stamp_extracted $(LWIP_PKGDIR)/lwipopts.h
	@echo "  BUILD   lwip $(LWIP_VERSION)"
	$(Q)rm -rf $(@D)/xb-obj
	$(Q)$(PKG_ENV) $(MAKE) --no-print-directory -f $(TOPDIR)/package/archive.make \
		CC="$(TARGET_CC)" CFLAGS="$(filter-out -D_GNU_SOURCE,$(PKG_TARGET_CFLAGS)) $(LWIP_INCLUDES)" \
		SRCDIR=$(@D) SRCS='$(LWIP_SRCS)' OBJDIR=$(@D)/xb-obj ARCHIVE=$(@D)/liblwip.a
	$(Q)touch $@

# Headers: lwip/, netif/, compat/ from lwIP, arch/ from the Unix port, and
# lwipopts.h (users include <lwip/...> with the same options).
$(LWIP_DIR)/.stamp_installed: $(LWIP_DIR)/.stamp_built
	$(Q)mkdir -p $(STAGING_DIR)/include $(STAGING_DIR)/lib
	$(Q)rm -rf $(addprefix $(STAGING_DIR)/include/,lwip netif compat arch)
	$(Q)cp -R $(@D)/src/include/lwip $(@D)/src/include/netif $(@D)/src/include/compat \
		$(@D)/contrib/ports/unix/port/include/arch $(STAGING_DIR)/include/
	$(Q)install -m 0644 $(LWIP_PKGDIR)/lwipopts.h $(STAGING_DIR)/include/lwipopts.h
	$(Q)install -m 0644 $(@D)/liblwip.a $(STAGING_DIR)/lib/liblwip.a
	$(Q)touch $@

lwip: $(LWIP_DIR)/.stamp_installed
.PHONY: lwip

XB_TARGET_LIBS += $(STAGING_DIR)/lib/liblwip.a
XB_TARGET_DEPS += $(LWIP_DIR)/.stamp_installed

endif
