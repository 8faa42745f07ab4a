#!/usr/bin/env bats
# A full disk: osd.5 lives on a 64 MiB ext4 file system of its own (a
# loop device this file makes and removes).  Filling the cluster fills it
# first: the OSD says so in one log line, keeps serving, health names it,
# puts go on (its shards are written degraded) and every file reads back;
# once files are removed it takes shards again.  Then the MDS's folder
# moves to a 6 MiB file system and fills up with metadata.

load helpers

# Needs root for the loop device and the mount.
have_loop() {
	[ "$(id -u)" = 0 ] && command -v losetup >/dev/null &&
		command -v mkfs.ext4 >/dev/null && [ -e /dev/loop-control ]
}

setup_file() {
	have_loop || skip "needs root, losetup and mkfs.ext4 for a small disk"
	# Small segments, so that a 64 MiB disk holds several.
	cluster_start --set osd_segment_size=8M
	vc stop-osd 5
	truncate -s 64M "$VC_DIR/small.img"
	# -m 0: no blocks reserved for root, so the OSD can fill all of it.
	mkfs.ext4 -q -F -m 0 "$VC_DIR/small.img"
	mv "$VC_DIR/osd.5" "$VC_DIR/osd.5.old"
	mkdir "$VC_DIR/osd.5"
	losetup -f --show "$VC_DIR/small.img" >"$VC_DIR/loopdev"
	mount "$(cat "$VC_DIR/loopdev")" "$VC_DIR/osd.5"
	cp -a "$VC_DIR/osd.5.old/." "$VC_DIR/osd.5/"
	rm -rf "$VC_DIR/osd.5.old"
	vc restart-osd 5
}

teardown_file() {
	[ -n "${VC_DIR:-}" ] || return 0
	# Daemons first (they hold files on the small disk), then the mount
	# and the loop device this file made, then the folder.
	"$VCLUSTER" stop --dir "$VC_DIR" >/dev/null 2>&1
	if mountpoint -q "$VC_DIR/osd.5"; then umount "$VC_DIR/osd.5"; fi
	if mountpoint -q "$VC_DIR/mds"; then umount "$VC_DIR/mds"; fi
	for f in "$VC_DIR/loopdev" "$VC_DIR/loopdev.mds"; do
		if [ -s "$f" ]; then losetup -d "$(cat "$f")" 2>/dev/null; fi
	done
	cluster_stop
}

# osd_flag ID KEY: "true" or "false", KEY of osd.ID in status --json.
osd_flag() {
	ctl status --json | grep -o "{\"id\": $1, [^}]*}" |
		sed -n "s/.*\"$2\": \([a-z]*\).*/\1/p"
}

osd5_full() { [ "$(osd_flag 5 full)" = true ]; }
osd5_not_full() { [ "$(osd_flag 5 full)" = false ]; }
healthy() { [ "$(health)" = HEALTH_OK ]; }

@test "a disk fills up: one log line, health names the OSD, puts go on, every file reads back" {
	local n=0
	# 6 hosts for 4+2: every object has a shard on osd.5, 2 MiB of each
	# 8 MiB file.  40 files are 80 MiB there: more than its disk.
	for i in $(seq 40); do
		make_file "$WORK/f$i" 8388608
		run timeout 60 "$BIN/storectl" put "$WORK/f$i" "/f$i"
		[ "$status" -eq 0 ] || { echo "put $i: $output"; false; }
		n=$i
		osd5_full && break
	done
	echo "osd.5 full after $n files"
	wait_for 10 osd5_full
	# Past the point where it filled, puts still go through.
	for i in $(seq $((n + 1)) $((n + 3))); do
		make_file "$WORK/f$i" 8388608
		ctl put "$WORK/f$i" "/f$i"
	done
	n=$((n + 3))
	echo "$n" >"$WORK/nfiles"
	# The daemon is alive and said it once per time it ran out.
	kill -0 "$(cat "$VC_DIR/run/osd.5.pid")"
	full_lines=$(grep -c "disk full: cannot allocate" "$VC_DIR/log/osd.5.log")
	again_lines=$(grep -c "available again" "$VC_DIR/log/osd.5.log" || true)
	echo "disk-full lines: $full_lines, space-again lines: $again_lines"
	[ "$full_lines" -ge 1 ]
	[ "$full_lines" -le $((again_lines + 1)) ]
	# Health is an error that names the OSD; osd df shows it.
	[ "$(health)" = HEALTH_ERR ]
	ctl status | grep -q "osd full (osd.5)"
	ctl osd df | grep -Eq '^5 .* up,full +host-5$'
	[ "$(osd_flag 0 full)" = false ]
	# Every file reads back identical, the ones written since too.
	for i in $(seq "$n"); do
		rm -f "$WORK/back"
		run ctl get "/f$i" "$WORK/back"
		[ "$status" -eq 0 ] || { echo "get $i: $output"; false; }
		[ "$(sha "$WORK/f$i")" = "$(sha "$WORK/back")" ]
	done
}

@test "files removed: the full OSD takes shards again and health recovers" {
	n=$(cat "$WORK/nfiles")
	for i in $(seq 3 "$n"); do ctl rm "/f$i"; done
	# The MDS deletes their shards; the OSD compacts its log and gets
	# room for a new segment.
	wait_for 90 osd5_not_full || { tail -5 "$VC_DIR/log/osd.5.log"; false; }
	grep -q "space for new shards is available again" "$VC_DIR/log/osd.5.log"
	# The files that stayed are rebuilt whole (osd.5 gets its shards);
	# then health is OK.
	ctl scrub >/dev/null
	wait_for 90 healthy || { ctl status; false; }
	make_file "$WORK/after" 4194304
	ctl put "$WORK/after" /after
	for f in f1 f2 after; do
		rm -f "$WORK/back"
		ctl get "/$f" "$WORK/back"
		[ "$(sha "$WORK/$f")" = "$(sha "$WORK/back")" ]
	done
}

@test "the MDS's disk fills up: one log line, a clear error, reads go on; space freed, changes again" {
	# The MDS moves to a 6 MiB file system of its own, with 1 MiB of
	# ballast to free later.
	"$VCLUSTER" stop --dir "$VC_DIR" >/dev/null
	truncate -s 6M "$VC_DIR/mds.img"
	mkfs.ext4 -q -F -m 0 "$VC_DIR/mds.img"
	mv "$VC_DIR/mds" "$VC_DIR/mds.old"
	mkdir "$VC_DIR/mds"
	losetup -f --show "$VC_DIR/mds.img" >"$VC_DIR/loopdev.mds"
	mount "$(cat "$VC_DIR/loopdev.mds")" "$VC_DIR/mds"
	cp -a "$VC_DIR/mds.old/." "$VC_DIR/mds/"
	rm -rf "$VC_DIR/mds.old"
	head -c 1M /dev/zero >"$VC_DIR/mds/ballast"
	vc start >/dev/null
	make_file "$WORK/keep" 3000000
	ctl put "$WORK/keep" /keep
	# 20,000 empty files: more metadata than the disk holds.
	mkdir -p "$WORK/many"
	for d in $(seq 40); do
		mkdir "$WORK/many/d$d"
		(cd "$WORK/many/d$d" && touch $(seq -f "e%g" 500))
	done
	run timeout 120 "$BIN/storectl" put -r "$WORK/many" /many
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ]
	echo "$output"
	# One error from the MDS, then where the copy stopped: not one line
	# per file that could not fit.
	echo "$output" | grep -q "No space left on device"
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[1]}" | grep -q "no room for more: stopped copying after"
	kill -0 "$(cat "$VC_DIR/run/mds.pid")"
	[ "$(grep -c "the MDS's disk is full" "$VC_DIR/log/mds.log")" -eq 1 ]
	# Reads go on; health says why it is not OK.
	ctl ls / | grep -q keep
	rm -f "$WORK/back"
	ctl get /keep "$WORK/back"
	[ "$(sha "$WORK/keep")" = "$(sha "$WORK/back")" ]
	[ "$(health)" = HEALTH_ERR ]
	ctl status | grep -q "the MDS's disk is full"
	# Space freed: the next change commits, and health forgets it.
	rm -f "$VC_DIR/mds/ballast"
	ctl mkdir /after-full
	grep -q "the MDS's disk has room again" "$VC_DIR/log/mds.log"
	wait_for 30 healthy || { ctl status; false; }
}
