# crash.bash -- crash rounds for 33_crash.bats (a few rounds) and
# long/33_crash_long.bats (50): kill -9 the writer, an OSD or the MDS at a
# random moment while files are being overwritten, then check that every
# file is byte for byte its old or its new content, and its new one if the
# write was acknowledged.  Needs helpers.bash's cluster.

CRASH_FILES="1 2 3 4"

# crash_setup: two contents of each file (A and B) and the files at A.
crash_setup() {
	mkdir -p "$WORK/A" "$WORK/B"
	ctl mkdir -p /c
	local sizes=(0 9437184 100001 31457280 4194304) k
	for k in $CRASH_FILES; do
		make_file "$WORK/A/f$k" "${sizes[$k]}"
		make_file "$WORK/B/f$k" "${sizes[$k]}"
		ctl put "$WORK/A/f$k" "/c/f$k"
	done
}

# crash_writer SIDE: overwrite every file with its SIDE content, logging
# each acknowledged write (3>&-: bats must not wait for it).
crash_writer() {
	local side=$1 k
	for k in $CRASH_FILES; do
		"$BIN/storectl" put "$WORK/$side/f$k" "/c/f$k" 2>>"$WORK/writer.err" &&
			echo "$k" >>"$WORK/acked"
	done
}

# crash_check SIDE: every file is A or B; acknowledged ones are SIDE.
crash_check() {
	local side=$1 k got a b
	for k in $CRASH_FILES; do
		rm -f "$WORK/check"
		ctl get "/c/f$k" "$WORK/check" || { echo "round $ROUND: f$k unreadable"; return 1; }
		got=$(sha "$WORK/check")
		a=$(sha "$WORK/A/f$k")
		b=$(sha "$WORK/B/f$k")
		if [ "$got" != "$a" ] && [ "$got" != "$b" ]; then
			echo "round $ROUND: f$k is neither its old nor its new content"
			return 1
		fi
		if grep -qx "$k" "$WORK/acked" && [ "$got" != "$(sha "$WORK/$side/f$k")" ]; then
			echo "round $ROUND: f$k was acknowledged but reads its old content"
			return 1
		fi
	done
}

# crash_rounds N: N rounds, the victim chosen in turn (writer, OSD, MDS),
# killed after a random delay.
crash_rounds() {
	local n=$1 side=A victim wpid osd delay
	for ROUND in $(seq "$n"); do
		[ $side = A ] && side=B || side=A
		: >"$WORK/acked"
		case $((ROUND % 3)) in
		0) victim=writer ;;
		1) victim=osd ;;
		2) victim=mds ;;
		esac
		crash_writer "$side" 3>&- &
		wpid=$!
		delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r % 150 / 100 }')
		sleep "$delay"
		case $victim in
		writer)
			# Kill the storectl doing the work (and the loop).
			pkill -KILL -P "$wpid" 2>/dev/null || true
			kill -KILL "$wpid" 2>/dev/null || true
			;;
		osd)
			osd=$((RANDOM % 6))
			vc kill-osd "$osd" >/dev/null 2>&1 || true
			;;
		mds)
			kill -KILL "$(cat "$VC_DIR/run/mds.pid")" || true
			sleep 0.5
			vc restart-mds >/dev/null 2>&1
			;;
		esac
		wait "$wpid" 2>/dev/null || true
		if [ $victim = osd ]; then vc restart-osd "$osd" >/dev/null 2>&1; fi
		crash_check "$side" || return 1
	done
}

# crash_gc_check: once every OSD is up and the cluster settled, collect
# garbage now and check that the OSDs hold exactly the shards the MDS
# references: objects x (k + m), nothing more.
crash_gc_check() {
	local objects shards
	wait_for 120 health_ok_now
	ctl scrub --gc-now --json >"$WORK/gc.json"
	cat "$WORK/gc.json"
	[ "$(jq .unrepairable "$WORK/gc.json")" -eq 0 ]
	run_quiet_check() {
		ctl scrub --json >"$WORK/gc2.json"
		[ "$(jq .stale "$WORK/gc2.json")" -eq 0 ] || return 1
		objects=$(ctl status --json | jq .objects.total)
		shards=$(ctl status --json | jq '[.osd_stats[].shards] | add')
		[ "$shards" -eq $((objects * 6)) ]
	}
	# The OSDs report their shard counts with their heartbeats.
	wait_for 30 run_quiet_check || {
		echo "after GC: $(jq -c . "$WORK/gc2.json"); objects $objects, shards $shards"
		return 1
	}
}

health_ok_now() { [ "$(health)" = HEALTH_OK ]; }
