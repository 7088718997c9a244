/* For the fuzz targets that link the API (fuzz_api, fuzz_where). */
#ifndef XB_FUZZ_POOL_STUB_H
#define XB_FUZZ_POOL_STUB_H

#include "api/handlers.h"

#ifdef CONFIG_XB_POOL
/* pool/master.c needs the loop and TLS, so these targets leave it out
 * (tests/tests.mk, FUZZ_API_SRCS); its one handler answers here as on a
 * host with neither a master nor members: root only, an empty map. */
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
#endif

#endif
