#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make check-layers: node/'s folders are layers, and this checks that includes and
# calls only point down. Usage: tools/check-layers.sh BUILD (the build directory
# whose objects are read with nm; LCF_LAYERS_ROOT: the tree to check, by
# default this one). Exits 1 and names each fault.
#
# Rules (docs/ARCHITECTURE.md, "Layers"):
#  1. A file in node/L/ includes project headers only as "M/x.h" with M at or
#     below L; main.c and tools/ may include any layer.
#  2. An object of layer L refers only to symbols defined in its own layer or a
#     lower one (the generated protobuf code is below them all).
#  3. Inside a folder (each layer, and each program under tools/), the files'
#     references form no loop: no two files call each other, directly or not.
set -u
cd "${LCF_LAYERS_ROOT:-$(dirname "$0")/..}"
BUILD=${1:-build}
LAYERS="base model store wire core write net view http admin"
bad=0

declare -A RANK         # a layer's rank, lowest 0; a name not in it: none
i=0
for l in $LAYERS; do
	RANK[$l]=$i
	i=$((i + 1))
done
rank() { echo "${RANK[$1]:-99}"; }

# ---- 1. includes ----
for dir in $LAYERS; do
	mine=${RANK[$dir]}
	for f in node/"$dir"/*.[ch]; do
		while IFS=: read -r line inc; do
			case $inc in
			*/*)
				to=${inc%%/*}
				r=${RANK[$to]:-99}
				if [ "$r" -eq 99 ]; then
					echo "$f:$line: includes \"$inc\": not a layer of node/"
					bad=1
				elif [ "$r" -gt "$mine" ]; then
					echo "$f:$line: $dir/ includes \"$inc\" from $to/, a higher layer"
					bad=1
				fi ;;
			*.pb-c.h|openapi_doc.h|lcf_version.h) ;;
			*)
				echo "$f:$line: includes \"$inc\" without its folder (write \"$dir/$inc\" or the layer it is in)"
				bad=1 ;;
			esac
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p;t;s/.*//p' "$f" |
		         awk 'NF { print NR ":" $0 }')
	done
done

# ---- 2. and 3. references between objects ----
# Each object is named by its folder and file: node/store/store.o -> store/store.
objs=$(find "$BUILD/node" "$BUILD/gen" "$BUILD/tools" -name '*.o' 2>/dev/null | sort)
if [ -z "$objs" ]; then
	echo "check-layers: no objects under $BUILD: run make first" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
keep=()
for o in $objs; do
	name=${o#"$BUILD"/}
	# Objects left by a build of files since moved or removed are not read.
	case $name in
	node/*) [ -f "${name%.o}.c" ] || continue ;;
	tools/*) [ -f "${name%.o}.c" ] || continue ;;
	esac
	keep+=("$o")
done
# One nm for all the objects (starting nm costs more than reading one):
# "PATH:[ADDR] TYPE SYMBOL" lines, PATH named as above.
objname() {
	awk -v b="$BUILD/" '{
		p = $1; sub(/:.*/, "", p); sub("^" b, "", p); sub(/^node\//, "", p)
		sub(/\.o$/, "", p); print $NF, p
	}'
}
nm -A -g --defined-only "${keep[@]}" | awk 'NF == 3' | objname >"$tmp/defs"
nm -A -u "${keep[@]}" | objname >"$tmp/uses"
sort -o "$tmp/defs" "$tmp/defs"
sort -o "$tmp/uses" "$tmp/uses"
# symbol user definer, for every reference between two different objects.
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3' >"$tmp/edges"

# The programs under tools/ link liblcf.a but are a separate top; they may use
# any layer. Their own files are checked for loops below.
ranks=$(for l in $LAYERS; do printf '%s=%s ' "$l" "$(rank "$l")"; done)
awk -v ranks="$ranks" '
	BEGIN { n = split(ranks, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); r[kv[1]] = kv[2] }
	        r["gen"] = -1; r["main"] = 100; r["tools"] = 100 }
	function layer(o,   p) { if (o == "main") return "main"; p = o; sub(/\/.*/, "", p); return p }
	{
		lu = layer($2); ld = layer($3)
		if (!(lu in r) || !(ld in r)) next
		if (r[ld] > r[lu])
			printf "%s calls %s (defined in %s): %s/ is below %s/\n", $2, $1, $3, lu, ld
	}' "$tmp/edges" >"$tmp/up"
if [ -s "$tmp/up" ]; then
	cat "$tmp/up"
	bad=1
fi

# Loops inside one folder: tsort reports any cycle among a folder's files.
for folder in $(awk '{ f = $2; sub(/\/[^\/]*$/, "", f); print f }' "$tmp/edges" | sort -u); do
	awk -v d="$folder" '{
		u = $2; v = $3; du = u; dv = v
		sub(/\/[^\/]*$/, "", du); sub(/\/[^\/]*$/, "", dv)
		if (du == d && dv == d) print v, u
	}' "$tmp/edges" | sort -u >"$tmp/pairs"
	[ -s "$tmp/pairs" ] || continue
	if ! tsort "$tmp/pairs" >/dev/null 2>"$tmp/loop"; then
		echo "files of $folder/ call each other in a loop:" \
		    "$(grep -v 'input contains a loop' "$tmp/loop" | sed 's/^tsort: //' | tr '\n' ' ')"
		bad=1
	fi
done

if [ "$bad" -ne 0 ]; then
	echo "check-layers: FAILED (see docs/ARCHITECTURE.md, Layers)"
	exit 1
fi
echo "check-layers: OK ($(cut -d' ' -f2 "$tmp/defs" "$tmp/uses" | sort -u | wc -l) objects, $(wc -l <"$tmp/edges") references)"
