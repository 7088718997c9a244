/*
 * The part of libuuid's interface that xfsprogs uses (uuid.c implements
 * it): enough for mkfs.xfs without building util-linux.  Same types and
 * prototypes as libuuid's <uuid/uuid.h>, so xfsprogs compiles unchanged.
 */
#ifndef XB_UUID_UUID_H
#define XB_UUID_UUID_H

typedef unsigned char uuid_t[16];

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and its NUL */
#define UUID_STR_LEN 37

void uuid_clear(uuid_t uu);
int uuid_compare(const uuid_t uu1, const uuid_t uu2);
void uuid_copy(uuid_t dst, const uuid_t src);
void uuid_generate(uuid_t out);
int uuid_is_null(const uuid_t uu);
int uuid_parse(const char *in, uuid_t uu);
void uuid_unparse(const uuid_t uu, char *out);

#endif
