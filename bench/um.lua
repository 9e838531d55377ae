-- um.lua — wrk script for case (g) of `make bench`: user management writes through
-- /userservice/management/v1. Requests alternate between inviting a new API-only user
-- (invite.json) and adding a role to a user invited eight invitations earlier
-- (roles/create.json), so that with a few connections a role change never races its
-- user's invitation; each user gets its role change once. Every email is new: "g-<run>-<time>-<random>-<thread>-<n>@bench.test".
--
-- Arguments after `--`: TOKEN ROLE ROLE2 RUN — a token whose API user holds Access User
-- Management Api and Access Users, the role id invited users get (in AllZones), the
-- role id the role changes add (in workspace Default), and a word that makes this
-- run's emails its own.

local token, role, role2, run
local n = 0
local counter = 0
thread_id = 0 -- global: set by setup() in each thread's own state

function setup(thread)
    counter = counter + 1
    thread:set("thread_id", counter)
end

function init(args)
    token = assert(args[1], "um.lua: give TOKEN ROLE ROLE2 RUN after --")
    role = assert(tonumber(args[2]), "um.lua: ROLE is not a number")
    role2 = assert(tonumber(args[3]), "um.lua: ROLE2 is not a number")
    -- each wrk run (a warm-up, then the rounds) invites users of its own
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
    run = string.format("%s-%d-%d", args[4] or "run", os.time(), math.random(1, 1000000000))
end

local function email(i)
    return string.format("g-%s-%d-%d@bench.test", run, thread_id, i)
end

-- the emails invited so far; wrk may build the first request without sending it, so
-- the first invitation is never the target of a role change
local invited = {}

function request()
    n = n + 1
    local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
    if n % 2 == 1 or #invited <= 9 then
        local e = email(n)
        invited[#invited + 1] = e
        local body = string.format(
            '{"emailAddress":"%s","firstName":"G","lastName":"User %d","apiOnly":true,' ..
            '"userRoleWorkspaces":[{"accessRoleId":%d,"workspaceId":0}]}', e, n, role)
        return wrk.format("POST", "/userservice/management/v1/users/invite.json", headers, body)
    end
    -- a user invited eight invitations before the latest one
    local body = string.format('[{"accessRoleId":%d,"workspaceId":1}]', role2)
    return wrk.format("POST", "/userservice/management/v1/users/" .. invited[#invited - 8] .. "/roles/create.json",
        headers, body)
end
