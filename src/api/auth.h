/* Password hashes (api/auth.c): the daemon's logins check them, `xenbox
 * passwd` makes them. */
#ifndef XB_AUTH_H
#define XB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_DEFAULT_ITER 100000

/* 0 match, 1 mismatch, -1 malformed hash. */
int auth_hash_check(const char *stored, const char *pwd);
int auth_hash_make(const char *pwd, uint32_t iter, char *out, size_t outlen);

#endif
