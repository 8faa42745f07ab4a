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
	if [ -z "${KEEP_CLUSTER:-}" ]; then rm -rf "$VC_DIR"; fi
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
