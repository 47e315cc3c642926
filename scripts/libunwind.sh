#!/usr/bin/env bash
# The shim's private libunwind: Debian's own source package of the running suite, built
# here as PIC static objects (Debian's libunwind.a is not PIC, its libunwind.so.8 pulls
# liblzma.so.5 into every process under the shim). Usage: libunwind.sh BUILD_DIR.
# Installs BUILD_DIR/libunwind/{include,lib/libunwind.a} when that directory is missing;
# works in BUILD_DIR/libunwind-src. The system's apt configuration is not touched: the
# source index and the download live under BUILD_DIR, with a private sources list.
# OVERSHIM_LIBUNWIND_SUITE picks another suite than /etc/os-release's VERSION_CODENAME
# (e.g. sid, whose os-release names the next release); OVERSHIM_LIBUNWIND_DSC builds from
# a .dsc already on disk (its files beside it) instead of downloading.
set -eu
BUILD=${1:?usage: libunwind.sh BUILD_DIR}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
out=$BUILD/libunwind
[ -f "$out/lib/libunwind.a" ] && exit 0
work=$BUILD/libunwind-src
log=$work/build.log
t0=$(date +%s%N)
rm -rf "$work" "$out.tmp"
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
fail() { echo "overshim: libunwind: $*" >&2; [ -f "$log" ] && tail -n 20 "$log" >&2; exit 1; }
# A make running this script must not hand its flags (or its jobserver) to the inner one.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

if [ -n "${OVERSHIM_LIBUNWIND_DSC:-}" ]; then
  dsc=$(realpath "$OVERSHIM_LIBUNWIND_DSC") || fail "no file $OVERSHIM_LIBUNWIND_DSC"
  from="$dsc"
else
  suite=${OVERSHIM_LIBUNWIND_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
  [ -n "$suite" ] || fail "no VERSION_CODENAME in /etc/os-release (set OVERSHIM_LIBUNWIND_SUITE)"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  opt=""
  [ -f "$keyring" ] && opt=" [signed-by=$keyring]"
  echo "deb-src$opt http://deb.debian.org/debian $suite main" > "$work/apt/sources.list"
  apt=(apt-get -q -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache")
  # apt drops to the _apt user to download, which cannot write into a root-owned build tree
  [ "$(id -u)" = 0 ] && apt+=(-o APT::Sandbox::User=root)
  # the index is signed (InRelease, the archive keyring); the files apt-get source fetches
  # are checked against its hashes, and dpkg-source checks them again against the .dsc
  "${apt[@]}" update >"$log" 2>&1 || fail "apt-get update for $suite failed"
  (cd "$work" && "${apt[@]}" source --download-only libunwind) >>"$log" 2>&1 ||
    fail "apt-get source libunwind ($suite) failed"
  dsc=$(ls "$work"/libunwind_*.dsc 2>/dev/null | head -n 1)
  [ -n "$dsc" ] || fail "apt-get source left no .dsc"
  from="Debian $suite"
fi
t1=$(date +%s%N)

# Checksums (and the signature, when a Debian keyring is installed), then the Debian patches.
dpkg-source -x "$dsc" "$work/src" >>"$log" 2>&1 || fail "dpkg-source -x $(basename "$dsc") failed"
version=$(sed -n 's/^Version: //p' "$dsc" | head -n 1)

# Only the local unwinder of this machine: no liblzma, zlib, coredump, ptrace, setjmp,
# C++ exception personality, weak backtrace(), documentation or tests.
cd "$work/src"
CC=${CC:-gcc} CFLAGS="-g -O2" ./configure --prefix="$out.tmp" --with-pic --enable-static --disable-shared \
  --disable-minidebuginfo --disable-zlibdebuginfo --disable-coredump --disable-ptrace --disable-setjmp \
  --disable-documentation --disable-tests --disable-cxx-exceptions --disable-debug-frame \
  --disable-weak-backtrace --disable-unwind-header >>"$log" 2>&1 || fail "configure failed"
grep -q '^#define HAVE_LZMA' include/config.h && fail "configure found liblzma although it was disabled"
jobs=$(nproc 2>/dev/null || echo 2)
make -C src -j"$jobs" libunwind.la >>"$log" 2>&1 || fail "make failed"
make install-includeHEADERS install-nodist_includeHEADERS >>"$log" 2>&1 || fail "header install failed"
install -D -m 0644 src/.libs/libunwind.a "$out.tmp/lib/libunwind.a"
echo "libunwind $version from $from, $(${CC:-gcc} -dumpfullversion 2>/dev/null || true)" > "$out.tmp/VERSION"
rm -rf "$out" # a partial one left by an interrupted copy
mv "$out.tmp" "$out"
t2=$(date +%s%N)
echo "overshim: libunwind $version from $from: fetched in $(( (t1 - t0) / 1000000 )) ms," \
  "built in $(( (t2 - t1) / 1000000 )) ms ($out)" >&2
