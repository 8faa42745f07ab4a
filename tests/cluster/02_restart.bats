#!/usr/bin/env bats
# Nothing acknowledged is lost across restarts of the MDS and of every OSD.

load helpers

setup_file() { cluster_start; }
teardown_file() { cluster_stop; }

@test "every file reads back identical after restarting the MDS and every OSD" {
	for size in 0 10 70000 5000000 20000000; do
		make_file "$WORK/r.$size" "$size"
		ctl put "$WORK/r.$size" "/r.$size"
	done
	ctl mkdir -p /deep/a/b
	ctl put "$WORK/r.10" /deep/a/b/x
	run vc restart-mds
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for id in 0 1 2 3 4 5; do
		run vc restart-osd "$id"
		[ "$status" -eq 0 ] || { echo "$output"; false; }
	done
	for size in 0 10 70000 5000000 20000000; do
		rm -f "$WORK/back"
		ctl get "/r.$size" "$WORK/back"
		[ "$(sha "$WORK/r.$size")" = "$(sha "$WORK/back")" ]
	done
	ctl get /deep/a/b/x "$WORK/x"
	[ "$(sha "$WORK/r.10")" = "$(sha "$WORK/x")" ]
	[ "$(health)" = "HEALTH_OK" ]
}

@test "an OSD restarted keeps its id" {
	before=$(osd_addr 3)
	vc restart-osd 3
	ctl osd tree | awk '$1 == 3 && $4 == "up"' | grep -q .
	[ "$(ctl osd tree | grep -c 'osd\.')" -eq 6 ]
	[ -n "$before" ]
}
