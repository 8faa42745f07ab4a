# helpers.bash -- shared by the cluster tests: start a cluster of real
# daemons in a temporary folder on free 127.0.0.1 ports, and stop exactly
# the processes it started (vcluster records their PIDs), even when a test
# fails.

ROOT=${STORE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
BIN=${STORE_BIN:-$ROOT/build/bin}
VCLUSTER=$ROOT/tools/vcluster
export STORE_BIN=$BIN

vc() { "$VCLUSTER" --dir "$VC_DIR" "$@"; }
ctl() { "$BIN/storectl" "$@"; }

# cluster_start [vcluster start options]: a fresh cluster for this file.
cluster_start() {
	VC_DIR=$(mktemp -d /tmp/store-test.XXXXXX)
	export VC_DIR
	if ! "$VCLUSTER" start --dir "$VC_DIR" "$@" >"$VC_DIR/start.out" 2>&1; then
		cat "$VC_DIR/start.out" >&3
		tail -20 "$VC_DIR"/log/*.log >&3 2>/dev/null
		return 1
	fi
	export STORE_CONF=$VC_DIR/store.conf
	WORK=$VC_DIR/work
	mkdir -p "$WORK"
	export WORK
}

cluster_stop() {
	[ -n "${VC_DIR:-}" ] || return 0
	"$VCLUSTER" stop --dir "$VC_DIR" >/dev/null 2>&1
	# tests/run.sh sets STORE_TEST_LOGS: the daemons' logs outlive the
	# cluster there, so a failure can be explained after the folder is gone.
	if [ -n "${STORE_TEST_LOGS:-}" ] && [ -d "$VC_DIR/log" ]; then
		local keep
		keep="$STORE_TEST_LOGS/$(basename "${BATS_TEST_FILENAME:-cluster}" .bats).$(basename "$VC_DIR")"
		mkdir -p "$keep" && cp -p "$VC_DIR"/log/*.log "$keep/" 2>/dev/null
	fi
	# Never descend into a mount that is still there.
	if [ -z "${KEEP_CLUSTER:-}" ]; then rm -rf --one-file-system "$VC_DIR"; fi
}

# make_file PATH SIZE: a file of SIZE bytes of incompressible data.
make_file() {
	head -c "$2" /dev/urandom >"$1"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# status_field KEY: a number from storectl status --json.
status_field() {
	ctl status --json | sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" | head -1
}

health() {
	ctl status --json | sed -n 's/.*"health": *"\([A-Z_]*\)".*/\1/p'
}

# wait_for SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
	local secs=$1; shift
	for _ in $(seq $((secs * 5))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	return 1
}

# The address (tcp://...) of osd.ID and of the MDS.
osd_addr() { ctl osd tree | awk -v id="$1" '$1 == id { print $NF }'; }
mds_addr() { sed -n 's/^mds *= *//p' "$STORE_CONF"; }

# osds_up_is N: the map counts exactly N OSDs up.
osds_up_is() {
	[ "$(ctl status --json | sed -n 's/.*"up": *\([0-9][0-9]*\).*/\1/p' | head -1)" = "$1" ]
}

# Mount points of this file's tests (vcluster mounts the first one).
MNT=${MNT:-}
MNT2=${MNT2:-}
STOREFS2_PID=${STOREFS2_PID:-}

# cluster_start_mounted [vcluster start options]: a cluster, mounted.
cluster_start_mounted() {
	cluster_start "$@" || return 1
	MNT=$VC_DIR/mnt
	export MNT
	if ! "$VCLUSTER" mount --dir "$VC_DIR" "$MNT" >>"$VC_DIR/start.out" 2>&1; then
		cat "$VC_DIR/start.out" >&3
		return 1
	fi
}

# mount2: a second, independent mount of the same cluster.
mount2() {
	MNT2=$VC_DIR/mnt2
	# Each test runs in its own process: a second mount made by an
	# earlier test is still there; never stack another on it.
	grep -qs " $MNT2 fuse" /proc/mounts && return 0
	mkdir -p "$MNT2"
	"$BIN/storefs" -c "$STORE_CONF" -f "$MNT2" >>"$VC_DIR/log/storefs2.log" 2>&1 3>&- &
	STOREFS2_PID=$!
	echo "$STOREFS2_PID" >"$VC_DIR/run/storefs2.pid"
	for _ in $(seq 100); do
		grep -qs " $MNT2 fuse" /proc/mounts && return 0
		sleep 0.1
	done
	return 1
}

umount2() {
	# Works from teardown_file too, where a test's variables are gone.
	local m=${MNT2:-$VC_DIR/mnt2}
	if grep -qs " $m fuse" /proc/mounts; then
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	fi
	if [ -f "$VC_DIR/run/storefs2.pid" ]; then
		local pid
		pid=$(cat "$VC_DIR/run/storefs2.pid")
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$VC_DIR/run/storefs2.pid"
	fi
}

cluster_stop_mounted() {
	umount2
	cluster_stop
}

probe() { "$BIN/fsprobe" "$@"; }

# Guard for mount tests: never let a test run against "" (i.e. "/").
need_mount() {
	[ -n "${MNT:-}" ] && grep -qs " $MNT fuse" /proc/mounts || {
		echo "the storefs mount is missing (MNT='${MNT:-}')" >&2
		return 1
	}
}
