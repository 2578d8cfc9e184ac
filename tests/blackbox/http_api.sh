#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The node's HTTP face: the JSON API's resources, filters and pages, ETag and
# 304, HEAD, problems, who may read operator data (token, cookie, loopback,
# forwarded headers), personal data, and the limits (URL size, slow clients,
# the connection cap, a port already taken).
. "$(dirname "$0")/lib.sh"

# code URL [CURL-ARGS...]: the status of a GET; the body is left in the file
# $BODYF (code runs in command substitutions: a variable would not survive).
BODYF=$_root/body.last
code() {
	local url=$1
	shift
	: >"$BODYF"
	curl -s -o "$BODYF" -w '%{http_code}' "$@" "$url"
}
body() { cat "$BODYF"; }
# problem_param NAME URL STATUS PARAM: a problem+json with that status, naming PARAM.
problem_is() {
	local name=$1 url=$2 want=$3 param=$4 got
	got=$(code "$url")
	if [ "$got" = "$want" ] && jq -e --arg p "$param" \
	    '.status == ('"$want"') and (.detail | length > 0) and ($p == "" or .param == $p)' \
	    <"$BODYF" >/dev/null 2>&1; then
		ok "$name"
	else
		fail "$name" "expected $want naming '$param', got $got: $(body)"
	fi
}

city_node Tampere FI
city_node Cluj RO
T=$(http_url "${DIRS[Tampere]}")
C=$(http_url "${DIRS[Cluj]}")
TOKEN=$(tr -d '\n' <"${DIRS[Tampere]}/http.token")
check "the token file is 0600" test "$(stat -c %a "${DIRS[Tampere]}/http.token")" = 600
expect_contains "the log says the URL" "$(cat "${DIRS[Tampere]}/node.log")" "http: serving $T/api/v1/"

ctl Tampere city import "$SAMPLES/tampere-profile.SAMPLE.json" >/dev/null
ctl Tampere practice import "$SAMPLES/tampere-practices.SAMPLE.json" >/dev/null
ctl Tampere indicator import "$SAMPLES/tampere-indicators.SAMPLE.json" >/dev/null
"$ROOT/$BUILD/lcf-gen" -n 300 -s 7 >"$_root/gen.json"
ctl Tampere practice import "$_root/gen.json" >/dev/null
ctl Tampere peer add "127.0.0.1:${PORTS[Cluj]}" >/dev/null
wait_for 20 has_practice Cluj "$(jq -r '.[0].key' "$_root/gen.json")" ||
	fail "setup" "Cluj did not receive Tampere's practices"

# ---- resources ----
expect_eq "status" 200 "$(code "$T/api/v1/status")"
expect_eq "status names the city" "${IDS[Tampere]} Tampere" "$(jq -r '.city_id + " " + .city_name' <"$BODYF")"
expect_eq "catalog" 200 "$(code "$T/api/v1/catalog")"
expect_eq "the catalog in force, as lcctl shows it" "$(ctl Tampere catalog list --json | jq -c '[.[].id]')" \
	"$(jq -c '[.indicators[].id]' <"$BODYF")"
expect_eq "cities" 200 "$(code "$C/api/v1/cities")"
expect_eq "Cluj lists both cities" "Cluj Tampere" "$(jq -r '[.items[].name] | sort | join(" ")' <"$BODYF")"
expect_eq "a city by id" 200 "$(code "$C/api/v1/cities/${IDS[Tampere]}")"
expect_eq "with its profile, counts and membership" "Tampere FI $(jq length "$SAMPLES/tampere-practices.SAMPLE.json" | awk '{print $1+300}') open" \
	"$(jq -r '[.name, .country, (.records.practice|tostring), .membership.state] | join(" ")' <"$BODYF")"
expect_eq "with the first page of its practices and its indicator values" "50 10 true" \
	"$(jq -r '"\(.practices.items | length) \(.indicators.items | length) \(.practices.next | startswith("/api/v1/cities/'"${IDS[Tampere]}"'/practices?"))"' <"$BODYF")"
expect_eq "its practices" 200 "$(code "$C/api/v1/cities/${IDS[Tampere]}/practices?limit=500")"
expect_eq "all of them, by key" "$( (jq -r '.[].key' "$_root/gen.json"; ctl Tampere practice list --json --limit 0 | jq -r '.[].key') | sort -u | wc -l)" \
	"$(jq '.items | length' <"$BODYF")"
expect_eq "its indicator values" 200 "$(code "$C/api/v1/cities/${IDS[Tampere]}/indicators")"
expect_eq "as many as imported" "$(jq length "$SAMPLES/tampere-indicators.SAMPLE.json")" "$(jq '.items | length' <"$BODYF")"
ind=$(jq -r '.[0].indicator' "$SAMPLES/tampere-indicators.SAMPLE.json")
per=$(jq -r '.[0].period' "$SAMPLES/tampere-indicators.SAMPLE.json")
expect_eq "indicator values by indicator and period" 200 "$(code "$T/api/v1/indicators?indicator=$ind&period=$per&city=${IDS[Tampere]:0:8}")"
expect_eq "only those" "$ind $per" "$(jq -r '[.items[] | .indicator.indicator + " " + .indicator.period] | unique | join(",")' <"$BODYF")"

# Filters give what lcctl gives.
want=$(ctl Tampere practice list --area 2.2 --cluster literacy --limit 0 --json | jq -r '[.[].id] | sort | join(" ")')
expect_eq "practices filtered by area and cluster" 200 "$(code "$T/api/v1/practices?area=2.2&cluster=literacy&limit=500")"
expect_eq "the same records as lcctl" "$want" "$(jq -r '[.items[].id] | sort | join(" ")' <"$BODYF")"
want=$(ctl Tampere practice list --text "family reading" --limit 0 --json | jq -r '[.[].id] | sort | join(" ")')
code "$T/api/v1/practices?text=family+reading&limit=500" >/dev/null
expect_eq "text search, '+' for a space" "$want" "$(jq -r '[.items[].id] | sort | join(" ")' <"$BODYF")"

# Pages: every record once, in a stable order, newest first.
all=$(ctl Tampere practice list --area 2.2 --limit 0 --json | jq -r '.[].id')
url="$T/api/v1/practices?area=2.2&limit=7"
pages=0 got=""
while [ -n "$url" ] && [ "$pages" -lt 200 ]; do
	[ "$(code "$url")" = 200 ] || break
	got+=$(jq -r '.items[].id' <"$BODYF")$'\n'
	next=$(jq -r '.next // empty' <"$BODYF")
	url=${next:+$T$next}
	pages=$((pages + 1))
done
expect_eq "pages walk every record once, in lcctl's order" "$all" "$(printf '%s' "$got" | sed '/^$/d')"
check "in more than one page" test "$pages" -gt 1
code "$T/api/v1/practices" >/dev/null
expect_eq "limit defaults to 50" 50 "$(jq '.limit' <"$BODYF")"

pid=$(jq -r '.[0].key' "$_root/gen.json")
rid=$(ctl Tampere practice show "$pid" --json | jq -r '.id')
expect_eq "a practice by id" 200 "$(code "$T/api/v1/practices/$rid")"
expect_eq "that practice" "$pid" "$(jq -r .key <"$BODYF")"
expect_eq "by a prefix of its id" 200 "$(code "$T/api/v1/practices/${rid:0:10}")"
ctl Tampere practice import <(jq '[.[0] | .title = "A new title"]' "$_root/gen.json") >/dev/null
expect_eq "its versions" 200 "$(code "$T/api/v1/practices/$rid/versions")"
expect_eq "both, newest first" "2 A new title" "$(jq -r '"\(.items | length) \(.items[0].practice.title)"' <"$BODYF")"
expect_eq "members" 200 "$(code "$T/api/v1/members")"
expect_eq "an open node has no members" "[] null" "$(jq -c '.items, .federation' <"$BODYF" | paste -sd' ')"

# ---- problems ----
problem_is "limit 0 is refused, naming limit" "$T/api/v1/practices?limit=0" 400 limit
problem_is "limit 501 is refused" "$T/api/v1/practices?limit=501" 400 limit
problem_is "limit abc is refused" "$T/api/v1/practices?limit=abc" 400 limit
problem_is "an unknown area is refused, naming area" "$T/api/v1/practices?area=9.9" 400 area
problem_is "a bad country" "$T/api/v1/practices?country=fin" 400 country
problem_is "an unknown parameter is named" "$T/api/v1/practices?colour=red" 400 colour
problem_is "a parameter of another resource is named" "$T/api/v1/indicators?area=2.2" 400 area
problem_is "a malformed city id" "$T/api/v1/cities/xyz" 400 id
problem_is "an unknown city" "$T/api/v1/cities/$(printf 'ab%.0s' $(seq 32))" 404 id
problem_is "a malformed practice id" "$T/api/v1/practices/nothex" 400 id
problem_is "a bad cursor" "$T/api/v1/practices?cursor=zz" 400 cursor
problem_is "a bad %-escape" "$T/api/v1/practices?text=%zz" 400 ""
problem_is "an unknown path" "$T/api/v2/practices" 404 ""
problem_is "a record that is no practice" "$T/api/v1/practices/$(ctl Tampere city show --json | jq -r .id)" 404 id
hdr=$(curl -s -D - -o /dev/null -X DELETE "$T/api/v1/practices")
expect_contains "DELETE is 405" "$hdr" "HTTP/1.1 405"
expect_contains "with Allow" "${hdr,,}" "allow: get, head"
expect_contains "as problem+json" "$hdr" "application/problem+json"
expect_eq "a URL of 5,000 bytes is 414" 414 "$(code "$T/api/v1/practices?text=$(printf 'a%.0s' $(seq 5000))")"

# ---- ETag, 304, HEAD ----
hdr=$(curl -s -D - -o "$_root/body" "$T/api/v1/practices?area=2.2")
etag=$(sed -n 's/^etag: //Ip' <<<"$hdr" | tr -d '\r')
check "a list has an ETag" test -n "$etag"
expect_eq "If-None-Match gives 304" 304 "$(code "$T/api/v1/practices?area=2.2" -H "If-None-Match: $etag")"
check "with no body" test ! -s "$BODYF"
hhdr=$(curl -s -I "$T/api/v1/practices?area=2.2")
expect_eq "HEAD has the same length" "$(stat -c %s "$_root/body")" "$(sed -n 's/^content-length: //Ip' <<<"$hhdr" | tr -d '\r')"
expect_eq "and the same ETag" "$etag" "$(sed -n 's/^etag: //Ip' <<<"$hhdr" | tr -d '\r')"
expect_eq "HEAD sends no body" 0 "$(curl -s -I -o /dev/null -w '%{size_download}' "$T/api/v1/practices?area=2.2")"
ctl Tampere practice add --title "Evening classes" --summary "New." --language en --area 2.2 >/dev/null
expect_eq "after a write the old ETag is stale: 200" 200 "$(code "$T/api/v1/practices?area=2.2" -H "If-None-Match: $etag")"
expect_contains "with the new record" "$(body)" "Evening classes"

# ---- who may read operator data ----
sed -i 's/^; operator_loopback = yes/operator_loopback = yes/' "${DIRS[Tampere]}/lcnode.conf"
expect_eq "peers from loopback" 200 "$(code "$T/api/v1/peers")"
expect_eq "list the peer" "127.0.0.1:${PORTS[Cluj]}" "$(jq -r '.items[0].address' <"$BODYF")"
expect_eq "not with X-Forwarded-For" 401 "$(code "$T/api/v1/peers" -H 'X-Forwarded-For: 203.0.113.9')"
expect_eq "not with Forwarded" 401 "$(code "$T/api/v1/peers" -H 'Forwarded: for=203.0.113.9')"
expect_contains "a 401 says how to authenticate" "$(body)" "lcctl http token"
expect_eq "the token opens it even forwarded" 200 "$(code "$T/api/v1/peers" -H 'X-Forwarded-For: 203.0.113.9' -H "Authorization: Bearer $TOKEN")"
# flip1 S: S with its last character changed (0 <-> 1), so never S itself.
flip1() { local l=${1: -1}; printf '%s%s' "${1%?}" "$([ "$l" = 0 ] && echo 1 || echo 0)"; }
expect_eq "a wrong token is 401" 401 "$(code "$T/api/v1/peers" -H "Authorization: Bearer $(flip1 "$TOKEN")")"
expect_eq "a wrong token is 401 on public data too" 401 "$(code "$T/api/v1/practices" -H "Authorization: Bearer nope")"
expect_eq "public data forwarded is fine" 200 "$(code "$T/api/v1/practices" -H 'X-Forwarded-For: 203.0.113.9')"
expect_eq "a session needs the token" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$T/api/v1/session")"
hdr=$(curl -s -D - -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$T/api/v1/session")
cookie=$(sed -n 's/^set-cookie: \(lcf_session=[^;]*\).*/\1/Ip' <<<"$hdr" | tr -d '\r')
expect_contains "the session cookie is HttpOnly" "$hdr" "HttpOnly"
expect_contains "and SameSite=Strict" "$hdr" "SameSite=Strict"
check "and not Secure over plain HTTP" bash -c "! grep -qi 'secure' <<<\"\$(grep -i set-cookie <<<'$hdr' | sed 's/samesite=strict//I')\""
expect_contains "Secure behind a TLS proxy" "$(curl -s -D - -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'X-Forwarded-Proto: https' "$T/api/v1/session")" "; Secure"
expect_eq "the cookie opens operator data forwarded" 200 "$(code "$T/api/v1/peers" -H 'X-Forwarded-For: 203.0.113.9' -H "Cookie: a=b; $cookie")"
expect_eq "a forged cookie does not" 401 "$(code "$T/api/v1/peers" -H 'X-Forwarded-For: 203.0.113.9' -H "Cookie: $(flip1 "$cookie")")"
expect_eq "nor one with a later expiry" 401 "$(code "$T/api/v1/peers" -H 'X-Forwarded-For: 203.0.113.9' -H "Cookie: lcf_session=9${cookie#lcf_session=}")"

# operator_loopback = no: loopback is public; personal data stays out.
stop_node "${DIRS[Tampere]}"
sed -i 's/^operator_loopback = yes/operator_loopback = no/' "${DIRS[Tampere]}/lcnode.conf"
start_node "${DIRS[Tampere]}"
expect_eq "loopback without the token: 401 when operator_loopback = no" 401 "$(code "$T/api/v1/peers")"
expect_eq "metrics too" 401 "$(code "$T/metrics")"
expect_eq "the token still opens it" 200 "$(code "$T/api/v1/peers" -H "Authorization: Bearer $TOKEN")"
code "$T/api/v1/cities/${IDS[Tampere]}" >/dev/null
expect_eq "public: the profile's contact keeps its role only" '{"role":"Lifelong learning specialist (sample contact)"}' \
	"$(jq -c '.profile.city.contact' <"$BODYF")"
check "no e-mail address in any public practice" bash -c "! curl -s '$T/api/v1/practices?limit=500' | grep -q '@example.org'"
code "$T/api/v1/cities/${IDS[Tampere]}" -H "Authorization: Bearer $TOKEN" >/dev/null
expect_eq "the operator sees the contact" "Aino Lehtonen learning.tampere@example.org" \
	"$(jq -r '.profile.city.contact | .name + " " + .email' <"$BODYF")"
stop_node "${DIRS[Tampere]}"
sed -i 's/^; personal_data = no/personal_data = yes/' "${DIRS[Tampere]}/lcnode.conf"
start_node "${DIRS[Tampere]}"
code "$T/api/v1/cities/${IDS[Tampere]}" >/dev/null
expect_eq "personal_data = yes shows it publicly" "Aino Lehtonen" "$(jq -r '.profile.city.contact.name' <"$BODYF")"

# ---- limits ----
stop_node "${DIRS[Cluj]}"
sed -i 's/^; max_connections = 2048/max_connections = 3/; s/^; idle_timeout = 15/idle_timeout = 2/' "${DIRS[Cluj]}/lcnode.conf"
start_node "${DIRS[Cluj]}"
out=$(python3 - "${C#http://}" 2>&1 <<'EOF'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
def conn():
    s = socket.create_connection(addr, timeout=5)
    return s
def closed(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
# A slow client: half a request, then nothing.
slow = conn()
slow.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
print("slow-closed", closed(slow, 6), round(time.time() - t0))
# The cap: three held, the fourth closed at once, a fifth after one ends works.
held = [conn() for _ in range(3)]
time.sleep(0.3)
extra = conn()
# Asked something, a connection over the cap is closed unanswered; one let in
# would get an answer (a busy machine may take more than a second to close).
try:
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
except OSError:
    pass
extra.settimeout(5)
try:
    got = extra.recv(64)
    fate = "True" if got == b"" else "False, answered " + repr(got)
except socket.timeout:
    fate = "False, still open after 5 s"
except ConnectionResetError:
    fate = "True"
print("over-cap-closed", fate)
held[0].close()
time.sleep(0.3)
s = conn()
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s.settimeout(3)
print("after", s.recv(64).split(b"\r\n")[0].decode())
EOF
)
expect_contains "a half-sent request is closed after idle_timeout" "$out" "slow-closed True 2"
expect_contains "a connection over max_connections is closed" "$out" "over-cap-closed True"
check "a request after one ended is answered" grep -q "after HTTP/1.1 " <<<"$out"
expect_contains "the cap is logged once, with what to do" "$(grep -c 'max_connections allows' "${DIRS[Cluj]}/node.log") $(grep 'max_connections allows' "${DIRS[Cluj]}/node.log")" "1 "

# A port already taken: the node runs its peer side and says why.
city_node Brno CZ "s|^listen = 127.0.0.1:[0-9]*\$|&|; /^\\[http\\]/,\$s|^listen = .*|listen = ${T#http://}|"
expect_contains "a taken HTTP port is logged with the address" "$(cat "${DIRS[Brno]}/node.log")" "cannot serve HTTP on ${T#http://}"
check "the node still answers lcctl" ctl_jq Brno '.city_name == "Brno"' status --json
expect_contains "lcctl status says HTTP is degraded, and why" "$(ctl Brno status)" "degraded: cannot serve HTTP on ${T#http://}"
check "status --json has the problem" ctl_jq Brno '.http_problem | test("cannot serve HTTP")' status --json
check "a served node's status has its URL and no problem" ctl_jq Tampere ".http == \"$T\" and .http_problem == null" status --json
ctl Brno peer add "127.0.0.1:${PORTS[Cluj]}" >/dev/null
check "and syncs with a peer" wait_for 20 has_practice Brno "$pid"
expect_status "lcnode -n takes listen = off" 0 bash -c "sed -i '/^\\[http\\]/,\$s|^listen = .*|listen = off|' '${DIRS[Brno]}/lcnode.conf' && '$LCNODE' -d '${DIRS[Brno]}' -n"
expect_status "and refuses a bad [http] listen, naming the line" 1 bash -c "sed -i '/^\\[http\\]/,\$s|^listen = .*|listen = nowhere|' '${DIRS[Brno]}/lcnode.conf' && '$LCNODE' -d '${DIRS[Brno]}' -n"
expect_contains "with the file and line" "$OUT" "lcnode.conf:"
