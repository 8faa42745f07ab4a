#!/usr/bin/env bats
# Recovery: 1 GiB in files of mixed sizes on a 6-OSD 4+2 cluster; one OSD
# killed, then a second: the cluster rebuilds their shards on the others,
# returns to HEALTH_OK by itself, and every file reads back identical at
# every step (m = 2: nothing may be lost).  Prints the figures of issue 5:
# time from a kill to HEALTH_OK, recovery MB/s, and a client's read
# throughput during recovery against the same read without it.

load helpers

setup_file() {
	# Out 10 s after down (default 60 s) to keep the test short.
	cluster_start --set down_out_interval=10s
	mkdir -p "$WORK/data/small" "$WORK/data/mid" "$WORK/data/big"
	local total=0 i
	# 1 GiB: 4 x 128 MiB, 40 x 8 MiB, 96 x 1 MiB, 64 small files, and
	# sizes that end inside a stripe unit.
	for i in 1 2 3 4; do make_file "$WORK/data/big/b$i" $((128 << 20)); done
	for i in $(seq 40); do make_file "$WORK/data/mid/m$i" $(((8 << 20) + i * 4097)); done
	for i in $(seq 96); do make_file "$WORK/data/mid/s$i" $((1 << 20)); done
	for i in $(seq 64); do make_file "$WORK/data/small/t$i" $((i * 1000 + 1)); done
	(cd "$WORK/data" && find . -type f -exec sha256sum {} + | sort -k2) >"$WORK/sums"
	ctl put -r "$WORK/data" /data
	# A file for the throughput figure (not part of the 1 GiB).
	make_file "$WORK/probe" $((256 << 20))
	ctl put "$WORK/probe" /probe
	wait_for 60 health_is HEALTH_OK
}
teardown_file() { cluster_stop; }

health_is() { [ "$(health)" = "$1" ]; }

# verify_all: every file of /data reads back with its original sha256.
verify_all() {
	rm -rf "$WORK/back"
	ctl get -r /data "$WORK/back"
	(cd "$WORK/back" && find . -type f -exec sha256sum {} + | sort -k2) >"$WORK/sums.back"
	diff "$WORK/sums" "$WORK/sums.back"
	rm -rf "$WORK/back"
}

# recovery_bytes: shard bytes written by recovery, summed over the OSDs.
recovery_bytes() {
	ctl status --json | jq '[.osd_stats[].recovery_bytes] | add'
}

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }
# calc EXPR: floating-point arithmetic (awk: bc may be missing).
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# get_secs: seconds one read of /probe takes.
get_secs() {
	local t0 t1
	t0=$(now)
	ctl get /probe "$WORK/probe.back"
	t1=$(now)
	cmp "$WORK/probe" "$WORK/probe.back"
	rm -f "$WORK/probe.back"
	calc "$t1 - $t0"
}

in_is() { [ "$(ctl status --json | jq .osds.in)" = "$1" ]; }

# kill_and_recover ID OSDS_LEFT: kill osd.ID; reads go on while it is
# down; once it is out, read during recovery; wait for HEALTH_OK, check
# and print the figures.
kill_and_recover() {
	local id=$1 left=$2 t_kill t_out t_ok b0 b1 quiet busy secs
	quiet=$(get_secs)
	b0=$(recovery_bytes)
	t_kill=$(now)
	vc kill-osd "$id"
	wait_for 30 osds_up_is "$left"
	wait_for 60 in_is "$left"
	t_out=$(now)
	busy=$(get_secs)
	wait_for 300 health_is HEALTH_OK
	t_ok=$(now)
	b1=$(recovery_bytes)
	secs=$(calc "$t_ok - $t_kill")
	printf '# osd.%s killed: HEALTH_OK after %s s (5 s grace + 10 s to out + recovery); recovery wrote %d MiB of shards in %s s from out to OK: %s MB/s\n' \
		"$id" "$secs" $(((b1 - b0) >> 20)) "$(calc "$t_ok - $t_out")" \
		"$(calc "($b1 - $b0) / ($t_ok - $t_out) / 1000000")" >&3
	printf '# 256 MiB get: %s s quiet, %s s during recovery: throughput ratio %s\n' \
		"$quiet" "$busy" "$(calc "$quiet / $busy")" >&3
	[ "$(ctl status --json | jq .objects.degraded)" = 0 ]
	[ "$(ctl status --json | jq .objects.unfound)" = 0 ]
}

@test "1 GiB: kill one OSD, HEALTH_OK again by itself, every file identical" {
	verify_all
	kill_and_recover 2 5
	verify_all
}

@test "then kill a second OSD: HEALTH_OK again, every file still identical" {
	kill_and_recover 4 4
	verify_all
	# Everything was rebuilt on the 4 left: no object lacks a shard.
	ctl scrub | tee "$WORK/scrub.out"
	grep -q "unrepairable: 0 objects" "$WORK/scrub.out"
}
