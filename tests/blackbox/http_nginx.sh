#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's nginx site, taken from the README as it is, in front of a real
# node: public data passes, operator data stays closed (nginx adds
# X-Forwarded-For) unless the token comes with the request, /metrics stays
# inside, the session cookie is Secure over TLS, oversized headers stop at nginx.
. "$(dirname "$0")/lib.sh"

city_node Tampere FI
D=${DIRS[Tampere]}
U=$(http_url "$D")
TOKEN=$(tr -d '\n' <"$D/http.token")
ctl Tampere practice import "$SAMPLES/tampere-practices.SAMPLE.json" >/dev/null

W=$(tmpdir)
PORT=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=learning.example.org" \
	-keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1 ||
	fail "setup" "openssl cannot make a test certificate"
# The site exactly as the README shows it, with this test's addresses.
sed -n '/^```nginx$/,/^```$/p' "$ROOT/README.md" | sed '1d;$d' |
	sed -e "s|server 127.0.0.1:8380;|server ${U#http://};|" \
	    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$PORT ssl http2;|" \
	    -e "/listen \\[::\\]:443/d" \
	    -e "s|/etc/letsencrypt/live/learning.example.org/fullchain.pem|$W/cert.pem|" \
	    -e "s|/etc/letsencrypt/live/learning.example.org/privkey.pem|$W/key.pem|" \
	    >"$W/site.conf"
check "the README has an nginx site" grep -q 'proxy_pass http://lcnode' "$W/site.conf"
mkdir -p "$W/tmp"
cat >"$W/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $W/nginx.pid;
error_log $W/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $W/tmp/body;
	proxy_temp_path $W/tmp/proxy;
	fastcgi_temp_path $W/tmp/fastcgi;
	uwsgi_temp_path $W/tmp/uwsgi;
	scgi_temp_path $W/tmp/scgi;
	include $W/site.conf;
}
EOF
expect_status "nginx -t accepts the site" 0 nginx -t -c "$W/nginx.conf" -e "$W/error.log"
nginx -c "$W/nginx.conf" -e "$W/error.log" -g 'daemon off;' &
NGINX=$!
_nodes+=("$NGINX")
P="https://127.0.0.1:$PORT"
wait_for 10 curl -sk -o /dev/null "$P/api/v1/status" || fail "setup" "nginx did not start: $(cat "$W/error.log")"

st() { curl -sk -o "$W/body" -w '%{http_code}' "$@"; }
expect_eq "public data through the proxy" 200 "$(st "$P/api/v1/practices")"
expect_eq "the node's records" "$(jq length "$SAMPLES/tampere-practices.SAMPLE.json")" "$(jq '.items | length' "$W/body")"
expect_eq "over HTTP/2 too" 2 "$(curl -sk --http2 -o /dev/null -w '%{http_version}' "$P/api/v1/status")"
expect_eq "operator data is closed through the proxy" 401 "$(st "$P/api/v1/peers")"
expect_eq "while loopback opens it directly" 200 "$(st "$U/api/v1/peers")"
expect_eq "the token opens it through the proxy" 200 "$(st -H "Authorization: Bearer $TOKEN" "$P/api/v1/peers")"
expect_eq "/metrics stays inside" 404 "$(st -H "Authorization: Bearer $TOKEN" "$P/metrics")"
hdr=$(curl -sk -D - -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$P/api/v1/session")
expect_contains "the session cookie is Secure behind TLS" "$hdr" "; Secure"
cookie=$(sed -n 's/^set-cookie: \(lcf_session=[^;]*\).*/\1/Ip' <<<"$hdr" | tr -d '\r')
expect_eq "and opens operator data through the proxy" 200 "$(st -H "Cookie: $cookie" "$P/api/v1/peers")"
big=$(printf 'x%.0s' $(seq 9000))
code=$(st --http1.1 -H "X-Big: $big" "$P/api/v1/status")
check "a 9 KB header line stops at nginx over HTTP/1.1 ($code)" test "$code" = 400 -o "$code" = 494
big=$(printf 'x%.0s' $(seq 40000))
code=$(st --http2 -H "X-Big: $big" "$P/api/v1/status")
check "40 KB of headers stop at nginx over HTTP/2 ($code)" test "$code" != 200
expect_eq "the node answers the next request" 200 "$(st "$P/api/v1/status")"
kill "$NGINX" 2>/dev/null
wait "$NGINX" 2>/dev/null
