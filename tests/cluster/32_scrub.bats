#!/usr/bin/env bats
# Scrub: a byte flipped on disk in three shards (of three different
# objects, so each stays repairable with m = 2) is found by a deep scrub,
# exactly those three, and rewritten from the other shards; the light
# scrub, which reads no data, does not see them.

load helpers

setup_file() {
	cluster_start
	mkdir -p "$WORK/data"
	local i
	for i in $(seq 8); do make_file "$WORK/data/f$i" $((12 << 20)); done
	(cd "$WORK/data" && sha256sum f* | sort -k2) >"$WORK/sums"
	ctl put -r "$WORK/data" /data
}
teardown_file() { cluster_stop; }

# flip_shards OSD N: stop the OSD (it seals its log), flip one data byte in
# N of its shards, each of a different object, and start it again.
flip_shards() {
	local osd=$1 n=$2
	vc stop-osd "$osd"
	"$BIN/store-osd" --list "$VC_DIR/osd.$osd" >"$WORK/list.$osd"
	# pool ino objno index version len segment offset: one per object.
	awk '!seen[$2 " " $3]++' "$WORK/list.$osd" | head -"$n" >"$WORK/flip.$osd"
	[ "$(wc -l <"$WORK/flip.$osd")" -eq "$n" ]
	while read -r _ _ _ _ _ len seg off; do
		local at=$((off + len / 2)) b
		b=$(od -An -tu1 -j "$at" -N1 "$seg" | tr -d ' ')
		printf "\\$(printf '%03o' $((b ^ 0xff)))" |
			dd of="$seg" bs=1 seek="$at" conv=notrunc status=none
	done <"$WORK/flip.$osd"
	vc restart-osd "$osd"
}

@test "a light scrub of a healthy cluster finds nothing" {
	run ctl scrub --json
	[ "$status" -eq 0 ]
	[ "$(jq .objects <<<"$output")" -eq 24 ]
	[ "$(jq .shards <<<"$output")" -eq $((24 * 6)) ]
	[ "$(jq '.missing + .misplaced + .corrupt + .repaired + .unrepairable' <<<"$output")" -eq 0 ]
}

@test "three flipped bytes: deep scrub finds and repairs exactly those three" {
	flip_shards 3 3
	# The light scrub reads no data: it must not report them.
	run ctl scrub --json
	[ "$status" -eq 0 ]
	[ "$(jq .corrupt <<<"$output")" -eq 0 ]
	run ctl scrub --deep --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq .corrupt <<<"$output")" -eq 3 ]
	[ "$(jq .repaired <<<"$output")" -eq 3 ]
	[ "$(jq .unrepairable <<<"$output")" -eq 0 ]
	# The OSD logged each one.
	[ "$(grep -c 'checksum mismatch' "$VC_DIR/log/osd.3.log")" -ge 3 ]
	# Repaired for good: a second deep scrub is clean ...
	run ctl scrub --deep --json
	[ "$(jq '.corrupt + .repaired + .unrepairable' <<<"$output")" -eq 0 ]
	# ... and with every other OSD's copy unneeded, osd.3's shards read:
	# kill two others, the data must come from the repaired shards too.
	vc kill-osd 0
	vc kill-osd 5
	rm -rf "$WORK/back"
	ctl get -r /data "$WORK/back"
	(cd "$WORK/back" && sha256sum f* | sort -k2) | diff "$WORK/sums" -
	vc restart-osd 0
	vc restart-osd 5
}

@test "scrub of one file checks only that file's objects" {
	run ctl scrub --deep --json /data/f1
	[ "$status" -eq 0 ]
	[ "$(jq .files <<<"$output")" -eq 1 ]
	[ "$(jq .objects <<<"$output")" -eq 3 ]
	run ctl scrub /nonexistent
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "nonexistent"
}
