# The technician's console (docs/SERIAL_CONSOLE.md): an applet of xenbox-io only
# (CONFIG_XB_TUI depends on XB_IO), with the XenAPI client it uses.
xb-io-srcs-$(CONFIG_XB_TUI) += tui/screen.c tui/console.c \
	pool/client.c http/http.c rpc/json.c rpc/value.c lib/base64.c lib/certfp.c lib/sha256.c api/auth.c
