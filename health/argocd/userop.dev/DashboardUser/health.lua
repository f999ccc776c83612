-- Argo CD health check for userop.dev/DashboardUser (dashboard-user-operator).
-- Conditions follow kstatus (docs/design.md §2): Ready, Reconciling, Stalled, plus
-- status.observedGeneration. Argo CD runs this with the live object as `obj`.
local hs = {}

local function condition(status, ctype)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c == nil then
    return fallback
  end
  local text = c.reason or fallback or c.type
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

-- Ready=False with one of these reasons means "working on it", not "broken".
local progressReasons = {
  Pending = true, Creating = true, Updating = true, Deleting = true,
  Reconciling = true, Progressing = true,
}

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe this object"
  return hs
end

-- A status (or a Ready condition) from an older generation says nothing about this one.
local generation = obj.metadata.generation
local ready = condition(status, "Ready")
local behind = function(observed)
  return observed ~= nil and observed < generation
end
if generation ~= nil and (behind(status.observedGeneration)
    or (ready ~= nil and behind(ready.observedGeneration))) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

if ready ~= nil and ready.status == "False" and not progressReasons[ready.reason or ""] then
  hs.status = "Degraded"
  hs.message = describe(ready, "NotReady")
  return hs
end

-- Reconciling=True wins over a Ready=True left from the previous generation (kstatus).
local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for the Ready condition")
return hs
