-- wrk: conditional GETs, as the live page's script polls regions.json.
--   wrk ... -s bench/wrk_etag.lua <url> -- '"<etag>"'
-- Every request carries If-None-Match with the ETag this connection's thread last saw (a 304 when nothing
-- changed); a 200 brings the new ETag, which the following requests send. Prints the summary line of
-- wrk_report.lua and the 200/304 counts.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  etag = args[1] or ""
  fresh = 0       -- 200: a new document (ETag changed)
  unchanged = 0   -- 304
  other = 0
end

function request()
  return wrk.format(nil, nil, { ["If-None-Match"] = etag })
end

function response(status, headers, body)
  if status == 304 then
    unchanged = unchanged + 1
  elseif status == 200 then
    fresh = fresh + 1
    etag = headers["ETag"] or headers["Etag"] or headers["etag"] or etag
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d "
      .. "p50=%d p90=%d p99=%d max=%d mean=%.1f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  local ok, not_modified, rest = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("fresh")
    not_modified = not_modified + thread:get("unchanged")
    rest = rest + thread:get("other")
  end
  io.write(string.format("ETAG fresh=%d unchanged=%d other=%d\n", ok, not_modified, rest))
end
