# Codecs: every applet that talks to the API needs XML-RPC.  JSON is also
# the store's format for sets and maps, so the daemon always has it;
# CONFIG_XB_JSONRPC switches the /jsonrpc route.
xb-srcs-y += rpc/value.c rpc/xmlrpc.c
xb-srcs-$(CONFIG_XB_DAEMON) += rpc/json.c
