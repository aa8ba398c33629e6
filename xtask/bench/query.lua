-- One `GET BENCH_PATH` with the site's secret key, again and again: the query rows
-- (segment counts, user pages, exports) of `cargo xtask bench-api`.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
response = common.response
done = common.done

init = function(args)
  common.init()
  secret = os.getenv("BENCH_SECRET")
  path = os.getenv("BENCH_PATH")
end

request = function()
  sent = sent + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. secret })
end
