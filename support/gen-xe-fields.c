/* gen-xe-fields: the fields `xe` shows, from the datamodel's one
 * declaration (src/api/model.c), as a C header for src/xe/.
 *
 *   gen-xe-fields > xe_fields.h
 *
 * A host tool: it links model.c's tables (the handlers they name are
 * stubs the build makes from `nm -u`; nothing here calls them) and walks
 * dm_classes[] as the daemon's dm_init() does, so a field's index, name,
 * type and qualifier here are the daemon's.  For each class on the API
 * (not internal, with objects) it writes
 *
 *   xe_f_<class>[]         { api name, xe name, kind, element kind,
 *                            referenced class, RW?, derived? } per field
 *   XEF_<class>__<field>   its index there, so xe's code names a field as
 *                          a constant and a misspelt one fails the build
 *   XEC_<class>            the class's index in xe_classes[]
 *
 * xe's names follow XAPI's CLI records: underscores become hyphens
 * (power_state -> power-state, VCPUs_max -> VCPUs-max); a reference named
 * after the class it points to is shown as that object's uuid under
 * "<class>-uuid" (VBD.VM -> vm-uuid, VDI.SR -> sr-uuid) followed by a
 * derived "<class>-name-label" (XEF_VBD__VM__name_label) when that class
 * has a name_label. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/dm.h"

enum { K_STRING, K_INT, K_FLOAT, K_BOOL, K_DATETIME, K_ENUM, K_REF, K_SET, K_MAP };
static const char *const kname[] = { "XE_STRING", "XE_INT", "XE_FLOAT", "XE_BOOL",
	"XE_DATETIME", "XE_ENUM", "XE_REF", "XE_SET", "XE_MAP" };

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

static const struct dm_class *class_named(const char *name, size_t n)
{
	for (size_t i = 0; i < dm_nclasses; i++)
		if (strlen(dm_classes[i]->name) == n && !strncmp(dm_classes[i]->name, name, n))
			return dm_classes[i];
	return NULL;
}

/* A scalar type spec's kind; a "X ref" puts X in ref (a class xenbox
 * may not have: such a field is always OpaqueRef:NULL). */
static int scalar(const char *t, size_t n, char *ref)
{
	static const char *const names[] = { "string", "int", "float", "bool", "datetime" };

	for (int k = 0; k < 5; k++)
		if (strlen(names[k]) == n && !strncmp(t, names[k], n))
			return k;
	if (n > 4 && !strncmp(t + n - 4, " ref", 4) && n - 4 < 64) {
		memcpy(ref, t, n - 4);
		ref[n - 4] = 0;
		return K_REF;
	}
	return K_ENUM;
}

static int has_field(const struct dm_class *c, const char *name)
{
	for (const struct dm_field *f = c->fields; f->name; f++)
		if (!strcmp(f->name, name))
			return 1;
	return 0;
}

static int api_class(const struct dm_class *c)
{
	return !(c->flags & (DM_C_INTERNAL | DM_C_NO_OBJECTS)) && has_field(c, "uuid");
}

static void lower(char *d, const char *s)
{
	while ((*d++ = (char)tolower((unsigned char)*s++)))
		;
}

int main(void)
{
	int bad = 0;

	puts("/* Generated from src/api/model.c by support/gen-xe-fields.c: do not edit. */");
	puts("#ifndef XB_XE_FIELDS_H\n#define XB_XE_FIELDS_H\n");
	puts("#include \"xe/model.h\"\n");
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		const struct dm_class *c = dm_classes[ci];
		int idx = 0;

		if (!api_class(c))
			continue;
		printf("static const struct xe_field xe_f_%s[] = {\n", c->name);
		for (const struct dm_field *f = c->fields; f->name; f++) {
			const struct dm_class *rc;
			const char *t = f->type;
			char ref[64] = "";
			int kind, elem = K_STRING, same = 0;
			char xe[160], lc[128];

			if (f->flags & DM_F_HIDDEN)
				continue;
			if (strchr(t, '>') || ends_with(t, " map")) {
				kind = K_MAP;
			} else if (ends_with(t, " set")) {
				kind = K_SET;
				elem = scalar(t, strlen(t) - 4, ref);
			} else {
				kind = scalar(t, strlen(t), ref);
			}
			if ((kind == K_REF || elem == K_REF) && !*ref) {
				fprintf(stderr, "gen-xe-fields: %s.%s: cannot read \"%s\"\n",
					c->name, f->name, t);
				bad = 1;
				continue;
			}
			rc = *ref ? class_named(ref, strlen(ref)) : NULL;
			lower(lc, f->name);
			if (kind == K_REF && !strcasecmp(f->name, ref)) {
				snprintf(xe, sizeof(xe), "%s-uuid", lc);
				same = 1;
			} else {
				snprintf(xe, sizeof(xe), "%s", f->name);
				for (char *p = xe; *p; p++)
					if (*p == '_')
						*p = '-';
			}
			printf("\t{ \"%s\", \"%s\", %s, %s, %s%s%s, %d, 0 },\t/* %d */\n", f->name, xe,
			       kname[kind], kname[elem], *ref ? "\"" : "", *ref ? ref : "NULL",
			       *ref ? "\"" : "", f->qual == DM_RW, idx);
			printf("#define XEF_%s__%s %d\n", c->name, f->name, idx++);
			if (same && rc && has_field(rc, "name_label")) {
				printf("\t{ \"%s\", \"%s-name-label\", XE_REF, XE_STRING, \"%s\", 0, 1 },\n",
				       f->name, lc, ref);
				printf("#define XEF_%s__%s__name_label %d\n", c->name, f->name, idx++);
			}
		}
		puts("};\n");
	}
	puts("static const struct xe_class xe_classes[] = {");
	{
		int n = 0;

		for (size_t ci = 0; ci < dm_nclasses; ci++) {
			const struct dm_class *c = dm_classes[ci];

			if (!api_class(c))
				continue;
			printf("\t{ \"%s\", xe_f_%s, sizeof(xe_f_%s) / sizeof(xe_f_%s[0]) },\n",
			       c->name, c->name, c->name, c->name);
			printf("#define XEC_%s %d\n", c->name, n++);
		}
		puts("};");
		printf("#define XE_NCLASSES %d\n", n);
	}
	puts("\n#endif");
	return bad;
}
