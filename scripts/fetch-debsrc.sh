#!/usr/bin/env bash
# Fetch and unpack one of Debian's source packages into BUILD_DIR/PKG.
#
# Usage: scripts/fetch-debsrc.sh PKG UPSTREAM PROBE [BUILD_DIR]
#   PKG       the source package (lwip, libtomcrypt)
#   UPSTREAM  the upstream release we build against (2.1.3); the Debian
#             revision is whatever scripts/PKG.sha256 names, so the two
#             cannot drift apart unnoticed
#   PROBE     a file the unpacked tree must have (src/core/tcp_in.c)
#   BUILD_DIR defaults to "build"
#
# Why Debian's source package: the only network we can rely on is the Debian
# mirror the machine is already configured for, and its archive is signed,
# so apt verifies the download against the signed Sources index for free.
# On top of that we pin the exact bytes in scripts/PKG.sha256, so a new
# Debian revision (or a tampered mirror) is an explicit, reviewed change
# rather than a silent one.
#
# Why a private apt: fetching sources needs deb-src entries and an
# "apt-get update", and neither may disturb the machine (its lists, caches,
# update hooks) nor require root.  Everything apt writes lives in
# BUILD_DIR/apt.
#
# Re-recording the checksums (after deliberately moving to a new Debian
# revision): DEBSRC_RECORD_SUMS=1 scripts/fetch-debsrc.sh PKG ... /tmp/somewhere
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 PKG UPSTREAM PROBE [BUILD_DIR]" >&2; exit 2; }
PKG=$1
UPSTREAM=$2
PROBE=$3
BUILD_DIR=${4:-build}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUMS="$SCRIPT_DIR/$PKG.sha256"
RECORD=${DEBSRC_RECORD_SUMS:-0}

say() { echo "fetch-debsrc $PKG: $*" >&2; }
die() { echo "fetch-debsrc $PKG: ERROR: $*" >&2; exit 1; }

# Fast path first: a finished fetch costs a single stat, so build rules can
# call this unconditionally.
[ -e "$BUILD_DIR/$PKG/.fetched" ] && exit 0

mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)   # apt and dpkg-source need absolute paths
APT_DIR="$BUILD_DIR/apt"
DL_DIR="$APT_DIR/download"
DEST="$BUILD_DIR/$PKG"
STAGE="$BUILD_DIR/$PKG.partial"

# Parallel make may start us twice; the loser waits and then finds .fetched.
# One lock for every package: they share the private apt.
exec 9>"$BUILD_DIR/.fetch-debsrc.lock"
flock 9
[ -e "$DEST/.fetched" ] && exit 0

for tool in apt-get apt-cache apt-config dpkg-source sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found (run scripts/deps.sh; dpkg-source is in dpkg-dev)"
done

# Anything without .fetched is the debris of an interrupted run: throw it
# away rather than trying to reason about how far it got.  apt's lists are
# kept (apt validates and refreshes them itself), downloads are not.
rm -rf "$DEST" "$STAGE" "$DL_DIR"
trap 'rm -rf "$STAGE"' EXIT

# ---------------------------------------------------------------------------
# Private apt configuration.
#
# Passed via APT_CONFIG because that file is read *before* the machine's
# apt.conf.d, which is the only way to stop apt from reading it at all:
# plain -o options are applied too late to prevent the machine's
# APT::Update::Post-Invoke hooks (PackageKit, appstream, docker-clean...)
# from running and touching system state.
# ---------------------------------------------------------------------------
mkdir -p "$APT_DIR"/{etc/apt.conf.d,etc/sources.list.d,etc/preferences.d} \
         "$APT_DIR"/lists/partial "$APT_DIR"/cache/archives/partial \
         "$APT_DIR"/log "$DL_DIR"
: > "$APT_DIR/status"            # empty dpkg status: we install nothing

# Network-related settings (proxies, Check-Valid-Until for snapshot
# mirrors, retries, languages) must still match the machine's, or the
# private apt could not reach the same mirror.  Only the Acquire subtree is
# carried over, as resolved by the machine's own apt.
apt-config dump Acquire > "$APT_DIR/etc/apt.conf.d/50machine-acquire"

# Where the machine keeps its sources and (legacy) trusted keys; honour a
# non-default configuration instead of assuming /etc/apt.
eval "$(apt-config shell \
    SYS_SOURCELIST Dir::Etc::SourceList/f \
    SYS_SOURCEPARTS Dir::Etc::SourceParts/d \
    SYS_TRUSTED Dir::Etc::Trusted/f \
    SYS_TRUSTEDPARTS Dir::Etc::TrustedParts/d)"
SYS_SOURCELIST=${SYS_SOURCELIST:-/etc/apt/sources.list}
SYS_SOURCEPARTS=${SYS_SOURCEPARTS:-/etc/apt/sources.list.d/}
SYS_TRUSTED=${SYS_TRUSTED:-/etc/apt/trusted.gpg}
SYS_TRUSTEDPARTS=${SYS_TRUSTEDPARTS:-/etc/apt/trusted.gpg.d/}

cat > "$APT_DIR/apt.conf" <<EOF
Dir::Etc::Parts "$APT_DIR/etc/apt.conf.d/";
Dir::Etc::Main "/dev/null";
Dir::Etc::SourceList "$APT_DIR/etc/sources.list";
Dir::Etc::SourceParts "$APT_DIR/etc/sources.list.d/";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$APT_DIR/etc/preferences.d/";
Dir::Etc::Trusted "$SYS_TRUSTED";
Dir::Etc::TrustedParts "$SYS_TRUSTEDPARTS";
Dir::State "$APT_DIR/";
Dir::State::Lists "$APT_DIR/lists/";
Dir::State::status "$APT_DIR/status";
Dir::State::extended_states "$APT_DIR/extended_states";
Dir::Cache "$APT_DIR/cache/";
Dir::Cache::archives "$APT_DIR/cache/archives/";
Dir::Cache::pkgcache "$APT_DIR/cache/pkgcache.bin";
Dir::Cache::srcpkgcache "$APT_DIR/cache/srcpkgcache.bin";
Dir::Log "$APT_DIR/log/";
EOF
export APT_CONFIG="$APT_DIR/apt.conf"

# ---------------------------------------------------------------------------
# deb-src entries, derived from the machine's enabled sources at run time so
# the repository never names a mirror and follows whatever mirror, snapshot
# or proxy the machine uses.  Signed-By paths are kept verbatim, so the
# machine's keyrings keep authenticating the archive.  Only files apt itself
# would read (*.list, *.sources) are considered; "*.disabled*" and the like
# are ignored exactly as apt ignores them.
# ---------------------------------------------------------------------------
rm -f "$APT_DIR"/etc/sources.list.d/*

# One-line format: "deb [opts] URI SUITE COMPONENT..." -> "deb-src ...".
# Existing deb-src lines are kept; duplicates would only make apt warn.
one_line_files=()
[ -f "$SYS_SOURCELIST" ] && one_line_files+=("$SYS_SOURCELIST")
for f in "$SYS_SOURCEPARTS"/*.list; do
    [ -f "$f" ] && one_line_files+=("$f")
done
if [ "${#one_line_files[@]}" -gt 0 ]; then
    awk '
        { sub(/#.*/, "") }
        $1 == "deb" || $1 == "deb-src" {
            $1 = "deb-src"
            if ($0 ~ /cdrom:/) next      # not reachable from a build
            if (!seen[$0]++) print
        }' "${one_line_files[@]}" > "$APT_DIR/etc/sources.list"
else
    : > "$APT_DIR/etc/sources.list"
fi

# deb822 format: rewrite each enabled stanza that has a deb (or deb-src)
# type into a deb-src-only stanza, keeping every other field (URIs, Suites,
# Components, Signed-By including multi-line inline keys) untouched.
for f in "$SYS_SOURCEPARTS"/*.sources; do
    [ -f "$f" ] || continue
    awk '
        function flush(   i, n, t, keep) {
            if (nl == 0) return
            keep = has_type && !disabled
            if (keep) {
                if (out++) print ""
                for (i = 1; i <= nl; i++) print lines[i]
            }
            nl = 0; has_type = 0; disabled = 0
        }
        /^[ \t]*$/ { flush(); next }
        /^#/       { next }
        {
            line = $0
            if (match(line, /^[A-Za-z0-9-]+:/)) {
                field = tolower(substr(line, 1, RLENGTH - 1))
                value = substr(line, RLENGTH + 1)
                if (field == "types") {
                    n = split(value, t, /[ \t]+/)
                    for (i = 1; i <= n; i++)
                        if (t[i] == "deb" || t[i] == "deb-src") has_type = 1
                    line = "Types: deb-src"
                } else if (field == "enabled") {
                    gsub(/[ \t]/, "", value)
                    if (tolower(value) == "no") disabled = 1
                } else if (field == "uris" && value ~ /cdrom:/) {
                    disabled = 1
                }
            }
            lines[++nl] = line
        }
        END { flush() }' "$f" > "$APT_DIR/etc/sources.list.d/$(basename "$f")"
done

if ! grep -qs . "$APT_DIR/etc/sources.list" "$APT_DIR"/etc/sources.list.d/*.sources; then
    die "no enabled apt sources found in $SYS_SOURCELIST or $SYS_SOURCEPARTS"
fi

# ---------------------------------------------------------------------------
# Update the private index.  A third-party repository without source
# packages (or temporarily unreachable) makes apt-get update fail even
# though the Debian archive was fine, so a failure is only fatal if the
# package then turns out to be missing.
# ---------------------------------------------------------------------------
say "updating private source index (log: $APT_DIR/update.log)"
if ! apt-get -q update > "$APT_DIR/update.log" 2>&1; then
    say "warning: apt-get update reported errors (continuing; see log):"
    grep -E '^(E|W):' "$APT_DIR/update.log" | sed 's/^/    /' >&2 || true
fi

available=$(apt-cache showsrc --only-source "$PKG" 2>/dev/null |
            sed -n 's/^Version: //p' | sort -u)
[ -n "$available" ] ||
    die "no $PKG source package visible through the machine's apt sources; see $APT_DIR/update.log"
have=$(printf '%s\n' "$available" | paste -sd' ')

# Which Debian version: the one the committed checksums describe.  When
# (re)recording, the newest available revision of the pinned upstream.
if [ "$RECORD" = 1 ]; then
    version=$(printf '%s\n' "$available" | grep -E "^(.*:)?${UPSTREAM}[+-]" |
              sort -V | tail -n1 || true)
    [ -n "$version" ] ||
        die "no $PKG ${UPSTREAM} source available; have: $have"
else
    [ -f "$SUMS" ] ||
        die "$SUMS missing; record it with DEBSRC_RECORD_SUMS=1 (and review it)"
    version=$(sed -n "s/^[0-9a-f]\{64\}  ${PKG}_\(.*\)\.dsc\$/\1/p" "$SUMS")
    if [ -z "$version" ] || [ "$(printf '%s\n' "$version" | wc -l)" -ne 1 ]; then
        die "$SUMS must list exactly one ${PKG}_<version>.dsc"
    fi
    case "$version" in
        "${UPSTREAM}"+*|"${UPSTREAM}"-*) ;;
        *) die "$SUMS pins $PKG $version, but the build expects upstream $UPSTREAM" ;;
    esac
    printf '%s\n' "$available" | grep -qxF "$version" ||
        die "$PKG $version (pinned by $SUMS) is not available from the mirror; have: $have. If Debian moved to a new revision, re-record the checksums."
fi

# ---------------------------------------------------------------------------
# Download.  apt-get checks every file against the hashes in the signed
# Sources index before it reports success.
# ---------------------------------------------------------------------------
say "downloading $PKG $version source"
# As root apt downloads as the unprivileged _apt user; give it the target
# directory so it does not fall back to downloading as root (with a warning).
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown _apt "$DL_DIR"
fi
(cd "$DL_DIR" && apt-get -q source --download-only --only-source "$PKG=$version") \
    > "$APT_DIR/download.log" 2>&1 || {
    sed 's/^/    /' "$APT_DIR/download.log" >&2
    die "apt-get source $PKG=$version failed"
}

dsc="$DL_DIR/${PKG}_${version#*:}.dsc"
[ -f "$dsc" ] || die "download did not produce $(basename "$dsc")"

if [ "$RECORD" = 1 ]; then
    (cd "$DL_DIR" && sha256sum -- *) > "$SUMS"
    say "recorded checksums in $SUMS -- review and commit them"
fi

# ---------------------------------------------------------------------------
# Verify against the committed checksums: every listed file must match and
# no unlisted file may have been downloaded (a changed .dsc could pull in an
# extra tarball that the sums would otherwise never look at).
# ---------------------------------------------------------------------------
say "verifying checksums against $(basename "$SUMS")"
if ! (cd "$DL_DIR" && sha256sum --check --strict --quiet "$SUMS") >&2; then
    die "SHA-256 mismatch for the $PKG source files above: the mirror's $PKG $version differs from the one recorded in $SUMS. Do not use it; investigate (files kept in $DL_DIR), and re-record only if the change is expected."
fi
for f in "$DL_DIR"/*; do
    name=$(basename "$f")
    awk -v n="$name" '$2 == n { found = 1 } END { exit !found }' "$SUMS" ||
        die "downloaded file $name has no checksum in $SUMS"
done

# ---------------------------------------------------------------------------
# Unpack.  --no-check: the source signature could only be checked with
# debian-keyring (large, not installed), and the checksums it would verify
# are already covered by ours.  --no-copy: otherwise dpkg-source drops a
# copy of the orig tarball into BUILD_DIR next to the tree.  Unpacking into
# a staging directory and renaming keeps BUILD_DIR/PKG complete or absent.
# Debian's quilt patches get applied (what they change for each package is
# said where the build uses it: net/lwip.mk, crypto/tomcrypt.mk).
# ---------------------------------------------------------------------------
say "unpacking into $DEST"
dpkg-source --no-check --no-copy -x "$dsc" "$STAGE" > "$APT_DIR/unpack.log" 2>&1 || {
    sed 's/^/    /' "$APT_DIR/unpack.log" >&2
    die "dpkg-source failed to unpack $(basename "$dsc")"
}
[ -f "$STAGE/$PROBE" ] ||
    die "unpacked tree lacks $PROBE; unexpected source layout"

mv "$STAGE" "$DEST"
touch "$DEST/.fetched"
say "done: $PKG $version in $DEST"
