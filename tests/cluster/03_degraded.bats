#!/usr/bin/env bats
# Degraded reads: with m = 2 OSDs lost every file reads back identical;
# with 3 lost a read fails with a clear error and writes no wrong bytes.

load helpers

setup_file() {
	cluster_start
	for size in 1 4095 70000 4194304 9000001 30000000; do
		make_file "$WORK/d.$size" "$size"
		ctl put "$WORK/d.$size" "/d.$size"
	done
}
teardown_file() { cluster_stop; }

@test "with two OSDs killed every file reads back identical" {
	vc kill-osd 1
	vc kill-osd 4
	for size in 1 4095 70000 4194304 9000001 30000000; do
		rm -f "$WORK/back"
		run ctl get "/d.$size" "$WORK/back"
		[ "$status" -eq 0 ] || { echo "get $size: $output"; false; }
		[ "$(sha "$WORK/d.$size")" = "$(sha "$WORK/back")" ]
	done
	# The MDS notices and reports it.
	wait_for 15 osds_up_is 4
	[ "$(health)" != "HEALTH_OK" ]
}

@test "with three OSDs killed a read fails clearly and writes nothing" {
	vc kill-osd 2
	rm -f "$WORK/lost"
	run ctl get /d.30000000 "$WORK/lost"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "cannot be read"
	echo "$output" | grep -q "osd\."
	[ ! -e "$WORK/lost" ]
	# No temporary file left behind either.
	[ -z "$(ls "$WORK" | grep storectl)" ]
	# Small (inline) files live in the MDS and still read.
	ctl get /d.4095 "$WORK/small"
	[ "$(sha "$WORK/d.4095")" = "$(sha "$WORK/small")" ]
}

@test "a write that cannot reach min_size fails with a clear error" {
	make_file "$WORK/w" 5000000
	run ctl put "$WORK/w" /w
	[ "$status" -ne 0 ]
	echo "$output" | grep -Eq "min_size|shards were stored"
}
