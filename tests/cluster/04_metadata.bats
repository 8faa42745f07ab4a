#!/usr/bin/env bats
# Namespace operations through storectl, and their errors.

load helpers

setup_file() { cluster_start --osds 6; }
teardown_file() { cluster_stop; }

@test "mkdir -p, ls and stat" {
	ctl mkdir -p /a/b/c
	ctl mkdir -p /a/b/c
	run ctl ls /a
	[ "$output" = "b/" ]
	make_file "$WORK/f" 12345
	ctl put "$WORK/f" /a/b/c/file
	run ctl ls -l /a/b/c
	echo "$output" | grep -q "12345"
	echo "$output" | grep -q "file"
	run ctl stat /a/b/c/file
	echo "$output" | grep -q "size: 12345"
	echo "$output" | grep -q "regular file"
	run ctl stat /a/b
	echo "$output" | grep -q "folder"
	run ctl mkdir /a
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "exists"
}

@test "rm removes files, and folders only with -r" {
	ctl mkdir -p /r/x/y
	make_file "$WORK/g" 100
	ctl put "$WORK/g" /r/x/y/g
	ctl put "$WORK/g" /r/top
	ctl rm /r/top
	run ctl stat /r/top
	[ "$status" -ne 0 ]
	run ctl rm /r
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "rm -r"
	ctl rm -r /r
	run ctl ls /r
	[ "$status" -ne 0 ]
}

@test "mv renames files and folders, over an existing target, into folders" {
	make_file "$WORK/m1" 1000
	make_file "$WORK/m2" 2000
	ctl put "$WORK/m1" /m1
	ctl put "$WORK/m2" /m2
	ctl mv /m1 /m2
	ctl get /m2 "$WORK/m.back"
	[ "$(sha "$WORK/m1")" = "$(sha "$WORK/m.back")" ]
	run ctl stat /m1
	[ "$status" -ne 0 ]
	ctl mkdir -p /src/inner /dst
	ctl put "$WORK/m2" /src/inner/z
	ctl mv /src /dst
	ctl get /dst/src/inner/z "$WORK/z"
	[ "$(sha "$WORK/m2")" = "$(sha "$WORK/z")" ]
	ctl mv /dst/src /moved
	ctl stat /moved/inner/z
	ctl mkdir /empty
	ctl mkdir -p /full/q
	run ctl mv /empty /full
	[ "$status" -eq 0 ]
	ctl stat /full/empty
}

@test "errors: missing paths, non-empty rmdir, name too long, '..'" {
	run ctl stat /does/not/exist
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "no such file"
	run ctl get /nope "$WORK/nope"
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "no such file"
	run ctl put "$WORK/missing-local" /x
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "missing-local"
	long=$(printf 'n%.0s' $(seq 300))
	run ctl mkdir "/$long"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "too long"
	run ctl ls /a/../a
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "'..'"
	ctl mkdir -p /ne/child
	ctl mkdir /ne2
	run ctl mv /ne2 /ne
	[ "$status" -eq 0 ]
	run ctl rm /ne
	[ "$status" -ne 0 ]
	run ctl ls relative/path
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "absolute"
	# Every error is one line on stderr.
	run ctl stat /does/not/exist
	[ "${#lines[@]}" -eq 1 ]
}
