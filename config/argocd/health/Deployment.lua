-- Argo CD health of a cd4ml.io Deployment. Argo CD's Lua sandbox has only the base, table and (safe) os libraries:
-- no string or math functions here. Paused rollouts and a Deployment waiting for an approved version wait for a
-- human: Suspended, saying why. A rollback is Degraded with the metric, its value and the threshold.
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

local status = obj.status
local ready = condition("Ready")
if ready ~= nil and ready.reason == "InvalidSpec" then
  return { status = "Degraded", message = explain(ready) }
end

local phase = status.phase
if phase == "Healthy" then
  return { status = "Healthy", message = (ready and ready.message) or ("serving " .. tostring(status.stableVersion)) }
elseif phase == "Degraded" then
  -- The rollback reason names the failed metric, its value and threshold (or the abort annotation).
  local message = status.abortReason or explain(ready) or "rolled back"
  if status.stableVersion ~= nil then message = message .. "; all traffic on " .. status.stableVersion end
  return { status = "Degraded", message = message }
elseif phase == "Paused" then
  local paused = condition("Paused")
  local prefix = "paused"
  if status.canaryVersion ~= nil then
    prefix = "rollout of " .. status.canaryVersion .. " paused at step " .. tostring(status.currentStepText)
  end
  local why = "the rollout is paused"
  if paused ~= nil then why = (paused.reason or "Paused") .. ": " .. (paused.message or "") end
  return { status = "Suspended", message = prefix .. " (" .. why .. ")" }
elseif phase == "Pending" then
  -- Following the latest approved version and none is approved (and Ready) yet: a human has to approve one.
  if obj.spec.version == nil then
    return { status = "Suspended", message = "waiting for approval: " .. ((ready and ready.message) or "no approved ModelVersion")
      .. "; approve a ModelVersion (spec.approved: true) or pin spec.version" }
  end
  return { status = "Progressing", message = "waiting for the pinned version: " .. ((ready and ready.message) or "not Ready yet") }
end
-- Progressing: a canary step, or the stable replicas becoming ready.
local progressing = condition("Progressing")
if status.canaryVersion ~= nil and progressing ~= nil and progressing.message ~= nil then
  return { status = "Progressing", message = progressing.message }
end
return { status = "Progressing", message = (ready and ready.message) or "rolling out" }
