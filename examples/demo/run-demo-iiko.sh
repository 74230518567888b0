#!/usr/bin/env bash
# The demo shift against iikoCloud: the bundled iikoCloud sandbox (examples/iikocloud) runs on
# loopback, the reference host loads the plugin with <backend>iikoCloud</backend>, the sandbox's
# admin API plays the kitchen (iikoFront moves the cooking statuses in iikoCloud), and a scripted
# cashier confirms, assigns a courier, sends, delivers, takes payment and closes one order and
# cancels another with a cause. At the end the sandbox's log shows each command applied once.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$build" && pwd)
work=${DLV_DEMO_DIR:-$root/demo-run-iiko}
rm -rf "$work"
mkdir -p "$work"
cd "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

sandbox=$build/examples/iikocloud/delivery-iikocloud
host=$build/examples/host/delivery-host
plugin=$build/plugin/libdelivery_plugin.so
org=7bc05553-4b68-44e8-b7bc-37be63c6d9e9
group=8b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6b

say "iikoCloud sandbox on 127.0.0.1"
"$sandbox" --listen 127.0.0.1:0 --db "$work/iikocloud.db" --port-file "$work/ik.port" \
    >"$work/iikocloud.log" 2>&1 &
ik_pid=$!
cleanup() {
    kill "$ik_pid" 2>/dev/null || true
    wait "$ik_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$work/ik.port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/ik.port")"
echo "iikoCloud: $base" >&2

cat >"$work/deliveryPluginConfig.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<config>
  <serviceMethodTimeoutMilliseconds>5000</serviceMethodTimeoutMilliseconds>
  <serverUrl>$base</serverUrl>
  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>
  <backend>iikoCloud</backend>
  <apiLogin>sandbox-api-login</apiLogin>
  <organizationId>$org</organizationId>
  <terminalGroupId>$group</terminalGroupId>
  <pollIntervalSeconds>1</pollIntervalSeconds>
</config>
XML

admin() { curl -sS -X "$1" "$base/admin/$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

say "two orders come in from the call-center (iikoCloud)"
first=$(admin POST orders '{}' | json_field id)
second=$(admin POST orders '{}' | json_field id)

say "the reference host loads the plugin"
coproc HOST { exec "$host" --plugin "$plugin" --config "$work/deliveryPluginConfig.xml" \
    --data-dir "$work" --printer "receipt=file:$work/receipt.escpos" \
    --printer "a4=file:$work/invoices.pdf" --user-rights D_CND,D_MD,D_CD,D_CAD,D_DCO,F_CASH,D_SADT,D_ED \
    2>"$work/host.log"; }
exec {to_host}>&"${HOST[1]}"
exec {from_host}<&"${HOST[0]}"

wait_for() {
    local pattern=$1 line deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        if IFS= read -r -t 5 line <&"$from_host"; then
            printf '  %s\n' "$line" | cut -c1-200 >&2
            if grep -qE "$pattern" <<<"$line"; then
                last_line=$line
                return 0
            fi
        fi
    done
    echo "demo: timed out waiting for $pattern" >&2
    exit 1
}
send() { printf '%s\n' "$1" >&"$to_host"; }
step() {
    send "$1"
    wait_for "\"reply\":\"$2\",\"ok\":(true|false)"
    grep -q '"ok":true' <<<"$last_line" || { echo "demo: step refused: $last_line" >&2; exit 1; }
}
kitchen() { # the kitchen (iikoFront) moves a cooking status; the terminal sees it on its poll
    admin POST "orders/$1" "{\"status\":\"$2\"}" >/dev/null
    wait_for "\"statusChanged\".*$1.*\"to\":\"$2\""
}

wait_for '"event":"registered"'
wait_for "\"event\":\"order\".*$second"

say "the shift: confirm, the kitchen cooks, courier, send, deliver, pay, close"
step "{\"cmd\":\"confirm\",\"orderId\":\"$first\"}" confirm
step "{\"cmd\":\"confirm\",\"orderId\":\"$second\"}" confirm
kitchen "$first" CookingStarted
kitchen "$first" CookingCompleted
step "{\"cmd\":\"assignCourier\",\"orderId\":\"$first\",\"courierId\":\"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001\"}" assignCourier
for s in Waiting OnWay Delivered; do
    step "{\"cmd\":\"setStatus\",\"orderId\":\"$first\",\"status\":\"$s\"}" setStatus
done
sum=$(admin GET "orders/$first" | grep -o '"sum":[0-9.]*' | tail -1 | cut -d: -f2)
step "{\"cmd\":\"pay\",\"orderId\":\"$first\",\"payments\":[{\"paymentTypeId\":\"09322f46-578a-d210-add7-eec222a08871\",\"kind\":\"Cash\",\"sum\":$sum}]}" pay
step "{\"cmd\":\"setStatus\",\"orderId\":\"$first\",\"status\":\"Closed\"}" setStatus
say "one order is cancelled: the customer changed their mind"
step "{\"cmd\":\"cancel\",\"orderId\":\"$second\",\"cancelCauseId\":\"3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001\",\"comment\":\"клиент передумал\"}" cancel
for _ in $(seq 1 50); do
    admin GET "orders/$first" | grep -q '"status":"Closed"' &&
        admin GET "orders/$second" | grep -q '"status":"Cancelled"' && break
    sleep 0.2
done
send '{"cmd":"quit"}'
wait_for '"event":"stopped"'

say "what iikoCloud saw"
for id in "$first" "$second"; do
    echo "  order $id: $(admin GET "orders/$id" | grep -o '"status":"[A-Za-z]*"' | head -1)" >&2
done
admin GET log | grep -o '"endpoint":"[^"]*","orderId":"[^"]*","received":[0-9]*,"applied":[0-9]*' |
    sed 's/^/  /' >&2
echo "demo finished: state in $work" >&2
