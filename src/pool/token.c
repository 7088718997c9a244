/* Join tokens: make, check, spend, list, revoke (docs/POOL.md 3.2). */
#include "pool/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/api.h"
#include "api/handlers.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/util.h"

static const char hexd[] = "0123456789abcdef";

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[p[i] >> 4];
		out[2 * i + 1] = hexd[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(hexd, s[i]) || !s[i])
			return 0;
	return 1;
}

/* SHA-256 of the secret's hex text, in hex */
static void secret_hash(const char *secret, char out[65])
{
	unsigned char h[32];

	sha256(secret, TOKEN_SECRET_HEX, h);
	hex(h, sizeof(h), out);
}

static struct dm_class *tokens(void)
{
	return dm_class_find("pool_token");
}

/* O(tokens) */
static struct obj *by_id(const char *id)
{
	for (struct obj *o = tokens()->first; o; o = o->next)
		if (!strcmp(dm_get_str(o, OF(o, pool_token, token_id)), id))
			return o;
	return NULL;
}

/* "" when t may be used now, else why not */
static const char *unusable(const struct obj *t, int64_t now)
{
	if (dm_fv(t, OF(t, pool_token, revoked))->u.i)
		return "revoked";
	if (now >= dm_fv(t, OF(t, pool_token, expires))->u.i)
		return "expired";
	if (dm_fv(t, OF(t, pool_token, uses_left))->u.i <= 0)
		return "used up";
	return "";
}

static struct obj *check(const char *token, char *why, size_t whylen)
{
	char id[TOKEN_ID_HEX + 1], h[65], want[65];
	const char *st;
	struct obj *t = NULL;
	int diff = 0;

	snprintf(why, whylen, "unknown");
	if (!token || strlen(token) != TOKEN_LEN || strncmp(token, TOKEN_PREFIX, 5) ||
	    token[5 + TOKEN_ID_HEX] != '-' || !is_hex(token + 5, TOKEN_ID_HEX) ||
	    !is_hex(token + 6 + TOKEN_ID_HEX, TOKEN_SECRET_HEX))
		return NULL;
	memcpy(id, token + 5, TOKEN_ID_HEX);
	id[TOKEN_ID_HEX] = 0;
	t = by_id(id);
	/* hashed and compared whether or not the id is known */
	secret_hash(token + 6 + TOKEN_ID_HEX, h);
	memset(want, 'x', 64);          /* never a hex digit */
	want[64] = 0;
	if (t && strlen(dm_get_str(t, OF(t, pool_token, hash))) == 64)
		memcpy(want, dm_get_str(t, OF(t, pool_token, hash)), 64);
	for (int i = 0; i < 64; i++)
		diff |= h[i] ^ want[i];
	secure_zero(h, sizeof(h));
	if (!t || diff)
		return NULL;
	st = unusable(t, now_wall());
	if (*st) {
		snprintf(why, whylen, "%s: %s", id, st);
		return NULL;
	}
	*why = 0;
	return t;
}

bool token_check(const char *token, char *why, size_t whylen)
{
	return check(token, why, whylen) != NULL;
}

int token_spend(const char *token, const char *host_uuid, char *why, size_t whylen)
{
	struct obj *t = check(token, why, whylen);
	struct dm_val set, e;

	if (!t)
		return -1;
	dm_set_int(t, OF(t, pool_token, uses_left), dm_fv(t, OF(t, pool_token, uses_left))->u.i - 1);
	dm_val_copy(t->cls->fields[FLD(pool_token, used_by)].t, &set,
		    dm_fv(t, FLD(pool_token, used_by)));
	e.u.s = dm_str(host_uuid);
	dm_list_push(NULL, &set, &e);
	dm_set(t, FLD(pool_token, used_by), &set);
	dm_val_free(t->cls->fields[FLD(pool_token, used_by)].t, &set);
	log_info("pool: join token %s used by host %s; %lld uses left",
		 dm_get_str(t, FLD(pool_token, token_id)), host_uuid,
		 (long long)dm_fv(t, FLD(pool_token, uses_left))->u.i);
	return 0;
}

void token_gc(int64_t now, int room)
{
	struct obj *o, *next;

	for (o = tokens()->first; o; o = next) {
		next = o->next;
		if (*unusable(o, now) &&
		    (room || now - dm_fv(o, OF(o, pool_token, expires))->u.i > TOKEN_KEEP_AFTER_EXPIRY))
			dm_obj_delete(o);
	}
}

int token_create(int64_t uses, int64_t ttl, const char *label, int64_t now,
		 char out[TOKEN_LEN + 1], const char **field, const char **why)
{
	unsigned char rnd[8 + 32];
	char id[TOKEN_ID_HEX + 1], h[65];
	struct obj *t;

	*field = NULL;
	if (uses < 1 || uses > TOKEN_MAX_USES) {
		*field = "uses";
		*why = "1 to 10000";
		return -1;
	}
	if (ttl < 1 || ttl > TOKEN_MAX_TTL) {
		*field = "ttl_seconds";
		*why = "1 to 2592000 seconds (30 days)";
		return -1;
	}
	if (strlen(label) > TOKEN_MAX_LABEL) {
		*field = "label";
		*why = "at most 255 bytes";
		return -1;
	}
	token_gc(now, 0);
	if (tokens()->count >= TOKEN_MAX_STORED)
		token_gc(now, 1);
	if (tokens()->count >= TOKEN_MAX_STORED) {
		*why = "too many join tokens (1000 usable); revoke some first";
		return -1;
	}
	do {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			*why = "no random numbers";
			return -1;
		}
		hex(rnd, 8, id);
	} while (by_id(id));
	memcpy(out, TOKEN_PREFIX, 5);
	memcpy(out + 5, id, TOKEN_ID_HEX);
	out[5 + TOKEN_ID_HEX] = '-';
	hex(rnd + 8, 32, out + 6 + TOKEN_ID_HEX);
	secure_zero(rnd, sizeof(rnd));
	secret_hash(out + 6 + TOKEN_ID_HEX, h);
	t = dm_obj_new(tokens(), NULL, NULL);
	dm_set_str(t, OF(t, pool_token, token_id), id);
	dm_set_str(t, OF(t, pool_token, hash), h);
	dm_set_str(t, OF(t, pool_token, label), label);
	dm_set_int(t, OF(t, pool_token, uses_left), uses);
	dm_set_int(t, OF(t, pool_token, expires), now + ttl);
	dm_set_int(t, OF(t, pool_token, created), now);
	log_info("pool: join token %s created (%lld uses, valid %lld s)", id,
		 (long long)uses, (long long)ttl);
	return 0;
}

/* ---- the API (xenbox extensions; root sessions only) ---- */

HANDLER(api_pool_create_join_token)
{
	char tok[TOKEN_LEN + 1], msg[80];
	const char *field, *why;

	if (api_require_root(c, "pool.create_join_token"))
		return -1;
	if (token_create(args[0].u.i, args[1].u.i, args[2].u.s, now_wall(), tok, &field, &why)) {
		if (!field)
			return api_fail(c, "OPERATION_NOT_ALLOWED", why, NULL);
		if (field[0] == 'l')
			snprintf(msg, sizeof(msg), "%zu bytes: %s", strlen(args[2].u.s), why);
		else
			snprintf(msg, sizeof(msg), "%lld: %s",
				 (long long)args[field[0] == 'u' ? 0 : 1].u.i, why);
		/* XAPI's INVALID_VALUE [name, value]; the value says the range */
		return api_fail(c, "INVALID_VALUE", field, msg, NULL);
	}
	res->u.s = dm_str(tok);
	secure_zero(tok, sizeof(tok));
	return 0;
}

static void put_time(struct dm_val *m, const char *k, int64_t t)
{
	char s[XV_DATETIME_MAX];

	xv_datetime_format(s, t);
	dm_map_put_str(m, k, s);
}

/* O(tokens x used_by) */
HANDLER(api_pool_get_join_tokens)
{
	int64_t now = now_wall();
	char num[24];

	if (api_require_root(c, "pool.get_join_tokens"))
		return -1;
	token_gc(now, 0);
	res->u.l = NULL;
	for (struct obj *t = tokens()->first; t; t = t->next) {
		const struct dm_val *by = dm_fv(t, OF(t, pool_token, used_by));
		const char *st = unusable(t, now);
		struct dm_val m = { 0 };
		struct buf b = BUF_INIT;

		dm_map_put_str(&m, "id", dm_get_str(t, OF(t, pool_token, token_id)));
		dm_map_put_str(&m, "label", dm_get_str(t, OF(t, pool_token, label)));
		snprintf(num, sizeof(num), "%lld", (long long)dm_fv(t, OF(t, pool_token, uses_left))->u.i);
		dm_map_put_str(&m, "uses_left", num);
		put_time(&m, "created", dm_fv(t, OF(t, pool_token, created))->u.i);
		put_time(&m, "expires", dm_fv(t, OF(t, pool_token, expires))->u.i);
		dm_map_put_str(&m, "revoked", dm_fv(t, OF(t, pool_token, revoked))->u.i ? "true" : "false");
		dm_map_put_str(&m, "state", *st ? st : "valid");
		for (size_t i = 0; i < dm_list_len(by); i++)
			buf_addf(&b, "%s%s", i ? "," : "", by->u.l->v[i].u.s);
		dm_map_put_str(&m, "used_by", b.data ? b.data : "");
		buf_free(&b);
		dm_list_push(NULL, res, &m);
	}
	return 0;
}

HANDLER(api_pool_revoke_join_token)
{
	char id[TOKEN_ID_HEX + 1] = "";
	const char *a = args[0].u.s;
	struct obj *t = NULL;

	if (api_require_root(c, "pool.revoke_join_token"))
		return -1;
	/* the whole token is accepted too: its id is what counts (and the
	 * secret is never echoed in the error) */
	if (!strncmp(a, TOKEN_PREFIX, 5) && strlen(a) == TOKEN_LEN)
		a += 5;
	else if (strlen(a) != TOKEN_ID_HEX)
		a = "";
	if (*a) {
		memcpy(id, a, TOKEN_ID_HEX);
		id[TOKEN_ID_HEX] = 0;
		t = by_id(id);
	}
	if (!t)
		return api_fail(c, "UUID_INVALID", "join_token", id, NULL);
	if (!dm_fv(t, OF(t, pool_token, revoked))->u.i) {
		dm_set_int(t, OF(t, pool_token, revoked), 1);
		log_info("pool: join token %s revoked", id);
	}
	return 0;
}
