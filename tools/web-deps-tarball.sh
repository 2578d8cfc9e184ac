#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes the tarballs the Debian package builds from, beside the source tree (as Debian's component tarballs): the dashboard's npm packages (lcf_UPSTREAM.orig-webdeps.tar.gz, the one step that needs the network) and, with --orig, the sources with a VERSION file (lcf_UPSTREAM.orig.tar.gz).
#
# Usage: tools/web-deps-tarball.sh [--orig] [OUTDIR]   (OUTDIR: default ..)
set -euo pipefail
cd "$(dirname "$0")/.."
orig=0
if [ "${1:-}" = --orig ]; then
	orig=1
	shift
fi
out=$(cd "${1:-..}" && pwd)
upstream=$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$//')
work=$(mktemp -d "${TMPDIR:-/tmp}/lcf-webdeps.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The npm packages of the committed lockfile, as `make web` installs them
# (puppeteer's browser is not downloaded: the package does not run tests).
mkdir -p "$work/webdeps"
cp web/package.json web/package-lock.json web/.npmrc "$work/webdeps/"
(cd "$work/webdeps" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund \
    --loglevel=error >&2)
# Only what the package build uses: the dashboard's own dependencies and
# esbuild (with its binary for this machine); the browser tests' packages
# (puppeteer, axe) stay out.
(cd "$work/webdeps" && {
	npm ls --omit=dev --all --parseable 2>/dev/null
	npm ls esbuild --parseable 2>/dev/null
	ls -d "$PWD"/node_modules/@esbuild/* 2>/dev/null
} | sed -n "s|^$PWD/node_modules/||p" | sort -u) >"$work/keep"
(cd "$work/webdeps/node_modules" && for d in * @*/*; do
	case $d in @*) [ -d "$d" ] || continue ;; esac
	[[ $d == @* && $d != */* ]] && continue
	grep -qxF "$d" "$work/keep" || rm -rf "$d"
done && find . -maxdepth 1 -name '@*' -type d -empty -delete &&
    find .bin -xtype l -delete)
rm -f "$work/webdeps/package.json" "$work/webdeps/package-lock.json" "$work/webdeps/.npmrc"
# Reproducible, dated as the commit (lintian refuses files from 1970).
stamp=$(git log -1 --format=%ct HEAD)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" \
    -C "$work" -czf "$out/lcf_$upstream.orig-webdeps.tar.gz" webdeps
echo "$out/lcf_$upstream.orig-webdeps.tar.gz"

if [ "$orig" = 1 ]; then
	# The committed sources, and VERSION from git describe (the binaries
	# report it: a tarball has no .git).
	git archive --format=tar --prefix="lcf-$upstream/" HEAD | tar -C "$work" -xf -
	git describe --tags --always >"$work/lcf-$upstream/VERSION"
	rm -rf "$work/lcf-$upstream/debian"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" \
	    -C "$work" -czf "$out/lcf_$upstream.orig.tar.gz" "lcf-$upstream"
	echo "$out/lcf_$upstream.orig.tar.gz"
fi
