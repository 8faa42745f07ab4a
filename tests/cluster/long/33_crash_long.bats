#!/usr/bin/env bats
# The long version of 33_crash.bats: 51 rounds (17 per victim).

load ../helpers
load ../crash

setup_file() {
	cluster_start
	crash_setup
}
teardown_file() { cluster_stop; }

@test "51 rounds of kill -9 (writer, OSD, MDS) during overwrites: old or new, never torn" {
	crash_rounds 51
}

@test "after GC the OSDs hold exactly the shards the MDS references" {
	crash_gc_check
}
