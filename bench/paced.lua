-- bench/scenario.lua with each connection pausing between requests (bench/soak): the fifth
-- argument is the pause in milliseconds.
dofile("bench/scenario.lua")

local scenario_init = init

function init(args)
    scenario_init(args)
    pause_ms = tonumber(args[5])
end

function delay()
    return pause_ms
end
