"""QEMU's command line for a node, the one place it is built: the cluster's
nodes (a console socket, QMP, a NIC on the LAN, daemonized) and `make
bench`'s single nodes (serial on stdio) differ only in the arguments given
here. Every line says `-nic none` (QEMU would add a user-networking NIC)
and has, at most, an e1000 on a vde switch: never user networking, never tap."""

import os

from .errors import QsnetError

MEMORY_MB = 256
DISK_SIZE = 64 << 20  # the IDE disk
PMEM_SIZE = 16 << 20  # the persistent memory (ivshmem-plain) of Vista mode
DISK, PMEM = "disk.img", "pmem.img"


def node_mac(node):
    """The MAC address of NODE's e1000: 52:54:00:12:34:NN, NN the id in hex."""
    node = int(node)
    if not 0 <= node <= 255:
        raise QsnetError("node id %d: the MAC address has room for 0-255" % node)
    return "52:54:00:12:34:%02x" % node


def make_storage(directory, fresh=False):
    """The disk and the persistent memory in DIRECTORY, as sparse files of
    zeros: made if missing (FRESH: zeroed again). Returns their paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, size in ((DISK, DISK_SIZE), (PMEM, PMEM_SIZE)):
        path = os.path.join(directory, name)
        if fresh or not os.path.exists(path):
            with open(path, "wb") as f:
                f.truncate(size)
        paths.append(path)
    return paths


def qemu_argv(iso, memory=MEMORY_MB, disk=None, pmem=None, console=None,
              qmp=None, boot_args=(), nic=None, daemon=None, gdb=False,
              icount=False, key=None, disk_iops=None, gdb_sock=None):
    """The command line of one node booting ISO.

    disk, pmem: image files for the IDE disk and the persistent memory
    (none: no such device); console: (socket, log file), the serial port as
    a unix socket server that logs everything, or None for stdio; qmp: the
    QMP socket; boot_args: (KEY, VALUE) pairs, in order, for fw_cfg
    opt/qs/KEY; nic: (node id, vde switch socket) for an e1000 on the LAN;
    daemon: (pid file, name) to daemonize; gdb: wait for gdb on :1234;
    icount: -icount shift=0 (rdtsc counts instructions); key: the cluster
    key's file (fw_cfg opt/qs/key: a file, so the key is on no command
    line); disk_iops: the disk completes at most that many requests a
    second (QEMU's throttling.iops-total), as a real disk whose writes and
    syncs take time (an emulated one's cost next to nothing); gdb_sock: a
    gdb stub on that unix socket, not waited for (tools/bin/qsprof busy
    attaches to it)."""
    argv = ["qemu-system-i386", "-m", str(memory), "-cdrom", iso,
            "-boot", "d"]
    if disk:
        throttle = (",throttling.iops-total=%d" % int(disk_iops)
                    if disk_iops else "")
        argv += ["-drive", "file=%s,format=raw,if=ide,index=0%s"
                 % (disk, throttle)]
    if pmem:
        # persistent memory: a host file a killed QEMU leaves as the guest
        # last wrote it (Rio's protected file cache)
        argv += ["-object", "memory-backend-file,id=pmem,share=on,"
                 "mem-path=%s,size=%d" % (pmem, PMEM_SIZE),
                 "-device", "ivshmem-plain,memdev=pmem"]
    if console:
        argv += ["-chardev", "socket,id=con,path=%s,server=on,wait=off,"
                 "logfile=%s" % console, "-serial", "chardev:con"]
    else:
        argv += ["-serial", "stdio"]
    if qmp:
        argv += ["-qmp", "unix:%s,server=on,wait=off" % qmp]
    for name, value in boot_args:
        argv += ["-fw_cfg", "name=opt/qs/%s,string=%s"
                 % (name, str(value).replace(",", ",,"))]
    if key:
        argv += ["-fw_cfg", "name=opt/qs/key,file=%s" % key.replace(",", ",,")]
    if nic:
        node, switch = nic
        argv += ["-netdev", "vde,id=lan,sock=%s" % switch,
                 "-device", "e1000,netdev=lan,id=nic,mac=%s" % node_mac(node)]
    argv += "-display none -vga std -nic none -monitor none -no-reboot".split()
    if daemon:
        pidfile, name = daemon
        argv += ["-daemonize", "-pidfile", pidfile, "-name", name]
    if gdb:
        argv += ["-s", "-S"]
    elif gdb_sock:
        argv += ["-gdb", "unix:%s,server=on,wait=off" % gdb_sock]
    if icount:
        argv += ["-icount", "shift=0"]
    return argv
