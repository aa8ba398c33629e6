-- `POST /v1/widget/answers`: each user of the file answers the first onboarding question
-- once (thread t takes users t, t + threads, …).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
response = common.response
done = common.done

init = function(args)
  common.init()
  users = common.users()
  key = os.getenv("BENCH_KEY")
  origin = os.getenv("BENCH_ORIGIN")
end

request = function()
  local user, hash = users.get((sent * thread_count + tid) % users.count + 1)
  sent = sent + 1
  return wrk.format("POST", "/v1/widget/answers", {
    ["X-Trickle-Key"] = key, ["X-Trickle-User"] = user, ["X-Trickle-User-Hash"] = hash,
    ["Origin"] = origin, ["Content-Type"] = "application/json" },
    '{"question_set":"onboarding","version":1,"key":"role","value":"founder"}')
end
