#!/usr/bin/env bash
# Install the Debian packages the build and test suite need.
#
# Designed to be called unconditionally (from make, CI, a fresh checkout):
# when everything is already present it must cost nothing -- no network,
# no apt-get update, no root -- so the common case stays instant and works
# for unprivileged users on a prepared machine.
set -euo pipefail

# The single list to extend when the project grows a new host dependency.
PACKAGES=(
    gcc-i686-linux-gnu      # freestanding i386 cross compiler
    binutils-i686-linux-gnu # matching assembler/linker
    grub-pc-bin             # BIOS GRUB modules for the bootable ISO
    grub-common             # grub-mkrescue
    xorriso                 # grub-mkrescue builds the ISO through it
    mtools                  # grub-mkrescue needs it for the EFI/FAT image
    qemu-system-x86         # runs the kernel (always with -nic none or a vde NIC)
    qemu-utils              # qemu-img and friends
    vde2                    # the LAN: vde_switch, wirefilter (QEMU's vde netdev
                            # links libvdeplug2, which vde2 pulls in too)
    python3-pytest          # test harness
    graphviz                # dot: `qsnet tree` draws a transaction's tree
    console-setup-linux     # the WM's font (Lat15-Terminus16.psf.gz): Debian's
                            # kbd ships no fonts, its console fonts are in here
    dpkg-dev                # dpkg-source, needed by fetch-debsrc.sh
    gdb                     # tools/bin/qsprof steps through QEMU's gdb stub
    gcc                     # host tools built during the build
    make
)

# dpkg-query is authoritative and cheap; "install ok installed" excludes
# packages that are merely known, removed-but-configured, or half-installed.
# Multi-arch packages may print one line per architecture, hence grep.
is_installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -qx 'install ok installed'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "deps: missing packages: ${missing[*]}" >&2

# Only escalate when we have to and can; as root sudo may not even exist
# (minimal containers), and without sudo apt-get's own error is clearest.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps: not root and no sudo; apt-get will probably be refused" >&2
    fi
fi

# Update once, and only now: package lists on a fresh image are often empty
# or stale, which would make the install fail with "unable to locate".
echo "deps: apt-get update" >&2
"${SUDO[@]}" apt-get update

# noninteractive so debconf prompts cannot hang unattended runs; no
# recommends to keep the footprint (and download time) to what we use.
echo "deps: installing ${missing[*]}" >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
