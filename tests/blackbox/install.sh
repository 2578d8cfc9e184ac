#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make install PREFIX= DESTDIR=` from a copy of the built tree, which is then
# deleted: no build path in the installed binaries, a node initialised and run
# from the installed files finds the installed catalog and dashboard, the man
# pages render, and the bash completion loads and completes a subcommand.
. "$(dirname "$0")/lib.sh"

T=$(tmpdir)
SRC=$T/src
DEST=$T/root
PREFIX=/opt/lcf-test
I=$DEST$PREFIX
VERSION=$(sed -n 's/^#define LCF_VERSION "\(.*\)"$/\1/p' "$ROOT/$BUILD/gen/lcf_version.h")

# The copy: the sources and the build (without the dashboard's npm packages),
# timestamps kept so that only what depends on PREFIX is rebuilt.
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=./.git --exclude='./build*' --exclude=./demo-federation \
    -cf - . | tar -C "$SRC" -xf -
tar -C "$ROOT" --exclude="./$BUILD/web-npm" -cf - "./$BUILD" | tar -C "$SRC" -xf -
if make -s -C "$SRC" install BUILD="$BUILD" WEB=0 PREFIX="$PREFIX" DESTDIR="$DEST" \
    LCF_VERSION="$VERSION" >"$T/install.log" 2>&1; then
	ok "make install from a copy of the tree"
else
	fail "make install from a copy of the tree" "$(tail -5 "$T/install.log")"
fi
rm -rf "$SRC"

for f in bin/lcnode bin/lcctl share/lcf/catalog.json share/man/man8/lcnode.8 \
    share/man/man1/lcctl.1 share/man/man5/lcnode.conf.5 \
    share/bash-completion/completions/lcctl lib/systemd/system/lcnode.service \
    lib/sysusers.d/lcf.conf lib/tmpfiles.d/lcf.conf; do
	check "installed $f" test -s "$I/$f"
done
check "binaries are executable" test -x "$I/bin/lcnode" -a -x "$I/bin/lcctl"
for b in lcnode lcctl; do
	leaks=$(strings -a "$I/bin/$b" | grep -e "$ROOT" -e "$SRC" | head -3)
	expect_eq "no build path in $b (strings, debug info included)" "none" "${leaks:-none}"
done
expect_eq "lcnode --version: the built version" "lcnode $VERSION" "$("$I/bin/lcnode" --version | head -1)"
expect_contains "lcctl --version: the peer protocols" "$("$I/bin/lcctl" --version)" "peer protocol "

# A node from the installed files only.
LCCTL=$I/bin/lcctl
LCNODE=$I/bin/lcnode
N=$(tmpdir)/node
CITY=$(init_city "$N" Installed SE)
check "lcctl init from the installed tree" is_hex64 "$CITY"
start_node "$N" || fail "installed lcnode starts" "$(tail -3 "$N/node.log")"
expect_contains "it runs the installed catalog" "$(cat "$N/node.log")" \
    "catalog $I/share/lcf/catalog.json"
expect_eq "the catalog is served (lcctl catalog list)" \
    "$(jq '.indicators | length' "$ROOT/config/catalog.json")" \
    "$("$LCCTL" -d "$N" catalog list --json 2>/dev/null | jq 'if type == "array" then length else .indicators | length end')"
U=$(http_url "$N")
if [ -f "$ROOT/$BUILD/web/index.html" ]; then
	expect_eq "the installed dashboard is served at /" \
	    "$(md5sum <"$I/share/lcf/web/index.html")" "$(curl -sf "$U/" | md5sum)"
else
	ok "the installed dashboard is served at / # SKIP no dashboard built (npm)"
fi
expect_eq "lcctl status against it: the version" "$VERSION" "$("$LCCTL" -d "$N" status --json | jq -r .version)"
stop_node "$N"
check "it stops cleanly" test $? -eq 0

for m in man8/lcnode.8 man1/lcctl.1 man5/lcnode.conf.5; do
	page=$(basename "$m")
	out=$(MANWIDTH=80 man -l "$I/share/man/$m" 2>&1)
	expect_contains "man -l $page renders" "$out" "NAME"
	expect_contains "$page names itself" "$out" "${page%.*}"
done
# Every command and every lcnode option is in its man page.
out=$(MANWIDTH=200 man -l "$I/share/man/man1/lcctl.1" 2>/dev/null)
missing=$(for c in $("$LCCTL" --commands); do grep -qw -- "$c" <<<"$out" || echo "$c"; done)
expect_eq "lcctl(1) covers every command" "none" "${missing:-none}"
out=$(MANWIDTH=200 man -l "$I/share/man/man8/lcnode.8" 2>/dev/null)
opts=$("$LCNODE" -h | grep -o -- ' -[a-zA-Z]\b\| --[a-z-]*' | sort -u)
missing=$(for o in $opts; do grep -q -- "$o" <<<"$out" || echo "$o"; done)
expect_eq "lcnode(8) covers every option of lcnode -h" "none" "${missing:-none}"

complete_words() {
	bash --norc -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lcctl
		echo "${COMPREPLY[*]}"' _ "$I/share/bash-completion/completions/lcctl" "$@"
}
expect_eq "completion: a command" "status" "$(PATH=$I/bin:$PATH complete_words lcctl sta)"
expect_eq "completion: a subcommand" "list" "$(PATH=$I/bin:$PATH complete_words lcctl practice li)"
expect_eq "completion: options of a subcommand" "--city --cluster --country --csv" \
    "$(PATH=$I/bin:$PATH complete_words lcctl practice list --c)"

# The packaged layout: the configuration elsewhere (/etc/lcf in the package),
# DIR/lcnode.conf a link to it; the key given to the directory's owner when
# root runs init; lcctl of another user told whom to run as.
P=$(tmpdir)
mkdir -p "$P/etc" "$P/state"
port=$(free_port)
expect_status "init --config: a relative FILE is refused" 2 \
    "$LCCTL" -d "$P/state" init --city Packaged --country SE --config etc/lcnode.conf
expect_contains "naming --config" "$OUT" "--config 'etc/lcnode.conf': give an absolute path"
"$LCCTL" -d "$P/state" init --city Packaged --country SE --listen "127.0.0.1:$port" \
    --http "127.0.0.1:$((port - 10000))" --config "$P/etc/lcnode.conf" >/dev/null 2>&1
expect_eq "init --config: DIR/lcnode.conf links to FILE" "$P/etc/lcnode.conf" \
    "$(readlink "$P/state/lcnode.conf")"
expect_eq "lcnode -n reads it through the link" "configuration OK" \
    "$("$LCNODE" -d "$P/state" -n 2>&1)"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	Q=$(tmpdir)/state
	mkdir -m 0700 "$Q" && chown nobody: "$Q"
	"$LCCTL" -d "$Q" init --city Owned --country SE --listen "127.0.0.1:$port" \
	    --config "$P/etc/other.conf" >/dev/null 2>&1
	expect_eq "init as root: the key is the directory owner's" "nobody 600" \
	    "$(stat -c '%U %a' "$Q/identity.key")"
	expect_eq "init as root: the configuration stays root's, 0644" "root 644" \
	    "$(stat -c '%U %a' "$P/etc/other.conf")"
	expect_status "lcctl of root on nobody's node: refused" 1 "$LCCTL" -d "$Q" status
	expect_contains "saying whom to run as" "$OUT" "run \`sudo -u nobody lcctl ...\`"
else
	for n in "init as root: the key is the directory owner's" \
	    "init as root: the configuration stays root's, 0644" \
	    "lcctl of root on nobody's node: refused" "saying whom to run as"; do
		ok "$n # SKIP not root"
	done
fi
