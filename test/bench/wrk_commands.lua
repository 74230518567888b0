-- wrk against the emulator's commands route: each request carries ONE ChangeStatus command with
-- a fresh command id (so the server applies it rather than answering Duplicate), shaped like the
-- library's own command (id, type, orderId, at, actor, status, expectedStatus).
-- The orders (status Waiting, courier assigned) flip Waiting -> OnWay -> Waiting, so every
-- command is a real, Applied status change; with N orders and C connections (N >> C) an order's
-- previous change has always been answered before its next one is made. wrk calls request()
-- once to check the script and never sends that one, so one command per run is Rejected.
--
--   wrk -t1 -cC -dD -s wrk_commands.lua URL -- TERMINAL_ID TOKEN ORDER_IDS_FILE ID_PREFIX
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

local orders, state = {}, {}
local counter = 0
local prefix
applied, rejected, other = 0, 0, 0

function init(args)
    local terminal, token, file = args[1], args[2], args[3]
    prefix = args[4] -- 8 hex digits, fresh per run
    for line in io.lines(file) do
        if #line == 36 then
            table.insert(orders, line)
        end
    end
    wrk.method = "POST"
    wrk.headers["X-Terminal-Id"] = terminal
    wrk.headers["Authorization"] = "Bearer " .. token
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    counter = counter + 1
    local i = (counter - 1) % #orders + 1
    local from = state[i] or "Waiting"
    local to = (from == "Waiting") and "OnWay" or "Waiting"
    state[i] = to
    local body = string.format(
        '{"commands":[{"id":"%s-0000-4000-8000-%012x","type":"ChangeStatus","orderId":"%s",' ..
        '"at":"2025-01-01T12:00:00Z","actor":{"id":"00000000-0000-4000-8000-0000000000aa",' ..
        '"name":"bench"},"status":"%s","expectedStatus":"%s"}]}',
        prefix, counter, orders[i], to, from)
    return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
    if status == 200 and body:find('"outcome":"Applied"', 1, true) then
        applied = applied + 1
    elseif status == 200 and body:find('"outcome":"Rejected"', 1, true) then
        rejected = rejected + 1
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local a, r, o = 0, 0, 0
    for _, t in ipairs(threads) do
        a = a + t:get("applied")
        r = r + t:get("rejected")
        o = o + t:get("other")
    end
    io.write(string.format("WRK_OUTCOMES applied=%d rejected=%d other=%d\n", a, r, o))
    io.write(string.format("WRK_LATENCY p50_us=%d p99_us=%d\n", latency:percentile(50),
        latency:percentile(99)))
end
