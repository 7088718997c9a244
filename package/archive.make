# Compile a set of C files and pack them into one deterministic static
# archive.  Run as a sub-make by package recipes (it is not included by the
# top Makefile, so that the file list can be taken after extraction):
#
#   $(MAKE) -f package/archive.make CC=... CFLAGS=... SRCDIR=DIR \
#       SRCS='patterns relative to SRCDIR' [EXCLUDE='patterns'] \
#       [EXTRA='absolute .c paths'] OBJDIR=DIR ARCHIVE=FILE

ifeq ($(strip $(SRCDIR)),)
$(error SRCDIR is not set)
endif

found   := $(wildcard $(addprefix $(SRCDIR)/,$(SRCS)))
sources := $(sort $(filter-out $(wildcard $(addprefix $(SRCDIR)/,$(EXCLUDE))),$(found)))
objs    := $(patsubst $(SRCDIR)/%.c,$(OBJDIR)/%.o,$(sources)) \
	$(patsubst %.c,$(OBJDIR)/extra/%.o,$(notdir $(EXTRA)))

ifeq ($(strip $(sources)$(EXTRA)),)
$(error no sources match $(SRCS) in $(SRCDIR))
endif

$(ARCHIVE): $(objs)
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcsD $@ $(sort $^)

$(OBJDIR)/%.o: $(SRCDIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $(notdir $<)"
	@$(CC) $(CFLAGS) -c -o $@ $<

define extra-rule
$(OBJDIR)/extra/$(notdir $(1:.c=.o)): $(1)
	@mkdir -p $$(dir $$@)
	@echo "  CC      $(notdir $(1))"
	@$$(CC) $$(CFLAGS) -c -o $$@ $$<
endef
$(foreach f,$(EXTRA),$(eval $(call extra-rule,$(f))))
