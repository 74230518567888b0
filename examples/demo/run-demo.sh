#!/usr/bin/env bash
# The demo: a realistic shift on one terminal. The bundled call-center emulator runs on loopback
# with demo orders, the reference host loads the plugin with a fresh configuration (its
# terminalId is generated on first run), and a scripted cashier confirms, cooks, takes payment,
# assigns a courier, sends, delivers and closes orders, and cancels one with a cause. Documents go
# to file printers; the invoice is shown as a text preview at the end.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$build" && pwd)
work=${DLV_DEMO_DIR:-$root/demo-run}
rm -rf "$work"
mkdir -p "$work"
cd "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

callcenter=$build/examples/callcenter/delivery-callcenter
host=$build/examples/host/delivery-host
plugin=$build/plugin/libdelivery_plugin.so
preview=$build/examples/demo/delivery-preview

say "call-center emulator on 127.0.0.1 with demo orders"
"$callcenter" --listen 127.0.0.1:0 --db "$work/callcenter.db" --accept-any-terminal \
    --port-file "$work/cc.port" >"$work/callcenter.log" 2>&1 &
cc_pid=$!
cleanup() {
    kill "$cc_pid" 2>/dev/null || true
    wait "$cc_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$work/cc.port" ] && break; sleep 0.05; done
port=$(cat "$work/cc.port")
base="http://127.0.0.1:$port/resto"
echo "call-center: $base" >&2

cat >"$work/deliveryPluginConfig.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<config>
  <!-- the demo's call-center; terminalId is generated on first start -->
  <serviceMethodTimeoutMilliseconds>5000</serviceMethodTimeoutMilliseconds>
  <serverUrl>$base</serverUrl>
  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>
</config>
XML

admin() { curl -sS -X "$1" "$base/admin/$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
# The first "key":"value" of a JSON line (the demo needs no JSON tool).
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

say "three orders come in from the call-center"
# Two are paid at the terminal (no payment planned), one was paid online in advance.
# Due in three hours (courier) and two (pickup): the cashier starts the cooking by hand here,
# before the kitchen's lead time would start it by itself.
later() { date -u -d "+$1 hour" +%Y-%m-%dT%H:%M:%SZ; }
courier1=$(admin POST orders "{\"serviceType\":\"DeliveryByCourier\",\"comment\":\"без лука\",\"payments\":[],\"completeBefore\":\"$(later 3)\"}" | json_field id)
courier2=$(admin POST orders "{\"serviceType\":\"DeliveryByCourier\",\"completeBefore\":\"$(later 3)\"}" | json_field id)
pickup=$(admin POST orders "{\"serviceType\":\"DeliveryByClient\",\"payments\":[],\"completeBefore\":\"$(later 2)\"}" | json_field id)

say "the reference host loads the plugin (times in Moscow time: --time-zone Europe/Moscow; the invoice names the restaurant)"
coproc HOST { exec "$host" --plugin "$plugin" --config "$work/deliveryPluginConfig.xml" \
    --data-dir "$work" --printer "receipt=file:$work/receipt.escpos" \
    --printer "a4=file:$work/invoices.pdf" --user-rights D_CND,D_MD,D_CD,D_CAD,F_CASH,D_SADT,D_ED \
    --time-zone Europe/Moscow --restaurant-name 'Пиццерия „Тесто“' \
    --cafe-address 'ул. Тверская, 7' 2>"$work/host.log"; }
exec {to_host}>&"${HOST[1]}"
exec {from_host}<&"${HOST[0]}"

# Reads host lines until one matches (grep -E); prints the events on the way, bounded in time.
wait_for() {
    local pattern=$1 line deadline=$((SECONDS + 20))
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
step() { # step CMD-JSON EXPECTED-REPLY-NAME
    send "$1"
    wait_for "\"reply\":\"$2\",\"ok\":(true|false)"
    grep -q '"ok":true' <<<"$last_line" || { echo "demo: step refused: $last_line" >&2; exit 1; }
}

wait_for '"event":"registered"'
terminal=$(json_field terminalId <<<"$last_line")
wait_for "\"event\":\"order\".*$pickup"

say "the shift: confirm, cook, pay, courier, send, deliver, close"
for id in "$courier1" "$courier2" "$pickup"; do
    step "{\"cmd\":\"confirm\",\"orderId\":\"$id\"}" confirm
    step "{\"cmd\":\"setStatus\",\"orderId\":\"$id\",\"status\":\"CookingStarted\"}" setStatus
done
for id in "$courier1" "$pickup"; do
    step "{\"cmd\":\"setStatus\",\"orderId\":\"$id\",\"status\":\"CookingCompleted\"}" setStatus
    sum=$(admin GET "orders/$id" | grep -o '"resultSum":[0-9.]*' | head -1 | cut -d: -f2)
    # The customer pays cash, rounded up to 500 roubles: the reply says the change.
    cash=$(awk -v s="$sum" 'BEGIN { printf "%d.00", int((s + 499.99) / 500) * 500 }')
    step "{\"cmd\":\"pay\",\"orderId\":\"$id\",\"payments\":[{\"paymentTypeId\":\"09322f46-578a-d210-add7-eec222a08871\",\"kind\":\"Cash\",\"sum\":$cash}]}" pay
done
step "{\"cmd\":\"assignCourier\",\"orderId\":\"$courier1\",\"courierId\":\"5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001\"}" assignCourier
for s in Waiting OnWay Delivered Closed; do
    step "{\"cmd\":\"setStatus\",\"orderId\":\"$courier1\",\"status\":\"$s\"}" setStatus
done
for s in Waiting Closed; do
    step "{\"cmd\":\"setStatus\",\"orderId\":\"$pickup\",\"status\":\"$s\"}" setStatus
done
say "one order is cancelled: the customer changed their mind"
step "{\"cmd\":\"cancel\",\"orderId\":\"$courier2\",\"cancelCauseId\":\"0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001\",\"comment\":\"клиент передумал\"}" cancel
step '{"cmd":"list"}' list
send '{"cmd":"quit"}'
wait_for '"event":"stopped"'
host_pid=${HOST_PID:-}
[ -n "$host_pid" ] && wait "$host_pid" 2>/dev/null || true

say "what the call-center saw"
for id in "$courier1" "$pickup" "$courier2"; do
    o=$(admin GET "orders/$id")
    echo "  order $(grep -o '"number":[0-9]*' <<<"$o" | cut -d: -f2): $(json_field status <<<"$o")" >&2
done
admin GET log | grep -o '"applied":[0-9]*' | sort | uniq -c | sed 's/^/  commands /' >&2

say "printed documents"
ls -l "$work"/receipt.escpos* "$work"/invoices.pdf* 2>/dev/null >&2 || true
if [ -x "$preview" ] && [ -f "$work/receipt.escpos" ]; then
    say "text preview of the receipt printer's paper"
    "$preview" "$work/receipt.escpos"
fi
echo >&2
echo "demo finished: terminal $terminal, state in $work" >&2
