#!/usr/bin/env bash
# make bench: every workload bare and under the shim, interleaved, RUNS times each;
# prints the median ns/op of each side and the median, min and max of the ratio
# (shim / bare), and writes build/bench.json. Benchmarks are not tests: nothing here
# fails on timing.
set -eu
BUILD=${BUILD:-build}
RUNS=${RUNS:-7}
SHIM=$(realpath "$BUILD/libovershim.so")
BENCH=$BUILD/tests/bench
declare -A ITER=([malloc64]=20000000 [malloc_mixed_1t]=5000000 [malloc_mixed_4t]=8000000 [mmap4k]=400000
                 [mmap64k_touch]=100000 [mmap_8threads]=800000 [fork_wait]=2000 [pthread_create_join]=20000)
ORDER="malloc64 malloc_mixed_1t malloc_mixed_4t mmap4k mmap64k_touch mmap_8threads fork_wait pthread_create_join"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# From the arrays bare, shim and ratios: the medians mb, ms, mr and the ratio's range lo..hi.
summarise() {
  mb=$(printf '%s\n' "${bare[@]}" | median); ms=$(printf '%s\n' "${shim[@]}" | median)
  mr=$(printf '%s\n' "${ratios[@]}" | median)
  lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1); hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.4f", a/b}'; }

json="{\"runs\": $RUNS, \"machine\": \"$(nproc) cpus, $(uname -r)\", \"workloads\": ["
printf '%-22s %12s %12s %8s %8s %8s\n' workload "bare ns/op" "shim ns/op" median min max
first=1
for w in $ORDER; do
  bare=() shim=() ratios=()
  for ((i = 0; i < RUNS; i++)); do
    b=$("$BENCH" "$w" "${ITER[$w]}")
    s=$(LD_PRELOAD=$SHIM "$BENCH" "$w" "${ITER[$w]}")
    bare+=("$b"); shim+=("$s"); ratios+=("$(ratio "$s" "$b")")
  done
  summarise
  printf '%-22s %12s %12s %7.3fx %7.3fx %7.3fx\n' "$w" "$mb" "$ms" "$mr" "$lo" "$hi"
  [ $first = 1 ] || json+=","
  first=0
  json+="{\"name\":\"$w\",\"bare_ns_per_op\":$mb,\"shim_ns_per_op\":$ms,\"ratio_median\":$mr,\"ratio_min\":$lo,\"ratio_max\":$hi}"
done

# whole-program: java -version wall time
if command -v java >/dev/null; then
  bare=() shim=() ratios=()
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s%N); java -version 2>/dev/null; t1=$(date +%s%N)
    LD_PRELOAD=$SHIM java -version 2>/dev/null; t2=$(date +%s%N)
    b=$(( (t1 - t0) / 1000 )); s=$(( (t2 - t1) / 1000 ))
    bare+=("$b"); shim+=("$s"); ratios+=("$(ratio "$s" "$b")")
  done
  summarise
  printf '%-22s %10s us %10s us %7.3fx %7.3fx %7.3fx\n' "java -version (wall)" "$mb" "$ms" "$mr" "$lo" "$hi"
  json+=",{\"name\":\"java_version_wall\",\"bare_us\":$mb,\"shim_us\":$ms,\"ratio_median\":$mr,\"ratio_min\":$lo,\"ratio_max\":$hi}"
fi
json+="]}"
echo "$json" > "$BUILD/bench.json"
echo "written: $BUILD/bench.json"
