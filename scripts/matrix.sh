#!/usr/bin/env bash
# make matrix: the source and the host's binaries on every Debian suite overshim supports.
# Usage: matrix.sh [SUITE...] (default: bullseye bookworm trixie sid). Needs root.
#
# For each suite: a minbase debootstrap chroot, cached in build/chroots/SUITE (made only
# when missing); the packages installed by the project's own scripts/deps.sh, run inside;
# the source tree (git ls-files: tracked and untracked files, not ignored ones, so no
# build/) copied to /overshim; there `make` and `make test` (the suite's gcc, glibc and
# default JDK); then the host's build/libovershim.so and build/overshim run the integration
# suite there (a copy of the chroot's build tree with the two binaries replaced, so
# test programs and the test binary are the suite's own), and the jemalloc-first start
# (LD_PRELOAD="libjemalloc.so.2 libovershim.so" /bin/true) with both libraries.
# Everything runs in a private mount namespace (/proc, /sys, /dev, /dev/shm mounted inside
# it, nothing left behind), the tests also in a private network namespace (loopback only:
# the daemons' ports cannot meet anyone else's). Logs: build/matrix/SUITE.log; the table
# goes to stdout and build/matrix/table.txt. Exit status 1 when anything failed.
# The whole script is one compound command, read before it runs: editing the file during
# a run (it takes long) changes nothing in that run.
{
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$top/$BUILD ;; esac
mirror=${OVERSHIM_MIRROR:-http://deb.debian.org/debian}
suites=${*:-bullseye bookworm trixie sid}
chroots=$BUILD/chroots
logs=$BUILD/matrix
[ "$(id -u)" = 0 ] || { echo "overshim: make matrix needs root (debootstrap, chroot, namespaces)" >&2; exit 1; }
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
bash "$top/scripts/deps.sh" matrix || exit 1
mkdir -p "$chroots" "$logs"

# The host's binaries, built here (the ones under test on every suite).
echo "== host: make" >&2
make -C "$top" BUILD="$BUILD" all > "$logs/host.log" 2>&1 || { tail -n 30 "$logs/host.log" >&2; exit 1; }
host_lib=$BUILD/libovershim.so host_cli=$BUILD/overshim
host_sum=$(sha256sum "$host_lib" "$host_cli" | awk '{print $1}' | tr '\n' ' ')

now() { date +%s; }
# in_chroot ROOT NET SCRIPT: bash -c SCRIPT in the chroot, in a private mount namespace;
# NET=0 also in a private network namespace with loopback up.
in_chroot() {
  local root=$1 net=$2 script=$3 ns=(--mount --propagation private)
  [ "$net" = 0 ] && ns+=(--net)
  unshare "${ns[@]}" -- /bin/bash -c '
    set -e
    root=$1 net=$2
    [ "$net" = 0 ] && ip link set lo up
    mount --bind "$root" "$root" # / a mount point inside: the tests run unshare --propagation there
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777,size=1g tmpfs "$root/dev/shm"
    exec nice -n 10 chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c "$3"
  ' _ "$root" "$net" "$script"
}
# "N passed, N failed" of a log (the last one), or "-"; with ROOT and test binaries also
# ", N skipped": Criterion counts neither a skipped test nor prints one, so the tests the
# binaries list (--list) less the ones that ran.
counts() {
  local log=$1 root=${2:-} c
  c=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  [ -n "$c" ] || { echo "-"; return; }
  if [ -n "$root" ]; then
    shift 2
    local listed ran
    listed=$(in_chroot "$root" 0 "cd /overshim && for b in $*; do \$b --list; done 2>/dev/null | grep -c -- '── '")
    ran=$(awk '{print $1 + $3}' <<<"$c")
    c="$c, $((listed - ran)) skipped"
  fi
  echo "$c"
}

table=$logs/table.txt
status=0
rows=()
for suite in $suites; do
  root=$chroots/$suite
  log=$logs/$suite.log
  : > "$log"
  say() { echo "[$suite] $*" | tee -a "$log" >&2; }
  t_boot=cached
  if [ ! -f "$root/.overshim-bootstrap" ]; then
    say "debootstrap --variant=minbase $suite ($mirror)"
    t0=$(now)
    rm -rf "$root.tmp"
    if ! debootstrap --variant=minbase "$suite" "$root.tmp" "$mirror" >> "$log" 2>&1; then
      say "debootstrap failed"
      rows+=("$suite|-|-|-|debootstrap failed|-|-|-")
      status=1
      continue
    fi
    echo "$suite: debootstrap in $(( $(now) - t0 )) s" > "$root.tmp/.overshim-bootstrap"
    mv "$root.tmp" "$root"
    t_boot="$(( $(now) - t0 )) s"
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # A fresh copy of the source tree, as a clone would have it.
  rm -rf "$root/overshim"
  mkdir -p "$root/overshim"
  (cd "$top" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -C "$root/overshim" -xf -

  # A mirror that serves a frozen copy of a suite (sid's Release "is expired" here): apt of
  # this chroot is told not to check Valid-Until, and the log says so.
  conf=$root/etc/apt/apt.conf.d/99overshim-matrix
  if [ ! -f "$conf" ] && in_chroot "$root" 1 'apt-get update 2>&1' 2>&1 | tee -a "$log" | grep -q 'is expired'; then
    echo 'Acquire::Check-Valid-Until "false";' > "$conf"
    say "the mirror's Release file for $suite has expired: this chroot's apt no longer checks Valid-Until ($conf)"
  elif [ -f "$conf" ]; then
    say "this chroot's apt does not check Valid-Until ($conf: the mirror's Release file had expired)"
  fi

  say "scripts/deps.sh (build, daemons, plot)"
  t0=$(now)
  in_chroot "$root" 1 'cd /overshim && bash scripts/deps.sh && bash scripts/deps.sh daemons && bash scripts/deps.sh plot' >> "$log" 2>&1
  rc_deps=$?
  t_deps=$(( $(now) - t0 ))
  facts=$(in_chroot "$root" 1 'echo "$(getconf GNU_LIBC_VERSION | cut -d" " -f2)|$(gcc -dumpfullversion 2>/dev/null || echo -)|$(java -version 2>&1 | sed -n "1s/.*version \"\([^\"]*\)\".*/\1/p")"' 2>/dev/null)
  IFS='|' read -r glibc gcc jdk <<<"$facts"
  say "glibc $glibc, gcc $gcc, JDK ${jdk:--}; packages in $t_deps s (exit $rc_deps)"

  # The private libunwind: Debian's source package of this suite (sid is named sid, not the
  # next release its os-release names); when deb.debian.org has no such .dsc (404), the
  # bookworm one, said in the log and in the table.
  t0=$(now)
  unw=$suite
  in_chroot "$root" 1 "cd /overshim && OVERSHIM_LIBUNWIND_SUITE=$suite bash scripts/libunwind.sh build" >> "$log" 2>&1
  rc_unw=$?
  if [ $rc_unw != 0 ] && [ "$suite" != bookworm ] &&
     grep -aq '404' "$root/overshim/build/libunwind-src/build.log" 2>/dev/null; then
    say "libunwind: deb.debian.org answers 404 for $suite's source package: building bookworm's instead"
    unw=bookworm
    in_chroot "$root" 1 "cd /overshim && OVERSHIM_LIBUNWIND_SUITE=bookworm bash scripts/libunwind.sh build" >> "$log" 2>&1
    rc_unw=$?
  fi
  say "make"
  in_chroot "$root" 1 'cd /overshim && make' >> "$log" 2>&1
  rc_make=$?
  [ $rc_unw = 0 ] || rc_make=1
  t_make=$(( $(now) - t0 ))
  say "make: exit $rc_make in $t_make s (libunwind from $unw)"

  t0=$(now)
  src="build failed"
  if [ $rc_make = 0 ]; then
    say "make test"
    echo "== make test" >> "$log"
    in_chroot "$root" 0 'cd /overshim && make test' > "$logs/$suite.test.log" 2>&1
    rc_test=$?
    cat "$logs/$suite.test.log" >> "$log"
    src="$(counts "$logs/$suite.test.log" "$root" build/tests/unit build/tests/unit-asan build/tests/integ)"
    [ $rc_test = 0 ] || src="$src (exit $rc_test)"
  else
    rc_test=1
  fi
  t_test=$(( $(now) - t0 ))
  say "make test: $src in $t_test s"

  # The host's binaries in a copy of this suite's build tree (newer than everything there,
  # so that no make run by a test rebuilds them), then the integration suite with them.
  t0=$(now)
  host="not run"
  rc_host=1
  if [ -x "$root/overshim/build/tests/integ" ]; then
    rm -rf "$root/overshim/build-host"
    cp -a "$root/overshim/build" "$root/overshim/build-host"
    rm -rf "$root/overshim/build-host/tests/tmp"
    cp "$host_lib" "$host_cli" "$root/overshim/build-host/"
    touch "$root/overshim/build-host/libovershim.so" "$root/overshim/build-host/overshim"
    say "host binaries: integration tests"
    in_chroot "$root" 0 'cd /overshim && bash tests/run.sh build-host/tests/integ' > "$logs/$suite.host.log" 2>&1
    rc_host=$?
    cat "$logs/$suite.host.log" >> "$log"
    host="$(counts "$logs/$suite.host.log" "$root" build-host/tests/integ)"
    [ $rc_host = 0 ] || host="$host (exit $rc_host)"
    sum=$(cd "$root/overshim/build-host" && sha256sum libovershim.so overshim | awk '{print $1}' | tr '\n' ' ')
    if [ "$sum" != "$host_sum" ]; then
      say "the host's binaries were replaced during the run: the result is not theirs"
      host="$host, binaries replaced"
      rc_host=1
    fi
  fi
  t_host=$(( $(now) - t0 ))
  say "host binaries: $host in $t_host s"

  # jemalloc first, then the shim: the start must finish (it deadlocked before glibc 2.34).
  je=""
  for which in build build-host; do
    lib=/overshim/$which/libovershim.so
    [ -f "$root$lib" ] || { je="$je -"; continue; }
    in_chroot "$root" 0 "timeout 30 env LD_PRELOAD='libjemalloc.so.2 $lib' /bin/true" >> "$log" 2>&1
    r=$?
    say "LD_PRELOAD=\"libjemalloc.so.2 $lib\" /bin/true: exit $r"
    [ $r = 0 ] && je="$je ok" || { je="$je exit-$r"; rc_host=1; }
  done

  ok=pass
  [ $rc_deps = 0 ] && [ $rc_make = 0 ] && [ $rc_test = 0 ] && [ $rc_host = 0 ] || { ok=FAIL; status=1; }
  rows+=("$suite|$glibc|$gcc|${jdk:--}|$src|$host|${je# }|$ok|$t_boot|${t_deps} s|${t_make} s|${t_test} s|${t_host} s|$unw")
done

{
  printf '%-9s %-6s %-8s %-10s %-40s %-36s %-10s %-5s\n' suite glibc gcc JDK "source: make test" \
    "host binaries: integ" "jemalloc" result
  for r in "${rows[@]}"; do
    IFS='|' read -r s g c j src host je ok _ <<<"$r"
    printf '%-9s %-6s %-8s %-10s %-40s %-36s %-10s %-5s\n' "$s" "$g" "$c" "$j" "$src" "$host" "$je" "$ok"
  done
  echo
  printf '%-9s %-12s %-9s %-12s %-10s %-12s %s\n' suite debootstrap packages "libunwind+make" "make test" "host integ" "libunwind source"
  for r in "${rows[@]}"; do
    IFS='|' read -r s _ _ _ _ _ _ _ tb td tm tt th unw <<<"$r"
    printf '%-9s %-12s %-9s %-12s %-10s %-12s %s\n' "$s" "$tb" "$td" "$tm" "$tt" "$th" "$unw"
  done
} | tee "$table"
exit $status
}
