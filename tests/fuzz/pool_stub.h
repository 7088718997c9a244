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
#endif

#endif
