#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The dashboard's files ([http] web_root, node/http/static.c): served from
# memory with their content types, ETag and 304, gzip to clients that take it,
# immutable caching for assets/, index.html for the app's paths; nothing
# outside the root (symbolic links, ..), no unknown types, GET and HEAD only;
# with no dashboard, / says how to build one; a web_root that is no folder
# fails `lcnode -n`.
. "$(dirname "$0")/lib.sh"

WEB=$(tmpdir)/web
OUTSIDE=$(tmpdir)
mkdir -p "$WEB/assets"
printf '<!doctype html><title>t</title><p>dashboard index</p>\n' >"$WEB/index.html"
gzip -9 -k "$WEB/index.html"
printf 'console.log("app");\n' >"$WEB/assets/app-ABC123.js"
printf 'secret outside\n' >"$OUTSIDE/secret.txt"
ln -s "$OUTSIDE/secret.txt" "$WEB/link.txt"
ln -s "$OUTSIDE" "$WEB/linkdir"
printf 'not served\n' >"$WEB/data.bin"
printf 'hidden\n' >"$WEB/.hidden.txt"

city_node S SE "s|^\[http\]|[http]\nweb_root = $WEB|"
U=$(http_url "${DIRS[S]}")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

expect_eq "/ answers index.html" "dashboard index" "$(curl -sf "$U/" | grep -o 'dashboard index')"
expect_eq "its content type" "text/html; charset=utf-8" \
    "$(curl -sI "$U/" | tr -d '\r' | sed -n 's/^content-type: //Ip')"
expect_eq "an app path answers index.html too" "dashboard index" \
    "$(curl -sf "$U/practices/abc" | grep -o 'dashboard index')"
expect_eq "an asset, with its type" "text/javascript; charset=utf-8" \
    "$(curl -sI "$U/assets/app-ABC123.js" | tr -d '\r' | sed -n 's/^content-type: //Ip')"
expect_contains "assets are immutable" "$(curl -sI "$U/assets/app-ABC123.js")" "immutable"
expect_contains "index.html is revalidated" "$(curl -sI "$U/")" "no-cache"
ETAG=$(curl -sI "$U/" | tr -d '\r' | sed -n 's/^etag: //Ip')
check "an ETag is given" test -n "$ETAG"
expect_eq "If-None-Match with it: 304" 304 "$(code -H "If-None-Match: $ETAG" "$U/")"
expect_eq "another tag: 200" 200 "$(code -H 'If-None-Match: "x"' "$U/")"
expect_eq "gzip to a client that takes it" "dashboard index" \
    "$(curl -s -H 'Accept-Encoding: gzip' "$U/" | gunzip | grep -o 'dashboard index')"
expect_contains "with Content-Encoding and Vary" "$(curl -sI -H 'Accept-Encoding: gzip' "$U/" | tr -d '\r')" \
    "content-encoding: gzip"
expect_eq "not to one that refuses it (q=0)" "dashboard index" \
    "$(curl -s -H 'Accept-Encoding: gzip;q=0' "$U/" | grep -o 'dashboard index')"
GZTAG=$(curl -sI -H 'Accept-Encoding: gzip' "$U/" | tr -d '\r' | sed -n 's/^etag: //Ip')
check "the gzip form has a tag of its own" test "$GZTAG" != "$ETAG" -a -n "$GZTAG"
expect_eq "a symbolic link out of the root is not served" 404 "$(code "$U/link.txt")"
expect_eq "nor a folder linked from outside" 404 "$(code "$U/linkdir/secret.txt")"
expect_eq "nor .. in the path" 404 "$(code --path-as-is "$U/assets/../../$(basename "$OUTSIDE")/secret.txt")"
expect_eq "nor an escaped .." 404 "$(code "$U/assets/%2e%2e/index.html")"
expect_eq "nor an escaped /" 404 "$(code "$U/assets%2fapp-ABC123.js")"
expect_eq "nor a file of no known type" 404 "$(code "$U/data.bin")"
expect_eq "nor a hidden file" 404 "$(code "$U/.hidden.txt")"
expect_eq "a missing asset: 404" 404 "$(code "$U/assets/nope.js")"
expect_eq "a path that is no page of the dashboard: 404" 404 "$(code "$U/no/such/path")"
expect_eq "POST: 405" 405 "$(code -X POST "$U/")"
expect_eq "HEAD: the length, no body" "$(stat -c %s "$WEB/index.html")|0" \
    "$(curl -sI "$U/" | tr -d '\r' | sed -n 's/^content-length: //Ip')|$(curl -s -X HEAD -m 3 "$U/" | wc -c)"
expect_eq "the API's 404 stays JSON" "application/problem+json" \
    "$(curl -sI "$U/api/v1/nope" | tr -d '\r' | sed -n 's/^content-type: //Ip')"
printf 'changed\n' >"$WEB/index.html"
expect_eq "files are read at start (a change shows after a restart)" "dashboard index" \
    "$(curl -sf "$U/" | grep -o 'dashboard index')"

# No dashboard: an empty web_root; / says how to build one (never a 404).
EMPTY=$(tmpdir)
city_node E SE "s|^\[http\]|[http]\nweb_root = $EMPTY|"
UE=$(http_url "${DIRS[E]}")
expect_eq "with no dashboard, / answers 200" 200 "$(code "$UE/")"
expect_contains "saying how to build it" "$(curl -s "$UE/")" "make web"
expect_eq "and an asset is a 404" 404 "$(code "$UE/assets/app.js")"
expect_eq "as is a path that is no page" 404 "$(code "$UE/no/such/path")"

D=$(tmpdir)/N
init_city "$D" N SE >/dev/null
sed -i "s|^\[http\]|[http]\nweb_root = $OUTSIDE/secret.txt|" "$D/lcnode.conf"
expect_status "lcnode -n refuses a web_root that is no folder" 1 "$LCNODE" -d "$D" -n
expect_contains "naming it" "$OUT" "web_root"
