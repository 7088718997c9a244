/* For the fuzz targets that link the API (fuzz_api, fuzz_where). */
#ifndef XB_FUZZ_POOL_STUB_H
#define XB_FUZZ_POOL_STUB_H

#include "api/handlers.h"

#ifdef CONFIG_XB_POOL
/* pool/master.c and member.c need the loop and TLS, so these targets
 * leave them out (tests/tests.mk, FUZZ_API_SRCS); their handlers answer
 * here as on a host with neither a master nor members that cannot reach
 * any: root only, an empty map, no such member, no master reached. */
HANDLER(api_pool_get_channel_status)
{
	(void)args;
	if (api_require_root(c, "pool.get_channel_status"))
		return -1;
	res->u.l = NULL;
	return 0;
}

/* pool/forward.c's, as on a host without members: this host cannot be
 * ejected or destroyed, and there is no other */
HANDLER(api_pool_eject)
{
	(void)res;
	if (!api_obj(c, "host", args[0].u.s))
		return -1;
	return api_fail(c, "OPERATION_NOT_ALLOWED", "not a pool member", NULL);
}

HANDLER(api_host_destroy)
{
	(void)res;
	if (!api_obj(c, "host", args[0].u.s))
		return -1;
	return api_fail(c, "HOST_CANNOT_DESTROY_SELF", args[0].u.s, NULL);
}

HANDLER(api_pool_revoke_member)
{
	if (api_require_root(c, "pool.revoke_member"))
		return -1;
	return api_fail(c, "UUID_INVALID", "host", args[0].u.s, NULL);
}

HANDLER(api_pool_join)
{
	(void)args;
	if (api_require_root(c, "pool.join"))
		return -1;
	return api_fail(c, "JOINING_HOST_CONNECTION_FAILED", NULL);
}

HANDLER(api_pool_join_pinned)
{
	return api_pool_join(c, args, res);
}
#endif

#endif
