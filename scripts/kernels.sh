#!/usr/bin/env bash
# make kernels: Debian's own kernels in the loop (README, "Real kernels").
#
#   scripts/kernels.sh [SUITE...]      default: bullseye bookworm trixie sid
#
# For each suite: Debian's kernel package (sid: linux-binary-* and linux-modules-*) fetched from
# the mirror into build/kernels/SUITE, checked against the suite's Packages index (sha256), whose
# own sha256 is checked against the suite's InRelease (signature checked with gpgv and the host's
# debian-archive-keyring); an initramfs (busybox, the shim, the command, tests/vm/vmprobe, the glibc
# libraries ldd finds for them, the kernel's zram/9p/virtio modules); one boot under qemu TCG with
# 2 vCPUs and 2 GiB, the host JDK on a read-only 9p share and an output directory on a writable one;
# the VM runs tests/vm/suite.sh, which prints "OVR ..." result lines on the serial console and
# leaves the shim's reports and snapshots in the output directory; then scripts/kernels_check.py
# asserts on them on the host and prints the table kernel x case.
#
# Environment: BUILD (build), KERNELS_JAVA (1: the JVM cases; 0: none), KERNELS_QUICK (1: make test's
# shorter run: the per-call boundary searches in ratio 50 only, no memfd grown to the limit), KERNELS_TIMEOUT (seconds per
# boot, 900), MIRROR (http://deb.debian.org/debian). One VM at a time. Nothing on the host changes
# but build/kernels: the sysctls are set inside the VM only.
set -eu
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
KDIR=$BUILD/kernels
JAVA_ON=${KERNELS_JAVA:-1}
TIMEOUT=${KERNELS_TIMEOUT:-900}
QUICK=${KERNELS_QUICK:-0}
SUITES=${*:-bullseye bookworm trixie sid}
mkdir -p "$KDIR"
# one run at a time (one VM at a time on a shared machine; the trees below are shared)
exec 9>"$KDIR/.lock"
flock 9
say() { echo "kernels: $*" >&2; }
die() { echo "kernels: $*" >&2; exit 1; }

for t in qemu-system-x86_64 busybox cpio dpkg-deb depmod xz zstd curl gpgv python3; do
  command -v "$t" >/dev/null || die "missing $t (scripts/deps.sh vm installs it)"
done
[ -x "$BUILD/vmprobe" ] && [ -f "$BUILD/libovershim.so" ] && [ -x "$BUILD/overshim" ] && [ -x "$BUILD/tests/timeline" ] ||
  die "build first: make all $BUILD/vmprobe $BUILD/tests/timeline"

# --- fetching -------------------------------------------------------------------------------
# The suite's Packages index, checked against its signed InRelease; cached for a day.
packages_index() { # SUITE -> path of the uncompressed index
  local s=$1 d=$KDIR/$s
  mkdir -p "$d"
  if [ ! -s "$d/Packages" ] || [ -n "$(find "$d/Packages" -mmin +1440 2>/dev/null)" ]; then
    curl -sfL --retry 3 -o "$d/InRelease" "$MIRROR/dists/$s/InRelease" || die "$s: cannot fetch InRelease"
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$d/InRelease" 2>"$d/gpgv.log" ||
      die "$s: InRelease signature not valid (see $d/gpgv.log)"
    curl -sfL --retry 3 -o "$d/Packages.xz" "$MIRROR/dists/$s/main/binary-amd64/Packages.xz" ||
      die "$s: cannot fetch Packages.xz"
    local want got
    want=$(awk '/^SHA256:/{on=1;next} /^[A-Za-z]/{on=0} on && $3=="main/binary-amd64/Packages.xz"{print $1}' "$d/InRelease")
    got=$(sha256sum "$d/Packages.xz" | cut -d' ' -f1)
    [ -n "$want" ] && [ "$want" = "$got" ] || die "$s: Packages.xz sha256 $got, InRelease says '$want'"
    xz -dc "$d/Packages.xz" > "$d/Packages.tmp" && mv "$d/Packages.tmp" "$d/Packages"
  fi
  echo "$d/Packages"
}
field() { # INDEX PACKAGE FIELD
  awk -v p="$2" -v f="$3" 'BEGIN{RS=""; FS="\n"} { ok=0; for (i=1;i<=NF;i++) if ($i=="Package: " p) ok=1;
       if (!ok) next; for (i=1;i<=NF;i++) if (index($i, f ": ")==1) { print substr($i, length(f)+3); exit } }' "$1"
}
deps_of() { field "$1" "$2" Depends | tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/ //g'; }
fetch_deb() { # INDEX PACKAGE DIR
  local fn sha got
  fn=$(field "$1" "$2" Filename); sha=$(field "$1" "$2" SHA256)
  [ -n "$fn" ] && [ -n "$sha" ] || die "$2: not in $1"
  local out=$3/$(basename "$fn")
  if [ ! -s "$out" ] || [ "$(sha256sum "$out" | cut -d' ' -f1)" != "$sha" ]; then
    say "fetching $(basename "$fn")"
    curl -sfL --retry 3 -o "$out.part" "$MIRROR/$fn" || die "cannot fetch $MIRROR/$fn"
    mv "$out.part" "$out"
  fi
  got=$(sha256sum "$out" | cut -d' ' -f1)
  [ "$got" = "$sha" ] || die "$(basename "$fn"): sha256 $got, the Packages index says $sha"
  echo "$out"
}
# SUITE -> build/kernels/SUITE/root holds /boot/vmlinuz-* and /lib/modules/*; prints the release
fetch_kernel() {
  local s=$1 d=$KDIR/$1 idx img pkgs=""
  idx=$(packages_index "$s")
  img=$(deps_of "$idx" linux-image-amd64 | grep '^linux-image-' | head -n1)
  [ -n "$img" ] || die "$s: linux-image-amd64 names no kernel"
  # sid splits the image into linux-binary-* (vmlinuz) and linux-modules-*
  local split
  split=$(deps_of "$idx" "$img" | grep -E '^linux-(binary|modules)-' || true)
  if [ -n "$split" ]; then pkgs=$split; else pkgs=$img; fi
  local stamp="$d/root/.pkgs" want
  want="$(echo $pkgs) $(field "$idx" "$img" Version)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    rm -rf "$d/root"; mkdir -p "$d/root"
    local p deb
    for p in $pkgs; do
      deb=$(fetch_deb "$idx" "$p" "$d")
      dpkg-deb -x "$deb" "$d/root"
    done
    echo "$want" > "$stamp"
  fi
  # /boot/vmlinuz-REL, or (sid's linux-binary-*) /usr/lib/modules/REL/vmlinuz
  local v
  v=$(ls "$d/root/boot" 2>/dev/null | sed -n 's/^vmlinuz-//p' | head -n1)
  [ -n "$v" ] || v=$(ls "$d/root/usr/lib/modules" 2>/dev/null | head -n1)
  echo "$v"
}
vmlinuz_of() { # ROOT RELEASE
  if [ -f "$1/boot/vmlinuz-$2" ]; then echo "$1/boot/vmlinuz-$2"; else echo "$1/usr/lib/modules/$2/vmlinuz"; fi
}

# --- the initramfs --------------------------------------------------------------------------
# What every kernel's initramfs shares: busybox, the binaries and their libraries.
common_tree() {
  local t=$KDIR/initramfs-common
  rm -rf "$t"; mkdir -p "$t"/{bin,sbin,lib64,lib/x86_64-linux-gnu,ovs,out,jdk,proc,sys,dev,tmp,etc,root}
  cp "$(command -v busybox)" "$t/bin/busybox"
  cp "$BUILD/libovershim.so" "$BUILD/overshim" "$BUILD/vmprobe" "$BUILD/tests/timeline" "$t/ovs/"
  cp "$SRC/tests/vm/suite.sh" "$SRC/tests/vm/oomkill.sh" "$SRC/tests/vm/init.sh" "$t/ovs/"
  mv "$t/ovs/init.sh" "$t/init"; chmod +x "$t/init" "$t/ovs/suite.sh"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n' > "$t/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$t/etc/group"
  # the glibc the binaries need (the JDK's own libraries come with the share; its system ones here)
  local bins="$BUILD/libovershim.so $BUILD/vmprobe $BUILD/tests/timeline"
  if [ "$JAVA_ON" = 1 ] && [ -n "${JAVA_HOME_DIR:-}" ]; then
    bins="$bins $(find "$JAVA_HOME_DIR" -name '*.so' -o -path '*/bin/java' | tr '\n' ' ')"
  fi
  local lib
  for lib in $(ldd $bins 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' | sort -u); do
    case $lib in "$JAVA_HOME_DIR"*) continue ;; esac
    cp -L "$lib" "$t/lib/x86_64-linux-gnu/" 2>/dev/null || true
  done
  cp -L /lib64/ld-linux-x86-64.so.2 "$t/lib64/"
}
# The modules a kernel needs, with their dependencies in load order (modules.dep), uncompressed.
kernel_modules() { # ROOT RELEASE DEST -> writes DEST/ovs/modules.list
  local root=$1 rel=$2 dest=$3 m dep
  local md=$root/lib/modules/$rel
  [ -d "$md" ] || md=$root/usr/lib/modules/$rel
  [ -d "$md" ] || die "no modules for $rel in $root"
  # the packages leave modules.dep to depmod at install time
  if [ ! -s "$md/modules.dep" ]; then
    local base=$root
    [ "$md" = "$root/usr/lib/modules/$rel" ] && base=$root/usr
    depmod -b "$base" "$rel" || die "depmod failed for $rel"
  fi
  : > "$dest/ovs/modules.list"
  mkdir -p "$dest/ovs/mod"
  declare -A seen=()
  add() { # relative path of a module: its deps first
    local rel_path=$1 d
    [ -n "${seen[$rel_path]:-}" ] && return 0
    seen[$rel_path]=1
    for d in $(awk -v m="$rel_path:" '$1==m {for (i=2;i<=NF;i++) print $i}' "$md/modules.dep"); do add "$d"; done
    local base out
    base=$(basename "$rel_path"); out=${base%.xz}; out=${out%.zst}
    case $base in
      *.xz) xz -dc "$md/$rel_path" > "$dest/ovs/mod/$out" ;;
      *.zst) zstd -qdc "$md/$rel_path" > "$dest/ovs/mod/$out" ;;
      *) cp "$md/$rel_path" "$dest/ovs/mod/$out" ;;
    esac
    echo "$out" >> "$dest/ovs/modules.list"
  }
  for m in virtio_pci virtio_ring virtio 9pnet_virtio 9p zram; do
    dep=$(awk -F: -v m="$m" '{n=$1; sub(/.*\//,"",n); sub(/\.ko(\.xz|\.zst)?$/,"",n); gsub(/-/,"_",n); if (n==m) {print $1; exit}}' "$md/modules.dep")
    [ -n "$dep" ] && add "$dep"   # built into the kernel when absent
  done
  return 0
}
make_initramfs() { # ROOT RELEASE OUT
  local t=$KDIR/initramfs-$2
  rm -rf "$t"; cp -a "$KDIR/initramfs-common" "$t"
  kernel_modules "$1" "$2" "$t"
  # /dev/console must exist before /init runs: a cpio list made as root keeps it
  [ -e "$t/dev/console" ] || mknod -m 600 "$t/dev/console" c 5 1
  [ -e "$t/dev/null" ] || mknod -m 666 "$t/dev/null" c 1 3
  (cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) > "$3"
}

# --- booting --------------------------------------------------------------------------------
JAVA_HOME_DIR=""
if [ "$JAVA_ON" = 1 ]; then
  j=$(readlink -f "$(command -v java 2>/dev/null)" 2>/dev/null || true)
  [ -n "$j" ] && JAVA_HOME_DIR=$(dirname "$(dirname "$j")")
  [ -d "$JAVA_HOME_DIR" ] || { say "no java on the host: the JVM cases are skipped"; JAVA_ON=0; JAVA_HOME_DIR=""; }
fi
common_tree
status=0
tables=""
for s in $SUITES; do
  t0=$(date +%s)
  rel=$(fetch_kernel "$s") || die "$s: fetch failed"
  [ -n "$rel" ] || die "$s: no vmlinuz in the packages"
  t1=$(date +%s)
  out=$KDIR/out/$s
  rm -rf "$out"; mkdir -p "$out"
  make_initramfs "$KDIR/$s/root" "$rel" "$KDIR/$s/initrd.gz"
  share=()
  [ "$JAVA_ON" = 1 ] && share=(-virtfs "local,path=$JAVA_HOME_DIR,mount_tag=jdk,security_model=none,readonly=on")
  say "$s: booting $rel (java: $JAVA_ON)"
  rc=0
  timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot \
    -kernel "$(vmlinuz_of "$KDIR/$s/root" "$rel")" -initrd "$KDIR/$s/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet ovs_java=$JAVA_ON ovs_quick=$QUICK ovs_kernel=$s" \
    -virtfs "local,path=$out,mount_tag=out,security_model=none" "${share[@]}" \
    -nic none < /dev/null > "$out/console.log" 2>&1 || rc=$?
  t2=$(date +%s)
  echo "fetch_s=$((t1 - t0)) boot_s=$((t2 - t1)) qemu_rc=$rc release=$rel" > "$out/host.txt"
  say "$s: VM done in $((t2 - t1)) s (qemu exit $rc)"
  python3 "$SRC/scripts/kernels_check.py" --build "$BUILD" --suite "$s" "$out" || status=1
  tables="$tables $out"
done
python3 "$SRC/scripts/kernels_check.py" --build "$BUILD" --table $tables
echo
python3 "$SRC/scripts/kernels_check.py" --build "$BUILD" --table --summary $tables
exit $status
