#!/bin/busybox sh
# /init of the VM that scripts/kernels.sh boots: mounts, modules, zram, the shares; then the suite;
# then power off. Everything here changes only the VM.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/ovs
export OVS_IN_VM=1  # vmprobe's searches run only here
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
chmod 1777 /tmp
for m in $(cat /ovs/modules.list); do
  insmod /ovs/mod/$m 2>/dev/null || echo "OVR note insmod_failed=$m"
done
mount -t 9p -o trans=virtio,version=9p2000.L out /out || echo "OVR note out_share=missing"
java_on=0
for a in $(cat /proc/cmdline); do case $a in ovs_java=1) java_on=1 ;; esac; done
if [ "$java_on" = 1 ]; then
  mount -t 9p -o trans=virtio,version=9p2000.L,ro jdk /jdk || { echo "OVR note jdk_share=missing"; java_on=0; }
fi
export OVS_JAVA=$java_on
/ovs/suite.sh 2>&1 | tee /out/suite.log
sync
echo "OVR end"
poweroff -f
