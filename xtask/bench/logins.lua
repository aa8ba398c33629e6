-- `POST /v1/logins` of new users, each with its own event id.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
response = common.response
done = common.done

init = function(args)
  common.init()
  run = os.getenv("BENCH_RUN")
  secret = os.getenv("BENCH_SECRET")
end

request = function()
  sent = sent + 1
  local id = run .. "-" .. tid .. "-" .. sent
  return wrk.format("POST", "/v1/logins",
    { ["Authorization"] = "Bearer " .. secret, ["Content-Type"] = "application/json" },
    '{"user_id":"n' .. id .. '","event_id":"e' .. id .. '","ip":"81.2.69.142"}')
end
