-- Shared by the wrk scripts of `cargo xtask bench-api`: thread numbering, the stop after
-- BENCH_MAX_PER_THREAD responses, the users file, and the summary line xtask parses.

local common = {}
local threads = 0

function common.setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function common.init()
  answered = 0
  sent = 0
  max_per_thread = tonumber(os.getenv("BENCH_MAX_PER_THREAD"))
  thread_count = tonumber(os.getenv("BENCH_THREADS"))
end

-- Lines `user<TAB>hash` of BENCH_USERS_FILE.
function common.users()
  local users = {}
  for line in io.lines(os.getenv("BENCH_USERS_FILE")) do
    local user, hash = line:match("^(%S+)\t(%S+)$")
    users[#users + 1] = { user, hash }
  end
  return users
end

function common.response(status, headers, body)
  answered = answered + 1
  if answered >= max_per_thread then
    wrk.thread:stop()
  end
end

function common.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end

return common
