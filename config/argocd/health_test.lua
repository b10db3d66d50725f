-- Runs each health script (health/<Kind>.lua) over every status document in testdata/ (captured from the controllers'
-- own test scenarios, refreshed by `make golden`) and checks the status and message testdata/expected.json names.
-- Every document is also checked one generation ahead of its status: then it must be Progressing, waiting for the
-- controller. Scripts run as Argo CD runs them: a global `obj`, and only the base, table and safe os functions.
--   lua5.1 config/argocd/health_test.lua        (needs lua-cjson)
local cjson = require("cjson")

local dir = (arg[0]:match("^(.*)/[^/]*$") or ".")

local function read(path)
  local f = assert(io.open(path, "r"), "cannot read " .. path)
  local text = f:read("*a")
  f:close()
  return text
end

-- cjson decodes JSON null as a sentinel; Argo CD hands the script nil.
local function strip_nulls(value)
  if type(value) ~= "table" then return value end
  local out = {}
  for k, v in pairs(value) do
    if v ~= cjson.null then out[k] = strip_nulls(v) end
  end
  return out
end

local function copy(value)
  if type(value) ~= "table" then return value end
  local out = {}
  for k, v in pairs(value) do out[k] = copy(v) end
  return out
end

-- What Argo CD's VM opens: package, base, table and a safe os (no io, string or math; no file loading).
local function sandbox(object)
  return {
    obj = object,
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall, select = select,
    tonumber = tonumber, tostring = tostring, type = type, unpack = unpack, rawequal = rawequal, rawget = rawget,
    rawset = rawset, setmetatable = setmetatable, getmetatable = getmetatable,
    table = { concat = table.concat, insert = table.insert, remove = table.remove, sort = table.sort },
    os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime },
  }
end

local function run_health(kind, object)
  local script = read(dir .. "/health/" .. kind .. ".lua")
  local chunk = assert(loadstring(script, "health/" .. kind .. ".lua"))
  setfenv(chunk, sandbox(object))
  -- Argo CD opens no string library, so s:find() and friends must fail here too.
  local string_methods = getmetatable("").__index
  getmetatable("").__index = nil
  local ok, result = pcall(chunk)
  getmetatable("").__index = string_methods
  if not ok then return nil, result end
  return result
end

local valid = { Healthy = true, Progressing = true, Degraded = true, Suspended = true, Missing = true, Unknown = true }
local expected = cjson.decode(read(dir .. "/testdata/expected.json"))
local passed, failed = 0, 0

local function check(name, object, want)
  local result, err = run_health(object.kind, object)
  local problems = {}
  if result == nil then
    problems[#problems + 1] = "script error: " .. tostring(err)
  else
    if not valid[result.status] then problems[#problems + 1] = "not an Argo CD health status: " .. tostring(result.status) end
    if result.status ~= want.status then problems[#problems + 1] = "status " .. tostring(result.status) .. ", expected " .. want.status end
    if type(result.message) ~= "string" or result.message == "" then
      problems[#problems + 1] = "no message"
    else
      for _, part in ipairs(want.contains or {}) do
        if not result.message:find(part, 1, true) then problems[#problems + 1] = "message lacks \"" .. part .. "\"" end
      end
    end
  end
  local shown = result and (tostring(result.status) .. ": " .. tostring(result.message)) or ""
  if #problems == 0 then
    passed = passed + 1
    print("ok   " .. name .. " -> " .. shown)
  else
    failed = failed + 1
    print("FAIL " .. name .. " -> " .. shown .. " [" .. table.concat(problems, "; ") .. "]")
  end
end

local listing = io.popen('ls "' .. dir .. '/testdata"')
local seen = {}
for file in listing:lines() do
  if file:match("%.json$") and file ~= "expected.json" then
    seen[file] = true
    local object = strip_nulls(cjson.decode(read(dir .. "/testdata/" .. file)))
    local want = expected[file]
    if want == nil then
      failed = failed + 1
      print("FAIL " .. file .. " has no expectation in testdata/expected.json")
    else
      check(file, copy(object), want)
      local ahead = copy(object)
      ahead.metadata.generation = (ahead.metadata.generation or 0) + 1
      check(file .. " (spec one generation ahead)", ahead,
        { status = "Progressing", contains = { "waiting for the controller to observe generation " .. ahead.metadata.generation } })
    end
  end
end
listing:close()
for file in pairs(expected) do
  if not seen[file] then
    failed = failed + 1
    print("FAIL " .. file .. " is expected but testdata/ has no such document (run make golden)")
  end
end

print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0 and 0 or 1)
