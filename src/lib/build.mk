xb-srcs-y += lib/buf.c lib/arena.c
