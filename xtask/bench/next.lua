-- `GET /v1/widget/next` for users of the population, spread over it.
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
  sent = sent + 1
  local user, hash = users.get(((sent * thread_count + tid) * 2654435761) % users.count + 1)
  return wrk.format("GET", "/v1/widget/next", {
    ["X-Trickle-Key"] = key, ["X-Trickle-User"] = user, ["X-Trickle-User-Hash"] = hash,
    ["Origin"] = origin })
end
