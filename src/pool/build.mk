# Pools (docs/POOL.md): the WebSocket channel between members and master.
xb-srcs-$(CONFIG_XB_POOL) += pool/ws.c lib/sha1.c pool/cli.c
