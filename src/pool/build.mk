# Pools (docs/POOL.md): the WebSocket channel between members and master.
xb-srcs-$(CONFIG_XB_POOL) += pool/ws.c lib/sha1.c lib/resolve.c
# Stage 3a: join tokens (the API calls) and the `xenbox pool` applet (in
# xenbox-io with CONFIG_XB_IO: the applet, its client and what they link).
xb-srcs-$(CONFIG_XB_POOL) += pool/token.c lib/certfp.c
xb-applet-srcs-$(CONFIG_XB_POOL) += pool/client.c pool/cli.c
xb-io-srcs-$(CONFIG_XB_POOL) += http/http.c rpc/json.c rpc/value.c lib/certfp.c lib/base64.c \
	lib/sha256.c
# Stage 3b: the channel, the master's route and the member.
xb-srcs-$(CONFIG_XB_POOL) += pool/chan.c pool/master.c pool/member.c
# Stage 4: the mirror (the member's sync builder, the master's apply).
xb-srcs-$(CONFIG_XB_POOL) += pool/mirror.c
# Stage 5: forwarding (docs/POOL.md 5).
xb-srcs-$(CONFIG_XB_POOL) += pool/forward.c
# Stage 7: the stats relay (docs/POOL.md 7).
xb-srcs-$(CONFIG_XB_POOL) += pool/relay.c
