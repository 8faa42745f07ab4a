#!/usr/bin/env bats
# Security (docs/security.md): keys, tickets and their expiry, replayed and
# altered messages, path-limited and read-only keys at the MDS, at the OSDs
# and through FUSE, keyring modes, floods of junk, secure mode.
#
# The cluster's tickets live 4 s, so every command here also renews its
# ticket (the client renews with a third of the lifetime left).

load helpers

PROBE=${PROBE:-}

setup_file() {
	cluster_start --set auth_ticket_ttl=4s
	export PROBE="$BIN/storeauthprobe"
	ctl mkdir -p /projects/a/sub /projects/b
	make_file "$WORK/secret" 3000000
	ctl put "$WORK/secret" /projects/b/secret
	echo "mine" >"$WORK/mine"
	ctl put "$WORK/mine" /projects/a/mine
	make_file "$WORK/big" 300000
	ctl put "$WORK/big" /projects/a/big
	ctl auth add client.a --caps "rw path=/projects/a" -o "$VC_DIR/a.keyring"
	ctl auth add client.ro --caps "r" -o "$VC_DIR/ro.keyring"
	for e in a ro; do
		printf 'mds = %s\nname = client.%s\nkeyring = %s\n' \
			"$(mds_addr)" "$e" "$VC_DIR/$e.keyring" >"$VC_DIR/$e.conf"
	done
}

teardown_file() {
	for m in "$VC_DIR/mnt-a" "$VC_DIR/mnt-ro"; do
		if grep -qs " $m fuse" /proc/mounts; then
			fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
		fi
	done
	for p in "$VC_DIR"/run/sec-*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	[ -d "$VC_DIR/secure" ] && "$VCLUSTER" stop --dir "$VC_DIR/secure" >/dev/null 2>&1
	cluster_stop
}

ino_of() { ctl stat "$1" | sed -n 's/ *inode: //p'; }

# mount_as NAME MNT: a storefs mount with client.NAME's configuration.
mount_as() {
	mkdir -p "$2"
	"$BIN/storefs" -c "$VC_DIR/$1.conf" -f "$2" >>"$VC_DIR/log/storefs-$1.log" 2>&1 &
	echo $! >"$VC_DIR/run/sec-$1.pid"
	for _ in $(seq 100); do
		grep -qs " $2 fuse" /proc/mounts && return 0
		sleep 0.1
	done
	return 1
}

@test "keyrings are 0600, and daemons and clients refuse one readable by others" {
	for f in "$VC_DIR/keyring" "$VC_DIR/daemon.keyring" "$VC_DIR/mds/keyring" \
		 "$VC_DIR/a.keyring"; do
		[ "$(stat -c %a "$f")" = 600 ]
	done
	grep -q '^\[daemon\]' "$VC_DIR/daemon.keyring"
	! grep -q 'client.admin' "$VC_DIR/daemon.keyring"
	! grep -q '^\[daemon\]' "$VC_DIR/keyring"
	cp "$VC_DIR/daemon.keyring" "$WORK/open.keyring"
	chmod 644 "$WORK/open.keyring"
	mkdir -p "$WORK/osd.x"
	run timeout 20 "$BIN/store-osd" --data "$WORK/osd.x" --mds "$(mds_addr)" \
		--keyring "$WORK/open.keyring" --addr "tcp://127.0.0.1:$((20000 + RANDOM % 40000))"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q "chmod 600"
	cp "$VC_DIR/keyring" "$WORK/open-client.keyring"
	chmod 640 "$WORK/open-client.keyring"
	printf 'mds = %s\nname = client.admin\nkeyring = %s\n' "$(mds_addr)" \
		"$WORK/open-client.keyring" >"$WORK/open.conf"
	run ctl -c "$WORK/open.conf" ls /
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "group or others"
	[ "${#lines[@]}" -eq 1 ]
}

@test "without a key every request is refused and nothing is read or written" {
	printf 'mds = %s\nname = client.admin\n' "$(mds_addr)" >"$WORK/nokey.conf"
	for cmd in "ls /" "status" "cat /projects/a/mine" "mkdir /nokey" "auth ls"; do
		run ctl -c "$WORK/nokey.conf" $cmd
		[ "$status" -ne 0 ]
		echo "$output" | grep -q "requires authentication\|requires keys"
	done
	run ctl -c "$WORK/nokey.conf" put "$WORK/mine" /nokey-file
	[ "$status" -ne 0 ]
	# Hand-built unsigned requests, to the MDS and to an OSD.
	run "$PROBE" noauth-getattr 1
	echo "$output" | grep -q "result: error -13"
	run "$PROBE" noauth-shard "$(ino_of /projects/b/secret)"
	echo "$output" | grep -q "result: error -13"
	! ctl ls / | grep -q nokey
}

@test "a wrong key is refused and nothing is read or written" {
	printf '[client.admin]\n\tkey = %s\n' "$(head -c 32 /dev/urandom | base64)" >"$WORK/wrong.keyring"
	chmod 600 "$WORK/wrong.keyring"
	printf 'mds = %s\nname = client.admin\nkeyring = %s\n' "$(mds_addr)" \
		"$WORK/wrong.keyring" >"$WORK/wrong.conf"
	run ctl -c "$WORK/wrong.conf" put "$WORK/mine" /wrong-file
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "authentication of client.admin failed"
	run ctl -c "$WORK/wrong.conf" cat /projects/b/secret
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	! ctl ls / | grep -q wrong-file
	grep -q "refused to authenticate client.admin" "$VC_DIR/log/mds.log"
}

@test "an expired ticket is refused by the MDS and the OSDs" {
	# Signed now, sent 6 s later: the 4 s ticket has expired.
	run env STORE_PROBE_WAIT=6 "$PROBE" getattr 1
	echo "$output" | grep -q "result: error -127 .*expired"
	run env STORE_PROBE_WAIT=6 "$PROBE" mkdir expired-dir
	echo "$output" | grep -q "result: error -127"
	run env STORE_PROBE_WAIT=6 "$PROBE" shard get "$(ino_of /projects/b/secret)"
	echo "$output" | grep -q "result: error -127"
	! ctl ls / | grep -q expired-dir
	# The library renews on its own: a client older than a ticket works.
	ctl cat /projects/a/mine >/dev/null
}

@test "a captured message replayed, or altered in one byte, is dropped and logged" {
	run "$PROBE" replay-mkdir replayed
	[ "${lines[0]}" = "result: ok" ]
	[ "${lines[1]}" = "result: dropped" ]
	run "$PROBE" alter-mkdir altered
	[ "$output" = "result: dropped" ]
	run "$PROBE" replay-shard-get "$(ino_of /projects/b/secret)"
	[ "${lines[0]}" = "result: ok" ]
	[ "${lines[1]}" = "result: dropped" ]
	run "$PROBE" forged-ticket 1
	[ "$output" = "result: dropped" ]
	[ "$(ctl ls / | grep -c '^replayed')" -eq 1 ]
	! ctl ls / | grep -q altered
	grep -q "replayed: already seen" "$VC_DIR/log/mds.log"
	grep -q "MAC does not verify" "$VC_DIR/log/mds.log"
	grep -q "ticket does not open" "$VC_DIR/log/mds.log"
	grep -hq "replayed: already seen" "$VC_DIR"/log/osd.*.log
}

@test "a path-limited key sees its folder as / and no way out works, at the MDS or the OSDs" {
	secret=$(ino_of /projects/b/secret)
	mine=$(ino_of /projects/a/big)
	A="ctl -c $VC_DIR/a.conf"
	# Its root is /projects/a.
	[ "$($A ls / | sort | tr '\n' ' ')" = "big mine sub/ " ]
	[ "$($A cat /mine)" = "mine" ]
	$A put "$WORK/mine" /sub/written
	run $A ls /../b
	[ "$status" -ne 0 ]
	run $A mv /mine /../mine
	[ "$status" -ne 0 ]
	# Inode numbers from elsewhere, straight to the MDS.
	run "$PROBE" -c "$VC_DIR/a.conf" getattr "$secret"
	echo "$output" | grep -q "result: error -13 permission denied"
	run "$PROBE" -c "$VC_DIR/a.conf" getattr "$(ino_of /projects)"
	echo "$output" | grep -q "result: error -13"
	# Straight to the OSDs: without a file cap, and with the cap of its
	# own file: reading, overwriting or deleting another file's shards.
	for op in get put delete; do
		run "$PROBE" -c "$VC_DIR/a.conf" shard "$op" "$secret"
		echo "$output" | grep -q "result: error -13 permission denied"
		run "$PROBE" -c "$VC_DIR/a.conf" shard "$op" "$secret" --fcap-of "$mine"
		echo "$output" | grep -q "result: error -13 permission denied"
	done
	# ...while its own file's shards are its to read.
	run "$PROBE" -c "$VC_DIR/a.conf" shard get "$mine" --fcap-of "$mine"
	[ "$output" = "result: ok" ] || { echo "own shard: $output"; false; }
	# Through FUSE: .., a symlink to /, a relative symlink up and hard
	# links all stay inside.
	mount_as a "$VC_DIR/mnt-a"
	M="$VC_DIR/mnt-a"
	[ "$(ls "$M" | sort | tr '\n' ' ')" = "big mine sub " ]
	cmp "$M/big" "$WORK/big"
	[ "$(cat "$M/mine")" = "mine" ]
	ln -s / "$M/root-link"
	ln -s ../../b/secret "$M/up-link"
	! cat "$M/up-link" 2>/dev/null
	! ls "$M/root-link/projects/b/secret" 2>/dev/null
	[ "$(ls "$M/sub/.." | sort | tr '\n' ' ')" = "big mine root-link sub up-link " ]
	ln "$M/mine" "$M/sub/mine-link"
	[ "$(cat "$M/sub/mine-link")" = "mine" ]
	# Nothing outside changed.
	ctl get /projects/b/secret "$WORK/secret.back"
	[ "$(sha "$WORK/secret")" = "$(sha "$WORK/secret.back")" ]
	[ "$(ctl ls /projects/b | tr '\n' ' ')" = "secret " ]
	[ "$(ctl ls /projects | sort | tr '\n' ' ')" = "a/ b/ " ]
	grep -q "refused client.a GETATTR on inode $secret" "$VC_DIR/log/mds.log"
	fusermount3 -u "$M"
}

@test "a read-only key: storectl says permission denied, a FUSE mount says EROFS" {
	R="ctl -c $VC_DIR/ro.conf"
	[ "$($R cat /projects/a/mine)" = "mine" ]
	run $R put "$WORK/mine" /projects/a/ro-file
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "permission denied"
	[ "${#lines[@]}" -eq 1 ]
	run $R mkdir /ro-dir
	echo "$output" | grep -q "permission denied"
	run $R rm /projects/a/mine
	[ "$status" -ne 0 ]
	run $R auth ls
	echo "$output" | grep -q "permission denied: client.ro is not an administrator"
	run "$PROBE" -c "$VC_DIR/ro.conf" shard put "$(ino_of /projects/b/secret)"
	echo "$output" | grep -q "result: error -13 permission denied"
	mount_as ro "$VC_DIR/mnt-ro"
	M="$VC_DIR/mnt-ro"
	[ "$(cat "$M/projects/a/mine")" = "mine" ]
	run touch "$M/projects/new"
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi "read-only file system"
	run mkdir "$M/d"
	echo "$output" | grep -qi "read-only file system"
	run rm "$M/projects/a/mine"
	[ "$status" -ne 0 ]
	[ "$(ctl cat /projects/a/mine)" = "mine" ]
	fusermount3 -u "$M"
}

@test "auth add, get, ls, caps and rm manage keys" {
	ctl auth add client.tmp --caps r >"$WORK/tmp.keyring"
	grep -q '^\[client.tmp\]' "$WORK/tmp.keyring"
	chmod 600 "$WORK/tmp.keyring"
	ctl auth ls | grep -q '^client.tmp *r$'
	run ctl auth add client.tmp --caps rw
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "already exists"
	ctl auth get client.tmp -o "$WORK/tmp2.keyring"
	[ "$(stat -c %a "$WORK/tmp2.keyring")" = 600 ]
	cmp <(grep key "$WORK/tmp.keyring") <(grep key "$WORK/tmp2.keyring")
	printf 'mds = %s\nname = client.tmp\nkeyring = %s\n' "$(mds_addr)" \
		"$WORK/tmp2.keyring" >"$WORK/tmp.conf"
	run ctl -c "$WORK/tmp.conf" mkdir /tmp-dir
	echo "$output" | grep -q "permission denied"
	ctl auth caps client.tmp rw
	ctl auth ls | grep -q '^client.tmp *rw$'
	ctl -c "$WORK/tmp.conf" mkdir /tmp-dir
	run ctl auth caps client.tmp rw path=relative
	[ "$status" -ne 0 ]
	ctl auth rm client.tmp
	run ctl -c "$WORK/tmp.conf" ls /
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "authentication of client.tmp failed"
	run ctl auth get daemon
	[ "$status" -ne 0 ]
}

@test "a flood of connections and junk from one peer does not stop service to others" {
	mds=$(mds_addr)
	osd=$(osd_addr 1)
	for t in mds osd; do
		addr=$mds; [ $t = osd ] && addr=$osd
		( for _ in $(seq 20); do "$BIN/storejunk" "$addr" 200 >/dev/null 2>&1; done ) &
		echo $! >"$VC_DIR/run/sec-junk-$t.pid"
	done
	# Forged and replayed authenticated frames, in a loop too.
	( for _ in $(seq 30); do "$PROBE" forged-ticket 1 >/dev/null 2>&1
		"$PROBE" replay-mkdir flood >/dev/null 2>&1; done ) &
	echo $! >"$VC_DIR/run/sec-forge.pid"
	# Hundreds of idle TCP connections held open.
	( for _ in $(seq 200); do exec {fd}<>/dev/tcp/127.0.0.1/"${mds##*:}" || true; done; sleep 30 ) &
	echo $! >"$VC_DIR/run/sec-conns.pid"
	make_file "$WORK/during" 20000000
	ctl put "$WORK/during" /during
	ctl get /during "$WORK/during.back"
	[ "$(sha "$WORK/during")" = "$(sha "$WORK/during.back")" ]
	ctl ls / >/dev/null
	for p in "$VC_DIR"/run/sec-junk-*.pid "$VC_DIR"/run/sec-forge.pid "$VC_DIR"/run/sec-conns.pid; do
		kill "$(cat "$p")" 2>/dev/null || true
	done
	kill -0 "$(cat "$VC_DIR/run/mds.pid")"
	kill -0 "$(cat "$VC_DIR/run/osd.1.pid")"
}

@test "secure mode: requests and replies travel encrypted, and unencrypted ones are dropped" {
	SEC2_DIR=$VC_DIR/secure
	"$VCLUSTER" start --dir "$SEC2_DIR" --osds 6 --set secure=true >"$WORK/secure.out" 2>&1
	conf=$SEC2_DIR/store.conf
	make_file "$WORK/sec" 9000000
	"$BIN/storectl" -c "$conf" put "$WORK/sec" /sec
	"$BIN/storectl" -c "$conf" get /sec "$WORK/sec.back"
	[ "$(sha "$WORK/sec")" = "$(sha "$WORK/sec.back")" ]
	run "$PROBE" -c "$conf" secure-mkdir visible-name
	[ "${lines[0]}" = "sealed=1 name-visible=0" ]
	[ "${lines[1]}" = "result: ok" ]
	[ "${lines[2]}" = "reply-sealed=1" ]
	run "$PROBE" -c "$conf" unsealed-mkdir plain-name
	[ "${lines[1]}" = "result: dropped" ]
	grep -q "not encrypted" "$SEC2_DIR/log/mds.log"
	grep -q "secure mode" "$SEC2_DIR/log/mds.log"
	"$VCLUSTER" stop --dir "$SEC2_DIR" >/dev/null 2>&1
}
