// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* replicast_version(): the release this library was built as. */
#include "replicast.h"

const char *replicast_version(void)
{
	return REPLICAST_VERSION;
}
