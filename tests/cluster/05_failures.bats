#!/usr/bin/env bats
# Hostile and broken surroundings: an OSD folder of another cluster, an MDS
# that is not running, garbage on the daemons' ports.

load helpers

setup_file() { cluster_start; }
teardown_file() {
	[ -n "${OTHER_PID:-}" ] && kill "$OTHER_PID" 2>/dev/null
	cluster_stop
}

@test "an OSD pointed at another cluster's folder refuses to start" {
	other=$VC_DIR/other
	mkdir -p "$other"
	port=$((20000 + RANDOM % 40000))
	"$BIN/store-mds" --data "$other/mds" --addr "tcp://127.0.0.1:$port" --init --no-auth \
		>"$other/mds.log" 2>&1 3>&- &
	OTHER_PID=$!
	echo "OTHER_PID=$OTHER_PID" >"$VC_DIR/other.pid"
	printf 'mds = tcp://127.0.0.1:%s\n' "$port" >"$other/store.conf"
	wait_for 15 "$BIN/storectl" -c "$other/store.conf" status
	vc kill-osd 5
	run timeout 30 "$BIN/store-osd" --data "$VC_DIR/osd.5" \
		--mds "tcp://127.0.0.1:$port" --addr "tcp://127.0.0.1:$((port + 1))" --host x
	kill "$OTHER_PID" 2>/dev/null || true
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	echo "$output" | grep -qi "cluster"
	vc restart-osd 5
}

@test "storectl reports an MDS that is not running within 10 s" {
	port=$((20000 + RANDOM % 40000))
	printf 'mds = tcp://127.0.0.1:%s\nname = client.admin\n' "$port" >"$WORK/dead.conf"
	start=$(date +%s)
	run timeout 20 "$BIN/storectl" -c "$WORK/dead.conf" ls /
	end=$(date +%s)
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[ $((end - start)) -le 10 ]
	echo "$output" | grep -q "MDS"
	[ "${#lines[@]}" -eq 1 ]
}

@test "garbage on the MDS and OSD ports is logged and dropped; service goes on" {
	mds=$(mds_addr)
	osd=$(osd_addr 2)
	"$BIN/storejunk" "$mds" 100
	"$BIN/storejunk" "$osd" 100
	# Raw noise below the messaging layer too.
	mport=${mds##*:}
	oport=${osd##*:}
	head -c 65536 /dev/urandom >/dev/tcp/127.0.0.1/"$mport" 2>/dev/null || true
	head -c 65536 /dev/urandom >/dev/tcp/127.0.0.1/"$oport" 2>/dev/null || true
	kill -0 "$(cat "$VC_DIR/run/mds.pid")"
	kill -0 "$(cat "$VC_DIR/run/osd.2.pid")"
	make_file "$WORK/after" 6000000
	ctl put "$WORK/after" /after
	ctl get /after "$WORK/after.back"
	[ "$(sha "$WORK/after")" = "$(sha "$WORK/after.back")" ]
	grep -qi "malformed" "$VC_DIR/log/mds.log"
	grep -qi "malformed" "$VC_DIR/log/osd.2.log"
}
