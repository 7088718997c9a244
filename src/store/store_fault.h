/* Test-only fault injection for the store (store_fault.c): host build. */
#ifndef XB_STORE_FAULT_H
#define XB_STORE_FAULT_H

#ifdef XB_HOST_BUILD
/* With XENBOX_STORE_FAULT=FILE in the environment, make the default
 * SQLite VFS one that fails writes or syncs while FILE says so; without
 * it, nothing.  Before the database is opened. */
void store_fault_init(void);
#endif

#endif
