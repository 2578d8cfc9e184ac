#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tools/check-layers.sh on small trees made here: it passes a tree whose
# includes and calls point down, and names an upward include, an upward call
# and a loop of calls inside a folder.
# shellcheck source=tests/blackbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHECK=$ROOT/tools/check-layers.sh
CC=${CC:-cc}

# tree DIR: a clean two-layer tree, built into DIR/build.
tree() {
	mkdir -p "$1/node/base" "$1/node/core"
	cat >"$1/node/base/low.h" <<'C'
int low_fn(int x);
C
	cat >"$1/node/base/low.c" <<'C'
#include "base/low.h"
int low_fn(int x) { return x + 1; }
C
	cat >"$1/node/core/mid.c" <<'C'
#include "base/low.h"
int mid_fn(int x);
int mid_fn(int x) { return low_fn(x) * 2; }
C
}

# build DIR: each node/LAYER/x.c into DIR/build/node/LAYER/x.o.
build() {
	local c o
	for c in "$1"/node/*/*.c; do
		o=$1/build/${c#"$1"/}
		o=${o%.c}.o
		mkdir -p "$(dirname "$o")"
		"$CC" -c -I"$1/node" -o "$o" "$c" || return 1
	done
}

layers() {   # layers DIR: the check run on the tree DIR and its build
	LCF_LAYERS_ROOT=$1 "$CHECK" "$1/build"
}

T=$(tmpdir)

D=$T/clean
tree "$D" && build "$D"
expect_status "a tree whose includes and calls point down passes" 0 layers "$D"
expect_contains "and says so" "$OUT" "check-layers: OK"

D=$T/upcall
tree "$D"
cat >"$D/node/base/up.c" <<'C'
int mid_fn(int x);
int up_fn(void);
int up_fn(void) { return mid_fn(1); }
C
build "$D"
expect_status "a call from base/ to core/ fails" 1 layers "$D"
expect_contains "naming the caller, the function and the layers" "$OUT" \
	"base/up calls mid_fn (defined in core/mid): base/ is below core/"

D=$T/upinclude
tree "$D"
printf '#include "core/mid.h"\n' >"$D/node/base/bad.h"
printf 'int mid_fn(int x);\n' >"$D/node/core/mid.h"
build "$D"
expect_status "an include from base/ of a core/ header fails" 1 layers "$D"
expect_contains "naming the file and line" "$OUT" \
	"node/base/bad.h:1: base/ includes \"core/mid.h\" from core/, a higher layer"

D=$T/bare
tree "$D"
printf '#include "low.h"\n' >"$D/node/base/bare.h"
build "$D"
expect_status "an include without its folder fails" 1 layers "$D"
expect_contains "and says how to write it" "$OUT" "without its folder"

D=$T/loop
tree "$D"
cat >"$D/node/core/a.c" <<'C'
int b_fn(int x);
int a_fn(int x);
int a_fn(int x) { return x > 0 ? b_fn(x - 1) : 0; }
C
cat >"$D/node/core/b.c" <<'C'
int a_fn(int x);
int b_fn(int x);
int b_fn(int x) { return a_fn(x); }
C
build "$D"
expect_status "two files of one folder calling each other fail" 1 layers "$D"
expect_contains "naming the loop" "$OUT" "files of core/ call each other in a loop"
expect_contains "and its files" "$OUT" "core/a"

expect_status "this repository's own build passes" 0 "$CHECK" "$ROOT/$BUILD"
