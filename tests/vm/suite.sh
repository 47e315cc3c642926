#!/bin/sh
# The VM suite (busybox sh), run by /init inside a VM that scripts/kernels.sh booted.
# Every case is a real call to the booted kernel; sysctls and swap are set here, inside the VM.
# Output: "OVR key=value ..." lines on the console (scripts/kernels_check.py reads them) and, in
# /out, the shim's JSON reports (CASE.USER.jsonl), /proc/meminfo after each case, snapshots.
P=/ovs/vmprobe
SHIM=/ovs/libovershim.so
OVS=/ovs/overshim
O=/out
chmod 1777 $O
VM=/proc/sys/vm

emit() { echo "OVR $*"; }
# make test's runs are quick (ovs_quick=1): the per-call searches only in ratio 50, no memfd growth to the limit
QUICK=0
for a in $(cat /proc/cmdline); do case $a in ovs_quick=1) QUICK=1 ;; esac; done
kb() { awk -v k="$1:" '$1==k {print $2}' /proc/meminfo; }
pages() { echo $(( $(kb "$1") / 4 )); }
as() { # USER CMD...: run as root or as nobody (65534)
  u=$1; shift
  if [ "$u" = nobody ]; then "$P" asuser 65534 "$@"; else "$@"; fi
}
# CASE USER ARGS...: the call bare, then under the shim (json report), then meminfo
run() {
  c=$1 u=$2; shift 2
  line=$(as "$u" "$P" "$@"); rc=$?
  emit "case=$c user=$u run=bare rc_exit=$rc args=$(echo "$*" | tr ' ' ,) $line"
  rm -f "$O/$c.$u.jsonl"
  line=$(LD_PRELOAD=$SHIM OVERSHIM_OPTIONS="json=$O/$c.$u.jsonl:log=$O/$c.$u.log:verbosity=0" as "$u" "$P" "$@" 2>/dev/null); rc=$?
  emit "case=$c user=$u run=shim rc_exit=$rc $line"
  cat /proc/meminfo > "$O/$c.$u.meminfo"
}
# CASE USER ARGS...: the call once, bare (a remedy's rerun, or a case without a report)
again() {
  c=$1 u=$2; shift 2
  line=$(as "$u" "$P" "$@"); rc=$?
  emit "case=$c user=$u run=remedy rc_exit=$rc args=$(echo "$*" | tr ' ' ,) $line"
}
# a number out of the first remedy matching a sed pattern in the case's log
remedy_num() { sed -n "s/.*$2.*/\\1/p" "$O/$1.log" 2>/dev/null | head -n 1; }
mode() { # MODE [ratio N | kbytes N]
  echo "$1" > $VM/overcommit_memory
  case "${2:-}" in
    ratio) echo "$3" > $VM/overcommit_ratio ;;
    kbytes) echo "$3" > $VM/overcommit_kbytes ;;
  esac
}
swap_on() {
  [ -e /sys/block/zram0 ] || { emit "note zram=missing"; return 1; }
  echo 512M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
}
swap_off() { swapoff /dev/zram0 2>/dev/null; echo 1 > /sys/block/zram0/reset 2>/dev/null; }
room() { echo $(( ($(kb CommitLimit) - $(kb Committed_AS)) / 4 )); }
env_line() { # TAG: the inputs of the arithmetic, as the kernel shows them
  emit "env tag=$1 uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) ncpus=$(grep -c ^processor /proc/cpuinfo) memtotal_kb=$(kb MemTotal)" \
       "swaptotal_kb=$(kb SwapTotal) commitlimit_kb=$(kb CommitLimit) committed_kb=$(kb Committed_AS)" \
       "mode=$(cat $VM/overcommit_memory) ratio=$(cat $VM/overcommit_ratio) kbytes=$(cat $VM/overcommit_kbytes)" \
       "admin_kb=$(cat $VM/admin_reserve_kbytes) user_kb=$(cat $VM/user_reserve_kbytes) max_map_count=$(cat $VM/max_map_count)"
}
# explain's largest request (json) against the probe's real largest, as USER
explain_vs_real() { # TAG USER
  flag=--as-root; [ "$2" = nobody ] && flag=--as-user
  ex=$(as "$2" "$OVS" explain --json $flag 4096 2>/dev/null | sed -n 's/.*"largest_pages": *\([0-9-]*\).*/\1/p' | head -n1)
  real=$(as "$2" "$P" largest mmap)
  emit "case=explain.$1 user=$2 explain_largest=$ex $real"
}

emit "start kernel=$(uname -r)"
echo 0 > $VM/overcommit_memory
env_line boot

# --- mode 0: one request against RAM + swap (5.2+) ---------------------------------------
for sw in noswap swap; do
  [ $sw = swap ] && { swap_on || continue; }
  mode 0
  env_line m0.$sw
  n=$(( $(pages MemTotal) + $(pages SwapTotal) ))
  for u in root nobody; do
    again m0.$sw.at $u mmap $n
    run m0.$sw.over $u mmap $((n + 1))
  done
  explain_vs_real m0.$sw root
  [ $sw = swap ] && swap_off
done

# --- mode 2: ratio 50, kbytes, ratio 50 with swap --------------------------------------
for cfg in r50 kb swap; do
  case $cfg in
    r50) mode 2 ratio 50 ;;
    kb) mode 2 kbytes 600000 ;;
    swap) swap_on || continue; mode 2 ratio 50 ;;
  esac
  t=m2.$cfg
  env_line $t
  lim=$(pages CommitLimit)
  for u in root nobody; do
    run $t.mmap $u mmap $lim
    m=$(remedy_num $t.mmap.$u 'this request at most \([0-9]*\) MiB'); [ -n "$m" ] && again $t.mmap.$u.at_most $u mmap $((m * 256))
    run $t.fixed $u fixed $((lim * 2)) $lim
    m=$(remedy_num $t.fixed.$u 'at most \([0-9]*\) MiB'); [ -n "$m" ] && again $t.fixed.$u.at_most $u fixed $((lim * 2)) $((m * 256))
    again $t.fixed_largest $u largest fixed $((lim * 2))
    run $t.mprotect $u mprotect $lim
    run $t.mremap $u mremap $lim
    run $t.brk $u brk $lim
    r=$(room)
    run $t.fork $u fork $((r * 6 / 10))
    m=$(remedy_num $t.fork.$u 'a parent with at most \([0-9]*\) MiB'); [ -n "$m" ] && again $t.fork.$u.at_most $u fork $((m * 256))
    run $t.thread $u thread $lim
  done
  # a sysctl remedy: rerun the refused mmap with the value it names
  case $cfg in
    r50|swap) v=$(remedy_num $t.mmap.nobody 'overcommit_ratio from [0-9]* to at least \([0-9]*\)')
      if [ -n "$v" ]; then echo "$v" > $VM/overcommit_ratio; again $t.mmap.nobody.sysctl nobody mmap $lim; echo 50 > $VM/overcommit_ratio; fi ;;
    kb) v=$(remedy_num $t.mmap.nobody 'overcommit_kbytes to at least \([0-9]*\)')
      if [ -n "$v" ]; then echo "$v" > $VM/overcommit_kbytes; again $t.mmap.nobody.sysctl nobody mmap $lim; echo 600000 > $VM/overcommit_kbytes; fi ;;
  esac
  explain_vs_real $t root
  explain_vs_real $t nobody
  # the real largest of each call, against the model's (limit - committed) in its report
  for u in root nobody; do
    [ $cfg = r50 ] || [ "$QUICK" = 0 ] || continue
    for k in mprotect mremap brk thread fork; do again $t.largest_$k $u largest $k; done
    [ $cfg = r50 ] && [ "$QUICK" = 0 ] && again $t.largest_memfd $u memfd_grow
  done
  if [ $cfg = r50 ]; then # a snapshot for the simulator on the host, with the real largest beside it
    "$OVS" snapshot -o $O/snapshot.$t.txt
    emit "case=snapshot.$t user=root $("$P" largest mmap)"
    as nobody "$OVS" snapshot -o $O/snapshot.$t.nobody.txt
    emit "case=snapshot.$t user=nobody $(as nobody "$P" largest mmap)"
  fi
  [ $cfg = swap ] && swap_off
  echo 50 > $VM/overcommit_ratio
done

# --- mode 1: never refused for overcommit ----------------------------------------------
mode 1
env_line m1
big=$(( ($(pages MemTotal) + $(pages SwapTotal)) * 4 ))
for u in root nobody; do
  again m1.mmap $u mmap $big
  again m1.fixed $u fixed $big $big
  again m1.fork $u fork $big
done

# --- max_map_count -------------------------------------------------------------------------
mode 0
echo 3000 > $VM/max_map_count
env_line maps
for u in root nobody; do
  run maps $u maps
  m=$(remedy_num maps.$u 'raise vm.max_map_count to at least \([0-9]*\)')
  s=$(echo "$line" | sed -n 's/.*splits=\([0-9]*\).*/\1/p') # the refused split was number s + 1
  if [ -n "$m" ] && [ -n "$s" ]; then
    echo "$m" > $VM/max_map_count; again maps.$u.sysctl $u maps $((s + 1)); echo 3000 > $VM/max_map_count
  fi
done
echo 65530 > $VM/max_map_count

# --- memfd: fallocate, MAP_SHARED, touch, in each mode (how shmem is charged) ----------------
for m in 0 1 2; do
  mode $m
  [ $m = 2 ] && echo 50 > $VM/overcommit_ratio
  env_line memfd.m$m
  again memfd.m$m.32m root memfd 8192 8192
  again memfd_sparse.m$m.32m root memfd_sparse 8192 8192
  if [ $m = 2 ]; then
    r=$(room); again memfd.m2.over root memfd $((r + 4096)) 0
    [ "$QUICK" = 0 ] && again memfd_sparse.m2.over root memfd_sparse_over $((r + 4096))
  fi
done
mode 0

# --- a real OOM kill in a memory cgroup of the VM: the flight recorder's postmortem against the
# kernel's "Killed process" line (tests/vm/oomkill.sh) -------------------------------------
. /ovs/oomkill.sh
oomkill_case

# --- the JVM -------------------------------------------------------------------------------
if [ "${OVS_JAVA:-0}" = 1 ] && [ -x /jdk/bin/java ]; then
  J=/jdk/bin/java
  mode 2 ratio 50
  env_line jvm
  xms=$(( $(kb CommitLimit) / 1024 + 64 ))
  rm -f $O/jvm.heap.root.jsonl
  LD_PRELOAD=$SHIM OVERSHIM_OPTIONS="json=$O/jvm.heap.root.jsonl:log=$O/jvm.heap.root.log:verbosity=0" \
    $J -XX:+UseSerialGC -Xms${xms}m -Xmx${xms}m -Xshare:off -XX:TieredStopAtLevel=1 -version > $O/jvm.heap.out 2>&1
  emit "case=jvm.heap user=root run=shim rc_exit=$? xms_mib=$xms"
  cat /proc/meminfo > $O/jvm.heap.root.meminfo
  m=$(remedy_num jvm.heap.root '\-Xms\([0-9]*\)m or less')
  if [ -n "$m" ]; then
    $J -XX:+UseSerialGC -Xms${m}m -Xmx${xms}m -Xshare:off -XX:TieredStopAtLevel=1 -version > $O/jvm.heap.remedy.out 2>&1
    emit "case=jvm.heap.root.at_most user=root run=remedy rc_exit=$? xms_mib=$m"
  fi
  mode 0
  # out of threads: RLIMIT_NPROC as nobody (6 tasks: fewer than any JVM starts; 12 was not always reached)
  rm -f $O/jvm.threads.nobody.jsonl
  (ulimit -u 6; LD_PRELOAD=$SHIM OVERSHIM_OPTIONS="json=$O/jvm.threads.nobody.jsonl:log=$O/jvm.threads.nobody.log:verbosity=0" \
    "$P" asuser 65534 $J -XX:+UseSerialGC -Xmx64m -Xshare:off -XX:TieredStopAtLevel=1 -version > $O/jvm.threads.out 2>&1)
  emit "case=jvm.threads user=nobody run=shim rc_exit=$?"
  n=$(remedy_num jvm.threads.nobody 'ulimit -u \([0-9]*\)')
  if [ -n "$n" ]; then
    (ulimit -u "$n"; "$P" asuser 65534 $J -XX:+UseSerialGC -Xmx64m -Xshare:off -XX:TieredStopAtLevel=1 -version > $O/jvm.threads.remedy.out 2>&1)
    emit "case=jvm.threads.nobody.ulimit user=nobody run=remedy rc_exit=$? nproc=$n"
  fi
fi
emit "done"
