#!/bin/sh
# Run each cmocka test binary; print its output and one summary line
# "unit: N passed, N failed" counting test cases over all binaries, after
# a list of the failed cases (a log's tail then names them).
passed=0 failed=0 crashed=0 names=
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
	for n in $(printf '%s\n' "$out" | sed -n 's/^\[  \(FAILED\|ERROR\) *\] \([A-Za-z_0-9]*\)$/\2/p' | sort -u); do
		names="$names $(basename "$t"):$n"
	done
	if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
		echo "$(basename "$t"): exited $rc without a cmocka summary" >&2
		crashed=$((crashed + 1)) failed=$((failed + 1))
		names="$names $(basename "$t"):(crashed)"
	fi
done
[ -n "$names" ] && echo "unit: failed:$names"
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
