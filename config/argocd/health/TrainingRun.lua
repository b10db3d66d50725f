-- Argo CD health of a cd4ml.io TrainingRun. Argo CD's Lua sandbox has only the base, table and (safe) os libraries:
-- no string or math functions here. Health follows the controller's phase; the message says why.
local function condition(type)
  for _, c in ipairs(obj.status.conditions or {}) do
    if c.type == type then return c end
  end
  return nil
end

local function explain(c)
  if c == nil then return nil end
  if c.reason ~= nil and c.message ~= nil then return c.reason .. ": " .. c.message end
  return c.message or c.reason
end

local generation = obj.metadata.generation or 0
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration < generation then
  return { status = "Progressing", message = "waiting for the controller to observe generation " .. generation }
end

local ready = condition("Ready")
local phase = obj.status.phase
local attempt = obj.status.attempt and ("attempt " .. obj.status.attempt .. ": ") or ""
if phase == "Succeeded" then
  return { status = "Healthy", message = attempt .. ((ready and ready.message) or "succeeded") }
elseif phase == "Failed" then
  -- InvalidSpec, JobFailed (the trainer's reason), DeadlineExceeded, GatesFailed (metric, value, threshold).
  return { status = "Degraded", message = attempt .. (explain(ready) or "failed") }
elseif phase == "Running" then
  return { status = "Progressing", message = attempt .. (explain(ready) or "training") }
end
-- Pending: starting, or waiting for credentials, the dataset or S3 (the reason says which); Queued: waiting for a
-- slot under the namespace's training.maxConcurrent (the message says how many run).
return { status = "Progressing", message = attempt .. (explain(ready) or "waiting for the controller") }
