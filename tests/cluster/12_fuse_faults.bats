#!/usr/bin/env bats
# Faults under a mount: an OSD killed during a big copy, the client killed
# after an fsync, the MDS restarted while files are in use.

load helpers

setup_file() { cluster_start_mounted; }
teardown_file() { cluster_stop_mounted; }
setup() { need_mount; }

@test "kill one OSD during a 500 MiB copy into the mount: the copy completes intact" {
	make_file "$WORK/500m" $((500 << 20))
	cp "$WORK/500m" "$MNT/500m" 3>&- &
	cp_pid=$!
	sleep 1
	vc kill-osd 4
	wait "$cp_pid"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(sha "$WORK/500m")" = "$(sha "$MNT/500m")" ]
	# And from a fresh mount, not this one's caches.
	mount2
	[ "$(sha "$WORK/500m")" = "$(sha "$MNT2/500m")" ]
	umount2
	vc restart-osd 4
}

@test "nothing fsync acknowledged is lost when the client dies with dirty data" {
	"$BIN/fsprobe" sync-writer "$MNT/synced" 48 >"$WORK/sw.out" 2>&1 3>&- &
	w=$!
	for _ in $(seq 300); do grep -q synced "$WORK/sw.out" && break; sleep 0.1; done
	grep -q synced "$WORK/sw.out"
	sleep 0.5 # more dirty data after the fsync
	kill -9 "$(cat "$VC_DIR/run/storefs.pid")"
	kill -9 "$w" 2>/dev/null || true
	wait "$w" 2>/dev/null || true
	vc umount
	vc mount "$MNT"
	[ "$(stat -c %s "$MNT/synced")" -ge $((48 << 20)) ]
	[ "$(probe check-pattern "$MNT/synced" 48)" = ok ]
}

@test "the MDS restarted while mounted: operations wait and resume" {
	mkdir -p "$MNT/during"
	(
		for i in $(seq 1 200); do
			echo "line $i" >"$MNT/during/f$i" || exit 1
			cat "$MNT/during/f$i" >/dev/null || exit 1
			ls "$MNT/during" >/dev/null || exit 1
			sleep 0.02
		done
	) 3>&- &
	loop=$!
	sleep 1
	vc restart-mds
	wait "$loop"
	[ "$(ls "$MNT/during" | wc -l)" -eq 200 ]
	[ "$(cat "$MNT/during/f200")" = "line 200" ]
}
