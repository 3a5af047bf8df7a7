// SPDX-License-Identifier: MIT
//
// prefilter.mjs - the literals a PCRE2 pattern needs, for collector/
// ua_pre.c: need(re, cost) returns a list of byte strings (as latin1
// strings), lowercased (ASCII only, as PCRE2 folds case without UTF), such
// that every match of re contains one of them; or null when it cannot
// say (only optional parts, classes, an unfamiliar construct). A rule
// whose literals are all absent from a UA cannot match it and is not run.
//
// The pattern is read as PCRE2 reads it without UTF: byte by byte. Where a
// construct is not understood the answer is null, which only costs speed
// (the rule is then always run). The answer must never leave out a
// literal a match may contain instead, so the reading is conservative.
// Each part of a pattern is read as
//   exact  the strings it matches, when they are few (a byte, a small
//          class, an alternation of those, a sequence of them, "x?"), and
//   need   strings one of which every match of it contains, or null;
// a sequence crosses its exact parts' strings ("K(?:4|5)" is "k4" or
// "k5") and needs the cheapest of what its parts need; an alternation
// needs one of its branches' needs (null when a branch has none); a
// repeat at least once needs what its content needs; assertions, wide
// classes, escapes for classes of bytes and back-references need nothing.

// Shortest literal ua_pre.c indexes.
export const MIN_LIT = 2;
// Most strings an exact part may stand for.
const EXACT_MAX = 32;

class Unsupported extends Error {}

function lower(b) {
  return b >= 0x41 && b <= 0x5a ? b + 32 : b;
}

// What a literal costs when it is all a rule needs: about the share of a
// sample of user agents it occurs in (a rule whose literal occurs is run),
// and for those it is in none of, less the longer it is. Only speed
// depends on the choice.
export function costs(sample) {
  const uas = sample.map((u) => Buffer.from(u, "utf8").toString("latin1").toLowerCase());
  const memo = new Map();
  return (lit) => {
    let c = memo.get(lit);
    if (c === undefined) {
      c = uas.filter((u) => u.includes(lit)).length;
      c = (c + Math.pow(4, 2 - lit.length)) / (uas.length + 1);
      memo.set(lit, c);
    }
    return c;
  };
}

// Strings that contain another of the list are implied by it: dropped.
function minimal(list) {
  const u = [...new Set(list)].sort((a, b) => a.length - b.length);
  return u.filter((x, k) => !u.slice(0, k).some((y) => x.includes(y)));
}

function cross(a, b) {
  const out = new Set();
  for (const x of a) for (const y of b) out.add(x + y);
  return [...out];
}

export function need(re, cost = (lit) => Math.pow(4, -lit.length)) {
  const sum = (l) => l.reduce((a, x) => a + (x.length < MIN_LIT ? Infinity : cost(x)), 0);
  // The cheaper of two needs (null: none).
  const better = (a, b) => (a === null ? b : b === null ? a : sum(b) < sum(a) ? b : a);
  // Bytes, as PCRE2 sees the C string gen.mjs writes (UTF-8).
  const s = Buffer.from(re, "utf8");
  let i = 0;

  const peek = (k = 0) => (i + k < s.length ? s[i + k] : -1);
  const ch = (c) => c.charCodeAt(0);
  const isDigit = (c) => c >= 0x30 && c <= 0x39;
  const isAlnum = (c) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const str = (bytes) => Buffer.from(bytes).toString("latin1");

  // A quantifier at i, consumed: { min, max } (max -1: unbounded), or
  // null when there is none.
  function quantifier() {
    let q;
    const c = peek();
    if (c === ch("?")) q = { min: 0, max: 1 };
    else if (c === ch("*")) q = { min: 0, max: -1 };
    else if (c === ch("+")) q = { min: 1, max: -1 };
    else if (c === ch("{")) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.subarray(i, i + 24).toString("latin1"));
      if (m === null) return null; // a literal "{"
      const min = Number(m[1]);
      q = { min, max: m[2] === undefined ? min : m[3] === "" ? -1 : Number(m[3]) };
      i += m[0].length - 1;
    } else {
      return null;
    }
    i++;
    if (peek() === ch("?") || peek() === ch("+")) i++; // lazy, possessive
    return q;
  }

  // Skips "{...}" at i (\x{..}, \p{..}, \o{..}).
  function braces() {
    if (peek() !== ch("{")) return;
    const end = s.indexOf(ch("}"), i);
    if (end < 0) throw new Unsupported();
    i = end + 1;
  }

  // An escape after "\", consumed: a byte for a literal, or "atom" (a
  // class of bytes or a reference: needs nothing) or "assert" (zero-width).
  function escape() {
    const c = peek();
    if (c < 0) throw new Unsupported();
    i++;
    if (!isAlnum(c)) return c;
    const e = String.fromCharCode(c);
    if ("dDwWsShHvVRNX".includes(e)) return "atom";
    if ("bBAzZGK".includes(e)) return "assert";
    if (e === "p" || e === "P") {
      if (peek() === ch("{")) braces();
      else i++; // \pL
      return "atom";
    }
    if (e === "x") {
      if (peek() === ch("{")) braces();
      else while (/[0-9a-fA-F]/.test(String.fromCharCode(peek()))) i++;
      return "atom";
    }
    if (isDigit(c)) {
      while (isDigit(peek())) i++;
      return "atom";
    }
    if ("tnrfea".includes(e)) return "atom";
    throw new Unsupported(); // \Q, \E, \g, \k, \o, \c, unknown
  }

  // A class after "[", consumed up to its "]": its bytes (lowercased) when
  // they are few plain ones, else null.
  function klass() {
    let bytes = new Set();
    let prev = -1; // the last plain byte, for a range
    if (peek() === ch("^")) {
      bytes = null;
      i++;
    }
    const add = (b) => {
      if (bytes !== null) bytes.add(lower(b));
      prev = b;
    };
    if (peek() === ch("]")) add(s[i++]);
    for (;;) {
      const c = peek();
      if (c < 0) throw new Unsupported();
      i++;
      if (c === ch("]")) break;
      if (c === ch("\\")) {
        const e = peek();
        if (e < 0) throw new Unsupported();
        i++;
        if (!isAlnum(e)) add(e);
        else {
          bytes = null;
          prev = -1;
          if (e === ch("x") || e === ch("p") || e === ch("P") || e === ch("o")) braces();
        }
      } else if (c === ch("[") && (peek() === ch(":") || peek() === ch(".") || peek() === ch("="))) {
        const end = s.indexOf(String.fromCharCode(peek()) + "]", i + 1, "latin1");
        if (end < 0) throw new Unsupported();
        i = end + 2;
        bytes = null;
        prev = -1;
      } else if (c === ch("-") && prev >= 0 && peek() !== ch("]") && peek() !== ch("\\") && peek() !== ch("[")) {
        const hi = s[i++];
        if (hi < prev) throw new Unsupported();
        if (hi - prev > EXACT_MAX) bytes = null;
        for (let b = prev + 1; b <= hi && bytes !== null; b++) add(b);
        prev = -1;
      } else {
        add(c);
      }
    }
    if (bytes === null || bytes.size > EXACT_MAX) return null;
    return [...bytes].map((b) => String.fromCharCode(b));
  }

  // Alternatives up to ")" or the end: { exact, need }.
  function alternation() {
    let exact = [];
    let needs = [];
    for (;;) {
      const b = sequence();
      exact = exact !== null && b.exact !== null ? [...new Set([...exact, ...b.exact])] : null;
      if (exact !== null && exact.length > EXACT_MAX) exact = null;
      needs = needs !== null && b.need !== null ? needs.concat(b.need) : null;
      if (peek() !== ch("|")) break;
      i++;
    }
    return { exact, need: needs === null ? null : minimal(needs) };
  }

  // One branch: { exact, need }.
  function sequence() {
    let best = null;
    let cur = [""]; // the exact strings read since the last break
    let whole = true; // every part so far exact
    const flush = () => {
      if (!cur.includes("")) best = better(best, minimal(cur));
      cur = [""];
    };
    for (;;) {
      const c = peek();
      if (c < 0 || c === ch("|") || c === ch(")")) break;
      i++;
      let part = null; // { exact, need } of a part that consumes bytes
      if (c === ch("\\")) {
        const e = escape();
        if (typeof e === "number") part = { exact: [String.fromCharCode(lower(e))], need: null };
        else if (e === "atom") part = { exact: null, need: null };
      } else if (c === ch("[")) {
        part = { exact: klass(), need: null };
      } else if (c === ch(".")) {
        part = { exact: null, need: null };
      } else if (c === ch("^") || c === ch("$")) {
        // zero-width
      } else if (c === ch("(")) {
        let look = false;
        if (peek() === ch("*")) throw new Unsupported(); // (*VERB)
        if (peek() === ch("?")) {
          i++;
          const g = s.subarray(i, i + 3).toString("latin1");
          if (g.startsWith(":") || g.startsWith(">") || g.startsWith("|")) i += 1;
          else if (g.startsWith("=") || g.startsWith("!")) (look = true), (i += 1);
          else if (g.startsWith("<=") || g.startsWith("<!")) (look = true), (i += 2);
          else if (g.startsWith("#")) {
            const end = s.indexOf(ch(")"), i);
            if (end < 0) throw new Unsupported();
            i = end + 1;
            whole = false;
            flush();
            continue;
          } else if (/^(P?<|')[A-Za-z_]/.test(g)) {
            const end = s.indexOf(g[0] === "'" ? ch("'") : ch(">"), i + 1);
            if (end < 0) throw new Unsupported();
            i = end + 1;
          } else {
            const m = /^[imsnUJ^-]*([:)])/.exec(s.subarray(i, i + 16).toString("latin1"));
            if (m === null) throw new Unsupported();
            i += m[0].length;
            if (m[1] === ")") {
              whole = false; // options: a break
              flush();
              continue;
            }
          }
        }
        const inner = alternation();
        if (peek() !== ch(")")) throw new Unsupported();
        i++;
        if (!look) part = inner;
      } else if (c === ch("{") && /^\{\d+(,\d*)?\}/.test(s.subarray(i - 1, i + 23).toString("latin1"))) {
        throw new Unsupported(); // a quantifier with nothing before it
      } else if (c === ch("*") || c === ch("+") || c === ch("?")) {
        throw new Unsupported();
      } else {
        part = { exact: [String.fromCharCode(lower(c))], need: null };
      }
      const q = quantifier();
      if (part === null) {
        // zero-width (a quantifier on it makes it optional): a break
        whole = false;
        flush();
        continue;
      }
      let { exact, need: pneed } = part;
      if (exact !== null && pneed === null && !exact.includes("")) pneed = minimal(exact);
      if (q !== null && !(q.min === 1 && q.max === 1)) {
        if (q.min === 0 && q.max === 1 && exact !== null) {
          exact = [...new Set(["", ...exact])];
        } else if (q.min === 0) {
          exact = null;
          pneed = null;
        } else if (exact !== null) {
          // At least once: the first copy ends what came before, the
          // last starts what follows.
          const first = cross(cur, exact);
          if (first.length > EXACT_MAX) flush();
          cur = first.length <= EXACT_MAX ? first : exact;
          flush();
          whole = false;
          cur = exact;
          continue;
        } else {
          exact = null;
        }
      }
      if (exact !== null) {
        const next = cross(cur, exact);
        if (next.length <= EXACT_MAX) {
          cur = next;
          continue;
        }
        flush();
        whole = false;
        cur = exact;
        continue;
      }
      whole = false;
      flush();
      best = better(best, pneed);
    }
    const exact = whole ? cur : null;
    flush();
    return { exact, need: best };
  }

  try {
    const r = alternation();
    if (i !== s.length) return null; // an unmatched ")": PCRE2 refuses it
    if (r.need === null || r.need.some((x) => x.length < MIN_LIT)) return null;
    return r.need;
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}
