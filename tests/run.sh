#!/usr/bin/env bash
# Run Criterion test binaries one after another and add up their syntheses into
# one closing line: "N passed, N failed".
set -u
passed=0 failed=0 status=0
for bin in "$@"; do
  echo "== $bin"
  out=$(mktemp)
  # ASan's leak checker needs ptrace-free LSan; Criterion forks every test.
  OVERSHIM_BUILD="$(dirname "$(dirname "$bin")")" "$bin" -j2 -S 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  line=$(grep -a 'Synthesis:' "$out" | tail -n 1)
  t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
  p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
  f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
  c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
  if [ -z "$t" ]; then echo "no synthesis from $bin (exit $rc)"; failed=$((failed + 1)); status=1; rm -f "$out"; continue; fi
  passed=$((passed + p)); failed=$((failed + f + c))
  [ "$rc" -ne 0 ] && status=1
  rm -f "$out"
done
echo "$passed passed, $failed failed"
exit $status
