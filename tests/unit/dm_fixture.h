/* The group set-up most unit tests share: the datamodel with the real
 * model (api/model.c), made before the group and freed after it. */
#ifndef XB_TEST_DM_FIXTURE_H
#define XB_TEST_DM_FIXTURE_H

#include "api/dm.h"

static int dm_setup(void **state)
{
	char err[256];

	(void)state;
	return dm_init(err, sizeof(err));
}

static int dm_teardown(void **state)
{
	(void)state;
	dm_dispose();
	return 0;
}

#endif
