-- Replays pre-built raw HTTP/1.1 requests and reports one JSON line for bench/harness/wrk.py.
--
-- Environment (set by the harness):
--   BENCH_REQUESTS  file of records "<byte length>\n<raw request>" (bench/harness/requests.py writes it)
--   BENCH_THREADS   wrk's -t; thread k of n takes records k, k+n, k+2n, ...
--   BENCH_ONCE      "1": send each record at most once (HMAC-signed requests: one nonce each). When a
--                   thread runs out it stops and reports `exhausted` (the harness then flags the run).
--   BENCH_EXPECT    text every response body must contain; default '"statusCode":200', "" = any body
--
-- Every response is checked: HTTP 200 *and* the envelope's "statusCode":200 (Twofold answers business
-- errors with HTTP 200, so wrk's own non-2xx counter would miss them).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local records = {}
local count, idx = 0, 0
local once = false
local expect = '"statusCode":200'
bad, exhausted, sample = 0, 0, nil

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  once = os.getenv("BENCH_ONCE") == "1"
  expect = os.getenv("BENCH_EXPECT") or expect
  local f = assert(io.open(assert(os.getenv("BENCH_REQUESTS"), "BENCH_REQUESTS unset"), "rb"))
  local r = 0
  while true do
    local len = f:read("*l")
    if not len then break end
    local raw = f:read(tonumber(len))
    if r % n == tid then
      count = count + 1
      records[count] = raw
    end
    r = r + 1
  end
  f:close()
  assert(count > 0, "no requests for thread " .. tid)
end

function request()
  idx = idx + 1
  if idx > count then
    if once then
      exhausted = 1
      wrk.thread:stop()
    end
    idx = 1
  end
  return records[idx]
end

function response(status, headers, body)
  if status ~= 200 or (expect ~= "" and not string.find(body or "", expect, 1, true)) then
    bad = bad + 1
    if sample == nil then sample = string.sub(tostring(status) .. " " .. (body or ""), 1, 300) end
  end
end

local function quote(s)
  s = string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local total_bad, total_exhausted, first = 0, 0, nil
  for _, t in ipairs(threads) do
    total_bad = total_bad + (t:get("bad") or 0)
    total_exhausted = total_exhausted + (t:get("exhausted") or 0)
    first = first or t:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,'
      .. '"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,'
      .. '"mean":%.1f},"bad":%d,"exhausted":%d,"sample":%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    total_bad, total_exhausted, first and quote(first) or "null"))
end
