/*
 * haze dashboard: goals, page groups, declared pairs and access times
 * (issue 11). app.js announces every (re)load with a "haze:load" event; the
 * panels here answer it through POST /api/v2/query. A click on a row sets
 * one filter chip (kept in the URL's #f=PROP==VALUE); each panel then asks
 * with that filter, and a panel that no declared pair covers shows the
 * API's 400 (which names the "crosstab =" line to add) instead of numbers.
 * As in app.js, tracked values are only ever set as text.
 */
(function () {
  'use strict';

  var S = { ctx: null, filter: null, seq: 0 };
  var DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined) n.setAttribute(k, String(attrs[k]));
    });
    (Array.isArray(children) ? children : [children]).forEach(function (c) {
      if (c === null || c === undefined) return;
      n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function note(box, text, cls) { clear(box); box.appendChild(el('div', { class: cls || 'empty-note' }, text)); }
  var nf = new Intl.NumberFormat('en');
  function num(v) { return v === null || v === undefined ? '–' : nf.format(v); }
  function pct(v) { return v === null || v === undefined ? '–' : Number(v).toFixed(1) + '%'; }

  /* ------------------------------------------------------------ API */

  function range() {
    var c = S.ctx;
    if (c.period === 'custom') return [c.from, c.to];
    return c.period;
  }

  function query(body) {
    body.site_id = S.ctx.site.site_id;
    body.date_range = range();
    return fetch('/api/v2/query', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) throw new Error(b && b.error ? b.error : 'HTTP ' + r.status);
        return b;
      });
    });
  }

  /* The chip's filter for a panel, unless the panel's own dimension is the
   * chip's property (then it highlights instead). */
  function filters(ownProp) {
    if (!S.filter || S.filter.prop === ownProp) return [];
    return [['is', S.filter.prop, [S.filter.value]]];
  }

  /* ------------------------------------------------------------ chip */

  function readFilter() {
    var f = new URLSearchParams(location.hash.slice(1)).get('f');
    var m = f ? /^((?:event|visit):[a-z_]+)==(.+)$/.exec(f) : null;
    S.filter = m ? { prop: m[1], value: m[2] } : null;
  }

  function writeFilter() {
    var p = new URLSearchParams(location.hash.slice(1));
    if (S.filter) p.set('f', S.filter.prop + '==' + S.filter.value);
    else p.delete('f');
    history.replaceState(null, '', '#' + p.toString());
  }

  /* app.js reloads its tables and the funnel with the chip, then
   * announces haze:load, which renders these panels. */
  function setFilter(prop, value) {
    S.filter = value === null ? null : { prop: prop, value: value };
    writeFilter();
    document.dispatchEvent(new CustomEvent('haze:chip'));
  }

  function drawChips() {
    var box = $('chips');
    clear(box);
    if (!S.filter) return;
    var x = el('button', { type: 'button', 'aria-label': 'Remove filter', class: 'chip-x' }, '×');
    x.addEventListener('click', function () { setFilter(null, null); });
    box.appendChild(el('span', { class: 'chip', 'data-prop': S.filter.prop },
      [S.filter.prop + ' is ' + S.filter.value, x]));
  }

  /* ------------------------------------------------------------ tables */

  /* A small table: cols = [[key, label, fmt]], rows from a v2 answer whose
   * first dimension is the row's value. onClick(value) makes rows clickable. */
  function table(box, res, label, cols, onClick) {
    clear(box);
    if (!res.results.length) { note(box, 'No data for this period'); return; }
    var head = el('tr', null, [el('th', { scope: 'col' }, label)].concat(cols.map(function (c) {
      return el('th', { scope: 'col' }, c[1]);
    })));
    var body = el('tbody');
    res.results.forEach(function (r) {
      var v = r.dimensions[0];
      var tr = el('tr', { class: v === '(other)' ? 'other' : (onClick ? 'clickable' : null), 'data-value': v },
        [el('td', { class: 'name', title: v }, el('span', { class: 'txt' }, v))]);
      cols.forEach(function (c, i) { tr.appendChild(el('td', { 'data-metric': c[0] }, c[2](r.metrics[i]))); });
      if (onClick && v !== '(other)') tr.addEventListener('click', function () { onClick(v); });
      body.appendChild(tr);
    });
    box.appendChild(el('table', null, [el('thead', null, head), body]));
    if (res.meta && res.meta.pair_since) {
      var c = S.ctx, first = c.period === 'custom' ? c.from : null;
      if (first === null || res.meta.pair_since > first)
        box.appendChild(el('div', { class: 'pair-note' }, 'Cross-tab data from ' + res.meta.pair_since + '.'));
    }
  }

  function failed(box, e) { note(box, e.message, 'empty-note pair-missing'); }

  /* True (after saying so in box) when the chip's property and own are not
   * a declared pair: the panel shows no unfiltered numbers then. The API
   * would answer the same with a 400; asking it is not needed. */
  function uncovered(box, own) {
    if (!S.filter || S.filter.prop === own || hasPair(S.filter.prop, own)) return false;
    note(box, 'No declared pair covers ' + S.filter.prop + ' with ' + own + '; add "crosstab = ' +
      S.filter.prop + ' x ' + own + '" to the site in haze.ini to answer it.', 'empty-note pair-missing');
    return true;
  }

  function loadGoals(seq) {
    var box = $('goals');
    var site = S.ctx.site;
    if (!(site.goals || []).length) { note(box, 'No goal is configured (goal = Signup or goal = /thanks* in haze.ini).'); return; }
    var own = 'event:goal';
    if (uncovered(box, own)) return;
    return query({ metrics: ['visitors', 'events', 'conversion_rate'], dimensions: [own], filters: filters(own) })
      .then(function (res) {
        if (seq !== S.seq) return;
        table(box, res, 'Goal', [['visitors', 'Visitors', num], ['events', 'Completions', num],
          ['conversion_rate', 'Conversion', pct]], function (v) { setFilter(own, v); });
      }, function (e) { if (seq === S.seq) failed(box, e); });
  }

  function loadSources(seq) {
    var box = $('isources');
    var own = 'visit:source';
    if (uncovered(box, own)) return;
    var goal = S.filter && S.filter.prop === 'event:goal';
    var metrics = goal ? ['visitors', 'conversion_rate'] : ['visitors'];
    var cols = goal ? [['visitors', 'Converted', num], ['conversion_rate', 'Conversion', pct]]
      : [['visitors', 'Visitors', num]];
    return query({ metrics: metrics, dimensions: [own], filters: filters(own),
      pagination: { limit: 10 } })
      .then(function (res) {
        if (seq !== S.seq) return;
        table(box, res, 'Source', cols, function (v) { setFilter(own, v); });
      }, function (e) { if (seq === S.seq) failed(box, e); });
  }

  function loadGroups(seq) {
    var box = $('groups');
    if (!(S.ctx.site.groups || []).length) { note(box, 'No page group is configured (group = Name: /path* in haze.ini).'); return; }
    var own = 'event:group';
    if (uncovered(box, own)) return;
    var plain = !S.filter || S.filter.prop === own;
    var metrics = plain ? ['visitors', 'pageviews', 'bounce_rate'] : ['visitors', 'pageviews'];
    var cols = [['visitors', 'Visitors', num], ['pageviews', 'Pageviews', num]];
    if (plain) cols.push(['bounce_rate', 'Bounce', function (v) { return v === null ? '–' : v + '%'; }]);
    return query({ metrics: metrics, dimensions: [own], filters: filters(own) })
      .then(function (res) {
        if (seq !== S.seq) return;
        table(box, res, 'Group', cols, function (v) { setFilter(own, v); });
      }, function (e) { if (seq === S.seq) failed(box, e); });
  }

  /* ------------------------------------------------------------ heatmap */

  function loadHeat(seq) {
    var box = $('heat');
    if (S.filter) {
      note(box, 'Hour rows are site totals: this panel cannot be filtered by ' + S.filter.prop +
        '. Remove the filter to see it.', 'empty-note pair-missing');
      return;
    }
    var metric = $('heat-metric').value;
    return query({ metrics: [metric], dimensions: ['time:weekday', 'time:hour_of_day'] }).then(function (res) {
      if (seq !== S.seq) return;
      clear(box);
      var grid = {}, max = 0;
      res.results.forEach(function (r) {
        var v = r.metrics[0] || 0;
        grid[r.dimensions[0] + ':' + r.dimensions[1]] = v;
        max = Math.max(max, v);
      });
      box.appendChild(el('span'));
      for (var h = 0; h < 24; h++) box.appendChild(el('span', { class: 'hh' }, h % 6 === 0 ? String(h) : ''));
      for (var d = 1; d <= 7; d++) {
        box.appendChild(el('span', { class: 'hl' }, DAYS[d - 1]));
        for (var hr = 0; hr < 24; hr++) {
          var v = grid[d + ':' + hr] || 0;
          var c = el('span', { class: 'hc', 'data-day': d, 'data-hour': hr, 'data-value': v,
            title: DAYS[d - 1] + ' ' + (hr < 10 ? '0' : '') + hr + ':00 · ' + num(v) + ' ' + metric });
          c.style.opacity = max ? (0.06 + 0.94 * v / max).toFixed(3) : '0.06';
          box.appendChild(c);
        }
      }
    }, function (e) { if (seq === S.seq) failed(box, e); });
  }

  /* ------------------------------------------------------------ demand */

  function liftClass(l) {
    if (l === null) return 'lift-2';
    if (l < 0.5) return 'lift-0';
    if (l < 0.85) return 'lift-1';
    if (l <= 1.15) return 'lift-2';
    if (l <= 1.5) return 'lift-3';
    if (l <= 2.5) return 'lift-4';
    return 'lift-5';
  }

  function hasPair(a, b) {
    return (S.ctx.site.pairs || []).some(function (p) {
      return (p[0] === a && p[1] === b) || (p[0] === b && p[1] === a);
    });
  }

  function loadDemand(seq) {
    var box = $('demand');
    var what = hasPair('event:group', 'visit:region') ? 'event:group'
      : hasPair('event:page', 'visit:region') ? 'event:page' : null;
    if (!what) {
      note(box, 'No declared pair covers this panel: add "crosstab = event:group x visit:region" to the site in haze.ini.',
        'empty-note pair-missing');
      return;
    }
    var fl = S.filter && (S.filter.prop === what || S.filter.prop === 'visit:region')
      ? [['is', S.filter.prop, [S.filter.value]]] : [];
    if (S.filter && !fl.length) {
      note(box, 'No declared pair covers ' + S.filter.prop + ' with ' + what + ' x visit:region: this panel cannot be filtered by it.',
        'empty-note pair-missing');
      return;
    }
    return query({ metrics: ['visitors', 'lift'], dimensions: [what, 'visit:region'], filters: fl,
      pagination: { limit: 1000 } }).then(function (res) {
      if (seq !== S.seq) return;
      clear(box);
      var cols = [], rows = [], cell = {}, other = null, rtot = {};
      res.results.forEach(function (r) {
        var g = r.dimensions[0], reg = r.dimensions[1];
        if (g === '(other)') { other = r; return; }
        if (cols.indexOf(g) < 0) cols.push(g);
        if (rows.indexOf(reg) < 0) rows.push(reg);
        cell[g + '\u0000' + reg] = r;
        rtot[reg] = (rtot[reg] || 0) + (r.metrics[0] || 0);
      });
      if (!rows.length && !other) { note(box, 'No data for this period'); return; }
      rows.sort(function (a, b) { return rtot[b] - rtot[a] || (a < b ? -1 : 1); });
      var head = el('tr', null, [el('th', { scope: 'col' }, 'Region')]);
      cols.forEach(function (g) {
        var b = el('button', { type: 'button' }, g);
        b.addEventListener('click', function () { setFilter(what, g); });
        head.appendChild(el('th', { scope: 'col' }, b));
      });
      var body = el('tbody');
      rows.forEach(function (reg) {
        var b = el('button', { type: 'button' }, reg);
        b.addEventListener('click', function () { setFilter('visit:region', reg); });
        var tr = el('tr', { 'data-region': reg }, el('td', { class: 'region' }, b));
        cols.forEach(function (g) {
          var r = cell[g + '\u0000' + reg];
          if (!r) { tr.appendChild(el('td', { class: 'cell folded', 'data-group': g, title: 'no cell above the threshold' }, '·')); return; }
          var lift = r.metrics[1];
          tr.appendChild(el('td', { class: 'cell ' + liftClass(lift), 'data-group': g, 'data-lift': lift === null ? '' : lift,
            title: num(r.metrics[0]) + ' visitors · lift ' + (lift === null ? '–' : Number(lift).toFixed(2)) },
            num(r.metrics[0])));
        });
        body.appendChild(tr);
      });
      box.appendChild(el('table', null, [el('thead', null, head), body]));
      if (other) {
        box.appendChild(el('div', { class: 'pair-note folded-cells' },
          'Folded: ' + (other.metrics[0] === null ? 'a cell' : num(other.metrics[0]) + ' visitors in cells') +
          ' under ' + S.ctx.minVisitors + ' visitors (shown as ·) are grouped as (other).'));
      }
      if (res.meta && res.meta.pair_since)
        box.appendChild(el('div', { class: 'pair-note' }, 'Cross-tab data from ' + res.meta.pair_since + '.'));
    }, function (e) { if (seq === S.seq) failed(box, e); });
  }

  /* ------------------------------------------------------------ loading */

  function render() {
    if (!S.ctx) return;
    S.seq++;
    drawChips();
    var seq = S.seq;
    [loadGoals, loadSources, loadGroups, loadHeat, loadDemand].forEach(function (f) { f(seq); });
  }

  document.addEventListener('haze:load', function (e) {
    S.ctx = e.detail;
    readFilter();
    render();
  });
  document.addEventListener('DOMContentLoaded', function () {
    $('heat-metric').addEventListener('change', function () { S.seq++; loadHeat(S.seq); });
  });
})();
