-- Argo CD health of a cd4ml.io ModelVersion. Argo CD's Lua sandbox has only the base, table and (safe) os libraries:
-- no string or math functions here. A validated version nobody approved yet waits for a human: Suspended.
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
if phase == "Ready" then
  local servedBy = obj.status.servedBy or {}
  if obj.spec.approved == true then
    return { status = "Healthy", message = "approved; " .. ((ready and ready.message) or "validated") }
  elseif #servedBy > 0 then
    return { status = "Healthy", message = "served by " .. table.concat(servedBy, ", ") .. " (pinned version); " .. ((ready and ready.message) or "validated") }
  end
  local headline = obj.status.headline and (" (" .. obj.status.headline .. ")") or ""
  return { status = "Suspended", message = "validated" .. headline .. ", waiting for approval: set spec.approved to true, "
    .. "or pin version " .. tostring(obj.spec.version) .. " in a Deployment" }
elseif phase == "Invalid" then
  -- ArtifactNotFound, ArtifactMismatch, ImmutableFieldChanged.
  return { status = "Degraded", message = explain(ready) or "invalid" }
end
-- Pending: validating, or waiting for credentials or S3 (the reason says which).
return { status = "Progressing", message = explain(ready) or "validating the artifact" }
