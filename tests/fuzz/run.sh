#!/usr/bin/env bash
# make fuzz: each libFuzzer target for FUZZ_SECONDS on its corpus (tests/fuzz/corpus/NAME,
# copied into build/fuzz/corpus-NAME, which grows). Stops at the first crash, whose input
# is left in build/fuzz/crash-*: turn it into a regression test under tests/unit.
set -u
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-300}
cd "$BUILD/fuzz"
for t in "$@"; do
  mkdir -p "corpus-$t"
  cp -n "../../tests/fuzz/corpus/$t/"* "corpus-$t/" 2>/dev/null
  echo "== fuzz_$t, $SECONDS_EACH s"
  ./"fuzz_$t" -max_total_time="$SECONDS_EACH" -print_final_stats=1 "corpus-$t" > "fuzz_$t.log" 2>&1
  rc=$?
  grep -E 'stat::number_of_executed_units' "fuzz_$t.log"
  if [ $rc -ne 0 ]; then
    grep -E 'ERROR|runtime error|crash-' "fuzz_$t.log" | head -5
    exit 1
  fi
done
