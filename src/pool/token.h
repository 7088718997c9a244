/* Join tokens (docs/POOL.md 3.2): what a member shows the master once, to
 * join.  The whole token is
 *
 *     xbt1-<id: 16 hex>-<secret: 64 hex>
 *
 * 256 random bits of secret from getrandom.  The master keeps the internal
 * object pool_token (api/model.c) with the id and SHA-256 of the secret's
 * 64 hex characters, never the secret: the token is shown once, by the call
 * that makes it, and logs and errors name it by its id only.
 *
 * The API calls (pool.create_join_token, get_join_tokens,
 * revoke_join_token) are handlers of api/handlers.h; token_check and
 * token_spend are for the master's Upgrade (stage 3b). */
#ifndef XB_POOL_TOKEN_H
#define XB_POOL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_PREFIX "xbt1-"
#define TOKEN_ID_HEX 16
#define TOKEN_SECRET_HEX 64
#define TOKEN_LEN (5 + TOKEN_ID_HEX + 1 + TOKEN_SECRET_HEX)    /* 86 */

#define TOKEN_DEFAULT_USES 1
#define TOKEN_MAX_USES 10000
#define TOKEN_DEFAULT_TTL (24 * 3600)
#define TOKEN_MAX_TTL (30 * 24 * 3600)
#define TOKEN_MAX_LABEL 255
/* Tokens stored at once, unusable ones included (bounds the table and
 * every O(tokens) scan below). */
#define TOKEN_MAX_STORED 1000
/* An unusable token (expired, used up, revoked) stays listed until this
 * long after its expiry, then token_gc deletes it. */
#define TOKEN_KEEP_AFTER_EXPIRY (24 * 3600)

/* Whether token may join now.  false: why gets "unknown" (no such id,
 * a wrong secret, not a token at all) or "<id>: expired", "<id>: used up",
 * "<id>: revoked"; the id only, never the secret.  The secret is compared
 * in constant time (its hash against the stored one); a wrong secret is
 * "unknown", so a token's state is told only to who holds it.
 * O(tokens). */
bool token_check(const char *token, char *why, size_t whylen);

/* Spend one use of token for the host host_uuid: uses_left - 1, host_uuid
 * added to used_by.  A datamodel change like any other, so the store
 * commits it with whatever else the caller changed in this loop iteration
 * (the pool_member record), before any reply that follows goes out.
 * 0, or -1 (why as token_check's) when the token may not join. */
int token_spend(const char *token, const char *host_uuid, char *why, size_t whylen);

/* Delete unusable tokens TOKEN_KEEP_AFTER_EXPIRY after their expiry; with
 * room, every unusable one (to make room for a new token).  O(tokens).
 * Runs on pool.create_join_token and pool.get_join_tokens. */
void token_gc(int64_t now, int room);

/* A new token (the handler's core, for tests): out gets the whole token.
 * 0, or -1 with why (INVALID_VALUE's parameter name in *field). */
int token_create(int64_t uses, int64_t ttl, const char *label, int64_t now,
		 char out[TOKEN_LEN + 1], const char **field, const char **why);

#endif
