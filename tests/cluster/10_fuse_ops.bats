#!/usr/bin/env bats
# POSIX operations through a storefs mount, with their error cases.

load helpers

setup_file() { cluster_start_mounted; }
teardown_file() { cluster_stop_mounted; }
setup() { need_mount; }
# The background mount of its test, if the test failed before unmounting
# it (its daemon exits once unmounted).
teardown() {
	if grep -qs " $VC_DIR/mnt-bg fuse" /proc/mounts; then
		fusermount3 -u "$VC_DIR/mnt-bg" || fusermount3 -uz "$VC_DIR/mnt-bg"
	fi
}

@test "create, write, read, stat, ls" {
	echo hello >"$MNT/a.txt"
	[ "$(cat "$MNT/a.txt")" = "hello" ]
	[ "$(stat -c %s "$MNT/a.txt")" -eq 6 ]
	ls "$MNT" | grep -qx a.txt
	make_file "$WORK/big" 9000000
	cp "$WORK/big" "$MNT/big"
	cmp "$WORK/big" "$MNT/big"
}

@test "mkdir, rmdir and ENOTEMPTY" {
	mkdir "$MNT/d"
	mkdir "$MNT/d/e"
	run rmdir "$MNT/d"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "not empty"
	rmdir "$MNT/d/e"
	rmdir "$MNT/d"
	[ ! -e "$MNT/d" ]
	[ "$(stat -c %h "$MNT")" -ge 2 ]
}

@test "O_EXCL, O_TRUNC and O_APPEND" {
	[ "$(probe excl "$MNT/x")" = ok ]
	[ "$(probe excl "$MNT/x")" = EEXIST ]
	printf 'abc' >"$MNT/ap"
	[ "$(probe append "$MNT/ap" def)" = ok ]
	[ "$(cat "$MNT/ap")" = abcdef ]
	printf 'new' >"$MNT/ap"
	[ "$(cat "$MNT/ap")" = new ]
}

@test "chmod, chown, utimens, truncate up and down" {
	echo data >"$MNT/t"
	chmod 640 "$MNT/t"
	[ "$(stat -c %a "$MNT/t")" = 640 ]
	chown 1234:5678 "$MNT/t"
	[ "$(stat -c '%u %g' "$MNT/t")" = "1234 5678" ]
	touch -d '2001-02-03 04:05:06' "$MNT/t"
	[ "$(stat -c %Y "$MNT/t")" = "$(date -d '2001-02-03 04:05:06' +%s)" ]
	truncate -s 10000000 "$MNT/t"
	[ "$(stat -c %s "$MNT/t")" -eq 10000000 ]
	[ "$(head -c 5 "$MNT/t")" = data ]
	[ "$(tail -c 100 "$MNT/t" | tr -d '\0' | wc -c)" -eq 0 ]
	truncate -s 2 "$MNT/t"
	[ "$(cat "$MNT/t")" = da ]
	make_file "$WORK/tr" 12000000
	cp "$WORK/tr" "$MNT/tr"
	truncate -s 5000001 "$MNT/tr"
	truncate -s 9000000 "$MNT/tr"
	head -c 5000001 "$WORK/tr" | cmp - <(head -c 5000001 "$MNT/tr")
	[ "$(tail -c +5000002 "$MNT/tr" | tr -d '\0' | wc -c)" -eq 0 ]
}

@test "rename: over a file, folders, NOREPLACE, EXCHANGE, ENOTEMPTY" {
	echo 1 >"$MNT/r1"
	echo 2 >"$MNT/r2"
	mv "$MNT/r1" "$MNT/r2"
	[ "$(cat "$MNT/r2")" = 1 ]
	[ ! -e "$MNT/r1" ]
	echo 3 >"$MNT/r3"
	[ "$(probe rename2 "$MNT/r3" "$MNT/r2" noreplace)" = EEXIST ]
	[ "$(probe rename2 "$MNT/r3" "$MNT/r2" exchange)" = ok ]
	[ "$(cat "$MNT/r2")" = 3 ]
	[ "$(cat "$MNT/r3")" = 1 ]
	mkdir -p "$MNT/da/in" "$MNT/db" "$MNT/dc/full"
	echo x >"$MNT/da/in/f"
	mv "$MNT/da" "$MNT/db/moved"
	[ "$(cat "$MNT/db/moved/in/f")" = x ]
	mkdir "$MNT/empty"
	mv "$MNT/empty" "$MNT/dc/full" 2>/dev/null || true
	mkdir "$MNT/src2"
	run mv -T "$MNT/src2" "$MNT/dc"
	[ "$status" -ne 0 ]
	[ -d "$MNT/src2" ]
	run mv "$MNT/db" "$MNT/db/moved/in"
	[ "$status" -ne 0 ]
}

@test "hard links and symlinks" {
	echo linked >"$MNT/h"
	ln "$MNT/h" "$MNT/h2"
	[ "$(stat -c %h "$MNT/h")" -eq 2 ]
	[ "$(stat -c %i "$MNT/h")" = "$(stat -c %i "$MNT/h2")" ]
	rm "$MNT/h"
	[ "$(cat "$MNT/h2")" = linked ]
	[ "$(stat -c %h "$MNT/h2")" -eq 1 ]
	mkdir "$MNT/ldir"
	run ln "$MNT/ldir" "$MNT/ldir2"
	[ "$status" -ne 0 ]
	ln -s h2 "$MNT/s"
	[ "$(readlink "$MNT/s")" = h2 ]
	[ "$(cat "$MNT/s")" = linked ]
	ln -s /nonexistent/target "$MNT/dangling"
	[ "$(readlink "$MNT/dangling")" = /nonexistent/target ]
}

@test "an unlinked file stays usable until its last close" {
	[ "$(probe unlink-open "$MNT/uo")" = ok ]
	[ ! -e "$MNT/uo" ]
}

@test "sparse files read holes as zeros" {
	[ "$(probe sparse "$MNT/sparse")" = ok ]
	[ "$(stat -c %s "$MNT/sparse")" -eq $((100 * 1024 * 1024 + 4)) ]
}

@test "extended attributes in the user namespace" {
	echo x >"$MNT/xa"
	setfattr -n user.color -v blue "$MNT/xa"
	[ "$(getfattr -n user.color --only-values "$MNT/xa")" = blue ]
	setfattr -n user.size -v 12345 "$MNT/xa"
	getfattr -d "$MNT/xa" | grep -q 'user.size="12345"'
	setfattr -x user.color "$MNT/xa"
	run getfattr -n user.color "$MNT/xa"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "no such attribute"
	run setfattr -n trusted.nope -v 1 "$MNT/xa"
	[ "$status" -ne 0 ]
}

@test "statfs reports the cluster's capacity" {
	size=$(df -B1 --output=size "$MNT" | tail -1)
	avail=$(df -B1 --output=avail "$MNT" | tail -1)
	[ "$size" -gt 0 ]
	[ "$avail" -gt 0 ]
	[ "$avail" -le "$size" ]
	# The vcluster's six OSDs share one file system: the mount is that
	# disk once, times 4/6 for the parity (to a 4 KiB block), and no
	# more free than the disk has.
	local disk disk_avail
	disk=$(df -B1 --output=size "$VC_DIR/osd.0" | tail -1)
	disk_avail=$(df -B1 --output=avail "$VC_DIR/osd.0" | tail -1)
	[ $((disk * 4 / 6 - size)) -ge 0 ] && [ $((disk * 4 / 6 - size)) -lt 4096 ] ||
		{ echo "mount $size, disk $disk"; false; }
	[ "$avail" -le "$disk_avail" ] || { echo "mount $avail, disk $disk_avail"; false; }
}

@test "readdir offsets stay valid while the folder changes; 100,000 entries" {
	mkdir "$MNT/many"
	[ "$(probe readdir-stable "$MNT/many" 100000)" = ok ]
	# Half were removed during the listing, 50 added.
	[ "$(ls -f "$MNT/many" | grep -c '^f')" -eq 50000 ]
	[ "$(ls "$MNT/many" | wc -l)" -eq 50050 ]
}

@test "small random reads (read-around into the page cache) return the right bytes, also after a local overwrite" {
	make_file "$WORK/ra" $((12 << 20))
	cp "$WORK/ra" "$MNT/ra"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# 300 random 4 KiB reads, each compared with the same range locally.
	for i in $(seq 300); do
		blk=$(( (RANDOM * 32768 + RANDOM) % 3072 ))
		dd if="$MNT/ra" bs=4096 skip="$blk" count=1 status=none >"$WORK/ra.m"
		dd if="$WORK/ra" bs=4096 skip="$blk" count=1 status=none >"$WORK/ra.l"
		cmp "$WORK/ra.m" "$WORK/ra.l"
	done
	# Overwrite 8 KiB in a region already read around, through this
	# mount, while a reader holds the file open; every block around it
	# must then read the new bytes.
	exec 5<"$MNT/ra"
	dd if="$MNT/ra" bs=4096 skip=1001 count=1 status=none >/dev/null
	head -c 8192 /dev/urandom >"$WORK/patch"
	dd if="$WORK/patch" of="$MNT/ra" bs=4096 seek=1000 conv=notrunc status=none
	dd if="$WORK/patch" of="$WORK/ra" bs=4096 seek=1000 conv=notrunc status=none
	exec 5<&-
	for blk in 996 997 998 999 1000 1001 1002 1003 1004 1005; do
		dd if="$MNT/ra" bs=4096 skip="$blk" count=1 status=none >"$WORK/ra.m"
		dd if="$WORK/ra" bs=4096 skip="$blk" count=1 status=none >"$WORK/ra.l"
		cmp "$WORK/ra.m" "$WORK/ra.l"
	done
	cmp "$MNT/ra" "$WORK/ra"
}

@test "errors come back as the right errno" {
	run cat "$MNT/nope"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "no such file"
	run mkdir "$MNT/a.txt"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "exists"
	run ls "$MNT/a.txt/inside"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "not a directory"
	long=$(printf 'n%.0s' $(seq 300))
	run touch "$MNT/$long"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "too long"
	run rmdir "$MNT/a.txt"
	[ "$status" -ne 0 ]
}

@test "storefs without -f mounts in the background and serves" {
	local m=$VC_DIR/mnt-bg
	mkdir -p "$m"
	"$BIN/storefs" -c "$STORE_CONF" "$m" 3>&-
	grep -qs " $m fuse" /proc/mounts
	echo "from the background" >"$m/bg.txt"
	[ "$(cat "$MNT/bg.txt")" = "from the background" ]
	rm "$m/bg.txt"
	fusermount3 -u "$m"
	# Unmounted: the unlink it answered at once reaches the MDS as the
	# daemon ends.
	gone() { ! ctl stat /bg.txt; }
	wait_for 10 gone
}

@test "a folder just made here: every name this mount added to it is found again" {
	local m=$VC_DIR/mnt-bg
	mkdir -p "$m"
	# A long entry_timeout: the folder stays "fresh" (lookups of names
	# this mount did not add answered here) for the whole test.
	"$BIN/storefs" -c "$STORE_CONF" -o entry_timeout=30 "$m" 3>&-
	mkdir "$m/fresh"
	[ ! -e "$m/fresh/nothing" ]
	echo a >"$m/fresh/f"
	mkdir "$m/fresh/sub"
	ln -s f "$m/fresh/l"
	ln "$m/fresh/f" "$m/fresh/h"
	echo b >"$m/b0"
	mv "$m/b0" "$m/fresh/b"
	[ "$(probe excl "$m/fresh/x")" = ok ]
	[ "$(probe excl "$m/fresh/x")" = EEXIST ]
	# The kernel forgets its entries: every name is looked up again.
	sync
	echo 2 >/proc/sys/vm/drop_caches
	[ "$(cat "$m/fresh/f")" = a ]
	[ -d "$m/fresh/sub" ]
	[ -L "$m/fresh/l" ]
	[ "$(cat "$m/fresh/h")" = a ]
	[ "$(cat "$m/fresh/b")" = b ]
	[ -f "$m/fresh/x" ]
	[ ! -e "$m/fresh/nothing" ]
	[ "$(ls "$m/fresh" | wc -l)" -eq 6 ]
	fusermount3 -u "$m"
	[ "$(ctl ls /fresh | wc -l)" -eq 6 ]
}
