-- covet-bench's wrk script. The harness prepends a generated `covet` table holding the
-- scenario's request (method, headers, body) and the pipeline depth.
--
-- Without pipelining the request stays static (no `request` function), so wrk keeps its fast
-- path. `done` prints one JSON line with what wrk's text output rounds or omits: exact counts,
-- p99.9, max, mean and stdev in microseconds.

wrk.method = covet.method
for name, value in pairs(covet.headers) do
   wrk.headers[name] = value
end
if covet.body ~= nil then
   wrk.body = covet.body
end

if covet.pipeline > 1 then
   -- Several requests per write, TechEmpower plaintext style.
   init = function(args)
      local batch = {}
      for i = 1, covet.pipeline do
         batch[i] = wrk.format()
      end
      covet.batch = table.concat(batch)
   end

   request = function()
      return covet.batch
   end
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'COVETBENCH_WRK {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
      '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,' ..
      '"mean_us":%.3f,"stdev_us":%.3f,"max_us":%.0f,"min_us":%.0f,' ..
      '"p50_us":%.0f,"p75_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"p999_us":%.0f}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.stdev, latency.max, latency.min,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
end
