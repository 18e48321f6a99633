-- POST /api/v1/subscribers: a new resident per request, registering a place
-- by address (geocoded), an FCM token and an e-mail address (both sealed
-- before the durable commit).
local addresses = {}
local counter = 0
local thread_tag = ""

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then addresses[#addresses + 1] = line end
  end
  thread_tag = tostring(math.random(1, 1e9))
end

local locales = { "zh-TW", "en", "ja", "ko", "th", "vi", "fil", "id" }

function request()
  counter = counter + 1
  local address = addresses[counter % #addresses + 1]
  local body = string.format(
    '{"locale":"%s","devices":[{"channel":"fcm","address":"bench-%s-%d:APA91bHbenchmarktoken%08d"},' ..
    '{"channel":"email","address":"r%s-%d@example.invalid"}],' ..
    '"places":[{"label":"Home","address":"%s"}]}',
    locales[counter % #locales + 1], thread_tag, counter, counter, thread_tag, counter, address)
  return wrk.format("POST", "/api/v1/subscribers",
    { ["Content-Type"] = "application/json" }, body)
end
