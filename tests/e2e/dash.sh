#!/bin/sh
# dash.sh - the dashboard in headless Chromium over HTTPS: fills a demo
# LMDB (tests/e2e/dash_demo.c), makes a test CA and a certificate for
# 127.0.0.1 with the openssl command, starts haze-dashboard with TLS, runs
# tests/e2e/dash.mjs (Chromium trusts exactly that certificate's key, by
# its SPKI hash), stops the dashboard by pid. Screenshots land in
# $HZ_BUILD/e2e/.
#
# Needs node, /usr/bin/chromium and playwright-core (npm, no browser
# download): found in ./node_modules or in $HZ_PLAYWRIGHT_DIR/node_modules.
# Without them it says SKIPPED and exits 0 (it is not a unit test).
set -eu
build=${HZ_BUILD:-build/release}
bindir=${HZ_BIN:-bin}
out="$build/e2e"
pwdir=${HZ_PLAYWRIGHT_DIR:-$(pwd)}
if ! command -v node >/dev/null || [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] ||
   [ ! -d "$pwdir/node_modules/playwright-core" ]; then
    echo "dash e2e: SKIPPED (needs node, chromium and playwright-core in $pwdir/node_modules)"
    exit 0
fi
[ -x "$bindir/haze-dashboard" ] || { echo "dash e2e: build $bindir/haze-dashboard first"; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d /tmp/haze-e2e-dash.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2046
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -O2 ${HZ_SAN:-} -I. -o "$tmp/dash_demo" tests/e2e/dash_demo.c \
    "$build/libhzcommon.a" $(pkg-config --libs lmdb) -lm
mkdir "$tmp/db"
# Today in the site's zone (UTC here).
"$tmp/dash_demo" "$tmp/db" printshop.example "$(( $(date -u +%s) / 86400 ))"
"$tmp/dash_demo" "$tmp/db" blog.example "$(( $(date -u +%s) / 86400 ))"
# A free loopback port (the kernel's choice), not one derived from the pid.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# TLS: a CA and a server certificate made now; the browser pins its key.
(
    cd "$tmp"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj '/CN=haze e2e CA' >/dev/null 2>&1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' \
        >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
        -days 2 -extfile ext.cnf >/dev/null 2>&1
) || { echo "dash e2e: openssl could not make the test certificate"; exit 1; }
spki=$(openssl x509 -in "$tmp/srv.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
# A view token for one site (the page must show only that site, no access log).
viewer=e2e-viewer-token-5678
viewer_sha=$(printf '%s' "$viewer" | openssl dgst -sha256 -r | cut -d' ' -f1)
cat > "$tmp/haze.ini" <<INI
[aggregator]
user = root
lmdb = $tmp/db
retention_days = 400
[dashboard]
user = root
listen = 127.0.0.1:$port
token = e2e-token-1234
min_visitors = 5
tls_cert = $tmp/srv.pem
tls_key = $tmp/srv.key
audit_log = $tmp/audit.log
[site printshop.example]
timezone = UTC
funnel = checkout: /products/* > /cart > /checkout > /thanks
[site blog.example]
[token viewer]
sha256 = $viewer_sha
sites = blog.example
scope = view
INI
"$bindir/haze-dashboard" -c "$tmp/haze.ini" 2>"$tmp/dash.log" &
pid=$!
i=0
until curl -s -o /dev/null --cacert "$tmp/ca.pem" "https://127.0.0.1:$port/privacy.json"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/dash.log"; exit 1; }; sleep 0.05
done
# page.request runs in node: it verifies the certificate against the test CA.
NODE_EXTRA_CA_CERTS="$tmp/ca.pem" HZ_PLAYWRIGHT_DIR="$pwdir" HZ_SPKI="$spki" HZ_VIEWER="$viewer" \
    node tests/e2e/dash.mjs "https://127.0.0.1:$port" e2e-token-1234 "$out"
echo "dash e2e: screenshots in $out/dashboard.png and $out/dashboard-phone.png"
