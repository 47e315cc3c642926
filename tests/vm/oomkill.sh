# The flight recorder's OOM-kill case (issue 17), sourced by tests/vm/suite.sh inside the VM that
# scripts/kernels.sh booted (busybox sh; emit, mode, kb come from the suite). It drives a program
# into the OOM killer on purpose: only here, in a throwaway VM, never on a shared machine.
#
# The bound: a memory cgroup v2 of OOM_LIMIT_MIB made here (the VM's cgroup2, memory.max, no swap),
# so that the kernel kills the program and nothing else, and the suite goes on. A kernel without
# cgroup2's memory controller: the whole VM's RAM, the program at oom_score_adj 1000 (the badness
# picks it), in bigger chunks. Mode 1, swap off: the OOM killer, not a refusal, ends it.
#
# The program: build/tests/timeline under flight= maps OOM_CHUNK_MIB at a time, touches all of it,
# sleeps 1 s (so its next call takes the flight recorder's sample, at most one a second) and goes
# on until it is killed. The kernel's "Killed process" line is then at most one chunk ahead of the
# last sample: total-vm exactly one chunk plus a page, anon-rss the part of it touched; 16 MiB of
# 448 is under 4%. Then `overshim postmortem --json` (reading /dev/kmsg itself), the kernel line
# read with dmesg, and one OVR line with the figures; the host (scripts/kernels_check.py) checks
# them against the files left in /out: oom.dmesg, oom.pm.json, oom.pm.txt, oom.flight.
OOM_LIMIT_MIB=448
OOM_CHUNK_MIB=16

oom_cgroup() { # -> the cgroup's directory, or nothing when the kernel has no cgroup2 memory controller
  cg=/sys/fs/cgroup
  mkdir -p $cg
  grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none $cg 2>/dev/null || return 0
  grep -qw memory $cg/cgroup.controllers 2>/dev/null || return 0
  echo +memory > $cg/cgroup.subtree_control 2>/dev/null || return 0
  mkdir -p $cg/ovs-oom
  echo $((OOM_LIMIT_MIB << 20)) > $cg/ovs-oom/memory.max || return 0
  [ -e $cg/ovs-oom/memory.swap.max ] && echo 0 > $cg/ovs-oom/memory.swap.max
  echo $cg/ovs-oom
}

oomkill_case() {
  mode 1
  swap_off
  cg=$(oom_cgroup)
  bound=cgroup chunk=$OOM_CHUNK_MIB limit=$OOM_LIMIT_MIB
  [ -n "$cg" ] || { bound=vm chunk=32 limit=$(( $(kb MemTotal) / 1024 )); }
  env_line oomkill
  rm -f /tmp/oom.fl.* $O/oom.*
  t0=$(cut -d' ' -f1 /proc/uptime)
  # sh (busybox, static: no shim in it) joins the cgroup and execs the program: the same pid; a
  # timeout in case nothing kills it
  LD_PRELOAD=$SHIM OVERSHIM_OPTIONS="flight=/tmp/oom.fl.%p:log=none:json=none:verbosity=0" \
    timeout 300 sh -c 'echo 1000 > /proc/self/oom_score_adj; [ -z "$1" ] || echo $$ > "$1/cgroup.procs"; shift; exec "$@"' \
    oom "$cg" /ovs/timeline 1000000 "$chunk" 100 1000 hold > $O/oom.out 2>&1
  st=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  f=$(ls /tmp/oom.fl.* 2>/dev/null | head -n 1)
  pid=${f##*.}
  dmesg > $O/oom.dmesg
  kline=$(grep "Killed process $pid " $O/oom.dmesg | tail -n 1)
  ktv=$(echo "$kline" | sed -n 's/.*total-vm:\([0-9]*\)kB.*/\1/p')
  kar=$(echo "$kline" | sed -n 's/.*anon-rss:\([0-9]*\)kB.*/\1/p')
  mev=-1
  [ -n "$cg" ] && mev=$(awk '$1=="oom_kill" {print $2}' $cg/memory.events)
  matched=0 pm_rc=-1
  if [ -n "$f" ]; then
    cp "$f" $O/oom.flight
    "$OVS" postmortem "$f" --json --exit-status "$st" > $O/oom.pm.json 2> $O/oom.pm.err; pm_rc=$?
    "$OVS" postmortem "$f" --exit-status "$st" > $O/oom.pm.txt 2>&1
    o=$(sed -n 's/.*"oom_kill":{\([^}]*\)}.*/\1/p' $O/oom.pm.json)
    [ -n "$o" ] && matched=1
  fi
  j() { echo "$o" | sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.]*\).*/\1/p"; }
  emit "case=oomkill user=root bound=$bound limit_mib=$limit chunk_mib=$chunk rc_exit=$st secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')" \
       "pid=${pid:-none} kernel_line=$([ -n "$kline" ] && echo 1 || echo 0) kernel_total_vm_kb=${ktv:--1} kernel_anon_rss_kb=${kar:--1}" \
       "memcg_oom_kill=$mev pm_rc=$pm_rc pm_matched=$matched pm_pid=$(j pid) pm_total_vm_kb=$(j total_vm_kb) pm_anon_rss_kb=$(j anon_rss_kb)" \
       "sample_vm_size_kb=$(j vm_size_kb) sample_rss_anon_kb=$(j rss_anon_kb)" \
       "total_vm_diff_pct=$(j total_vm_diff_pct) anon_rss_diff_pct=$(j anon_rss_diff_pct)"
  rm -f /tmp/oom.fl.*
  [ -n "$cg" ] && rmdir $cg 2>/dev/null
  mode 0
  env_line after_oom  # the VM and the suite go on
}
