-- GET /api/v1/me/alerts as many different residents: each request carries
-- the next device key from the file given after `--`.
local keys = {}
local next_key = 1

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then keys[#keys + 1] = line end
  end
  next_key = math.random(#keys)
end

function request()
  next_key = next_key % #keys + 1
  return wrk.format("GET", "/api/v1/me/alerts",
    { ["Authorization"] = "Bearer " .. keys[next_key] })
end
