/* SPDX-License-Identifier: MIT */
/*
 * ua_test.c - collector/ua: the classifier against real user agents (one
 * table, current mainstream browsers first, then in-app webviews, older and
 * rarer systems, crawlers, monitors, headless browsers and HTTP libraries),
 * the mapping table, Client Hints, the exact family names, the cache, odd
 * input, and a cross-check against the labelled sample in ../shared/ua when
 * it is present. Accuracy on the databases' own fixtures is in
 * ua_accuracy_test.c.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ua.h"
#include "common/siphash.h"

/* Value-only: Criterion runs each case in a fresh process (STYLE.md). */
struct ua_case {
    char ua[512];
    char browser[24];
    char os[16];
    char device[8];
    int bot;
};

/*
 * Real user agents as browsers, apps and bots send them. The families are
 * uap-core's answers mapped by ua.c's table (a browser the table does not
 * name, such as Vivaldi, Silk or an in-app browser, is Other; a bot's
 * browser is whatever uap-core names, usually the bot itself: Other).
 * Where a family is a policy rather than a fact, the group comment says so.
 */
/* clang-format off */
static struct ua_case ua_cases[] = {
    /* ---- Chrome desktop (reduced UA since Chrome 110: frozen platform, X.0.0.0) ---- */
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36",
      "Chrome", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/130.0.0.0 Safari/537.36",
      "Chrome", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/126.0.0.0 Safari/537.36",
      "Chrome", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36",
      "Chrome", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
      "Safari/537.36",
      "Chrome", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/109.0.5414.120 Safari/537.36",
      "Chrome", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36",
      "Chrome", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/127.0.0.0 Safari/537.36",
      "Chrome", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/122.0.0.0 Safari/537.36",
      "Chrome", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
      "Safari/537.36",
      "Chrome", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 "
      "Safari/537.36",
      "Chrome", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36",
      "Chrome", "ChromeOS", "desktop", 0 },
    { "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/123.0.0.0 Safari/537.36",
      "Chrome", "ChromeOS", "desktop", 0 },
    { "Mozilla/5.0 (X11; CrOS aarch64 15359.58.0) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/112.0.5615.134 Safari/537.36",
      "Chrome", "ChromeOS", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5.3206.55",
      "Other", "Windows", "desktop", 0 },

    /* ---- Chrome on Android: phones say "Mobile", tablets don't ---- */
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/128.0.0.0 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/122.0.0.0 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/130.0.0.0 Safari/537.36",
      "Chrome", "Android", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.6099.144 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/116.0.0.0 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/121.0.0.0 Safari/537.36",
      "Chrome", "Android", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 12; SM-T970) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36",
      "Chrome", "Android", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 11; SM-P610) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/118.0.0.0 Safari/537.36",
      "Chrome", "Android", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/118.0.0.0 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 12; Cubot P60) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/119.0.6045.163 Mobile Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-NX9; HMSCore 6.13.0.302) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.5.302 "
      "Mobile Safari/537.36",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; U; Android 13; en-gb; 2201117TG Build/TKQ1.221114.001) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile "
      "Safari/537.36 XiaoMi/MiuiBrowser/14.7.0-gn",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Silk/119.3.1 like Chrome/119.0.6045.193 Safari/537.36",
      "Other", "Android", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 9; HP Chromebook x360 14 Build/R120-15662.76.0; wv) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.210 Safari/537.36",
      "Chrome", "ChromeOS", "desktop", 0 },

    /* ---- Chrome on iOS (CriOS) ---- */
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
      "Chrome", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
      "Chrome", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
      "Chrome", "iOS", "tablet", 0 },

    /* ---- Safari 17/18 on macOS, iPhone and iPad ---- */
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.2.1 Safari/605.1.15",
      "Safari", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.6 Safari/605.1.15",
      "Safari", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/18.1 Safari/605.1.15",
      "Safari", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Version/15.6 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.5 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "tablet", 0 },
    { "Mozilla/5.0 (iPad; CPU OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/18.0 Mobile/15E148 Safari/604.1",
      "Safari", "iOS", "tablet", 0 },

    /* ---- iPadOS in desktop mode (default since iPadOS 13) sends a Mac UA: macOS/desktop ---- */
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/18.0 Safari/605.1.15",
      "Safari", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.4 Safari/605.1.15",
      "Safari", "macOS", "desktop", 0 },

    /* ---- Edge: Chromium desktop, Android, iOS, EdgeHTML, Windows 10 Mobile ---- */
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
      "Edge", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
      "Edge", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/128.0.0.0 Safari/537.36 Edg/128.0.0.0",
      "Edge", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 "
      "Safari/537.36 Edg/125.0.0.0",
      "Edge", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
      "Edge", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/17.0 EdgiOS/129.0.2792.84 Mobile/15E148 Safari/604.1",
      "Edge", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/70.0.3538.102 Safari/537.36 Edge/18.17763",
      "Edge", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
      "Edge", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
      "Edge", "Other", "mobile", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; ARM; Lumia 950 XL) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/46.0.2486.0 Safari/537.36 Edge/13.10586",
      "Edge", "Windows", "mobile", 0 },

    /* ---- Firefox: desktop, ESR, Android phone and tablet, iOS ---- */
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
      "Firefox", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
      "Firefox", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0",
      "Firefox", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
      "Firefox", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Firefox", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
      "Firefox", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
      "Firefox", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
      "Firefox", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Android 13; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0",
      "Firefox", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
      "Firefox", "Android", "tablet", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) FxiOS/120.0 Mobile/15E148 Safari/605.1.15",
      "Firefox", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) FxiOS/132.1 Mobile/15E148 Safari/605.1.15",
      "Firefox", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPad; CPU iPhone OS 16_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) FxiOS/116.4 Mobile/15E148 Safari/605.1.15",
      "Firefox", "iOS", "tablet", 0 },
    { "Mozilla/5.0 (X11; FreeBSD amd64; rv:121.0) Gecko/20100101 Firefox/121.0",
      "Firefox", "Other", "desktop", 0 },
    { "Mozilla/5.0 (X11; OpenBSD amd64; rv:120.0) Gecko/20100101 Firefox/120.0",
      "Firefox", "Other", "desktop", 0 },
    { "Mozilla/5.0 (X11; SunOS i86pc; rv:102.0) Gecko/20100101 Firefox/102.0",
      "Firefox", "Other", "desktop", 0 },
    { "Mozilla/5.0 (Mobile; Nokia 8110 4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5",
      "Firefox", "Other", "mobile", 0 },

    /* ---- Samsung Internet: phones, tablets, DeX, Tizen ---- */
    { "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
      "Samsung Internet", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
      "Samsung Internet", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
      "Samsung Internet", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
      "Samsung Internet", "Android", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36",
      "Samsung Internet", "Android", "tablet", 0 },
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36",
      "Samsung Internet", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (Linux; Tizen 3.0; SAMSUNG SM-Z400F) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/2.0 Chrome/47.0.2526.69 Mobile Safari/537.36",
      "Samsung Internet", "Other", "mobile", 0 },

    /* ---- Opera: desktop, GX, Android, Opera Mini, Presto, iOS ---- */
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
      "Opera", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0",
      "Opera", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/128.0.0.0 Safari/537.36 OPR/113.0.0.0 (Edition Yx GX)",
      "Opera", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/130.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0",
      "Opera", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; U; Android 12; SM-A125F Build/SP1A.210812.016; wv) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 "
      "OPR/78.0.2254.71244",
      "Opera", "Android", "mobile", 0 },
    { "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16",
      "Opera", "Android", "mobile", 0 },
    { "Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.14912/870; U; en) Presto/2.4.15",
      "Opera", "Other", "mobile", 0 },
    { "Opera/9.80 (Android 2.3.4; Linux; Opera Mobi/ADR-1301071546) Presto/2.11.355 Version/12.10",
      "Opera", "Android", "mobile", 0 },
    { "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18",
      "Opera", "Windows", "desktop", 0 },
    { "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; en) Opera 8.50",
      "Opera", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) OPiOS/16.0.15.124050 Mobile/15E148 Safari/9537.53",
      "Opera", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 14_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/14.0 OPT/2.9.0 Mobile/15E148 Safari/604.1",
      "Opera", "iOS", "mobile", 0 },

    /* ---- Yandex Browser and Yandex's search app browser ---- */
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.0.0 YaBrowser/24.6.0.0 Safari/537.36",
      "Yandex Browser", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/122.0.0.0 YaBrowser/24.4.0.0 Yowser/2.5 Safari/537.36",
      "Yandex Browser", "macOS", "desktop", 0 },
    { "Mozilla/5.0 (Linux; arm_64; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/126.0.0.0 YaBrowser/24.7.4.101.00 SA/3 Mobile Safari/537.36",
      "Yandex Browser", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/17.0 YaBrowser/24.7.6.359.10 SA/3 Mobile/15E148 Safari/604.1",
      "Yandex Browser", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (Linux; arm_64; Android 13; CPH2387) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.6099.230 YaApp_Android/24.10.1 YaSearchBrowser/24.10.1 BroPP/1.0 SA/3 Mobile "
      "Safari/537.36",
      "Yandex Browser", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; arm_64; Android 12; TB-8506X) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/114.0.0.0 YaApp_Android/23.61/apad YaSearchBrowser/23.61/apad BroPP/1.0 SA/3 "
      "Mobile Safari/537.36",
      "Yandex Browser", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 9; Lenovo TB-X505L Build/PKQ1.190319.001; wv) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/96.0.4664.104 Safari/537.36 "
      "YandexSearch/21.112/apad YandexSearchBrowser/21.112",
      "Yandex Browser", "Android", "tablet", 0 },

    /* ---- UC Browser ---- */
    { "Mozilla/5.0 (Linux; U; Android 11; en-US; RMX2185 Build/QP1A.190711.020) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 "
      "UCBrowser/13.4.0.1306 Mobile Safari/537.36",
      "UC Browser", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; U; Android 9; en-US; SM-J600G Build/PPR1.180610.011) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 "
      "UCBrowser/13.2.0.1296 Mobile Safari/537.36",
      "UC Browser", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X; zh-CN) AppleWebKit/537.51.1 "
      "(KHTML, like Gecko) Mobile/19E241 UCBrowser/13.9.5.1722 Mobile AliApp(TUnionSDK/0.1.20.4)",
      "UC Browser", "iOS", "mobile", 0 },
    { "dv(iPh12,1);pr(UCBrowser/11.3.5.1203);ov(16_1_1);ss(414x896);bt(GJ);pm(0);bv(0);nm(0);"
      "im(0);nt(2);",
      "UC Browser", "iOS", "mobile", 0 },

    /* ---- Internet Explorer ---- */
    { "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
      "Internet Explorer", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
      "Internet Explorer", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
      "Internet Explorer", "Windows", "desktop", 0 },
    { "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; .NET CLR 2.0.50727;"
      " Media Center PC 6.0; Tablet PC 2.0)",
      "Internet Explorer", "Windows", "desktop", 0 },
    { "Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; Touch; rv:11.0) like Gecko",
      "Internet Explorer", "Windows", "tablet", 0 },
    { "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; "
      "Touch; NOKIA; Lumia 920)",
      "Internet Explorer", "Other", "mobile", 0 },
    { "Mozilla/4.0 (compatible; MSIE 6.0; Windows CE; IEMobile 7.11)",
      "Internet Explorer", "Windows", "mobile", 0 },

    /* ---- in-app browsers are people; uap-core names the app, so the browser is Other ---- */
    { "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 Instagram "
      "355.0.0.37.103 Android (34/14; 450dpi; 1080x2340; samsung; SM-S918B; dm3q; qcom; en_US; "
      "655712931)",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Mobile/15E148 Instagram 347.0.2.17.105 (iPhone15,3; iOS 17_6_1; en_US; en; "
      "scale=3.00; 1290x2796; 630307584)",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/472.0.0.36.107;FBBV/615623645;FBDV/iPhone14,2;"
      "FBMD/iPhone;FBSN/iOS;FBSV/17.5.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/617212064]",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Mobile/15E148 [FBAN/FBIOS;FBAV/440.0.0.33.116;FBBV/547335312;FBDV/iPad13,1;FBMD/iPad;"
      "FBSN/iPadOS;FBSV/17.1;FBSS/2;FBID/tablet;FBLC/en_US;FBOP/5]",
      "Other", "iOS", "tablet", 0 },
    { "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [FB_IAB/FB4A;"
      "FBAV/444.0.0.38.114;]",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 12; V2134A Build/SP1A.210812.003; wv) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
      "MMWEBSDK/20230405 MMWEBID/2812 MicroMessenger/8.0.35.2360(0x28002351) WeChat/arm64 Weixin "
      "NetType/WIFI Language/zh_CN ABI/arm64",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Mobile/15E148 Safari Line/14.3.0",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 13; SO-51C Build/64.1.C.2.156; wv) AppleWebKit/537.36 (KHTML, "
      "like Gecko) Version/4.0 Chrome/120.0.6099.193 Mobile Safari/537.36 Line/13.21.1/IAB",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 13; 2201117TG Build/TKQ1.221114.001; wv) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 trill_330403 "
      "JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly app_version/33.4.3 "
      "ByteLocale/en ByteFullLocale/en Region/US AppVersion/33.4.3 BytedanceWebview/d8a21c6",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Mobile/15E148 musical_ly_33.1.0 JsSdk/2.0 NetType/WIFI Channel/App Store "
      "ByteLocale/en Region/US isDarkMode/0 WKWebView/1 BytedanceWebview/d8a21c6",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (Linux; Android 11; moto g(30) Build/RRMS31.Q1-16-73-1; wv) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.193 Mobile "
      "Safari/537.36",
      "Chrome", "Android", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
      "like Gecko) GSA/290.0.578427869 Mobile/15E148 Safari/604.1",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Mobile/15E148 Snapchat/12.60.0.41 (like Safari/8617.1.17.10.9, panda)",
      "Other", "iOS", "mobile", 0 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Version/17.2 Mobile/15E148 DuckDuckGo/7 Safari/605.1.15",
      "Other", "iOS", "mobile", 0 },

    /* ---- iOS apps (CFNetwork) and the Mac's ---- */
    { "Podcasts/1555.2.1 CFNetwork/1240.0.4 Darwin/20.6.0", "Other", "iOS", "desktop", 0 },
    { "Software%20Update (unknown version) CFNetwork/1494.0.7 Darwin/23.4.0 (x86_64)",
      "Other", "macOS", "desktop", 0 },
    { "Safari/6534.59.10 CFNetwork/454.12.4 Darwin/10.8.0 (i386) (MacBookPro8,1)",
      "Safari", "macOS", "desktop", 0 },

    /* ---- Others outside our families ---- */
    { "Mozilla/5.0 (Linux; U; Android 10; zh-cn; PCAM00 Build/QKQ1.190918.001) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/66.0.3359.126 MQQBrowser/10.8 "
      "Mobile Safari/537.36",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 "
      "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
      "Other", "Android", "mobile", 0 },
    { "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)",
      "Other", "Android", "mobile", 0 },
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
      "Safari/605.1.15 Epiphany/45.0",
      "Other", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, like "
      "Gecko) Version/5.0 Safari/533.2+ Kindle/3.0+",
      "Other", "Other", "tablet", 0 },
    { "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300",
      "Other", "Other", "mobile", 0 },
    { "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/13.0 Safari/605.1.15",
      "Other", "Other", "desktop", 0 },
    { "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/601.6 (KHTML, like Gecko) "
      "NF/4.0.0.5.10 NintendoBrowser/5.1.0.13343",
      "Other", "Other", "desktop", 0 },
    { "Mozilla/5.0 (New Nintendo 3DS like iPhone) AppleWebKit/536.30 (KHTML, like Gecko) "
      "NX/3.0.0.5.15 Mobile NintendoBrowser/1.3.10126.EU",
      "Other", "iOS", "desktop", 0 },
    { "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/87.0.4280.88 Safari/537.36 WebAppManager",
      "Chrome", "Other", "desktop", 0 },
    { "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
      "76.0.3809.146/6.0 TV Safari/537.36",
      "Other", "Other", "desktop", 0 },
    { "Mozilla/5.0 (X11; GNU/Linux) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chromium/79.0.3945.130 Chrome/79.0.3945.130 Safari/537.36 Tesla/2020.16.2.1-e99c70fff409",
      "Chrome", "Linux", "desktop", 0 },
    { "Mozilla/5.0 (BB10; Touch) AppleWebKit/537.35+ (KHTML, like Gecko) Version/10.3.3.2205 "
      "Mobile Safari/537.35+",
      "Other", "Other", "mobile", 0 },
    { "BlackBerry9700/5.0.0.862 Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/331 "
      "UNTRUSTED/1.0",
      "Other", "Other", "mobile", 0 },
    { "Mozilla/5.0 (PlayBook; U; RIM Tablet OS 2.1.0; en-US) AppleWebKit/536.2+ (KHTML, like "
      "Gecko) Version/7.2.1.0 Safari/536.2+",
      "Other", "Other", "tablet", 0 },
    { "Mozilla/5.0 (Symbian/3; Series60/5.2 NokiaN8-00/012.002; Profile/MIDP-2.1 "
      "Configuration/CLDC-1.1 ) AppleWebKit/533.4 (KHTML, like Gecko) NokiaBrowser/7.3.0 Mobile "
      "Safari/533.4 3gpp-gba",
      "Other", "Other", "mobile", 0 },
    { "Mozilla/5.0 (Series40; Nokia501/11.1.1/java_runtime_version=Nokia_Asha_1_1_1; "
      "Profile/MIDP-2.1 Configuration/CLDC-1.1) Gecko/20100401 S40OviBrowser/3.9.0.0.22",
      "Other", "Other", "mobile", 0 },
    { "Mozilla/5.0 (Macintosh; PowerPC MorphOS 3.17; Odyssey Web Browser; rv:1.23) "
      "AppleWebKit/538.1 (KHTML, like Gecko) OWB/1.23 Safari/538.1",
      "Other", "Other", "desktop", 0 },
    { "URL/Emacs Emacs/29.1 (X11; x86_64-pc-linux-gnu)", "Other", "Linux", "desktop", 1 },

    /* ---- Search engine and social crawlers ---- */
    { "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
      "+http://www.google.com/bot.html)",
      "Other", "Android", "mobile", 1 },
    { "Googlebot-Image/1.0", "Other", "Other", "desktop", 1 },
    { "Mediapartners-Google", "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)", "Other", "Other", "desktop", 1 },
    { "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 Google-PageRenderer Google "
      "(+https://developers.google.com/+/web/snippet/)",
      "Other", "Windows", "desktop", 1 },
    { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
      "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b",
      "Other", "Windows", "desktop", 1 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
      "Other", "macOS", "desktop", 1 },
    { "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
      "Other", "Other", "desktop", 1 },
    { "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
      "Other", "Other", "desktop", 1 },
    { "ia_archiver (+http://www.alexa.com/site/help/webmasters; crawler@alexa.com)",
      "Other", "Other", "desktop", 1 },
    { "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
      "Other", "Other", "desktop", 1 },
    { "Screaming Frog SEO Spider/20.1", "Other", "Other", "desktop", 1 },
    { "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
      "Other", "Other", "desktop", 1 },
    { "facebookcatalog/1.0", "Other", "Other", "desktop", 1 },
    { "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
      "Other", "Other", "desktop", 1 },
    { "Twitterbot/1.0", "Other", "Other", "desktop", 1 },
    { "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
      "Other", "Other", "desktop", 1 },
    { "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
      "Other", "Other", "desktop", 1 },
    { "TelegramBot (like TwitterBot)", "Other", "Other", "desktop", 1 },
    { "WhatsApp/2.23.20.0 A", "Other", "Android", "mobile", 1 },
    { "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 "
      "skype-url-preview@microsoft.com",
      "Other", "Windows", "desktop", 1 },

    /* ---- SEO tools and AI crawlers ---- */
    { "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile "
      "Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
      "Other", "Android", "mobile", 1 },
    { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
      "+https://openai.com/gptbot)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; "
      "+https://openai.com/bot",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
      "+claudebot@anthropic.com)",
      "Other", "Other", "desktop", 1 },
    { "CCBot/2.0 (https://commoncrawl.org/faq/)", "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile "
      "Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
      "Other", "Android", "mobile", 1 },
    { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; "
      "+https://perplexity.ai/perplexitybot)",
      "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; "
      "+https://developer.amazon.com/support/amazonbot) Chrome/119.0.6045.214 Safari/537.36",
      "Other", "Other", "desktop", 1 },

    /* ---- Feed fetchers ---- */
    { "Feedbin feed-id:1373711 - 142 subscribers", "Other", "Other", "desktop", 1 },
    { "Blogtrottr/2.1", "Other", "Other", "desktop", 1 },

    /* ---- Uptime and performance monitors ---- */
    { "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
      "Other", "Other", "desktop", 1 },
    { "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 (Windows NT 6.2; WOW64) AppleWebKit/537.4 (KHTML, like Gecko) Chrome/98 "
      "Safari/537.4 (StatusCake)",
      "Other", "Windows", "desktop", 1 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36 Site24x7",
      "Other", "Windows", "desktop", 1 },
    { "Datadog/Synthetics", "Other", "Other", "desktop", 1 },
    { "NewRelicPinger/1.0 (2234045)", "Other", "Other", "desktop", 1 },
    { "Uptime-Kuma/1.23.11", "Other", "Other", "desktop", 1 },
    { "check_http/v2.3.3 (monitoring-plugins 2.3.3)", "Other", "Other", "desktop", 1 },
    { "ELB-HealthChecker/2.0", "Other", "Other", "desktop", 1 },
    { "kube-probe/1.29", "Other", "Other", "desktop", 1 },
    { "Blackbox Exporter/0.24.0", "Other", "Other", "desktop", 1 },

    /* ---- Headless browsers and page renderers ---- */
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "HeadlessChrome/120.0.6099.109 Safari/537.36",
      "Other", "Linux", "desktop", 1 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "HeadlessChrome/131.0.0.0 Safari/537.36",
      "Other", "Windows", "desktop", 1 },
    { "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 "
      "Safari/538.1",
      "Other", "Linux", "desktop", 1 },
    { "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
      "Other", "Android", "mobile", 1 },

    /* ---- HTTP libraries and command-line clients ---- */
    { "curl/8.5.0", "Other", "Other", "desktop", 1 },
    { "curl/7.88.1", "Other", "Other", "desktop", 1 },
    { "PycURL/7.45.2 libcurl/7.88.1 OpenSSL/3.0.11 zlib/1.2.13", "Other", "Other", "desktop", 1 },
    { "Wget/1.21.3", "Other", "Other", "desktop", 1 },
    { "python-requests/2.31.0", "Other", "Other", "desktop", 1 },
    { "Python-urllib/3.11", "Other", "Other", "desktop", 1 },
    { "python-httpx/0.26.0", "Other", "Other", "desktop", 1 },
    { "Python/3.11 aiohttp/3.9.1", "Other", "Other", "desktop", 1 },
    { "Go-http-client/1.1", "Other", "Other", "desktop", 1 },
    { "Go-http-client/2.0", "Other", "Other", "desktop", 1 },
    { "okhttp/4.12.0", "Other", "Android", "mobile", 1 },
    { "Java/17.0.9", "Other", "Other", "desktop", 1 },
    { "Apache-HttpClient/4.5.14 (Java/17.0.9)", "Other", "Other", "desktop", 1 },
    { "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Other", "Other", "desktop", 1 },
    { "axios/1.6.2", "Other", "Other", "desktop", 1 },
    { "libwww-perl/6.72", "Other", "Other", "desktop", 1 },
    { "Scrapy/2.11.0 (+https://scrapy.org)", "Other", "Other", "desktop", 1 },
    { "HTTPie/3.2.2", "Other", "Other", "desktop", 1 },
    { "PostmanRuntime/7.36.0", "Other", "Other", "desktop", 1 },
    { "GuzzleHttp/7", "Other", "Other", "desktop", 1 },
    { "Faraday v2.7.10", "Other", "Other", "desktop", 1 },
    { "Dart/3.2 (dart:io)", "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0 zgrab/0.x", "Other", "Other", "desktop", 1 },

    /* ---- Empty, short and junk UAs ---- */
    { "", "Other", "Other", "desktop", 1 },
    { "-", "Other", "Other", "desktop", 1 },
    { "Mozilla/5.0", "Other", "Other", "desktop", 1 },
    { "Mozilla/4.0", "Other", "Other", "desktop", 1 },
    { "node", "Other", "Other", "desktop", 1 },
};
/* clang-format on */

#define UA_NCASES (sizeof ua_cases / sizeof ua_cases[0])

/* Classifies c->ua and compares every field, naming the UA on failure. */
static void
ua_expect(const struct ua_case *c, const struct hz_ua *got)
{
    cr_expect_str_eq(hz_ua_browser_name(got->browser), c->browser, "browser of \"%s\"", c->ua);
    cr_expect_str_eq(hz_ua_os_name(got->os), c->os, "os of \"%s\"", c->ua);
    cr_expect_str_eq(hz_ua_device_name(got->device), c->device, "device of \"%s\"", c->ua);
    cr_expect_eq(got->bot, c->bot, "bot of \"%s\"", c->ua);
}

/* ------------------------------------------------------------ the table */

ParameterizedTestParameters(ua_classify, real_agents)
{
    return cr_make_param_array(struct ua_case, ua_cases, UA_NCASES);
}

ParameterizedTest(struct ua_case *c, ua_classify, real_agents)
{
    struct hz_ua got;

    hz_ua_classify(c->ua, strlen(c->ua), &got);
    ua_expect(c, &got);
}

Test(ua_table, has_enough_cases)
{
    size_t bots = 0;

    for (size_t i = 0; i < UA_NCASES; i++)
        bots += ua_cases[i].bot != 0;
    cr_expect_geq(UA_NCASES, 160);
    cr_expect_geq(bots, 40);
    cr_expect_geq(UA_NCASES - bots, 120);
}

/* Every family of DESIGN.md is stated by at least three people's UAs in
 * the table: a broken rule or mapping for any family fails a case. */
Test(ua_table, every_family_has_cases)
{
    size_t br[HZ_UA_BROWSER_COUNT] = {0}, os[HZ_OS_COUNT] = {0}, dev[HZ_DEV_COUNT] = {0};

    for (size_t i = 0; i < UA_NCASES; i++) {
        if (ua_cases[i].bot)
            continue;
        for (int f = 0; f < HZ_UA_BROWSER_COUNT; f++)
            br[f] += strcmp(ua_cases[i].browser, hz_ua_browser_name((enum hz_browser)f)) == 0;
        for (int f = 0; f < HZ_OS_COUNT; f++)
            os[f] += strcmp(ua_cases[i].os, hz_ua_os_name((enum hz_os)f)) == 0;
        for (int f = 0; f < HZ_DEV_COUNT; f++)
            dev[f] += strcmp(ua_cases[i].device, hz_ua_device_name((enum hz_device)f)) == 0;
    }
    for (int f = 0; f < HZ_UA_BROWSER_COUNT; f++)
        cr_expect_geq(br[f], 3, "browser %s: %zu cases", hz_ua_browser_name((enum hz_browser)f),
                      br[f]);
    for (int f = 0; f < HZ_OS_COUNT; f++)
        cr_expect_geq(os[f], 3, "os %s: %zu cases", hz_ua_os_name((enum hz_os)f), os[f]);
    for (int f = 0; f < HZ_DEV_COUNT; f++)
        cr_expect_geq(dev[f], 3, "device %s: %zu cases", hz_ua_device_name((enum hz_device)f),
                      dev[f]);
}

/* ------------------------------------------------------------ names */

Test(ua_names, spelled_as_design_md)
{
    static const char *const browsers[] = {
        "Other", "Chrome",           "Firefox",           "Safari",         "Edge",
        "Opera", "Samsung Internet", "Internet Explorer", "Yandex Browser", "UC Browser",
    };
    static const char *const oses[] = {
        "Other", "Windows", "macOS", "iOS", "Android", "Linux", "ChromeOS",
    };
    static const char *const devices[] = {"desktop", "mobile", "tablet"};

    cr_assert_eq(sizeof browsers / sizeof browsers[0], HZ_UA_BROWSER_COUNT);
    cr_assert_eq(sizeof oses / sizeof oses[0], HZ_OS_COUNT);
    cr_assert_eq(sizeof devices / sizeof devices[0], HZ_DEV_COUNT);
    for (int i = 0; i < HZ_UA_BROWSER_COUNT; i++)
        cr_expect_str_eq(hz_ua_browser_name((enum hz_browser)i), browsers[i]);
    for (int i = 0; i < HZ_OS_COUNT; i++)
        cr_expect_str_eq(hz_ua_os_name((enum hz_os)i), oses[i]);
    for (int i = 0; i < HZ_DEV_COUNT; i++)
        cr_expect_str_eq(hz_ua_device_name((enum hz_device)i), devices[i]);
}

Test(ua_names, out_of_range_reads_as_other)
{
    cr_expect_str_eq(hz_ua_browser_name(HZ_UA_BROWSER_COUNT), "Other");
    cr_expect_str_eq(hz_ua_browser_name((enum hz_browser)99), "Other");
    cr_expect_str_eq(hz_ua_os_name(HZ_OS_COUNT), "Other");
    cr_expect_str_eq(hz_ua_device_name(HZ_DEV_COUNT), "desktop");
}

/* ------------------------------------------------------------ odd input */

static const char ua_chrome[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

Test(ua_classify, null_and_empty_are_bots)
{
    struct hz_ua got;

    hz_ua_classify(NULL, 0, &got);
    cr_expect_eq(got.browser, HZ_UA_OTHER);
    cr_expect_eq(got.os, HZ_OS_OTHER);
    cr_expect_eq(got.device, HZ_DEV_DESKTOP);
    cr_expect_eq(got.bot, 1);
    hz_ua_classify("", 0, &got);
    cr_expect_eq(got.bot, 1);
}

/* No browser signal at all (isbot's shape patterns, and uap-core names no
 * browser, os or device) is a bot; a short UA that names a phone is not. */
Test(ua_classify, no_browser_signal_is_a_bot)
{
    static const char *const bots[] = {"-", "Mozilla/5.0", "foo/1.0", "x", "greedyhand/0.1"};
    struct hz_ua got;

    for (size_t i = 0; i < sizeof bots / sizeof bots[0]; i++) {
        hz_ua_classify(bots[i], strlen(bots[i]), &got);
        cr_expect_eq(got.bot, 1, "\"%s\"", bots[i]);
    }
    hz_ua_classify("iPhone12mini", 12, &got);
    cr_expect_eq(got.bot, 0);
    cr_expect_eq(got.os, HZ_OS_IOS);
    cr_expect_eq(got.device, HZ_DEV_MOBILE);
    hz_ua_classify("ALCATEL-OH1", 11, &got); /* a feature phone */
    cr_expect_eq(got.bot, 0);
}

Test(ua_classify, cubot_phone_is_not_a_bot_but_googlebot_on_it_is)
{
    static const char ua[] = "Mozilla/5.0 (Linux; Android 12; Cubot P60) AppleWebKit/537.36 "
                             "(KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36 "
                             "(compatible; Googlebot/2.1)";
    struct hz_ua got;

    hz_ua_classify(ua, strlen(ua), &got);
    cr_expect_eq(got.bot, 1);
    hz_ua_classify(ua, strlen(ua) - strlen(" (compatible; Googlebot/2.1)"), &got);
    cr_expect_eq(got.bot, 0);
    cr_expect_eq(got.browser, HZ_UA_CHROME);
}

Test(ua_classify, control_bytes_make_a_bot_tab_does_not)
{
    char ua[sizeof ua_chrome];
    struct hz_ua got;

    memcpy(ua, ua_chrome, sizeof ua);
    ua[11] = '\t';
    hz_ua_classify(ua, sizeof ua - 1, &got);
    cr_expect_eq(got.bot, 0);
    cr_expect_eq(got.browser, HZ_UA_CHROME);
    ua[11] = '\0'; /* a NUL inside: read by length, and no browser sends it */
    hz_ua_classify(ua, sizeof ua - 1, &got);
    cr_expect_eq(got.bot, 1);
    cr_expect_eq(got.browser, HZ_UA_OTHER); /* a bot's browser is Other */
    cr_expect_eq(got.os, HZ_OS_WINDOWS);
    ua[11] = '\n';
    hz_ua_classify(ua, sizeof ua - 1, &got);
    cr_expect_eq(got.bot, 1);
    ua[11] = ' ';
    ua[sizeof ua - 2] = 0x7f; /* DEL as the last byte */
    hz_ua_classify(ua, sizeof ua - 1, &got);
    cr_expect_eq(got.bot, 1);
}

Test(ua_classify, only_the_first_512_bytes_count)
{
    char ua[HZ_UA_MAX + 64];
    size_t n = strlen(ua_chrome);
    struct hz_ua got;

    memset(ua, ' ', sizeof ua);
    memcpy(ua, ua_chrome, n);
    /* "curl/" straddling the cap is not seen ... */
    memcpy(ua + HZ_UA_MAX - 2, "curl/", 5);
    hz_ua_classify(ua, sizeof ua, &got);
    cr_expect_eq(got.bot, 0);
    cr_expect_eq(got.browser, HZ_UA_CHROME);
    /* ... and one that ends at the cap is. */
    memcpy(ua + HZ_UA_MAX - 5, "curl/", 5);
    hz_ua_classify(ua, sizeof ua, &got);
    cr_expect_eq(got.bot, 1);
}

/* A xorshift generator: the same garbage on every run. */
static uint64_t
ua_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(ua_classify, garbage_stays_in_range_and_is_stable)
{
    static char buf[2048];
    uint64_t seed = 0x9e3779b97f4a7c15u;

    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(ua_rand(&seed) % sizeof buf);
        struct hz_ua a, b;

        for (size_t i = 0; i < len; i++)
            buf[i] = (char)ua_rand(&seed);
        /* Every other round, splice a real token into the noise. */
        if (round % 2 && len > 40)
            memcpy(buf + len / 2, "Chrome/1 Android Mobi", 21);
        hz_ua_classify(buf, len, &a);
        hz_ua_classify(buf, len, &b);
        cr_assert_lt((unsigned)a.browser, HZ_UA_BROWSER_COUNT);
        cr_assert_lt((unsigned)a.os, HZ_OS_COUNT);
        cr_assert_lt((unsigned)a.device, HZ_DEV_COUNT);
        cr_assert(a.bot == 0 || a.bot == 1);
        cr_assert(memcmp(&a, &b, sizeof a) == 0, "round %d: not stable", round);
    }
    memset(buf, 0xff, sizeof buf);
    {
        struct hz_ua got;
        hz_ua_classify(buf, sizeof buf, &got);
        cr_expect_eq(got.browser, HZ_UA_OTHER);
        cr_expect_eq(got.bot, 1); /* no browser signal: no spaces, no names */
    }
}

/* ------------------------------------------------------------ cache */

static int
ua_same(const struct hz_ua *a, const struct hz_ua *b)
{
    return a->browser == b->browser && a->os == b->os && a->device == b->device && a->bot == b->bot;
}

Test(ua_cache, same_answer_as_uncached)
{
    static struct hz_ua_cache cache;

    hz_ua_cache_init(&cache);
    for (int pass = 0; pass < 2; pass++) { /* misses, then mostly hits */
        for (size_t i = 0; i < UA_NCASES; i++) {
            const char *ua = ua_cases[i].ua;
            struct hz_ua want, got;
            hz_ua_classify(ua, strlen(ua), &want);
            hz_ua_classify_cached(&cache, ua, strlen(ua), &got);
            cr_assert(ua_same(&want, &got), "pass %d: \"%s\"", pass, ua);
        }
    }
}

Test(ua_cache, init_empties_and_keys_randomly)
{
    static struct hz_ua_cache a, b;
    static const unsigned char zero[sizeof a.key];

    memset(&a, 0xa5, sizeof a);
    hz_ua_cache_init(&a);
    hz_ua_cache_init(&b);
    for (size_t i = 0; i < HZ_UA_CACHE_SLOTS; i++)
        cr_assert_eq(a.slot[i].h, 0);
    cr_expect(memcmp(a.key, b.key, sizeof a.key) != 0, "two caches, one key");
    cr_expect(memcmp(a.key, zero, sizeof a.key) != 0);
}

/* UAs that land in one set: a set keeps HZ_UA_CACHE_WAYS of them, each
 * lookup still gives that UA's own answer, and one more UA than the set
 * holds replaces the oldest (a miss, then a hit again). */
Test(ua_cache, set_collisions_keep_each_answer)
{
    static struct hz_ua_cache cache;
    static const char bot[] = "curl/8.5.0";
    char ua[HZ_UA_CACHE_WAYS][160];
    size_t set, n[HZ_UA_CACHE_WAYS], nbot = sizeof bot - 1, found = 0;
    uint64_t hbot;

    hz_ua_cache_init(&cache);
    hbot = hz_siphash(cache.key, bot, nbot);
    set = (size_t)((hbot == 0 ? 1 : hbot) % HZ_UA_CACHE_SETS);
    /* Vary a version number until WAYS Chrome UAs share curl's set. */
    for (int v = 0; v < 10000000 && found < HZ_UA_CACHE_WAYS; v++) {
        uint64_t h;
        n[found] = (size_t)snprintf(ua[found], sizeof ua[found],
                                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, "
                                    "like Gecko) Chrome/%d.0.0.0 Safari/537.36",
                                    v);
        h = hz_siphash(cache.key, ua[found], n[found]);
        if ((size_t)((h == 0 ? 1 : h) % HZ_UA_CACHE_SETS) == set)
            found++;
    }
    cr_assert_eq(found, HZ_UA_CACHE_WAYS, "no colliding UAs found");

    /* Five UAs, four ways: every round misses each once, answers right. */
    for (int round = 0; round < 3; round++) {
        struct hz_ua got;
        hz_ua_classify_cached(&cache, bot, nbot, &got);
        cr_assert_eq(got.bot, 1, "round %d", round);
        for (size_t k = 0; k < HZ_UA_CACHE_WAYS; k++) {
            hz_ua_classify_cached(&cache, ua[k], n[k], &got);
            cr_assert_eq(got.bot, 0, "round %d", round);
            cr_assert_eq(got.browser, HZ_UA_CHROME);
            cr_assert_eq(got.os, HZ_OS_LINUX);
        }
    }
    /* The set now holds the four Chrome UAs, not curl. */
    for (size_t w = 0; w < HZ_UA_CACHE_WAYS; w++)
        cr_expect_neq(cache.slot[set * HZ_UA_CACHE_WAYS + w].len, nbot);
}

Test(ua_cache, keys_on_the_first_512_bytes)
{
    static struct hz_ua_cache cache;
    char a[HZ_UA_MAX + 100], b[HZ_UA_MAX + 100];
    struct hz_ua ra, rb;
    size_t n = strlen(ua_chrome), filled = 0;

    memset(a, ' ', sizeof a);
    memcpy(a, ua_chrome, n);
    memcpy(b, a, sizeof b);
    memcpy(b + HZ_UA_MAX + 10, "curl/", 5); /* differs past the cap only */
    hz_ua_cache_init(&cache);
    hz_ua_classify_cached(&cache, a, sizeof a, &ra);
    for (size_t i = 0; i < HZ_UA_CACHE_SLOTS; i++)
        filled += cache.slot[i].h != 0;
    hz_ua_classify_cached(&cache, b, sizeof b, &rb);
    cr_expect(ua_same(&ra, &rb));
    cr_expect_eq(rb.bot, 0);
    cr_expect_eq(filled, 1);
    for (size_t i = 0; i < HZ_UA_CACHE_SLOTS; i++)
        if (cache.slot[i].h != 0)
            cr_expect_eq(cache.slot[i].len, HZ_UA_MAX);
}

Test(ua_cache, empty_ua)
{
    static struct hz_ua_cache cache;
    struct hz_ua got;

    hz_ua_cache_init(&cache);
    hz_ua_classify_cached(&cache, NULL, 0, &got);
    cr_expect_eq(got.bot, 1);
    hz_ua_classify_cached(&cache, "", 0, &got);
    cr_expect_eq(got.bot, 1);
}

/* ------------------------------------------------------------ ../shared */

/*
 * ../shared/ua/sample.tsv: 200 UAs labelled by another classifier
 * (matomo device-detector's fixtures; see its README). Its labels are mapped
 * onto DESIGN.md's families, and each column is compared on the rows where
 * the two label the same thing:
 * - bot recall: the bots (is_bot 1); people not called bots: the others;
 * - browser: non-bots. Its browser_family is engine-based (Edge ->
 *   "Internet Explorer", Brave -> "Chrome"), so dd_client_name decides,
 *   through ua.c's table for device-detector's names (hz_ua_dd_browser_of):
 *   anything it does not list (Brave, Puffin, Comodo Dragon) is Other, and
 *   so is every client that is not a browser (apps, libraries);
 * - os: non-bots, os_family through hz_ua_dd_os_of; families we lack
 *   (Windows Mobile, KaiOS, Tizen, ...) are Other;
 * - device: non-bots labelled desktop, mobile or tablet (tv, console,
 *   wearable, car and unknown have no counterpart here).
 * The floors are DESIGN.md's targets (browser >= 0.95, os >= 0.97, device
 * >= 0.93, bot recall >= 0.95, people called bots <= 1 %); the figures
 * are printed as warnings. Absent file: the test says so and is skipped.
 * Every disagreement is
 * logged at info level (--verbose).
 */
enum { UA_COL_BOT, UA_COL_PERSON, UA_COL_BROWSER, UA_COL_OS, UA_COL_DEVICE, UA_NCOL };

struct ua_tally {
    size_t agree[UA_NCOL], rows[UA_NCOL];
};

static void
ua_tally(struct ua_tally *t, int col, const char *want, const char *got, const char *ua)
{
    static const char *const names[UA_NCOL] = {"bot recall", "people not bots", "browser", "os",
                                               "device"};

    t->rows[col]++;
    if (strcmp(want, got) == 0)
        t->agree[col]++;
    else
        cr_log_info("sample: %s: sample says \"%s\", we say \"%s\": %.160s", names[col], want, got,
                    ua);
}

/* Splits line at tabs into at most n fields, in place. Returns the count. */
static int
ua_fields(char *line, char **f, int n)
{
    int k = 0;

    line[strcspn(line, "\r\n")] = '\0';
    while (k < n) {
        f[k++] = line;
        line = strchr(line, '\t');
        if (line == NULL)
            break;
        *line++ = '\0';
    }
    return k;
}

static int
ua_column(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    cr_assert_fail("sample.tsv has no column %s", name);
    return -1;
}

/* Per column (bot recall, people not called bots, browser, os, device):
 * DESIGN.md's targets, per mille. */
static const int ua_sample_floor[UA_NCOL] = {950, 990, 950, 970, 930};

Test(ua_sample, agrees_with_shared_sample)
{
    static const char *const names[UA_NCOL] = {"bot recall", "people not bots", "browser", "os",
                                               "device"};
    const char *shared = getenv("HZ_SHARED");
    char path[4096], *line = NULL, *f[32];
    size_t cap = 0;
    int n, cu, co, cd, cbot, ctype, cname;
    struct ua_tally t = {{0}, {0}};
    FILE *fp;

    (void)snprintf(path, sizeof path, "%s/ua/sample.tsv", shared ? shared : "../shared");
    fp = fopen(path, "r");
    if (fp == NULL) {
        /* A warning, so that it shows without --verbose. */
        cr_log_warn("ua_sample: %s is absent: cross-check skipped", path);
        cr_skip_test("%s is absent: cross-check skipped", path);
    }

    cr_assert(getline(&line, &cap, fp) > 0, "%s: empty", path);
    n = ua_fields(line, f, 32);
    cu = ua_column(f, n, "user_agent");
    co = ua_column(f, n, "os_family");
    cd = ua_column(f, n, "device_class");
    cbot = ua_column(f, n, "is_bot");
    ctype = ua_column(f, n, "dd_client_type");
    cname = ua_column(f, n, "dd_client_name");

    while (getline(&line, &cap, fp) > 0) {
        struct hz_ua got;
        const char *want;
        int k = ua_fields(line, f, 32);

        if (k < n)
            continue;
        hz_ua_classify(f[cu], strlen(f[cu]), &got);
        ua_tally(&t, strcmp(f[cbot], "1") == 0 ? UA_COL_BOT : UA_COL_PERSON,
                 strcmp(f[cbot], "1") == 0 ? "yes" : "no", got.bot ? "yes" : "no", f[cu]);
        if (strcmp(f[cbot], "1") == 0)
            continue;
        want = hz_ua_browser_name(strcmp(f[ctype], "browser") == 0 ? hz_ua_dd_browser_of(f[cname])
                                                                    : HZ_UA_OTHER);
        ua_tally(&t, UA_COL_BROWSER, want, hz_ua_browser_name(got.browser), f[cu]);
        want = hz_ua_os_name(hz_ua_dd_os_of(f[co]));
        ua_tally(&t, UA_COL_OS, want, hz_ua_os_name(got.os), f[cu]);
        if (strcmp(f[cd], "desktop") == 0 || strcmp(f[cd], "mobile") == 0 ||
            strcmp(f[cd], "tablet") == 0)
            ua_tally(&t, UA_COL_DEVICE, f[cd], hz_ua_device_name(got.device), f[cu]);
    }
    free(line);
    (void)fclose(fp);

    for (int c = 0; c < UA_NCOL; c++) {
        /* A warning, so that the figures show without --verbose. */
        cr_log_warn("accuracy: sample.tsv %s %zu of %zu (%.3f)", names[c], t.agree[c], t.rows[c],
                    t.rows[c] ? (double)t.agree[c] / (double)t.rows[c] : 0.0);
        cr_expect_gt(t.rows[c], 30, "%s: too few comparable rows", names[c]);
        cr_expect_geq(t.agree[c] * 1000, t.rows[c] * ua_sample_floor[c], "%s: under %d per mille",
                      names[c], ua_sample_floor[c]);
    }
}
