#!/usr/bin/env bash
# make demo: a JVM that cannot start on seed 000's CentOS 7 box, reproduced on this
# machine from a snapshot of that box, and the report overshim writes about it.
set -eu
BUILD=${BUILD:-build}
dir=$BUILD/demo
rm -rf "$dir" && mkdir -p "$dir"
snap=$(realpath examples/snapshots/seed000-centos7.snapshot)
echo "\$ overshim run --simulate examples/snapshots/seed000-centos7.snapshot -- java -Xms512m -Xmx512m -version"
set +e
(cd "$dir" && "../overshim" run --simulate "$snap" --log demo.log --json demo.jsonl -- \
    java -Xms512m -Xmx512m -XX:+UseG1GC -version > java.out 2>&1)
status=$?
set -e
sed -n '1,4p' "$dir/java.out"
echo "(the JVM exited with status $status; HotSpot's own hs_err file is in $dir)"
echo
echo "----- $dir/demo.log -----"
cat "$dir/demo.log"
echo "----- the same as JSON Lines: $dir/demo.jsonl ($(wc -l < "$dir/demo.jsonl") events) -----"
echo
echo "The same JVM with -Xms256m starts on that box; on a 5.2+ kernel (examples/snapshots/seed000-rhel9.snapshot)"
echo "the 512 MiB heap starts too. examples/README.md lists every seed case."
