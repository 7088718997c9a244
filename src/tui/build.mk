# The technician's console (docs/CONSOLE.md): an applet of xenbox-io only
# (CONFIG_XB_CONSOLE depends on XB_IO), with the XenAPI client it uses.
xb-io-srcs-$(CONFIG_XB_CONSOLE) += tui/screen.c tui/console.c \
	pool/client.c http/http.c rpc/json.c rpc/value.c lib/base64.c lib/certfp.c lib/sha256.c api/auth.c
