#!/usr/bin/env bash
# make bench: every workload bare and under the shim, interleaved, RUNS times each;
# prints the median ns/op of each side and the median, min and max of the ratio
# (shim / bare), and writes build/bench.json. Benchmarks are not tests: nothing here
# fails on timing.
set -eu
BUILD=${BUILD:-build}
RUNS=${RUNS:-7}
# ONLY=scale: only the rows of the ledger at scale and of refusals (issue 11); ONLY=timeline: trace= and
# flight=; ONLY="malloc64 process_start" (workload names): only those rows, with their instruction counts
ONLY=${ONLY:-}
SHIM=$(realpath "$BUILD/libovershim.so")
BENCH=$(realpath "$BUILD/tests/bench")
declare -A ITER=([malloc64]=20000000 [malloc_mixed_1t]=5000000 [malloc_mixed_4t]=8000000 [mmap4k]=400000
                 [mmap64k_touch]=100000 [mmap_8threads]=800000 [fork_wait]=2000 [pthread_create_join]=20000 [process_start]=300)
ORDER="malloc64 malloc_mixed_1t malloc_mixed_4t mmap4k mmap64k_touch mmap_8threads fork_wait pthread_create_join process_start"
if [ "$ONLY" = scale ] || [ "$ONLY" = timeline ]; then ORDER=""; elif [ -n "$ONLY" ]; then ORDER=$ONLY; fi
for w in $ORDER; do [ -n "${ITER[$w]:-}" ] || { echo "bench: ONLY: no workload '$w' (one of: ${!ITER[*]})" >&2; exit 2; }; done

# Instructions (callgrind: the same count on a loaded machine): malloc(64)+free per pair as
# the difference of two loop lengths (start-up cancels out), process start as the whole
# /bin/true. Prints "BARE SHIM" (empty without valgrind).
refs() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
         sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d , | tail -1; }
instr() { # workload -> "bare shim"
  command -v valgrind >/dev/null || return 0
  local b1 b2 s1 s2
  case $1 in
    malloc64)
      b1=$(refs "$BENCH" malloc64 100000); b2=$(refs "$BENCH" malloc64 200000)
      s1=$(LD_PRELOAD=$SHIM refs "$BENCH" malloc64 100000); s2=$(LD_PRELOAD=$SHIM refs "$BENCH" malloc64 200000)
      # per pair, to a tenth (integer division turned 138.9997 into 138)
      [ -n "$b1$b2$s1$s2" ] && awk -v b="$((b2 - b1))" -v s="$((s2 - s1))" 'BEGIN{printf "%.1f %.1f\n", b/100000, s/100000}' ;;
    process_start)
      b1=$(refs /bin/true); s1=$(LD_PRELOAD=$SHIM refs /bin/true)
      [ -n "$b1$s1" ] && echo "$b1 $s1" ;;
  esac
}

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
  read -r ib is <<<"$(instr "$w")" || true
  cg="" cgj=""
  if [ -n "${ib:-}" ] && [ -n "${is:-}" ]; then
    ir=$(ratio "$is" "$ib")
    cg=$(printf '  instructions %s / %s = %.3fx' "$ib" "$is" "$ir")
    cgj=",\"bare_instructions\":$ib,\"shim_instructions\":$is,\"instructions_ratio\":$ir"
  fi
  printf '%-22s %12s %12s %7.3fx %7.3fx %7.3fx%s\n' "$w" "$mb" "$ms" "$mr" "$lo" "$hi" "$cg"
  [ $first = 1 ] || json+=","
  first=0
  json+="{\"name\":\"$w\",\"bare_ns_per_op\":$mb,\"shim_ns_per_op\":$ms,\"ratio_median\":$mr,\"ratio_min\":$lo,\"ratio_max\":$hi$cgj}"
  ib="" is=""
done
if [ -n "$ONLY" ] && [ "$ONLY" != scale ] && [ "$ONLY" != timeline ]; then
  echo "$json]}" > "$BUILD/bench.json"
  echo "written: $BUILD/bench.json"
  exit 0
fi

# The ledger at scale and refusals, each row with its budget (the verdict is printed,
# nothing fails). pair W ITER LIMIT OPTIONS: W bare and under the shim with
# OVERSHIM_OPTIONS (may be empty), interleaved, into bare, shim and ratios; a shim run
# still going after LIMIT seconds is killed and ends the row (dnf=1).
pair() {
  local w=$1 it=$2 limit=$3 opts=$4 b s
  bare=() shim=() ratios=() dnf=0
  for ((i = 0; i < RUNS; i++)); do
    b=$("$BENCH" "$w" "$it")
    if ! s=$(env ${opts:+OVERSHIM_OPTIONS=$opts} LD_PRELOAD="$SHIM" timeout "$limit" "$BENCH" "$w" "$it"); then
      dnf=1 mb=$b; return
    fi
    bare+=("$b"); shim+=("$s"); ratios+=("$(ratio "$s" "$b")")
  done
  summarise
}
within() { awk -v a="$1" -v b="$2" 'BEGIN{print (a <= b) ? "within" : "OVER"}'; }
row() { # name key budget-text verdict: one line as in the table above, and its JSON
  printf '%-22s %12s %12s %7.3fx %7.3fx %7.3fx  %s: %s\n' "$1" "$mb" "$ms" "$mr" "$lo" "$hi" "$3" "$4"
  [ $first = 1 ] || json+=","
  first=0
  json+="{\"name\":\"$2\",\"bare_ns_per_op\":$mb,\"shim_ns_per_op\":$ms,\"ratio_median\":$mr,"
  json+="\"ratio_min\":$lo,\"ratio_max\":$hi,\"budget\":\"$3\",\"verdict\":\"$4\"}"
}
dnf_row() { # name key budget-text limit
  printf '%-22s %12s %12s  %s: did not finish in %s s under the shim\n' "$1" "$mb" "-" "$3" "$4"
  [ $first = 1 ] || json+=","
  first=0
  json+="{\"name\":\"$2\",\"budget\":\"$3\",\"verdict\":\"did not finish in $4 s\"}"
}
declare -A ITER_SCALE=([guards]=8000 [alternate]=32000 [mmap4k_among1000]=200000 [mmap4k_among60000]=200000
                       [refused_mmap]=10000 [refusal_storm]=200000)
if [ "$ONLY" != timeline ]; then
echo "the ledger at scale, and refusals (ns per mprotect, mmap+munmap, refused call, refused malloc):"
for w in guards alternate; do # 8000 guard pages in one untouched mapping; 32000 PROT_NONE/read-write flips
  pair "$w" "${ITER_SCALE[$w]}" 120 ""
  if [ $dnf = 1 ]; then dnf_row "$w${ITER_SCALE[$w]}" "$w" "budget 2x" 120; continue; fi
  row "$w${ITER_SCALE[$w]}" "$w" "budget 2x" "$(within "$mr" 2)"
done
maxmap=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
declare -A among among_bare
for n in 1000 60000; do # a 4 KiB mmap+munmap among that many tracked mappings (below vm.max_map_count)
  w=mmap4k_among$n
  if [ $((n + 1000)) -gt "$maxmap" ]; then echo "$w: skipped, vm.max_map_count is $maxmap"; continue; fi
  pair "$w" "${ITER_SCALE[$w]}" 120 ""
  among[$n]=$ms
  among_bare[$n]=$mb
  if [ $n = 60000 ] && [ -n "${among[1000]:-}" ]; then
    g=$(ratio "$ms" "${among[1000]}"); gb=$(ratio "$mb" "${among_bare[1000]}")
    row "mmap4k among $n" "$w" "budget 1.5x the shim among 1000, is ${g}x (bare ${gb}x)" "$(within "$g" 1.5)"
  else
    row "mmap4k among $n" "$w" "reference for the row below" "-"
  fi
done
# a refused call past max_reports, its reports written to files: the cost per call
tmp=$(mktemp -d)
pair refused_mmap "${ITER_SCALE[refused_mmap]}" 60 "max_reports=0:verbosity=0:log=$tmp/r%p.log:json=$tmp/r%p.jsonl"
if [ $dnf = 1 ]; then
  dnf_row "refused mmap" refused_mmap "budget bare + 5 us" 60
else
  d=$(awk -v s="$ms" -v b="$mb" 'BEGIN{printf "%.1f", (s - b) / 1000}')
  row "refused mmap" refused_mmap "budget bare + 5 us per call, is +$d us" "$(within "$d" 5)"
fi
rm -rf "$tmp"
# refused mallocs in main while a 200 us timer's handler does a refused mmap
tmp=$(mktemp -d)
pair refusal_storm "${ITER_SCALE[refusal_storm]}" 20 "verbosity=0:log=$tmp/r%p.log:json=$tmp/r%p.jsonl"
if [ $dnf = 1 ]; then dnf_row "refusal storm" refusal_storm "budget 2x" 20; else
  row "refusal storm" refusal_storm "budget 2x" "$(within "$mr" 2)"; fi
rm -rf "$tmp"
fi
if [ "$ONLY" != scale ]; then
# the commit timeline (issue 17): a 4 KiB mmap+munmap (two commit changes and two requests,
# four 96-byte records) under the shim with trace=, and with flight=, interleaved with the shim
# alone: in these rows "bare" is the shim without the option, the ratio option / shim alone
tmp=$(mktemp -d)
opt_pair() { # W ITER OPTIONS
  local w=$1 it=$2 opts=$3 b s
  bare=() shim=() ratios=() dnf=0
  for ((i = 0; i < RUNS; i++)); do
    b=$(OVERSHIM_OPTIONS=log=none:json=none LD_PRELOAD="$SHIM" "$BENCH" "$w" "$it")
    s=$(OVERSHIM_OPTIONS="$opts" LD_PRELOAD="$SHIM" "$BENCH" "$w" "$it") || { dnf=1; return; }
    rm -f "$tmp"/t* "$tmp"/f*
    bare+=("$b"); shim+=("$s"); ratios+=("$(ratio "$s" "$b")")
  done
  summarise
}
opt_pair mmap4k 100000 "trace=$tmp/t%p:trace_max=256M:log=none:json=none"
if [ $dnf = 1 ]; then dnf_row "mmap4k + trace=" trace_mmap4k "budget 1.5x the shim alone" 60; else
  row "mmap4k + trace=" trace_mmap4k "against the shim alone, budget 1.5x" "$(within "$mr" 1.5)"; fi
opt_pair mmap4k 100000 "flight=$tmp/f%p:log=none:json=none"
if [ $dnf = 1 ]; then dnf_row "mmap4k + flight=" flight_mmap4k "budget 1.5x the shim alone" 60; else
  row "mmap4k + flight=" flight_mmap4k "against the shim alone, budget 1.5x" "$(within "$mr" 1.5)"; fi
rm -rf "$tmp"
fi
if [ -n "$ONLY" ]; then
  echo "$json]}" > "$BUILD/bench.json"
  echo "written: $BUILD/bench.json"
  exit 0
fi

# whole programs: wall time, bare and under the shim, interleaved. wall NAME JSONNAME CMD...
wall() {
  local name=$1 key=$2; shift 2
  bare=() shim=() ratios=()
  for ((i = 0; i < RUNS; i++)); do
    local t0 t1 t2 b s
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    LD_PRELOAD=$SHIM "$@" >/dev/null 2>&1; t2=$(date +%s%N)
    b=$(( (t1 - t0) / 1000 )); s=$(( (t2 - t1) / 1000 ))
    bare+=("$b"); shim+=("$s"); ratios+=("$(ratio "$s" "$b")")
  done
  summarise
  printf '%-22s %10s us %10s us %7.3fx %7.3fx %7.3fx\n' "$name" "$mb" "$ms" "$mr" "$lo" "$hi"
  json+=",{\"name\":\"$key\",\"bare_us\":$mb,\"shim_us\":$ms,\"ratio_median\":$mr,\"ratio_min\":$lo,\"ratio_max\":$hi}"
}
command -v java >/dev/null && wall "java -version (wall)" java_version_wall java -version

# memory: the shim's added RSS with no mapping, at 10000 and at 20000 tracked mappings. The
# private heap starts only once the ledger outgrows its static storage, so the cost per
# mapping is the slope between 10000 and 20000 (both past that point), and the budget is
# checked where it bites: added RSS at 20000 against 2 MiB + 64 bytes per mapping.
declare -A rb rs
for n in 0 10000 20000; do
  b=() s=()
  for ((i = 0; i < RUNS; i++)); do
    b+=("$("$BENCH" rss $n)"); s+=("$(LD_PRELOAD=$SHIM "$BENCH" rss $n)")
  done
  rb[$n]=$(printf '%s\n' "${b[@]}" | median); rs[$n]=$(printf '%s\n' "${s[@]}" | median)
done
added=$((rs[0] - rb[0])); added20=$((rs[20000] - rb[20000]))
per=$(awk -v a=$((rs[20000] - rb[20000])) -v b=$((rs[10000] - rb[10000])) 'BEGIN{printf "%.1f", (a-b)*1024/10000}')
allowed=$(( (2048 * 1024 + 64 * 20000) / 1024 ))
printf '%-22s %s KiB with no mapping (bare %s KiB); per tracked mapping %s bytes; at 20000 mappings %s KiB (budget %s KiB)\n' \
  "added RSS" "$added" "${rb[0]}" "$per" "$added20" "$allowed"
json+=",{\"name\":\"added_rss_kib\",\"value\":$added},{\"name\":\"bytes_per_mapping\",\"value\":$per}"
json+=",{\"name\":\"added_rss_kib_at_20000_mappings\",\"value\":$added20,\"budget_kib\":$allowed}"

# a JVM with -Xms1g doing real work (8 threads, 256 MiB of arrays, a child process)
if command -v java >/dev/null && [ -f "$BUILD/tests/Workload.class" ]; then
  wall "java -Xms1g workload" java_xms1g_workload_wall java -Xms1g -cp "$BUILD/tests" Workload
  # from the failing call to both report files written, in the JVM case (the exit event says)
  tmp=$(mktemp -d); ms_list=()
  xms=$(( ($(awk '/MemTotal/{print $2}' /proc/meminfo) + $(awk '/SwapTotal/{print $2}' /proc/meminfo)) / 1024 + 2048 ))
  for ((i = 0; i < RUNS; i++)); do
    (cd "$tmp" && LD_PRELOAD=$SHIM OVERSHIM_OPTIONS=verbosity=0 java -Xms${xms}m -Xmx${xms}m -version >/dev/null 2>&1) || true
  done
  for f in "$tmp"/overshim_pid*.jsonl; do
    ms_list+=("$(grep -o '"report_write_ms":[0-9.]*' "$f" | cut -d: -f2)")
  done
  rm -rf "$tmp"
  rw=$(printf '%s\n' "${ms_list[@]}" | median)
  printf '%-22s %s ms median (%s)\n' "failure to report" "$rw" "$(printf '%s ' "${ms_list[@]}")"
  json+=",{\"name\":\"report_write_ms_jvm\",\"median\":$rw}"
fi

# context: the tools people use today, on fewer iterations (skipped when absent)
ctx() { # name, command prefix...
  local name=$1; shift
  for w in malloc64 mmap4k; do
    local it=$(( ${ITER[$w]} / 100 ))
    local b; b=$("$BENCH" "$w" "$it")
    local t; t=$("$@" "$BENCH" "$w" "$it" 2>/dev/null | grep -E '^[0-9]+\.[0-9]+$' | tail -1)
    [ -n "$t" ] && printf '%-22s %-14s %8s ns/op  %8.1fx\n' "$name" "$w" "$t" "$(ratio "$t" "$b")"
  done
}
echo "context (the same loops, 1/100 of the iterations):"
ctx "overshim" env LD_PRELOAD=$SHIM
command -v strace >/dev/null && ctx "strace %memory" strace -f -qq -e trace=%memory -o /dev/null
command -v valgrind >/dev/null && ctx "valgrind massif" valgrind -q --tool=massif --massif-out-file=/dev/null
command -v heaptrack >/dev/null && (cd "$(mktemp -d)" && ctx "heaptrack" heaptrack)
command -v fiu-run >/dev/null && ctx "fiu-run -x" fiu-run -x
json+="]}"
echo "$json" > "$BUILD/bench.json"
echo "written: $BUILD/bench.json"
