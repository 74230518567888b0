#!/usr/bin/env bash
# The delivery screen demo (docs/screen.md): the call-center emulator on loopback generates an
# order every few seconds, the reference host serves the screen on 127.0.0.1:8088 (DLV_SCREEN
# overrides), with two users: «Менеджер» (PIN 1234, every right) and «Повар» (no cancel).
# Runs until Ctrl-C.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${DLV_DEMO_DIR:-$root/demo-screen}
addr=${DLV_SCREEN:-127.0.0.1:8088}
rm -rf "$work"
mkdir -p "$work"
"$build/examples/callcenter/delivery-callcenter" --listen 127.0.0.1:0 --db "$work/callcenter.db" \
    --accept-any-terminal --port-file "$work/cc.port" >"$work/callcenter.log" 2>&1 &
pids=($!)
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do [ -s "$work/cc.port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/cc.port")/resto"
cat >"$work/deliveryPluginConfig.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<config>
  <serverUrl>$base</serverUrl>
  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>
</config>
XML
cat >"$work/users.json" <<'JSON'
{"users": [
  {"id": "00000000-0000-4000-8000-00000000a001", "name": "Менеджер", "pin": "1234",
   "rights": ["D_CND","D_MD","D_CD","D_CAD","D_DEP","D_ED","D_ACDMM","D_SADT","F_CASH","F_PA"]},
  {"id": "00000000-0000-4000-8000-00000000a002", "name": "Повар", "rights": ["D_CND","D_MD"]}],
 "paymentTypes": [{"id": "09322f46-578a-d210-add7-eec222a08871", "name": "Наличные", "kind": "Cash"}]}
JSON
"$build/examples/host/delivery-host" --plugin "$build/plugin/libdelivery_plugin.so" \
    --config "$work/deliveryPluginConfig.xml" --data-dir "$work" --no-stdin \
    --printer "receipt=file:$work/receipt.escpos" --printer "a4=file:$work/invoices.pdf" \
    --users "$work/users.json" --http "$addr" >"$work/host.out" 2>"$work/host.log" &
pids+=($!)
echo "the delivery screen: http://$addr/  (Менеджер, PIN 1234; Ctrl-C stops)" >&2
while sleep 5; do
    curl -sS -X POST -H 'Content-Type: application/json' -d '{}' \
        "$base/admin/orders" >/dev/null || true
done
