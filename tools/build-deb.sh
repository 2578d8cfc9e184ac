#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package from a copy of the checkout (committed and new files, not the build trees), offline but for the dashboard's npm tarball made once, and runs lintian on it.
#
# Usage: tools/build-deb.sh [OUTDIR]        (default: build/deb)
# Environment: DEBVERSION=0.1.0-2 gives the package that version (dch, for
# the upgrade test), LCF_VERSION=... what the binaries report (default: git
# describe of the checkout). Prints the path of the .deb last.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
upstream=$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$//')
webdeps=$out/lcf_$upstream.orig-webdeps.tar.gz
[ -f "$webdeps" ] || tools/web-deps-tarball.sh "$out" >&2
src=$out/src/lcf-$upstream
rm -rf "$out/src"
mkdir -p "$src"
ln -s "$webdeps" "$out/src/"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$src" -xf -
echo "${LCF_VERSION:-$(git describe --tags --always --dirty)}" >"$src/VERSION"
if [ -n "${DEBVERSION:-}" ]; then
	(cd "$src" && DEBEMAIL="lcf maintainers <maintainers@users.noreply.h-seed-4400fb86.example>" \
	    dch --newversion "$DEBVERSION" --distribution unstable --force-distribution \
	    "Rebuild $DEBVERSION (tools/build-deb.sh)." >&2)
fi
debversion=$(cd "$src" && dpkg-parsechangelog -S Version)
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build-$debversion.log" 2>&1 || {
	tail -30 "$out/build-$debversion.log" >&2
	exit 1
}
arch=$(dpkg --print-architecture)
mv "$out/src/lcf_${debversion}_$arch.deb" "$out/src/lcf_${debversion}_$arch.changes" \
    "$out/src/lcf-dbgsym_${debversion}_$arch.deb" "$out/src/lcf_${debversion}_$arch.buildinfo" "$out/"
# lintian warns when run as root; the figures are the same.
lintian -I -E --pedantic "$out/lcf_${debversion}_$arch.changes" >"$out/lintian-$debversion.txt" 2>&1 || true
grep -v '^running with root privileges' "$out/lintian-$debversion.txt" >&2 || true
rm -rf "$out/src"
echo "$out/lcf_${debversion}_$arch.deb"
