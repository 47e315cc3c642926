#!/usr/bin/env bash
# The VM suite's OOM-kill case for the flight recorder (issue 17), for the kernels issue's qemu
# VM suite to call INSIDE a throwaway VM: it drives that machine into the OOM killer on purpose.
# Never run it on a shared machine: it refuses unless OVERSHIM_IN_VM=1.
#
# Usage: OVERSHIM_IN_VM=1 scripts/vm-oomkill-case.sh [BUILD] [CHUNK_MIB]
# A program (build/tests/timeline) maps CHUNK_MIB (32) at a time under flight=, touches all of it,
# waits 1.1 s (so the next mmap takes a sample) and goes on until the kernel kills it. Then
# `overshim postmortem --json` must have matched the kernel's "Killed process" line, and its
# total-vm and anon-rss must be within 5% of the flight file's last sample (the sample is at most
# one chunk behind: 32 MiB is under 5% of a VM with 640 MiB or more).
# Prints one line "vm-oomkill-case: PASS ..." or "... FAIL ...", exit status 0 or 1 (2: not run).
set -u
[ "${OVERSHIM_IN_VM:-}" = 1 ] || { echo "vm-oomkill-case: refusing to run outside a VM (set OVERSHIM_IN_VM=1 there)" >&2; exit 2; }
BUILD=${1:-build}
CHUNK=${2:-32}
dir=$(mktemp -d)
OVERSHIM_OPTIONS="flight=$dir/fl.%p:log=none:json=none:verbosity=0" LD_PRELOAD="$BUILD/libovershim.so" \
  "$BUILD/tests/timeline" 1000000 "$CHUNK" 100 1100 hold > /dev/null 2>&1
st=$?
f=$(ls "$dir"/fl.* 2>/dev/null | head -1)
[ -n "$f" ] || { echo "vm-oomkill-case: FAIL no flight file (exit status $st)"; exit 1; }
"$BUILD/overshim" postmortem "$f" --json --exit-status "$st" > "$dir/pm.json" || { echo "vm-oomkill-case: FAIL postmortem"; exit 1; }
"$BUILD/overshim" postmortem "$f" --exit-status "$st" > "$dir/pm.txt"
num() { sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.]*\).*/\1/p" "$dir/pm.json" | head -1; }
if ! grep -q '"oom_kill":{' "$dir/pm.json"; then
  echo "vm-oomkill-case: FAIL no Killed process line matched (exit status $st; $(grep -m1 KERNEL "$dir/pm.txt"))"; exit 1
fi
tv=$(num total_vm_diff_pct) ar=$(num anon_rss_diff_pct)
ok=$(awk -v a="$tv" -v b="$ar" 'BEGIN{print (a <= 5 && a >= -5 && b <= 5 && b >= -5) ? 1 : 0}')
line="total-vm $(num total_vm_kb) kB ($tv% off the last sample), anon-rss $(num anon_rss_kb) kB ($ar%), exit status $st"
if [ "$ok" = 1 ]; then echo "vm-oomkill-case: PASS $line"; rm -rf "$dir"; exit 0; fi
echo "vm-oomkill-case: FAIL $line (files in $dir)"
exit 1
