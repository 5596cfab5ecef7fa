-- wrk script for bench/serve_bench.sh: one-pair text/csv requests to /invocations with
-- varied entities and IPs (1,000 prebuilt requests cycled per thread), optionally paced.
--   wrk -s bench/serve_bench.lua URL -- [delay_ms] [body_file]
-- delay_ms > 0 paces each connection (a rate-limited run: about connections*1000/delay_ms
-- requests/s in all). body_file: send that CSV file as every request's body instead.
local requests = {}
local index = 0
local delay_ms = 0

function init(args)
  delay_ms = tonumber(args[1] or "0") or 0
  local body_file = args[2]
  if body_file and body_file ~= "" then
    local f = assert(io.open(body_file, "rb"))
    local body = f:read("*a")
    f:close()
    requests[1] = wrk.format("POST", "/invocations", {["Content-Type"] = "text/csv"}, body)
    return
  end
  local seed = math.random(1, 1000000)
  for i = 1, 1000 do
    local n = seed + i * 7919
    local body = string.format("user%d,%d.%d.%d.%d", n % 20000, 1 + n % 223, n % 251, (n * 3) % 256, 1 + n % 254)
    requests[i] = wrk.format("POST", "/invocations", {["Content-Type"] = "text/csv"}, body)
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("serve_bench: non-200 status " .. status .. "\n")
  end
end
