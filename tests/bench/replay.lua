-- SPDX-License-Identifier: MIT
-- replay.lua - wrk script for tests/bench/replay.sh: the tracker's pageview
-- from a browser (a user agent that is not a bot), so that every request is
-- a hit that reaches the stream or the spool. With REPLAY_PACE_MS set, each
-- connection waits that long after an answer before its next request: a
-- steady rate well below what the collector can take, instead of wrk's
-- default of sending again as soon as it is answered.
wrk.method = "POST"
wrk.body = '{"n":"pageview","u":"https://shop.example/products/business-cards","d":"shop.example","w":1920}'
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    .. "Chrome/131.0.0.0 Safari/537.36"

local pace = tonumber(os.getenv("REPLAY_PACE_MS") or "")
if pace ~= nil then
    function delay()
        return pace
    end
end
