#!/usr/bin/env bats
# Hosts: every simulated host in its own network namespace (vcluster
# --netns).  Cutting one host off the network takes both of its OSDs away
# at once: reads go on, the cluster recovers on the other hosts (a lost
# host, not a lost disk: no shard may land twice on one host), and when
# the host comes back nothing is lost or duplicated.

load helpers

setup_file() {
	# 8 OSDs on 7 hosts: host-0 holds osd.0 and osd.7.
	cluster_start --netns --osds 8 --hosts 7 --set down_out_interval=10s
	mkdir -p "$WORK/data"
	local i
	for i in $(seq 12); do make_file "$WORK/data/f$i" $((8 << 20)); done
	(cd "$WORK/data" && sha256sum f* | sort -k2) >"$WORK/sums"
	vc exec "$BIN/storectl" put -r "$WORK/data" /data
}
teardown_file() { cluster_stop; }

nctl() { vc exec "$BIN/storectl" "$@"; }
nhealth() { nctl status --json | jq -r .health; }
health_is() { [ "$(nhealth)" = "$1" ]; }
up_is() { [ "$(nctl status --json | jq .osds.up)" = "$1" ]; }

verify_all() {
	rm -rf "$WORK/back"
	nctl get -r /data "$WORK/back"
	(cd "$WORK/back" && sha256sum f* | sort -k2) | diff "$WORK/sums" -
}

# Every object's 6 shards on 6 different hosts, and exactly 6 of them.
shards_whole() {
	local st objects shards
	st=$(nctl status --json)
	objects=$(jq .objects.total <<<"$st")
	shards=$(jq '[.osd_stats[] | select(.up) | .shards] | add' <<<"$st")
	[ "$shards" -eq $((objects * 6)) ]
}

@test "cut a host: reads go on, recovery on the other hosts, nothing lost" {
	wait_for 60 health_is HEALTH_OK
	vc cut-host 0
	# Reads go on at once (degraded), before the MDS even notices.
	verify_all
	wait_for 30 up_is 6
	wait_for 300 health_is HEALTH_OK
	verify_all
	# Rebuilt on the 6 hosts left: whole, and a light scrub agrees.
	nctl scrub --json >"$WORK/scrub.json"
	[ "$(jq .unrepairable "$WORK/scrub.json")" -eq 0 ]
	[ "$(jq .missing "$WORK/scrub.json")" -eq 0 ]
	wait_for 30 shards_whole
}

@test "the host comes back: nothing lost or duplicated" {
	vc heal-host 0
	wait_for 60 up_is 8
	# Its OSDs come back in (they were marked out automatically) ...
	nctl osd in 0 >/dev/null 2>&1 || true
	nctl osd in 7 >/dev/null 2>&1 || true
	wait_for 300 health_is HEALTH_OK
	verify_all
	# ... and once settled every object has exactly its 6 shards again:
	# the returning host's stale copies were deleted, not kept twice.
	wait_for 60 shards_whole
	nctl scrub --json >"$WORK/scrub.json"
	[ "$(jq '.unrepairable + .missing' "$WORK/scrub.json")" -eq 0 ]
}
