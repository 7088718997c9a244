xb-srcs-y += lib/buf.c lib/arena.c lib/util.c lib/log.c lib/sha256.c lib/worker.c \
	lib/base64.c
