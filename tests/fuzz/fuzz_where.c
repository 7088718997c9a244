/* libFuzzer target: the filter expressions of get_all_where (api/where.c).
 * Any input is parsed (an expression or an error, never a crash), bound to
 * the VM class and matched against a VM with strings, sets and maps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dm.h"
#include "api/where.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "pool_stub.h"

static struct obj *vm;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	struct dm_val m = { 0 };

	(void)argc;
	(void)argv;
	if (dm_init(err, sizeof(err))) {
		fprintf(stderr, "fuzz_where: %s\n", err);
		abort();
	}
	vm = dm_obj_new(dm_class_find("VM"), NULL, NULL);
	dm_set_str(vm, OF(vm, VM, name_label), "web 1");
	dm_map_put_str(&m, "it's", "a\\b");
	dm_set(vm, OF(vm, VM, other_config), &m);
	dm_val_free(dm_type_parse("(string -> string) map"), &m);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct arena a;
	struct where *w;
	struct buf l = BUF_INIT, r = BUF_INIT;
	const char *why, *bad;
	size_t at;

	memcpy(s, data, size);
	s[size] = 0;
	arena_init(&a, 1u << 24);
	if (!where_parse(&a, s, &w, &why, &at)) {
		if (!where_bind(w, vm->cls, &bad))
			where_match(w, vm, &l, &r);
	} else if (!why || at > strlen(s)) {
		abort();        /* an error always says why, and where */
	}
	buf_free(&l);
	buf_free(&r);
	arena_free(&a);
	free(s);
	return 0;
}
