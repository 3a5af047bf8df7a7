-- SPDX-License-Identifier: MIT
-- event.lua - wrk script for the benchmark: every request is the tracker's
-- pageview, POST /api/event with a text/plain JSON body, as haze.js sends it.
-- The request is built once; wrk reuses it (no per-request Lua).
wrk.method = "POST"
wrk.body = '{"n":"pageview","u":"https://shop.example/products/business-cards?utm_source=newsletter",'
    .. '"d":"shop.example","r":"https://www.google.com/","w":1920}'
wrk.headers["Content-Type"] = "text/plain"
