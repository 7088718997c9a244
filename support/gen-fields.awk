# Field indexes of the datamodel as compile-time constants.
#
#   awk -f support/gen-fields.awk src/api/model.c > dm_fields.h
#
# model.c declares each class's fields as an array, one field per line
# (F(...), FV(...), INV(...) or a { .name = ... } initialiser; comments on
# lines of their own between them), ended by END;
# a field's index is its position there (dm_init() numbers them the same
# way).  For every class and field this writes
#
#   DMF_<class>__<field>     the field's index
#
# and FLD(class, field) names it, so `FLD(VM, power_state)` is a constant
# and `FLD(VM, power_stat)` fails the build.  With DM_FIELDS_TABLE defined
# the header also gives dm_fields_table[], each constant beside its names,
# for the unit test that checks the two numberings agree.  A class whose
# fields array stands inside #ifdef CONFIG_... / #else / #endif in model.c
# has its table rows inside the same condition, so the table lists the
# classes the build has.

function flush_class(decl,    name, arr) {
	if (!match(decl, /"[^"]*"/))
		return
	name = substr(decl, RSTART + 1, RLENGTH - 2)
	if (!match(decl, /[A-Za-z0-9_]+_fields/))
		return
	arr = substr(decl, RSTART, RLENGTH)
	cls[arr] = name
	order[nclasses++] = arr
}

# preprocessor conditions around the arrays (one level is all model.c uses)
/^#ifdef CONFIG_[A-Za-z0-9_]+/ { cond = "defined(" $2 ")"; next }
/^#ifndef CONFIG_[A-Za-z0-9_]+/ { cond = "!defined(" $2 ")"; next }
/^#else/ { if (cond != "") cond = "!(" cond ")"; next }
/^#endif/ { cond = ""; next }

/^static struct dm_field [A-Za-z0-9_]+\[\] = \{/ {
	arr = $4
	sub(/\[\]$/, "", arr)
	nf[arr] = 0
	acond[arr] = cond
	infields = $0 !~ /END/
	next
}

infields && /^[ \t]*END/ { infields = 0; next }

# comments and blank lines between fields
infields && incomment { if ($0 ~ /\*\//) incomment = 0; next }
infields && /^[ \t]*\/\*/ { if ($0 !~ /\*\//) incomment = 1; next }
infields && /^[ \t]*$/ { next }

infields {
	if (!match($0, /"[^"]*"/)) {
		printf("gen-fields: %s:%d: cannot read a field here\n", FILENAME, FNR) > "/dev/stderr"
		bad = 1
		exit 1
	}
	field[arr, nf[arr]++] = substr($0, RSTART + 1, RLENGTH - 2)
	next
}

/^static struct dm_class c_/ { decl = ""; inclass = 1 }
inclass {
	decl = decl " " $0
	if ($0 ~ /;/) {
		inclass = 0
		flush_class(decl)
	}
}

END {
	if (bad)
		exit 1
	print "/* Generated from src/api/model.c by support/gen-fields.awk: do not edit. */"
	print "#ifndef XB_DM_FIELDS_H"
	print "#define XB_DM_FIELDS_H"
	print ""
	print "enum dm_field_const {"
	for (i = 0; i < nclasses; i++) {
		a = order[i]
		for (j = 0; j < nf[a]; j++)
			printf("\tDMF_%s__%s = %d,\n", cls[a], field[a, j], j)
	}
	print "};"
	print ""
	print "/* FLD(VM, power_state): the index of VM.power_state, a constant. */"
	print "#define FLD(cls, name) DMF_##cls##__##name"
	print ""
	print "#ifdef DM_FIELDS_TABLE"
	print "static const struct { const char *cls, *field; int idx; } dm_fields_table[] = {"
	for (i = 0; i < nclasses; i++) {
		a = order[i]
		if (acond[a] != "")
			printf("#if %s\n", acond[a])
		for (j = 0; j < nf[a]; j++)
			printf("\t{ \"%s\", \"%s\", DMF_%s__%s },\n", cls[a], field[a, j], cls[a], field[a, j])
		if (acond[a] != "")
			print "#endif"
	}
	print "};"
	print "#endif"
	print ""
	print "#endif"
}
