# HTTP/1.1 heads: the daemon and every API client (xe, pool client).
xb-srcs-y += http/http.c
