#!/usr/bin/env bats
# Crash safety: kill -9 the writer, an OSD and the MDS at random moments
# of overwrites; each file stays its old or its new content (its new one
# once acknowledged), and after garbage collection the OSDs hold no shard
# the MDS does not reference.  (long/33_crash_long.bats: 51 rounds.)

load helpers
load crash

setup_file() {
	cluster_start
	crash_setup
}
teardown_file() { cluster_stop; }

@test "kill -9 of writer, OSD and MDS during overwrites: old or new, never torn" {
	crash_rounds "${CRASH_ROUNDS:-6}"
}

@test "after GC the OSDs hold exactly the shards the MDS references" {
	crash_gc_check
}
