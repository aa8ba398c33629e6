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

-- The users of BENCH_USERS_FILE (lines `user<TAB>hash`): `users.count`, and
-- `users.get(i)` (1-based) returning the user and their hash. The file stays one string
-- with a table of line offsets: a table of 400,000 small tables made LuaJIT's garbage
-- collector pause a thread for 100 ms at a time, and wrk counted the pauses as latency
-- (p99.9 of 100-250 ms against a server whose own p99.9 was under 10 ms).
function common.users()
  local file = assert(io.open(os.getenv("BENCH_USERS_FILE"), "rb"))
  local text = file:read("*a")
  file:close()
  if #text > 0 and text:sub(-1) ~= "\n" then
    text = text .. "\n"
  end
  local starts = {}
  local at = 1
  while at <= #text do
    starts[#starts + 1] = at
    at = text:find("\n", at, true) + 1
  end
  -- Where a line after the last would start: every line ends with its newline.
  starts[#starts + 1] = #text + 1
  local users = { count = #starts - 1 }
  assert(users.count > 0, "BENCH_USERS_FILE has no users")
  function users.get(i)
    local line = text:sub(starts[i], starts[i + 1] - 2)
    return line:match("^(%S+)\t(%S+)\r?$")
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
