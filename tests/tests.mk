# Test entry points (see tests/README.md):
#   make check        everything, as CI runs it (support/check.sh)
#   make unit-check   the C unit tests, host build with ASan+UBSan
#   make fuzz         each libFuzzer target for FUZZ_SECONDS (default 60)

# test_io_*.c test xenbox-io's own files (CONFIG_XB_IO): libxenbox-io.a.
UNIT_SRCS  := $(sort $(wildcard $(TOPDIR)/tests/unit/test_*.c))
UNIT_SRCS  := $(if $(XBIO_SRCS),$(UNIT_SRCS),$(filter-out %/test_io_%,$(UNIT_SRCS)))
UNIT_BINS  := $(patsubst $(TOPDIR)/tests/unit/%.c,$(HOST_DIR)/tests/%,$(UNIT_SRCS))

$(HOST_DIR)/tests/%: $(TOPDIR)/tests/unit/%.c $(HOST_DIR)/lib/libxenbox.a $(XBIO_HOST_LIB) $(XB_HOST_DEPS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  tests/unit/$*.c"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(XB_WARN) -Wno-missing-prototypes $(XB_CPPFLAGS) \
		-DXB_HOST_BUILD -I$(HOST_DIR)/include -I$(TOPDIR)/tests/unit \
		-o $@ $< -Wl,--start-group $(HOST_DIR)/lib/libxenbox.a $(XBIO_HOST_LIB) -Wl,--end-group \
		$(XB_HOST_LIBS) -lcmocka -lpthread -lm

unit-build: $(UNIT_BINS) $(HOST_DIR)/bin/xenbox $(if $(XBIO_SRCS),$(HOST_DIR)/bin/xenbox-io)
unit-check: unit-build
	$(Q)$(TOPDIR)/support/run-unit.sh $(UNIT_BINS)

FUZZ_SRCS := $(sort $(wildcard $(TOPDIR)/tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst $(TOPDIR)/tests/fuzz/%.c,$(HOST_DIR)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60
# libFuzzer needs clang; the fuzzed code is compiled again with coverage.
FUZZ_SRCS_LIB := lib/buf.c lib/arena.c lib/base64.c rpc/value.c rpc/xmlrpc.c rpc/json.c http/http.c
$(HOST_DIR)/fuzz/%: $(TOPDIR)/tests/fuzz/%.c $(wildcard $(TOPDIR)/tests/fuzz/*.h) $(addprefix $(TOPDIR)/src/,$(FUZZ_SRCS_LIB)) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/$*.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_SRCS_LIB))

# The API target fuzzes the whole dispatcher on the sim backend.
# (the pool's channel, member, master and applet need the loop, TLS and the
# server: not the dispatcher's; the API calls of pool/token.c are in)
FUZZ_API_SRCS := $(filter-out pool/chan.c pool/master.c pool/member.c pool/mirror.c pool/cli.c pool/client.c pool/forward.c pool/relay.c,\
	$(filter api/% vmm/% lib/% rpc/% http/% pool/%,$(XB_SRCS)))
$(HOST_DIR)/fuzz/fuzz_api: $(TOPDIR)/tests/fuzz/fuzz_api.c $(TOPDIR)/tests/fuzz/pool_stub.h $(addprefix $(TOPDIR)/src/,$(FUZZ_API_SRCS)) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_api.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_API_SRCS)) -lpthread -lm

# The filter expressions of get_all_where (api/where.c), bound to the real
# datamodel: the model names every handler, so it links what fuzz_api does.
$(HOST_DIR)/fuzz/fuzz_where: $(TOPDIR)/tests/fuzz/fuzz_where.c $(TOPDIR)/tests/fuzz/pool_stub.h $(addprefix $(TOPDIR)/src/,$(FUZZ_API_SRCS)) $(AUTOHEADER)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_where.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_API_SRCS)) -lpthread -lm

# A member's sync applied on the master (pool/mirror.c) with the API's
# datamodel; the channel and the member table are stubs in the target.
$(HOST_DIR)/fuzz/fuzz_mirror: $(TOPDIR)/tests/fuzz/fuzz_mirror.c $(TOPDIR)/tests/fuzz/pool_stub.h $(addprefix $(TOPDIR)/src/,$(FUZZ_API_SRCS) pool/mirror.c) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_mirror.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_API_SRCS) pool/mirror.c) -lpthread -lm

# The RRD image reader (stats): rrd.c and rrd_file.c with their helpers.
FUZZ_RRD_SRCS := lib/buf.c lib/util.c stats/rrd.c stats/rrd_file.c stats/rrd_xport.c
$(HOST_DIR)/fuzz/fuzz_rrd: $(TOPDIR)/tests/fuzz/fuzz_rrd.c $(addprefix $(TOPDIR)/src/,$(FUZZ_RRD_SRCS)) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_rrd.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_RRD_SRCS)) -lm

# The WebSocket codec (pool): ws.c with SHA-1, base64 and buf.
FUZZ_WS_SRCS := lib/buf.c lib/sha1.c lib/base64.c pool/ws.c
$(HOST_DIR)/fuzz/fuzz_ws: $(TOPDIR)/tests/fuzz/fuzz_ws.c $(addprefix $(TOPDIR)/src/,$(FUZZ_WS_SRCS)) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_ws.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_WS_SRCS))

# The console's terminal emulator and RFB viewer (console/): pure over buffers.
FUZZ_TERM_SRCS := lib/buf.c console/term.c console/rfb.c console/font.c
$(HOST_DIR)/fuzz/fuzz_term: $(TOPDIR)/tests/fuzz/fuzz_term.c $(addprefix $(TOPDIR)/src/,$(FUZZ_TERM_SRCS)) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_term.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_TERM_SRCS))

# The DNS client's wire (pool_master's names): lib/resolve.c alone.
$(HOST_DIR)/fuzz/fuzz_dns: $(TOPDIR)/tests/fuzz/fuzz_dns.c $(TOPDIR)/src/lib/resolve.c $(AUTOHEADER)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_dns.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< $(TOPDIR)/src/lib/resolve.c

# The connection layer: conn.c itself, included by the target with its
# system calls, loop, TLS and API replaced by models (tests/fuzz/fuzz_conn.c).
FUZZ_CONN_SRCS := $(FUZZ_SRCS_LIB) lib/util.c lib/log.c
$(HOST_DIR)/fuzz/fuzz_conn: $(TOPDIR)/tests/fuzz/fuzz_conn.c $(TOPDIR)/src/server/conn.c $(wildcard $(TOPDIR)/src/server/*.h) $(addprefix $(TOPDIR)/src/,$(FUZZ_CONN_SRCS)) $(AUTOHEADER) $(XB_GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_conn.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< \
		$(addprefix $(TOPDIR)/src/,$(FUZZ_CONN_SRCS))

# The control channel's parser (xenbox-io <-> daemon): io/ctl.c alone.
$(HOST_DIR)/fuzz/fuzz_ctl: $(TOPDIR)/tests/fuzz/fuzz_ctl.c $(TOPDIR)/src/io/ctl.c $(TOPDIR)/src/io/ctl.h $(AUTOHEADER)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  tests/fuzz/fuzz_ctl.c"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
		$(XB_CPPFLAGS) -DXB_HOST_BUILD -o $@ $< $(TOPDIR)/src/io/ctl.c

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	$(Q)FUZZ_ARTIFACTS=$(O)/fuzz-artifacts $(TOPDIR)/support/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

check:
	$(Q)$(TOPDIR)/support/check.sh

.PHONY: unit-build unit-check fuzz-build fuzz
