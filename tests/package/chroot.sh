#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package in a clean Debian 12 root: install with apt, the user and directories, lcctl init, lcnode run as lcf from the installed files, lcctl status, upgrade to a second build, purge. Prints TAP. Not in `make test`: it needs root and the network (deb.debian.org).
#
# Usage: sudo tests/package/chroot.sh [DEB DEB2]
#   Without arguments it builds both packages with tools/build-deb.sh (the
#   second one versioned DEBVERSION=<first>+upgrade1 for the upgrade). The
#   debootstrapped base is cached in $LCF_CHROOT_CACHE (default
#   /var/cache/lcf-chroot) so that reruns skip the download.
set -u
cd "$(dirname "$0")/../.." || exit 1
SRC=$PWD
CACHE=${LCF_CHROOT_CACHE:-/var/cache/lcf-chroot}
MIRROR=${LCF_MIRROR:-http://deb.debian.org/debian}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1: $2"; }
expect_eq() {
	if [ -z "$2" ]; then fail "$1" "nothing to compare with (setup failed?)"
	elif [ "$2" = "$3" ]; then ok "$1"
	else fail "$1" "expected '$2', got '$3'"; fi
}
expect_contains() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "expected '$3' in: $(printf '%s' "$2" | tail -c 600)" ;;
	esac
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}
bail() { echo "Bail out! $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || bail "run as root (debootstrap, chroot, mounts)"
for t in debootstrap dpkg-buildpackage lintian chroot curl; do
	command -v "$t" >/dev/null || bail "$t is missing (apt-get install debootstrap devscripts lintian curl)"
done

# ---- the packages
if [ $# -ge 2 ]; then
	DEB1=$(realpath "$1")
	DEB2=$(realpath "$2")
else
	echo "# building the package (tools/build-deb.sh)"
	DEB1=$(tools/build-deb.sh build/deb | tail -1) || bail "the first package did not build"
	V1=$(dpkg-deb -f "$DEB1" Version)
	echo "# building the upgrade, $V1+upgrade1"
	DEB2=$(DEBVERSION="$V1+upgrade1" LCF_VERSION="$(git describe --tags --always)+up" \
	    tools/build-deb.sh build/deb | tail -1) || bail "the second package did not build"
fi
V1=$(dpkg-deb -f "$DEB1" Version)
V2=$(dpkg-deb -f "$DEB2" Version)
check "two packages, the second newer ($V1 < $V2)" dpkg --compare-versions "$V1" lt "$V2"
# tools/build-deb.sh leaves lintian's output beside the package.
f=$(dirname "$DEB1")/lintian-$V1.txt
if [ -f "$f" ]; then
	tags=$(grep -E '^[EWIXP]: ' "$f" | cut -c1 | sort | uniq -c | tr '\n' ' ')
	expect_eq "lintian on $V1: no error, no warning (-I -E --pedantic)" "none" \
	    "$(grep -cE '^[EW]: ' "$f" | sed 's/^0$/none/')"
	echo "# lintian $V1: ${tags:-no tags}"
fi

# ---- a clean Debian 12 root, from the cached debootstrap
if [ ! -f "$CACHE/base.ok" ]; then
	echo "# debootstrap bookworm into $CACHE/base (once)"
	rm -rf "$CACHE/base"
	mkdir -p "$CACHE"
	debootstrap --variant=minbase bookworm "$CACHE/base" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
	    bail "debootstrap failed: $(tail -3 "$CACHE/debootstrap.log")"
	touch "$CACHE/base.ok"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lcf-chroot.XXXXXX")
R=$WORK/root
mounted=()
cleanup() {
	local m pid
	pid=$(cat "$R/var/lib/lcf/lcnode.lock" 2>/dev/null)
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	for ((m = ${#mounted[@]} - 1; m >= 0; m--)); do umount -l "${mounted[m]}" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
cp -a "$CACHE/base" "$R"
for m in proc sys dev dev/pts; do
	mount --bind "/$m" "$R/$m" && mounted+=("$R/$m")
done
cp /etc/resolv.conf "$R/etc/resolv.conf"
# No service starts in a chroot (Debian's policy-rc.d convention).
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$DEB1" "$DEB2" "$R/tmp/"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
apt_get() { in_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@"; }

# ---- install
apt_get update >"$WORK/apt-update.log" 2>&1 || bail "apt-get update: $(tail -3 "$WORK/apt-update.log")"
if apt_get install --no-install-recommends "/tmp/$(basename "$DEB1")" >"$WORK/install.log" 2>&1; then
	ok "apt-get install ./$(basename "$DEB1") (dependencies from Debian)"
else
	fail "apt-get install ./$(basename "$DEB1")" "$(tail -5 "$WORK/install.log")"
fi
expect_eq "dpkg: lcf $V1 installed" "install ok installed $V1" \
    "$(in_root dpkg-query -W -f '${Status} ${Version}' lcf)"
expect_eq "system user lcf: home /var/lib/lcf, no login shell" "/var/lib/lcf /usr/sbin/nologin" \
    "$(in_root getent passwd lcf | awk -F: '{print $6, $7}')"
check "lcf is a system user (uid < 1000)" test "$(in_root id -u lcf)" -lt 1000
expect_eq "/var/lib/lcf: lcf:lcf 0700" "lcf:lcf 700" "$(in_root stat -c '%U:%G %a' /var/lib/lcf)"
expect_eq "/etc/lcf: root:root 0755" "root:root 755" "$(in_root stat -c '%U:%G %a' /etc/lcf)"
expect_eq "lcnode.service installed, not enabled" "disabled" \
    "$(in_root systemctl is-enabled lcnode.service 2>/dev/null || true)"
expect_contains "lcnode --version" "$(in_root lcnode --version)" "peer protocol"
leak=$(strings -a "$R/usr/bin/lcnode" "$R/usr/bin/lcctl" | grep -c "$SRC")
expect_eq "no build path in the installed binaries" 0 "$leak"
check "man lcnode.conf(5) is installed" test -f "$R/usr/share/man/man5/lcnode.conf.5.gz"

# ---- first run: init as root with the configuration in /etc/lcf
port() {
	local p
	while :; do
		p=$((21000 + RANDOM % 9000))
		(: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
PPORT=$(port)
HPORT=$(port)
out=$(in_root lcctl init --city Chrooted --country SE --listen "127.0.0.1:$PPORT" \
    --http "127.0.0.1:$HPORT" --config /etc/lcf/lcnode.conf 2>&1)
CITY=$(tail -1 <<<"$out")
check "lcctl init (root, no -d: /var/lib/lcf) prints the city id" test ${#CITY} -eq 64
expect_eq "the key: lcf's, 0600" "lcf:lcf 600" "$(in_root stat -c '%U:%G %a' /var/lib/lcf/identity.key)"
expect_eq "the configuration: /etc/lcf/lcnode.conf, root's, 0644" "root:root 644" \
    "$(in_root stat -c '%U:%G %a' /etc/lcf/lcnode.conf)"
expect_eq "/var/lib/lcf/lcnode.conf links to it" "/etc/lcf/lcnode.conf" \
    "$(in_root readlink /var/lib/lcf/lcnode.conf)"
expect_eq "lcnode -n as lcf" "configuration OK" \
    "$(in_root runuser -u lcf -- lcnode -d /var/lib/lcf -n 2>&1)"

# start_node: lcnode as lcf from the installed files (no systemd in a chroot),
# as lcnode.service runs it; waits for its admin socket.
start_node() {
	local _
	in_root runuser -u lcf -- lcnode -d /var/lib/lcf >>"$WORK/node.log" 2>&1 &
	for _ in $(seq 1 100); do
		in_root runuser -u lcf -- lcctl status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
stop_node() {
	local pid _
	pid=$(cat "$R/var/lib/lcf/lcnode.lock" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" || return 1
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
check "lcnode runs as lcf (runuser) from the installed files" start_node
# By uid: the host's names for the chroot's uids differ.
expect_eq "the process is lcf's (uid)" "$(in_root id -u lcf)" \
    "$(ps -o uid= -p "$(cat "$R/var/lib/lcf/lcnode.lock" 2>/dev/null)" 2>/dev/null | tr -d ' ')"
expect_eq "sudo -u lcf lcctl status (no -d): its city" "$CITY" \
    "$(in_root runuser -u lcf -- lcctl status --json | jq -r '.city_id // .id // empty' 2>/dev/null || true)"
out=$(in_root lcctl status 2>&1)
expect_contains "root is told to run lcctl as lcf" "$out" "sudo -u lcf lcctl"
expect_contains "the installed catalog" "$(cat "$WORK/node.log")" "catalog /usr/share/lcf/catalog.json"
expect_contains "the installed dashboard at /" "$(curl -s "http://127.0.0.1:$HPORT/")" "<html"
expect_eq "/healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/healthz")"
in_root runuser -u lcf -- lcctl practice add --title "Kept over upgrades" \
    --summary "A practice published before the upgrade" --language en --area 2.2 >/dev/null 2>&1
count_practices() {
	in_root runuser -u lcf -- lcctl practice list --json 2>/dev/null |
	    jq '[.. | objects | select(.title? == "Kept over upgrades")] | length' 2>/dev/null
}
expect_eq "a practice published" 1 "$(count_practices)"
check "lcnode stops on SIGTERM" stop_node

# ---- upgrade
KEYSUM=$(sha256sum <"$R/var/lib/lcf/identity.key")
if apt_get install --no-install-recommends "/tmp/$(basename "$DEB2")" >"$WORK/upgrade.log" 2>&1; then
	ok "upgrade: apt-get install ./$(basename "$DEB2")"
else
	fail "upgrade" "$(tail -5 "$WORK/upgrade.log")"
fi
expect_eq "dpkg: lcf $V2 installed" "install ok installed $V2" \
    "$(in_root dpkg-query -W -f '${Status} ${Version}' lcf)"
echo "# after the upgrade: $(in_root lcnode --version | head -1)"
expect_eq "the key is unchanged" "$KEYSUM" "$(sha256sum <"$R/var/lib/lcf/identity.key")"
expect_eq "the configuration is kept" "Chrooted" \
    "$(sed -n 's/^city = //p' "$R/etc/lcf/lcnode.conf")"
expect_eq "/var/lib/lcf still lcf:lcf 0700" "lcf:lcf 700" "$(in_root stat -c '%U:%G %a' /var/lib/lcf)"
check "the upgraded lcnode starts on the same directory" start_node
expect_eq "the same city" "$CITY" \
    "$(in_root runuser -u lcf -- lcctl status --json | jq -r '.city_id // .id // empty' 2>/dev/null || true)"
expect_eq "the practice is still there" 1 "$(count_practices)"
check "it stops" stop_node

# ---- remove, then purge
apt_get remove lcf >"$WORK/remove.log" 2>&1
check "remove keeps the configuration" test -f "$R/etc/lcf/lcnode.conf"
check "remove keeps the state" test -f "$R/var/lib/lcf/identity.key"
apt_get purge lcf >"$WORK/purge.log" 2>&1
check "purge: dpkg knows the package no more" sh -c "! chroot '$R' dpkg -s lcf >/dev/null 2>&1"
check "purge removes /etc/lcf (the configuration)" test ! -e "$R/etc/lcf"
check "purge keeps /var/lib/lcf, which holds the city's key" test -f "$R/var/lib/lcf/identity.key"
expect_contains "and says so" "$(cat "$WORK/purge.log")" "kept /var/lib/lcf"
check "the user lcf stays (Debian does not remove system users)" sh -c "chroot '$R' getent passwd lcf >/dev/null"
sed -n '/kept \/var\/lib\/lcf/,+2p' "$WORK/purge.log" | sed 's/^/# /'
echo "1..$n"
[ "$failed" -eq 0 ]
