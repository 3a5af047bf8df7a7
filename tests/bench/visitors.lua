-- SPDX-License-Identifier: MIT
-- visitors.lua - wrk script for tests/bench/run.sh's section 3 (many
-- visitors): every request is a tracking pixel of a new or a returning
-- visitor, so the whole pipeline sees many visitors of a few pages each,
-- not one visitor repeating one page.
--
-- Visitor k of wrk thread t has a client address of its own, 10.x.y.z (sent as
-- X-Forwarded-For, which both haze and nginx trust from 127.0.0.1), one of
-- a few browsers' user agents, and views PAGES pages in a row: the home
-- page from a search engine, then products, the cart or the thank-you page.
-- The same requests go to haze and to nginx; the page is in the pixel's
-- query string and, as a browser sends it, in Referer.
local PAGES = 4
local threads = 0

local uas = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
}
local pages = {
    "/products/business-cards", "/products/flyers", "/products/posters", "/products/stickers",
    "/products/letterheads", "/cart", "/checkout", "/thanks",
}

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

local n = 0

local function enc(s)
    return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
    local k = math.floor(n / PAGES)
    local step = n % PAGES
    n = n + 1
    local page = "/"
    if step > 0 then
        page = pages[(k * 7 + step) % #pages + 1]
    end
    local url = "https://shop.example" .. page
    local path = "/p.gif?d=shop.example&u=" .. enc(url)
    if step == 0 then
        path = path .. "&r=" .. enc("https://www.google.com/")
    end
    local headers = {
        ["User-Agent"] = uas[k % #uas + 1],
        ["X-Forwarded-For"] = string.format("10.%d.%d.%d", ((tid or 0) * 64 + math.floor(k / 65536)) % 256,
            math.floor(k / 256) % 256, k % 256),
        ["Referer"] = url,
    }
    return wrk.format("GET", path, headers)
end
