#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# status counts records of every kind in the table of kinds: a city's own kinds
# always, the others (here a succession) once the node holds one.
. "$(dirname "$0")/lib.sh"

city_node Solo IT
count() { ctl Solo status --json | jq -r --arg k "$1" '[.kinds[] | select(.kind == $k) | .current][0]'; }
expect_eq "a new node counts the city's own kinds" "0 0" "$(count practice) $(count indicator)"
expect_eq "and no succession yet" null "$(count succession)"
expect_status "key rotate" 0 "$LCCTL" -d "${DIRS[Solo]}" key rotate
expect_eq "the succession record is counted" 1 "$(count succession)"
