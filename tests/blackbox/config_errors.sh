#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lcnode.conf mistakes that lcnode -n names by file and line (issue 17): a key
# given twice in a section, a NUL byte, a line longer than libinih reads, and
# a map_size this system cannot map.
. "$(dirname "$0")/lib.sh"

D=$(tmpdir)/C
init_city "$D" Checkton PT >/dev/null
C=$D/lcnode.conf
cp "$C" "$D/conf.bak"
expect_status "the template checks OK" 0 "$LCNODE" -d "$D" -n
line_of() { grep -n "$1" "$C" | head -1 | cut -d: -f1; }

# A key twice in one section: both lines named.
first=$(line_of '^log_level = ')
sed -i "${first}a log_level = debug" "$C"
expect_status "a duplicate key is refused" 1 "$LCNODE" -d "$D" -n
expect_contains "naming both lines" "$OUT" \
	"lcnode.conf:$((first + 1)): duplicate key \"log_level\" in [node] (first set on line $first)"
cp "$D/conf.bak" "$C"
# The same key in another section is another setting.
sed -i 's/^; listen = \(127.0.0.1:[0-9]*\)$/listen = \1/' "$C"
expect_status "listen in [node] and in [http] is fine" 0 "$LCNODE" -d "$D" -n
# A section given twice is one section: its keys are counted together.
printf '\n[node]\nlisten = 127.0.0.1:9\n' >>"$C"
expect_status "a key repeated in a second [node] is refused" 1 "$LCNODE" -d "$D" -n
expect_contains "naming both lines" "$OUT" "duplicate key \"listen\" in [node] (first set on line $(line_of '^listen = '))"
cp "$D/conf.bak" "$C"

# A NUL byte: named, not taken for an overlong line.
n=$(line_of '^log_level = ')
python3 - "$C" <<'PY'
import sys
p = sys.argv[1]
s = open(p, 'rb').read().replace(b'log_level = info', b'log_level = in\0fo', 1)
open(p, 'wb').write(s)
PY
expect_status "a NUL byte is refused" 1 "$LCNODE" -d "$D" -n
expect_contains "named with its line" "$OUT" "lcnode.conf:$n: a NUL byte (\\0) in the line"
cp "$D/conf.bak" "$C"

# An overlong line: its number and libinih's limit.
sed -i "s/^city = .*/city = $(printf 'x%.0s' $(seq 1 400))/" "$C"
expect_status "an overlong line is refused" 1 "$LCNODE" -d "$D" -n
expect_contains "named with its line and the limit" "$OUT" \
	"lcnode.conf:$(line_of '^city = '): line longer than"
expect_contains "and the limit is libinih's" "$OUT" "characters (the most libinih reads in one line)"
cp "$D/conf.bak" "$C"

# map_size beyond what mmap can give (x86-64 and arm64 map at most 2^48).
sed -i 's/^map_size = .*/map_size = 4096T/' "$C"
expect_status "map_size = 4096T is refused at lcnode -n" 1 "$LCNODE" -d "$D" -n
expect_contains "naming map_size and its line" "$OUT" \
	"lcnode.conf:$(line_of '^map_size = '): map_size: 4294967296 MiB is more than this system can map"
cp "$D/conf.bak" "$C"
# Beyond RLIMIT_AS (ulimit -v): not under AddressSanitizer, whose shadow
# memory alone is far beyond any such limit.
if nm "$LCNODE" 2>/dev/null | grep -q __asan_init; then
	echo "# the RLIMIT_AS check was not run: lcnode is built with ASan" >&2
else
	OUT=$( (ulimit -v 1048576; "$LCNODE" -d "$D" -n) 2>&1)
	expect_contains "map_size 8G above ulimit -v 1G is refused, naming the limit" "$OUT" \
		"map_size: 8192 MiB is more than the address space lcnode may use (RLIMIT_AS, ulimit -v: 1024 MiB)"
fi
expect_status "the restored file checks OK again" 0 "$LCNODE" -d "$D" -n

# A map_size the file system cannot hold (ext4 of 1 KiB blocks: files up to
# 4 TiB): known when the store opens, which names map_size.
M=$(tmpdir)/fs
mkdir -p "$M"
if [ "$(id -u)" != 0 ] || ! truncate -s 16M "$_root/ext4.img" ||
    ! mkfs.ext4 -q -F -b 1024 "$_root/ext4.img" >/dev/null 2>&1 ||
    ! mount -o loop "$_root/ext4.img" "$M" 2>/dev/null; then
	echo "# the file-system check was not run: it needs root, mkfs.ext4 and a loop device" >&2
	exit 0
fi
trap 'umount -l "$M" 2>/dev/null; _cleanup' EXIT
F=$M/city
init_city "$F" Loopton PT >/dev/null
sed -i 's/^map_size = .*/map_size = 8T/' "$F/lcnode.conf"
expect_status "lcnode with map_size 8T on a file system of 4 TiB files fails" 1 "$LCNODE" -d "$F"
# (Under ASan its shadow memory leaves no room for 8 TiB: lcnode refuses the
# map at the configuration check instead, naming map_size all the same.)
case $OUT in
*"map_size: 8388608 MiB is more than this system can map"*)
	ok "naming map_size (at the configuration check)" ;;
*) expect_contains "naming map_size" "$OUT" "map_size (8388608 MiB, [store] in lcnode.conf) is more than this system or its file system can map" ;;
esac
