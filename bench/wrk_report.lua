-- wrk script for bench/bench_http.py: the request's method and body from the environment,
-- every response's status counted, and one JSON line of counts and latency percentiles
-- (microseconds) when the run is done. Only 200 and 201 count as served: a redirect to the
-- sign-in page is an error here, not a fast page.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  served = 0
  other = 0
end

function response(status, headers, body)
  if status == 200 or status == 201 then
    served = served + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("served")
    bad = bad + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "served": %d, "seconds": %.6f, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "errors": %d, "status_errors": %d}\n',
    summary.requests, ok, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, bad))
end
