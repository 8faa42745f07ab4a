#!/usr/bin/env bats
# Data round trips through a 6-OSD 4+2 cluster: put, get and cat compared
# by sha256, overwrites, and a tree of 1,000 files in folders.

load helpers

setup_file() { cluster_start; }
teardown_file() { cluster_stop; }

@test "put/get round trip of files of every interesting size" {
	for size in 0 1 4095 65536 65537 4194303 4194304 4194305 8388607 8392703 \
		104857600; do
		make_file "$WORK/in.$size" "$size"
		run ctl put "$WORK/in.$size" "/f.$size"
		[ "$status" -eq 0 ] || { echo "put $size: $output"; false; }
		run ctl get "/f.$size" "$WORK/out.$size"
		[ "$status" -eq 0 ] || { echo "get $size: $output"; false; }
		[ "$(stat -c %s "$WORK/out.$size")" -eq "$size" ]
		[ "$(sha "$WORK/in.$size")" = "$(sha "$WORK/out.$size")" ]
	done
}

@test "cat writes the file to stdout" {
	make_file "$WORK/c" 300000
	ctl put "$WORK/c" /c
	[ "$(ctl cat /c | sha256sum | cut -d' ' -f1)" = "$(sha "$WORK/c")" ]
}

@test "get into a FIFO or a device writes into it and leaves it in place" {
	make_file "$WORK/d" 5000000
	ctl put "$WORK/d" /d
	mkfifo "$WORK/fifo"
	# (timeout: a get that replaced the FIFO would leave this reader
	# blocked in open() for ever)
	timeout 30 sh -c 'sha256sum <"$1" | cut -d" " -f1' _ "$WORK/fifo" \
		>"$WORK/fifo.sha" &
	local reader=$!
	run ctl get /d "$WORK/fifo"
	# A get that failed before opening the FIFO must not leave the
	# reader blocked in open().
	[ "$status" -eq 0 ] || : >"$WORK/fifo"
	wait "$reader" || true
	[ "$status" -eq 0 ] || { echo "get into a FIFO: $output"; false; }
	[ -p "$WORK/fifo" ]
	[ "$(cat "$WORK/fifo.sha")" = "$(sha "$WORK/d")" ]
	# A null device of the test's own (root only): `get X /dev/null`
	# must not rename a regular file over the device node.
	if mknod "$WORK/null" c 1 3 2>/dev/null; then
		run ctl get /d "$WORK/null"
		[ "$status" -eq 0 ] || { echo "get into a device: $output"; false; }
		[ -c "$WORK/null" ]
		[ -z "$(ls "$WORK" | grep storectl- || true)" ]
	fi
}

@test "a get whose writes fail says so, stops and leaves nothing behind" {
	make_file "$WORK/w" 20000000
	ctl put "$WORK/w" /w
	make_file "$WORK/w1" 100000
	ctl put "$WORK/w1" /w1
	# One chunk or many (the many go through the writer thread): the
	# first write fails, the get ends with the reason, within seconds.
	for f in /w /w1; do
		run timeout 30 "$BIN/storectl" get "$f" /dev/full
		[ "$status" -eq 1 ] || { echo "get $f /dev/full: $status $output"; false; }
		echo "$output" | grep -q "cannot write /dev/full: No space left on device"
	done
	# A disk that fills up in the middle of the file (root only: a
	# 6 MiB tmpfs of the test's own): the temporary file is removed.
	mkdir "$WORK/tiny"
	if mount -t tmpfs -o size=6m tmpfs "$WORK/tiny" 2>/dev/null; then
		run timeout 30 "$BIN/storectl" get /w "$WORK/tiny/w"
		local left
		left=$(ls -A "$WORK/tiny")
		umount "$WORK/tiny"
		[ "$status" -eq 1 ] || { echo "get into a full tmpfs: $status $output"; false; }
		echo "$output" | grep -q "No space left on device"
		[ -z "$left" ] || { echo "left behind: $left"; false; }
	fi
}

@test "an overwrite replaces the content, larger and smaller" {
	make_file "$WORK/o1" 9000000
	make_file "$WORK/o2" 5000
	make_file "$WORK/o3" 13000000
	ctl put "$WORK/o1" /o
	ctl put "$WORK/o2" /o
	ctl get /o "$WORK/o2.back"
	[ "$(sha "$WORK/o2")" = "$(sha "$WORK/o2.back")" ]
	ctl put "$WORK/o3" /o
	ctl get /o "$WORK/o3.back"
	[ "$(sha "$WORK/o3")" = "$(sha "$WORK/o3.back")" ]
}

@test "put into an existing folder keeps the file name" {
	make_file "$WORK/named.bin" 1234
	ctl mkdir /into
	ctl put "$WORK/named.bin" /into
	ctl get /into/named.bin "$WORK/named.back"
	[ "$(sha "$WORK/named.bin")" = "$(sha "$WORK/named.back")" ]
	mkdir -p "$WORK/outdir"
	ctl get /into/named.bin "$WORK/outdir"
	[ -f "$WORK/outdir/named.bin" ]
}

@test "a tree of 1,000 files in folders round-trips with put -r and get -r" {
	src=$WORK/tree
	for d in $(seq 0 19); do
		mkdir -p "$src/d$d/sub$((d % 3))"
		for f in $(seq 0 49); do
			if [ $((f % 2)) = 0 ]; then p="$src/d$d/f$f"; else p="$src/d$d/sub$((d % 3))/f$f"; fi
			head -c $(( (d * 50 + f) * 97 % 70000 )) /dev/urandom >"$p"
		done
	done
	[ "$(find "$src" -type f | wc -l)" -eq 1000 ]
	run ctl put -r "$src" /tree
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run ctl get -r /tree "$WORK/tree.back"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	diff -r "$src" "$WORK/tree.back"
	[ "$(find "$WORK/tree.back" -type f | wc -l)" -eq 1000 ]
}

@test "status reports a healthy cluster and counts objects" {
	[ "$(health)" = "HEALTH_OK" ]
	[ "$(status_field total)" -ge 6 ]
	ctl status | grep -q "HEALTH_OK"
	# df: the raw disks, and what files can take after 4+2 parity
	# (2/3 of raw, bounded by the disks' free space).
	run ctl df
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	raw=$(echo "$output" | awk '$1 == "raw"')
	usable=$(echo "$output" | awk '$1 == "usable" && $2 == "4+2"')
	[ -n "$raw" ] && [ -n "$usable" ] || { echo "$output"; false; }
	ctl osd tree | grep -q "osd.5"
	ctl osd df | grep -q TOTAL
	# All the OSDs of a vcluster keep their data on one file system: the
	# cluster's raw size is that disk once, not once per OSD (each
	# heartbeat names its file system; the MDS counts each one once).
	local disk
	disk=$(df -B1 --output=size "$VC_DIR/osd.0" | tail -1 | tr -d ' ')
	wait_for 10 bytes_total_is "$disk" ||
		{ echo "disk $disk"; ctl status --json; false; }
}

# bytes_total_is N: status --json reports N raw bytes in all.
bytes_total_is() {
	[ "$(ctl status --json |
		sed -n 's/.*"bytes": {"total": \([0-9]*\).*/\1/p')" = "$1" ]
}
