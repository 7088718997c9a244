#!/bin/sh
# run-fuzz.sh SECONDS BIN...: each libFuzzer target for SECONDS, seeded from
# tests/fuzz/corpus/<target>/ (kept read-only; new inputs go to a temp dir).
secs=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0
for f in "$@"; do
	name=$(basename "$f")
	work=$(mktemp -d)
	seeds="$top/tests/fuzz/corpus/$name"
	[ -d "$seeds" ] || seeds=
	if "$f" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 \
		-artifact_prefix="$work/" "$work" $seeds >"$work/log" 2>&1; then
		echo "fuzz $name: ok ($(grep -c . "$work/log") log lines, $(tail -1 "$work/log"))"
		passed=$((passed + 1))
	else
		echo "fuzz $name: FAILED"; tail -40 "$work/log"
		keep=${FUZZ_ARTIFACTS:-$top/output/fuzz-artifacts}
		mkdir -p "$keep"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$a" ] && cp "$a" "$keep/$name-$(basename "$a")" &&
				echo "kept $keep/$name-$(basename "$a")"
		done
		failed=$((failed + 1))
	fi
	rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
