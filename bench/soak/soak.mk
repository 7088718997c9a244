# The soak (bench/soak/soak.py; docs/BENCHMARKS.md, "Soak").
#
#   make bench-soak        the shipped static binary, $(SOAK_SECONDS) seconds
#   make bench-soak-host   the host ASan+UBSan build
#
#   SOAK_SECONDS  duration (300; 3600 for the real figure)
#   SOAK_ARGS     more options of soak.py (e.g. --without expect-continue)
#
# It prints figures; it fails only if an acknowledged change was lost, the
# daemon died or stopped answering, or RSS, fds or tasks grew without bound.

SOAK_SECONDS ?= 300
SOAK_PY := /usr/bin/python3 $(TOPDIR)/bench/soak/soak.py --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

bench-soak: $(IMAGES_DIR)/xenbox $(XBIO_IMAGE)
	$(Q)$(SOAK_PY) $(IMAGES_DIR)/xenbox

bench-soak-host: $(HOST_DIR)/bin/xenbox $(if $(XBIO_IMAGE),$(HOST_DIR)/bin/xenbox-io)
	$(Q)$(SOAK_PY) $(HOST_DIR)/bin/xenbox

.PHONY: bench-soak bench-soak-host
