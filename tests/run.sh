#!/bin/bash
# tests/run.sh -- run every test suite against one build tree and print one
# summary line at the end.  Called by `make test` (and `make test-long` with
# --long); the exit status is non-zero if anything failed.
#
#   STORE_BUILD   build tree to test (build/ or build/san/)
#   FUZZ_SECONDS  seconds per fuzz target (30; 60 with --long)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${STORE_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
LONG=0
ONLY_LONG=0
[ "${1:-}" = "--long" ] && LONG=1
# --long-only: what --long adds to a plain run (60 s fuzzing, the slow
# cluster tests), for CI after `make test`.
[ "${1:-}" = "--long-only" ] && LONG=1 ONLY_LONG=1
FUZZ_SECONDS=${FUZZ_SECONDS:-$([ $LONG = 1 ] && echo 60 || echo 30)}
export STORE_BUILD="$BUILD" STORE_BIN="$BUILD/bin" STORE_ROOT="$ROOT"

declare -A pass fail
failed_names=()
note() { printf '== %s\n' "$*"; }
record() { # suite name status
	if [ "$3" = 0 ]; then pass[$1]=$((${pass[$1]:-0} + 1))
	else fail[$1]=$((${fail[$1]:-0} + 1)); failed_names+=("$1:$2"); fi
}

# Unit tests: each cmocka binary is one suite of cases.
note "unit tests"
[ $ONLY_LONG = 1 ] && echo "   (skipped: --long-only)"
for t in "$BUILD"/tests/test_*; do
	[ $ONLY_LONG = 1 ] && break
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if out=$("$t" 2>&1); then
		record unit "$name" 0
		printf '   ok   %s (%s)\n' "$name" "$(grep -c '\[       OK \]' <<<"$out") cases"
	else
		record unit "$name" 1
		printf '   FAIL %s\n' "$name"
		printf '%s\n' "$out" | sed 's/^/        /' | tail -40
	fi
done

# Fuzz targets: random bytes into every decoder, in parallel, from the seed
# corpus under tests/fuzz/corpus/NAME/ (crashes fixed stay there).
note "fuzz targets (${FUZZ_SECONDS}s each)"
fuzzdir=$(mktemp -d /tmp/store-fuzz.XXXXXX)
pids=()
names=()
for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mkdir -p "$fuzzdir/$name"
	corpus=()
	[ -d "$ROOT/tests/fuzz/corpus/$name" ] && corpus=("$ROOT/tests/fuzz/corpus/$name")
	( cd "$fuzzdir/$name" && ASAN_OPTIONS=detect_leaks=1 \
		"$f" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
		-rss_limit_mb=2048 -print_final_stats=1 "$fuzzdir/$name" \
		"${corpus[@]}" >"$fuzzdir/$name.log" 2>&1 ) &
	pids+=($!)
	names+=("$name")
done
for i in "${!pids[@]}"; do
	name=${names[$i]}
	wait "${pids[$i]}"
	rc=$?
	if [ "$rc" = 0 ]; then
		record fuzz "$name" 0
		printf '   ok   %s (%s runs)\n' "$name" \
			"$(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzzdir/$name.log")"
	else
		record fuzz "$name" 1
		printf '   FAIL %s (exit %s)\n' "$name" "$rc"
		grep -E 'ERROR|SUMMARY|crash-|==[0-9]+==' "$fuzzdir/$name.log" | head -20 | sed 's/^/        /'
		tail -5 "$fuzzdir/$name.log" | sed 's/^/        /'
		cp "$fuzzdir/$name"/../crash-* "$ROOT/" 2>/dev/null
		find "$fuzzdir" -maxdepth 2 -name 'crash-*' -exec cp {} "$ROOT/" \;
	fi
done
rm -rf "$fuzzdir"

# Cluster tests: bats files under tests/cluster/ (and tests/cluster/long/
# with --long).  Each test case counts.
bats_files=(tests/cluster/*.bats)
[ $ONLY_LONG = 1 ] && bats_files=()
[ $LONG = 1 ] && bats_files+=(tests/cluster/long/*.bats)
# Each file's daemon logs are kept (helpers.bash cluster_stop) until the
# file has run; when one of its cases failed, the lines that say why are
# printed: sanitizer reports, crashes, and each log's last lines.
logdir=$(mktemp -d /tmp/store-test-logs.XXXXXX)
export STORE_TEST_LOGS="$logdir"
show_logs() { # bats file
	local f
	for f in "$logdir/$(basename "$1" .bats)".*/*.log; do
		[ -s "$f" ] || continue
		printf '   -- %s\n' "${f#"$logdir"/}"
		grep -n -A12 -E 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: (Address|Undefined)' "$f" |
			head -40 | sed 's/^/      /'
		tail -8 "$f" | sed 's/^/      /'
	done
}
for b in "${bats_files[@]}"; do
	[ -f "$b" ] || continue
	note "cluster: $b"
	out=$(bats --tap "$b" 2>&1)
	printf '%s\n' "$out" | sed 's/^/   /'
	grep -q '^not ok ' <<<"$out" && show_logs "$b"
	rm -rf "${logdir:?}/$(basename "$b" .bats)".*
	while read -r line; do
		case "$line" in
		"ok "*) record cluster "$b" 0 ;;
		"not ok "*) record cluster "$b: ${line#not ok }" 1 ;;
		esac
	done <<<"$out"
done

rm -rf "$logdir"

total_fail=0
summary="SUMMARY:"
for s in unit fuzz cluster; do
	p=${pass[$s]:-0}
	f=${fail[$s]:-0}
	total_fail=$((total_fail + f))
	summary+=" $s $p/$((p + f)) passed;"
done
if [ $total_fail = 0 ]; then
	echo "$summary ALL PASSED"
	exit 0
fi
echo "failed:"
printf '  %s\n' "${failed_names[@]}"
echo "$summary $total_fail FAILED"
exit 1
