#!/usr/bin/env bats
# Growing: a 7th OSD joins a 6-OSD 4+2 cluster holding 1 GiB while a
# reader loops over the data.  No read fails; the new OSD receives about
# its weight's share (w_new / w_total) of the shards, and all the shards
# that moved are at most 1.25x that ideal (both printed).

load helpers

setup_file() {
	cluster_start
	mkdir -p "$WORK/data"
	local i
	for i in $(seq 16); do make_file "$WORK/data/f$i" $((64 << 20)); done
	(cd "$WORK/data" && sha256sum f* | sort -k2) >"$WORK/sums"
	ctl put -r "$WORK/data" /data
	wait_for 60 health_is HEALTH_OK
}
teardown_file() {
	[ -f "$VC_DIR/reader.pid" ] && kill "$(cat "$VC_DIR/reader.pid")" 2>/dev/null
	cluster_stop
}

health_is() { [ "$(health)" = "$1" ]; }
osd_json() { ctl status --json; }
reads_at_least() { [ "$(wc -l <"$WORK/reads")" -ge "$1" ]; }
shards_are() { [ "$(osd_json | jq '[.osd_stats[].shards] | add')" -eq "$1" ]; }

@test "a 7th OSD joins under a reader: no read error, about its share moves" {
	# Counters before: shards held, and shards written by recovery.
	# (the OSDs report their counts with their heartbeats)
	wait_for 30 shards_are $((16 * 16 * 6))
	osd_json >"$WORK/before.json"
	shards=$(jq '[.osd_stats[].shards] | add' "$WORK/before.json")
	moved0=$(jq '[.osd_stats[] | .shards_moved + .shards_recovered] | add' "$WORK/before.json")

	# The reader: every file, in turn, until stopped; a bad read is logged.
	(
		while :; do
			for i in $(seq 16); do
				if ! ctl get "/data/f$i" "$WORK/r.$i" 2>>"$WORK/reader.err"; then
					echo "read f$i failed" >>"$WORK/reader.err"
				elif [ "$(sha256sum <"$WORK/r.$i" | cut -d' ' -f1)" != \
				       "$(awk -v f="f$i" '$2 == f { print $1 }' "$WORK/sums")" ]; then
					echo "f$i: wrong bytes" >>"$WORK/reader.err"
				fi
				rm -f "$WORK/r.$i"
				echo x >>"$WORK/reads"
			done
		done
	) 3>&- &
	echo $! >"$VC_DIR/reader.pid"
	sleep 2

	vc add-osd
	wait_for 30 osds_up_is 7
	wait_for 300 health_is HEALTH_OK
	# One more full pass of the reader over the settled data.
	settled=$(wc -l <"$WORK/reads")
	wait_for 120 reads_at_least $((settled + 16))
	kill "$(cat "$VC_DIR/reader.pid")"
	rm -f "$VC_DIR/reader.pid"
	sleep 1
	echo "# the reader read $(wc -l <"$WORK/reads") files meanwhile" >&3
	if [ -s "$WORK/reader.err" ]; then cat "$WORK/reader.err"; false; fi

	osd_json >"$WORK/after.json"
	new_shards=$(jq '.osd_stats[] | select(.id == 6) | .shards' "$WORK/after.json")
	total=$(jq '[.osd_stats[].shards] | add' "$WORK/after.json")
	moved1=$(jq '[.osd_stats[] | .shards_moved + .shards_recovered] | add' "$WORK/after.json")
	# Nothing lost, nothing duplicated (once every count is reported).
	wait_for 30 shards_are "$shards"
	ideal=$(awk 'BEGIN { printf "%.4f", 1 / 7 }')
	to_new=$(awk -v a="$new_shards" -v b="$shards" 'BEGIN { printf "%.4f", a / b }')
	moved=$(awk -v a="$((moved1 - moved0))" -v b="$shards" 'BEGIN { printf "%.4f", a / b }')
	printf '# 7th OSD: %d of %d shards now on it: %s of all (ideal w_new/w_total = %s, %.2fx); all shards moved: %s (%.2fx ideal)\n' \
		"$new_shards" "$shards" "$to_new" "$ideal" \
		"$(awk -v a="$to_new" -v b="$ideal" 'BEGIN { print a / b }')" "$moved" \
		"$(awk -v a="$moved" -v b="$ideal" 'BEGIN { print a / b }')" >&3
	# The new OSD gets its share: within 0.75x .. 1.25x of the ideal ...
	awk -v a="$to_new" -v b="$ideal" 'BEGIN { exit !(a <= 1.25 * b && a >= 0.75 * b) }'
	# ... and no more than 1.25x the ideal moves in all (the MDS's
	# placement overrides keep CRUSH's reshuffle on a small map from
	# moving shards between the old OSDs: docs/placement.md).
	awk -v a="$moved" -v b="$ideal" 'BEGIN { exit !(a <= 1.25 * b) }'
	# Every file still reads back identical.
	rm -rf "$WORK/back"
	ctl get -r /data "$WORK/back"
	(cd "$WORK/back" && sha256sum f* | sort -k2) | diff "$WORK/sums" -
}
