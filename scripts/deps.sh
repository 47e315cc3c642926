#!/usr/bin/env bash
# Install the Debian packages overshim needs to build and test, only when missing.
# Idempotent and quiet when everything is present. Works on bullseye, bookworm, trixie
# and sid (make matrix runs it in each).
#
# A need is a package name, or NAME:VIRTUAL. It is met when an installed package is
# called NAME (or NAMEt64: the 64-bit time_t rename of trixie), or provides NAME or
# VIRTUAL (libtcmalloc-minimal4t64 provides libtcmalloc-minimal4; every openjdk-N-jdk-headless
# provides java-sdk-headless). What is missing is installed under the name the suite
# has: NAME, else NAMEt64. NAME? is installed only where the suite has it.
set -eu
case "${1:-}" in
  "") # the build (the command links libdw, libelf, their compressors and libstdc++ statically)
      # and the unit and integration tests; the JDK is the suite's default one
    need="gcc g++ make libc6-dev dpkg-dev xz-utils libjemalloc-dev libjemalloc2 libcriterion-dev libelf-dev
          libdw-dev zlib1g-dev liblzma-dev libbz2-dev default-jdk-headless:java-sdk-headless python3 binutils
          libtcmalloc-minimal4 util-linux man-db pkg-config libiberty-dev nodejs valgrind" ;;
  fuzz) need="clang libclang-rt-dev?" ;;
  # The daemons of tests/integ/test_daemons.c (issue 7): started by the tests themselves, on
  # loopback; their packages must not start system services while installing. postgresql is
  # the suite's own major version (13 on bullseye .. 18 on sid).
  daemons) need="redis-server redis-tools nginx-light postgresql curl nodejs" ;;
  # The tools make bench compares with, for context (issue 5); the bench skips any that is absent.
  bench) need="strace valgrind heaptrack fiu-utils" ;;
  # The plot test (tests/integ/test_timeline.c): the HTML rendered by headless Chromium, its
  # screenshot's pixels checked.
  plot) need="chromium fonts-dejavu-core" ;;
  # make matrix (scripts/matrix.sh), on the host: chroots, namespaces, loopback.
  matrix) need="debootstrap util-linux iproute2 git" ;;
  # make kernels and the VM part of make test (scripts/kernels.sh): Debian's qemu boots Debian's
  # kernels under TCG; busybox is the VM's userland; modules come compressed (xz, zstd).
  vm) need="qemu-system-x86 busybox-static cpio xz-utils zstd curl kmod gpgv" ;;
  *) echo "overshim: deps.sh: unknown set '$1' (none, fuzz, daemons, bench, plot, matrix, vm)" >&2; exit 2 ;;
esac

# Every installed package with what it provides, one per line: "name provided provided ...".
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' 2>/dev/null |
            sed -n 's/^ii  *//p' | sed 's/ ([^)]*)//g; s/,//g')
have() { # NAME...: is any of them installed, or provided by an installed package?
  local n
  for n in "$@"; do
    grep -qE "(^| )$(sed 's/[.+]/\\&/g' <<<"$n")( |$)" <<<"$installed" && return 0
  done
  return 1
}
missing=""
for w in $need; do
  name=${w%%:*} name=${name%\?}
  virt=""
  [ "$w" != "${w#*:}" ] && virt=${w#*:}
  have "$name" "${name}t64" $virt || missing="$missing $w"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  shown=$(for w in $missing; do n=${w%%:*}; printf ' %s' "${n%\?}"; done)
  echo "overshim: missing Debian packages:$shown (run as root, or: sudo apt-get install$shown)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# The name this suite has: NAME, else NAMEt64 (a real package, not only a virtual one).
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^  Candidate: //p' | grep -qv '(none)'; }
install=""
for w in $missing; do
  name=${w%%:*} opt=""
  [ "$name" != "${name%\?}" ] && name=${name%\?} opt=1
  if candidate "$name"; then install="$install $name"
  elif candidate "${name}t64"; then install="$install ${name}t64"
  elif [ -z "$opt" ]; then echo "overshim: no Debian package $name (or ${name}t64) in this suite" >&2; exit 1
  fi
done
[ -z "$install" ] && exit 0
echo "overshim: installing$install" >&2
blocked=""
if [ ! -e /usr/sbin/policy-rc.d ]; then # no service starts during this install
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && blocked=1
fi
rc=0
apt-get install -y -qq --no-install-recommends $install >/dev/null || rc=$?
[ -n "$blocked" ] && rm -f /usr/sbin/policy-rc.d
exit $rc
