# Test entry points; see tests/README.md.
check:
	$(Q)$(TOPDIR)/support/check.sh
