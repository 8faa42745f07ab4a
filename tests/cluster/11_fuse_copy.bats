#!/usr/bin/env bats
# cp -a of a tree of 2,000 files (mixed sizes, symlinks, hard links,
# modes) into the mount, checked on the same mount and on a second one;
# the random-operation verifier on the mount and on the local disk.

load helpers

setup_file() { cluster_start_mounted; }
teardown_file() { cluster_stop_mounted; }
setup() { need_mount; }

make_tree() {
	local src=$1 i d
	for d in $(seq 0 39); do mkdir -p "$src/d$d/sub$((d % 4))"; done
	for i in $(seq 0 1849); do
		d=$((i % 40))
		if [ $((i % 3)) = 0 ]; then p="$src/d$d/sub$((d % 4))/f$i"; else p="$src/d$d/f$i"; fi
		# Sizes: mostly small, some around object boundaries, a few big.
		case $((i % 50)) in
		0) s=$((4194304 + i)) ;;
		1) s=$((65536 + i % 3 - 1)) ;;
		2) s=0 ;;
		*) s=$(( (i * 7919) % 40000 )) ;;
		esac
		head -c "$s" /dev/urandom >"$p"
		chmod $(( (i % 4 == 0) ? 600 : (i % 4 == 1) ? 644 : (i % 4 == 2) ? 755 : 640 )) "$p"
	done
	for i in $(seq 0 99); do ln -s "f$((i * 3 + 1))" "$src/d$((i % 40))/link$i"; done
	for i in $(seq 0 49); do ln -s "/absolute/target/$i" "$src/d$((i % 40))/abs$i"; done
	for i in $(seq 0 49); do
		k=$((i % 40 + 40)); d=$((k % 40))
		if [ $((k % 3)) = 0 ]; then p="$src/d$d/sub$((d % 4))/f$k"; else p="$src/d$d/f$k"; fi
		ln "$p" "$src/d$(((i + 1) % 40))/hard$i"
	done
	chmod 700 "$src/d3"
	chmod 750 "$src/d5/sub1"
}

listing() { # modes, sizes, types, link targets, link counts, owners, mtimes
	# A folder's size is the file system's own business: left out.
	(cd "$1" && find . -mindepth 1 ! -type d -printf '%m %s %y %l %n %U %G %T@ %P\n' | sort
	 cd "$1" && find . -mindepth 1 -type d -printf '%m %y %n %P\n' | sort)
}

@test "cp -a of 2,000 files: identical on this mount and on a second one" {
	src=$WORK/src
	make_tree "$src"
	n=$(find "$src" ! -type d | wc -l)
	[ "$n" -eq 2050 ]
	cp -a "$src" "$MNT/tree"
	diff -r --no-dereference "$src" "$MNT/tree"
	diff <(listing "$src") <(listing "$MNT/tree")
	mount2
	diff -r --no-dereference "$src" "$MNT2/tree"
	diff <(listing "$src") <(listing "$MNT2/tree")
}

@test "close-to-open: what one mount wrote and closed, the other sees" {
	[ -n "$MNT2" ] || mount2
	make_file "$WORK/c2o" 7000000
	cp "$WORK/c2o" "$MNT/c2o"
	cmp "$WORK/c2o" "$MNT2/c2o"
	make_file "$WORK/c2o.b" 3000
	cp "$WORK/c2o.b" "$MNT2/c2o"
	cmp "$WORK/c2o.b" "$MNT/c2o"
}

@test "the verifier passes on the local disk and catches a planted fault" {
	run "$BIN/storefsx" -n 3000 -S 7 "$WORK/local-fsx"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# The fault goes in at the last operation, so nothing can overwrite
	# it before the final full read.
	run "$BIN/storefsx" -n 3000 -S 7 -i 2999 "$WORK/local-fsx2"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q "expected"
}

@test "10,000 random operations on a 64 MiB file through the mount" {
	run "$BIN/storefsx" -n 10000 -S 11 -m $((64 << 20)) "$MNT/fsx"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	echo "$output" | grep -q "all reads matched"
}

@test "rm -rf: unlinks answered before the MDS has them keep their order and reach the MDS" {
	mkdir -p "$MNT/rmt"
	for d in 0 1 2 3; do
		mkdir "$MNT/rmt/d$d"
		for i in $(seq 0 99); do echo "$d $i" >"$MNT/rmt/d$d/f$i"; done
	done
	# Removed, then made again at once: the create must come after the
	# queued unlink (else the unlink would take the new file away).
	for i in $(seq 0 99); do rm "$MNT/rmt/d0/f$i"; echo "again $i" >"$MNT/rmt/d0/f$i"; done
	sleep 1
	[ "$(cat "$MNT/rmt/d0/f42")" = "again 42" ]
	[ "$(ls "$MNT/rmt/d0" | wc -l)" -eq 100 ]
	# rmdir right after 100 queued unlinks: no ENOTEMPTY.
	rm -rf "$MNT/rmt/d1"
	[ ! -e "$MNT/rmt/d1" ]
	rm -f "$MNT"/rmt/d2/f*
	[ -z "$(ls "$MNT/rmt/d2")" ]
	# Once fsync of the folder returns, the MDS has every unlink.
	[ "$(probe fsync "$MNT/rmt/d2")" = ok ]
	[ -z "$(ctl ls /rmt/d2)" ]
	mount2
	[ -z "$(ls "$MNT2/rmt/d2")" ]
	[ ! -e "$MNT2/rmt/d1" ]
	[ "$(cat "$MNT2/rmt/d0/f42")" = "again 42" ]
	# Unmounting sends what is still queued.
	rm -f "$MNT2"/rmt/d3/f*
	umount2
	[ -z "$(ctl ls /rmt/d3)" ]
	rm -rf "$MNT/rmt"
}

@test "a new file goes to the MDS with its first commit: usable by name while open; a create race between mounts is reported at close" {
	[ "$(probe create-open "$MNT/co")" = ok ]
	[ "$(cat "$MNT/co.r")" = "hello world!" ]
	[ "$(ctl cat /co.r)" = "hello world!" ]
	mount2
	run probe create-race "$MNT/race" "$MNT2/race"
	[ "${lines[0]}" = ok ]
	[ "${lines[1]}" = EEXIST ]
	[ "$(ctl cat /race)" = one ]
	# Past the inline size: created at the MDS before its first object.
	make_file "$WORK/bigx" 300000
	cp "$WORK/bigx" "$MNT/bigx"
	cmp "$WORK/bigx" "$MNT/bigx"
	cmp "$WORK/bigx" "$MNT2/bigx"
	rm -f "$MNT/co.r" "$MNT/race" "$MNT/bigx"
}
