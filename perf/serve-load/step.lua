-- wrk script: each request POSTs one step to /step for a stream chosen at random among STREAMS keys, and counts the
-- answers by status (200, 429 back-pressure, anything else). Environment: STREAMS (default 100), INPUTS (default 8).
local streams = tonumber(os.getenv("STREAMS") or "100")
local inputs = tonumber(os.getenv("INPUTS") or "8")
local threads, next_id = {}, 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919)
  ok, refused, other = 0, 0, 0
  local values = {}
  for i = 1, inputs do values[i] = string.format("%.3f", (i % 7) * 0.1 - 0.3) end
  input = "[" .. table.concat(values, ",") .. "]"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  return wrk.format(nil, "/step", nil, '{"key":"s' .. math.random(streams) .. '","input":' .. input .. '}')
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 429 then refused = refused + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local o, r, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT streams=%d seconds=%.1f requests=%d ok=%d refused429=%d other=%d socket_errors=%d ok_per_s=%.0f p50_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    streams, seconds, summary.requests, o, r, x, e.connect + e.read + e.write + e.timeout,
    o / seconds, latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
