// SPDX-License-Identifier: MIT
//
// gen.mjs - turns the user agent databases haze depends on into what the
// build and the tests read. The databases are not in the repository: make
// fetches them from npm into build/uadb (package.json here pins them).
//
//   node gen.mjs db MODULES UAP_YAML > ua_db.c
//     C source for collector/ua.c (see collector/ua_db.h): uap-core's
//     user_agent_parsers, os_parsers and device_parsers in order, isbot's
//     patterns as two alternations (words, shapes) and crawler-user-agents'
//     patterns as another, and the packages' versions.
//
//   node gen.mjs fixtures MODULES UAP_TESTS OUTDIR
//     Labelled sets from the packages' own test fixtures, one TSV each
//     (ua<TAB>label), labels exactly as the fixtures state them:
//       uap_ua.tsv      uap-core tests/test_ua.yaml: browser family
//       uap_os.tsv      uap-core tests/test_os.yaml: os family
//       uap_device.tsv  uap-core tests/test_device.yaml: device family
//                       ("Spider" is uap-core's word for a bot)
//       crawlers.tsv    crawler-user-agents' instances: every one a bot
//     UAP_TESTS is Debian's /usr/share/uap-core/tests (package uap-core).
//     A UA with a tab or a line break is left out (the format has no
//     quoting); so are duplicates within a file.
//
// node gen.mjs db also writes Matomo device-detector's regexes (from npm
// node-device-detector: bots, oss, clients, device brands and models; see
// ddTables) for collector/ua_dd.c.
//
// And the prefilter's tables for collector/ua_pre.c: for every rule of
// those lists, literals one of which every match contains (read off the
// patterns by prefilter.mjs), indexed by literal (preTables).
//
// Strings are written as C literals with every byte outside printable
// ASCII, every '?' (trigraphs) and every '"' and '\' escaped.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { costs, need } from "./prefilter.mjs";

const [mode, modArg, ...rest] = process.argv.slice(2);
const modules = modArg && resolve(modArg);
if (!modules || (mode !== "db" && mode !== "fixtures")) {
  process.stderr.write("usage: gen.mjs db MODULES UAP_YAML | fixtures MODULES UAP_TESTS OUTDIR\n");
  process.exit(2);
}
const require = createRequire(join(modules, "x.js"));
const YAML = require("yaml");

function version(name) {
  return JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")).version;
}

function cstr(s) {
  if (s === undefined || s === null) return "NULL";
  return cbytes(Buffer.from(String(s), "utf8"));
}

function cbytes(buf) {
  let out = '"';
  for (const b of buf) {
    if (b === 0x22 || b === 0x5c || b === 0x3f) out += "\\" + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\" + b.toString(8).padStart(3, "0");
  }
  return out + '"';
}

function crawlerList() {
  return JSON.parse(readFileSync(join(modules, "crawler-user-agents", "crawler-user-agents.json"), "utf8"));
}

// JavaScript reads "[\\w-.]" as \\w, "-" and "."; PCRE2 refuses a range
// that starts at a class escape. Escapes such a "-" (the one JS-ism in
// isbot's and crawler-user-agents' patterns).
function jsToPcre(p) {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      const e = p.slice(i, i + 2);
      out += e;
      i++;
      if (inClass && /^\\[wWdDsS]$/.test(e) && p[i + 1] === "-" && p[i + 2] !== "]") {
        out += "\\-";
        i++;
      }
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    out += c;
  }
  return out;
}

// The string a pattern matches when it is a plain literal ("Googlebot\\/"),
// or null when it uses any regex feature beyond escaped punctuation.
function literalOf(p) {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      const n = p[i + 1];
      if (n === undefined || /[0-9A-Za-z]/.test(n)) return null;
      out += n;
      i++;
    } else if ("[](){}?*+|^$.".includes(c)) {
      return null;
    } else {
      out += c;
    }
  }
  return out.length >= 2 ? out : null;
}

// Matomo device-detector's regexes as node-device-detector ships them
// (regexes/*.js, one module each). Lists are matched in order, the first
// match wins; every rule also gets a prefilter slot (preList).
const ddTypes = [
  "",
  "desktop",
  "smartphone",
  "tablet",
  "feature phone",
  "console",
  "tv",
  "car browser",
  "smart display",
  "camera",
  "portable media player",
  "phablet",
  "smart speaker",
  "wearable",
  "peripheral",
];
function ddType(t) {
  const i = ddTypes.indexOf(t || "");
  if (i < 0) throw new Error(`device-detector: unknown device type ${t}`);
  return i;
}
function ddRequire(rel) {
  return require(join(modules, "node-device-detector", rel));
}
// The prefilter's tables (collector/ua_pre.c): every rule of the lists
// below gets a slot; a literal's postings are the slots of the rules that
// need it (one of their literals occurs in every UA they match); a rule
// that needs none is always run. The choice of literals reads
// tests/data/ua-bench.txt as a sample of common UAs (speed only).
const sample = (() => {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    return readFileSync(join(here, "..", "..", "tests", "data", "ua-bench.txt"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
})();
const cost = costs(sample);
const pre = { slots: 0, bases: [], needs: [] };
function preList(name, res) {
  pre.bases.push([name, pre.slots]);
  for (const re of res) {
    const n = re.every((r) => r !== undefined) ? re.map((r) => need(r, cost)) : [null];
    pre.needs.push(n.some((x) => x === null) ? null : [...new Set(n.flat())]);
  }
  pre.slots += res.length;
}
function preTables(o) {
  const ids = new Map();
  pre.needs.forEach((n) => (n || []).forEach((l) => ids.set(l, 0)));
  const lits = [...ids.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, "latin1"), Buffer.from(b, "latin1")));
  lits.forEach((l, k) => ids.set(l, k));
  const post = lits.map(() => []);
  const always = [];
  pre.needs.forEach((n, slot) => (n === null ? always.push(slot) : n.forEach((l) => post[ids.get(l)].push(slot))));
  o.push("const char *const hz_pre_lits[] = {");
  for (const l of lits) o.push(`    ${cbytes(Buffer.from(l, "latin1"))},`);
  o.push("};", `const size_t hz_pre_nlits = ${lits.length};`);
  const first = [0];
  for (const p of post) first.push(first[first.length - 1] + p.length);
  o.push(`const unsigned hz_pre_post_first[] = {${first.join(",")}};`);
  o.push(`const unsigned hz_pre_post[] = {${post.flat().join(",") || "0"}};`);
  o.push(`const unsigned hz_pre_always[] = {${always.join(",") || "0"}};`);
  o.push(`const size_t hz_pre_nalways = ${always.length};`);
  o.push(`const size_t hz_pre_nslots = ${pre.slots};`);
  for (const [name, base] of pre.bases) o.push(`const size_t hz_pre_${name} = ${base};`);
  o.push("");
}

function ddTables(o) {
  const list = (name, rows) => {
    o.push(`const struct hz_dd_rule ${name}[] = {`);
    for (const r of rows) o.push(`    {${cstr(r.regex)}, ${cstr(r.name)}, ${cstr(r.version)}, ${r.kind || 0}},`);
    o.push("};");
    o.push(`const size_t ${name}_n = ${rows.length};`);
    preList(name.replace("hz_", ""), rows.map((r) => [r.regex]));
  };
  list("hz_dd_bots", ddRequire("regexes/bots.js"));
  list("hz_dd_oses", ddRequire("regexes/oss.js"));
  // device-detector's client parsers, in its order (see ua_dd.h for kinds).
  const kinds = ["client/feed_readers", "client/mobile_apps", "client/mediaplayers", "client/pim",
    "client/browsers", "client/libraries"];
  list("hz_dd_clients", kinds.flatMap((f, k) => ddRequire(`regexes/${f}.js`).map((r) => ({ ...r, kind: k + 1 }))));
  // os name -> device-detector's os family (its own tables).
  const systems = ddRequire("parser/os/os_systems.js");
  const families = ddRequire("parser/os/os_families.js");
  o.push("const struct hz_dd_name hz_dd_os_families[] = {");
  for (const [fam, shorts] of Object.entries(families))
    for (const s of shorts) if (systems[s] !== undefined) o.push(`    {${cstr(systems[s])}, ${cstr(fam)}},`);
  o.push("    {NULL, NULL},", "};", "");
  // Names device-detector's device-type rules read (ua_dd.c), from its
  // own constants: mobile-only browsers, desktop oses, TV clients.
  const names = (name, list) => {
    o.push(`const char *const ${name}[] = {`);
    for (const x of list) o.push(`    ${cstr(x)},`);
    o.push("    NULL,", "};", "");
  };
  const browserShort = ddRequire("parser/client/browser-short.js");
  names("hz_dd_mobile_browsers", ddRequire("parser/client/browser-short-mobile.js").map((k) => browserShort[k]).filter(Boolean));
  names("hz_dd_desktop_oses", ddRequire("parser/const/desktop-os.js"));
  names("hz_dd_tv_clients", ddRequire("parser/const/clients-tv.js"));
  // Device rules: the sets device-detector tries in its order; a brand's
  // models are merged into runs of consecutive models of one type (only
  // the type is read: the first run that matches is the first model's).
  const sets = ["televisions", "shell_tv", "notebooks", "consoles", "car_browsers", "cameras",
    "portable_media_player", "mobiles"];
  const brands = [];
  const models = [];
  sets.forEach((f, set) => {
    const m = ddRequire(`regexes/device/${f}.js`);
    for (const k of Object.keys(m)) {
      const b = m[k];
      const first = models.length;
      for (const x of b.models || []) {
        const t = ddType(x.device || b.device);
        const last = models.length > first ? models[models.length - 1] : null;
        if (last && last.type === t) last.res.push(x.regex);
        else models.push({ type: t, res: [x.regex] });
      }
      brands.push({ regex: b.regex, set, type: ddType(b.device), first, n: models.length - first });
    }
  });
  o.push("const struct hz_dd_brand hz_dd_brands[] = {");
  for (const b of brands) o.push(`    {${cstr(b.regex)}, ${b.set}, ${b.type}, ${b.first}, ${b.n}},`);
  o.push("};", `const size_t hz_dd_brands_n = ${brands.length};`);
  preList("dd_brands", brands.map((b) => [b.regex]));
  preList("dd_models", models.map((m) => m.res));
  o.push("const struct hz_dd_model hz_dd_models[] = {");
  for (const m of models)
    o.push(`    {${cstr(m.res.length === 1 ? m.res[0] : m.res.map((r) => `(?:${r})`).join("|"))}, ${m.type}},`);
  o.push("};", `const size_t hz_dd_models_n = ${models.length};`, "");
}

function readYaml(path) {
  return YAML.parse(readFileSync(path, "utf8"));
}

if (mode === "db") {
  const [uapPath] = rest;
  const uap = readYaml(uapPath);
  const isbot = require("isbot");
  const crawlers = crawlerList();
  let uapVersion = "(unknown)";
  if (uapPath.includes("node_modules")) uapVersion = version("uap-core");
  else uapVersion = "from " + uapPath;
  const o = [];
  o.push("/* Generated by scripts/uadb/gen.mjs from uap-core, isbot and crawler-user-agents.");
  o.push(" * Do not edit; do not commit. */");
  o.push('#include "collector/ua_db.h"', "");
  const rules = (name, list, repl, v1) => {
    o.push(`const struct hz_uadb_rule ${name}[] = {`);
    for (const r of list)
      o.push(
        `    {${cstr(r.regex)}, ${cstr(r[repl])}, ${r.regex_flag === "i" ? 1 : 0}, ${cstr(v1 && r[v1])}},`,
      );
    o.push("};");
    o.push(`const size_t ${name}_n = ${list.length};`, "");
    preList(name.replace("hz_", ""), list.map((r) => [r.regex]));
  };
  rules("hz_uadb_browsers", uap.user_agent_parsers, "family_replacement", "v1_replacement");
  rules("hz_uadb_oses", uap.os_parsers, "os_replacement", "os_v1_replacement");
  rules("hz_uadb_devices", uap.device_parsers, "device_replacement");
  // isbot builds new RegExp(list.join("|"), "i"); crawler-user-agents'
  // patterns are matched one by one, case-sensitive. isbot's patterns are
  // split in two: those that name a word (three letters in a row, outside
  // escapes such as \w) and those that only describe a UA's shape.
  const alt = (list) => list.map((p) => `(?:${jsToPcre(p)})`).join("|");
  const shape = (p) => !/[a-z]{3}/i.test(p.replace(/\\./g, ""));
  o.push(`const char hz_uadb_isbot_words[] = ${cstr(alt(isbot.list.filter((p) => !shape(p))))};`);
  o.push(`const char hz_uadb_isbot_shapes[] = ${cstr(alt(isbot.list.filter(shape)))};`);
  // Most of crawler-user-agents' patterns are plain strings: those are
  // matched as strings (ua.c indexes them), the rest as one alternation.
  const cua = crawlers.map((c) => c.pattern);
  o.push("const char *const hz_uadb_crawler_strings[] = {");
  for (const p of cua) if (literalOf(p) !== null) o.push(`    ${cstr(literalOf(p))},`);
  o.push("    NULL,", "};");
  o.push(`const char hz_uadb_crawlers[] = ${cstr(alt(cua.filter((p) => literalOf(p) === null)))};`);
  ddTables(o);
  preTables(o);
  o.push(
    `const char hz_uadb_versions[] = ${cstr(
      `uap-core ${uapVersion}, isbot ${version("isbot")}, crawler-user-agents ${version(
        "crawler-user-agents",
      )}, node-device-detector ${version("node-device-detector")} (Matomo device-detector's regexes)`,
    )};`,
  );
  process.stdout.write(o.join("\n") + "\n");
} else {
  const [tests, outdir] = rest;
  mkdirSync(outdir, { recursive: true });
  const write = (file, rows) => {
    const seen = new Set();
    const lines = [];
    for (const [ua, label] of rows) {
      if (typeof ua !== "string" || /[\t\r\n]/.test(ua) || seen.has(ua)) continue;
      seen.add(ua);
      lines.push(`${ua}\t${label}`);
    }
    writeFileSync(join(outdir, file), lines.join("\n") + "\n");
  };
  const cases = (f) => readYaml(join(tests, f)).test_cases;
  write("uap_ua.tsv", cases("test_ua.yaml").map((c) => [c.user_agent_string, c.family]));
  write("uap_os.tsv", cases("test_os.yaml").map((c) => [c.user_agent_string, c.family]));
  write("uap_device.tsv", cases("test_device.yaml").map((c) => [c.user_agent_string, c.family]));
  const crawlers = crawlerList();
  write("crawlers.tsv", crawlers.flatMap((c) => (c.instances || []).map((ua) => [ua, "bot"])));
}
