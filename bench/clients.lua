-- clients.lua — wrk script for `make bench`: every request asks the identity endpoint
-- for a token with the next pair of $BENCH_CLIENTS (a file, one "client_id secret" a
-- line), cycling through the pairs in order.
-- With BENCH_ONCE=1 the thread stops as soon as as many answers as there are pairs
-- have arrived, and creates the file $BENCH_DONE so that run.sh can end wrk early
-- (wrk -d still bounds the run): every client asked once, which is how run.sh issues
-- one token per service.

local paths = {}
local n, i, answered = 0, 0, 0

function init(args)
    local name = os.getenv("BENCH_CLIENTS")
    local f = assert(io.open(name, "r"), "cannot read BENCH_CLIENTS")
    for line in f:lines() do
        local id, secret = line:match("^(%S+)%s+(%S+)")
        if id then
            n = n + 1
            paths[n] = "/identity/oauth/token?grant_type=client_credentials&client_id=" .. id ..
                "&client_secret=" .. secret
        end
    end
    f:close()
    assert(n > 0, "no client in BENCH_CLIENTS")
end

function request()
    i = i % n + 1
    return wrk.format("GET", paths[i])
end

-- only when needed: a response() function makes wrk parse every answer
if os.getenv("BENCH_ONCE") == "1" then
    function response(status, headers, body)
        answered = answered + 1
        if answered == n then
            local done = os.getenv("BENCH_DONE")
            if done then
                assert(io.open(done, "w")):close()
            end
            wrk.thread:stop()
        end
    end
end
