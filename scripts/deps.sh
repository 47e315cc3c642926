#!/usr/bin/env bash
# Install the Debian packages overshim needs to build and test, only when missing.
# Idempotent and quiet when everything is present.
set -eu
pkgs="gcc make dpkg-dev xz-utils libjemalloc-dev libjemalloc2 libcriterion-dev libelf-dev libdw-dev
      openjdk-17-jdk-headless python3 nodejs binutils libtcmalloc-minimal4 util-linux man-db pkg-config libiberty-dev"
[ "${1:-}" = fuzz ] && pkgs="clang-14 libclang-rt-14-dev"
# The daemons of tests/integ/test_daemons.c (issue 7): started by the tests themselves, on
# loopback; their packages must not start system services while installing.
[ "${1:-}" = daemons ] && pkgs="redis-server redis-tools nginx-light postgresql curl nodejs"
# The tools make bench compares with, for context (issue 5); the bench skips any that is absent.
[ "${1:-}" = bench ] && pkgs="strace valgrind heaptrack fiu-utils"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "overshim: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "overshim: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
blocked=""
if [ ! -e /usr/sbin/policy-rc.d ]; then # no service starts during this install
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && blocked=1
fi
rc=0
apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$blocked" ] && rm -f /usr/sbin/policy-rc.d
exit $rc
