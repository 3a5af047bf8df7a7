/*
 * haze dashboard. Every string that comes from tracked traffic (page paths,
 * referrers, UTM values, event names) is attacker-controlled: it is only ever
 * inserted with textContent or as an attribute value set through the DOM,
 * never parsed as HTML (no HTML-string APIs at all), and there is no inline
 * script or style (CSP).
 */
(function () {
  'use strict';

  var SVGNS = 'http://www.w3.org/2000/svg';
  var state = {
    sites: [], site: null, period: '30d', from: '', to: '', compare: true,
    minVisitors: 5, pages: [], realtimeTimer: null, seq: 0
  };

  /* ------------------------------------------------------------ DOM helpers */

  function $(id) { return document.getElementById(id); }

  /* el('td', {class: 'name'}, [child, 'text']) - text children become text nodes. */
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    setAttrs(n, attrs);
    append(n, children);
    return n;
  }

  function svg(tag, attrs, children) {
    var n = document.createElementNS(SVGNS, tag);
    setAttrs(n, attrs);
    append(n, children);
    return n;
  }

  function setAttrs(n, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined) n.setAttribute(k, String(attrs[k]));
    });
  }

  function append(n, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined) return;
      n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
  }

  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }

  /* ------------------------------------------------------------ formatting */

  var nf = new Intl.NumberFormat('en');
  function fmtNum(v) {
    if (v === null || v === undefined) return '–';
    if (Math.abs(v) >= 100000) return (v / 1000).toFixed(0) + 'k';
    if (Math.abs(v) >= 10000) return (v / 1000).toFixed(1) + 'k';
    return nf.format(v);
  }
  function fmtDur(s) {
    if (s === null || s === undefined) return '–';
    s = Math.round(s);
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
  }
  function fmtPct(v) { return v === null || v === undefined ? '–' : v + '%'; }
  var FORMAT = {
    visitors: fmtNum, visits: fmtNum, pageviews: fmtNum, events: fmtNum,
    bounce_rate: fmtPct, exit_rate: fmtPct, visit_duration: fmtDur,
    time_on_page: fmtDur, time_on_page_median: fmtDur, time_on_page_p75: fmtDur,
    views_per_visit: function (v) { return v === null ? '–' : Number(v).toFixed(2); }
  };
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function fmtDay(iso) {
    var p = iso.split(' ')[0].split('-');
    return MONTHS[Number(p[1]) - 1] + ' ' + Number(p[2]);
  }
  function fmtLabel(iso, hourly) {
    if (hourly) return iso.slice(11, 16);
    return fmtDay(iso);
  }
  /* Empty values are real (direct traffic, unknown region): name them. */
  function valueText(v, prop) {
    if (v === '') return prop === 'visit:source' ? 'Direct / none' : '(none)';
    return v;
  }

  /* ------------------------------------------------------------ API */

  function baseParams(extra) {
    var p = new URLSearchParams();
    p.set('site_id', state.site.site_id);
    p.set('period', state.period);
    if (state.period === 'custom') p.set('date', state.from + ',' + state.to);
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    return p;
  }

  function api(path, params) {
    var url = path + (params ? '?' + params.toString() : '');
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (r.status === 401) { showLogin(false); throw new Error('unauthorized'); }
        showWaiting(r);
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body && body.error ? body.error : 'HTTP ' + r.status);
          return body;
        });
      });
  }

  /* The dashboard started before the aggregator wrote anything: every
   * answer is empty and carries X-Haze-Store: waiting. */
  function showWaiting(r) {
    $('waiting').hidden = r.headers.get('X-Haze-Store') !== 'waiting';
  }

  function setStatus(msg) { $('status').textContent = msg || ''; }

  /* ------------------------------------------------------------ login */

  function showLogin(failed, expired) {
    $('app').hidden = true;
    $('controls').hidden = true;
    $('login').hidden = false;
    $('login-error').hidden = !failed;
    $('login-expired').hidden = !expired;
    $('token').focus();
  }

  /* ------------------------------------------------------------ access log */

  /* Admin tokens read GET /api/v1/audit; others get 403 and never see the card. */
  var AUDIT_COLS = [['time', 'Time (UTC)'], ['event', 'Event'], ['token', 'Token'], ['client', 'Client'],
    ['method', 'Method'], ['endpoint', 'Endpoint'], ['site', 'Site'], ['status', 'Status'], ['rows', 'Rows']];

  function loadAudit() {
    return fetch('/api/v1/audit', { credentials: 'same-origin' }).then(function (r) {
      if (r.status !== 200) { $('audit-card').hidden = true; return null; }
      return r.json();
    }).then(function (res) {
      if (!res) return;
      var box = $('audit');
      clear(box);
      var rows = res.results.slice(-200).reverse();
      var head = el('tr', null, AUDIT_COLS.map(function (c) { return el('th', null, c[1]); }));
      var body = el('tbody', null, rows.map(function (e) {
        return el('tr', null, AUDIT_COLS.map(function (c) {
          var v = e[c[0]];
          if (c[0] === 'time' && typeof v === 'string') v = v.replace('T', ' ').replace(/\.\d+Z$/, '');
          return el('td', null, v === null || v === undefined ? '' : String(v));
        }));
      }));
      box.appendChild(el('table', { class: 'audit-table' }, [el('thead', null, [head]), body]));
      $('audit-card').hidden = false;
    }).catch(function () { $('audit-card').hidden = true; });
  }

  /* ------------------------------------------------------------ KPIs */

  var KPIS = [
    ['visitors', 'Unique visitors'], ['visits', 'Visits'], ['pageviews', 'Pageviews'],
    ['bounce_rate', 'Bounce rate'], ['visit_duration', 'Visit duration'],
    ['time_on_page_median', 'Time on page (median)']
  ];

  function renderKpis(res) {
    var box = $('kpis');
    clear(box);
    KPIS.forEach(function (k) {
      var m = res[k[0]] || { value: null };
      var change = null;
      if (state.compare && m.change !== undefined) {
        var c = m.change;
        var cls = 'change';
        var txt = 'no earlier data';
        if (c !== null) {
          /* A lower bounce rate is the good direction. */
          var good = k[0] === 'bounce_rate' ? c < 0 : c > 0;
          if (c !== 0) cls += good ? ' up' : ' down';
          var unit = k[0] === 'bounce_rate' ? ' pts' : '%';
          txt = (c > 0 ? '▲ ' : c < 0 ? '▼ ' : '') + Math.abs(c) + unit + ' vs previous';
        }
        change = el('div', { class: cls }, txt);
      }
      box.appendChild(el('div', { class: 'card kpi', 'data-metric': k[0] }, [
        el('div', { class: 'label' }, k[1]),
        el('div', { class: 'value' }, (FORMAT[k[0]] || fmtNum)(m.value)),
        change
      ]));
    });
  }

  /* ------------------------------------------------------------ chart */

  function niceMax(v) {
    if (v <= 4) return 4;
    var exp = Math.pow(10, Math.floor(Math.log10(v)));
    var f = v / exp;
    var nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * exp;
  }

  var chartData = null;
  function renderChart(rows, hourly) {
    chartData = { rows: rows, hourly: hourly };
    drawChart();
  }

  function drawChart() {
    var box = $('chart');
    var tip = $('chart-tip');
    clear(box);
    tip.hidden = true;
    if (!chartData) return;
    var rows = chartData.rows, hourly = chartData.hourly;
    var W = Math.max(box.clientWidth, 280), H = box.clientHeight || 260;
    var m = { l: 44, r: 12, t: 12, b: 28 };
    var iw = W - m.l - m.r, ih = H - m.t - m.b;
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
      'aria-label': 'Visitors and pageviews over the period' });
    box.appendChild(root);
    if (!rows.length) {
      root.appendChild(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'No data for this period'));
      return;
    }
    var max = 0;
    rows.forEach(function (r) { max = Math.max(max, r.visitors || 0, r.pageviews || 0); });
    var ymax = niceMax(max);
    var n = rows.length;
    function x(i) { return m.l + (n === 1 ? iw / 2 : (i * iw) / (n - 1)); }
    function y(v) { return m.t + ih - (v / ymax) * ih; }

    /* Gridlines and y ticks. */
    var g = svg('g');
    for (var t = 0; t <= 4; t++) {
      var v = (ymax * t) / 4, yy = y(v);
      g.appendChild(svg('line', { x1: m.l, x2: W - m.r, y1: yy, y2: yy, class: t === 0 ? 'axis' : 'gridline' }));
      g.appendChild(svg('text', { x: m.l - 8, y: yy + 4, 'text-anchor': 'end', class: 'tick' }, fmtNum(v)));
    }
    /* X ticks: as many as fit. */
    var every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(iw / 70))));
    for (var i = 0; i < n; i += every) {
      g.appendChild(svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'tick' },
        fmtLabel(rows[i].date, hourly)));
    }
    root.appendChild(g);

    function path(key) {
      return rows.map(function (r, i) { return (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(r[key] || 0).toFixed(1); }).join(' ');
    }
    var area = path('visitors') + ' L' + x(n - 1).toFixed(1) + ' ' + y(0) + ' L' + x(0).toFixed(1) + ' ' + y(0) + ' Z';
    root.appendChild(svg('path', { d: area, class: 'area' }));
    root.appendChild(svg('path', { d: path('pageviews'), class: 'line-pageviews' }));
    root.appendChild(svg('path', { d: path('visitors'), class: 'line-visitors' }));
    if (n <= 40) {
      rows.forEach(function (r, i) {
        root.appendChild(svg('circle', { cx: x(i), cy: y(r.visitors || 0), r: 3, class: 'dot-visitors' }));
      });
    }

    /* Hover: a guide line, two markers and a tooltip at the nearest point. */
    var guide = svg('line', { x1: 0, x2: 0, y1: m.t, y2: m.t + ih, class: 'hover-line', visibility: 'hidden' });
    var mv = svg('circle', { r: 4.5, class: 'dot-visitors', visibility: 'hidden' });
    var mp = svg('circle', { r: 4, class: 'dot-pageviews', visibility: 'hidden' });
    var overlay = svg('rect', { x: m.l, y: m.t, width: iw, height: ih, class: 'overlay' });
    root.appendChild(guide);
    root.appendChild(mp);
    root.appendChild(mv);
    root.appendChild(overlay);

    function hover(evt) {
      var rect = root.getBoundingClientRect();
      var px = ((evt.clientX - rect.left) / rect.width) * W;
      var i = n === 1 ? 0 : Math.round(((px - m.l) / iw) * (n - 1));
      i = Math.max(0, Math.min(n - 1, i));
      var r = rows[i];
      [guide].forEach(function (l) { l.setAttribute('x1', x(i)); l.setAttribute('x2', x(i)); l.setAttribute('visibility', 'visible'); });
      mv.setAttribute('cx', x(i)); mv.setAttribute('cy', y(r.visitors || 0)); mv.setAttribute('visibility', 'visible');
      mp.setAttribute('cx', x(i)); mp.setAttribute('cy', y(r.pageviews || 0)); mp.setAttribute('visibility', 'visible');
      clear(tip);
      append(tip, [
        el('div', { class: 'tip-date' }, hourly ? fmtDay(r.date) + ', ' + r.date.slice(11, 16) : fmtDay(r.date) + ' ' + r.date.slice(0, 4)),
        el('div', { class: 'tip-row tip-visitors' }, fmtNum(r.visitors) + ' visitors'),
        el('div', { class: 'tip-row tip-pageviews' }, fmtNum(r.pageviews) + ' pageviews')
      ]);
      tip.hidden = false;
      var card = box.parentNode.getBoundingClientRect();
      var left = rect.left - card.left + (x(i) / W) * rect.width + 12;
      if (left + tip.offsetWidth > card.width - 8) left -= tip.offsetWidth + 24;
      tip.style.left = Math.max(4, left) + 'px';
      tip.style.top = (rect.top - card.top + (y(r.visitors || 0) / H) * rect.height - 20) + 'px';
    }
    function leave() {
      tip.hidden = true;
      [guide, mv, mp].forEach(function (e) { e.setAttribute('visibility', 'hidden'); });
    }
    overlay.addEventListener('mousemove', hover);
    overlay.addEventListener('touchstart', function (e) { if (e.touches[0]) hover(e.touches[0]); }, { passive: true });
    overlay.addEventListener('mouseleave', leave);
  }

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawChart, 120);
  });

  /* ------------------------------------------------------------ tables */

  var LABELS = {
    visitors: 'Visitors', visits: 'Visits', pageviews: 'Pageviews', bounce_rate: 'Bounce',
    visit_duration: 'Duration', time_on_page_median: 'Time on page', exit_rate: 'Exit rate',
    events: 'Events', views_per_visit: 'Views/visit', time_on_page_p75: 'p75 time'
  };

  var CARDS = [
    { title: 'Pages', tabs: [
      { label: 'Top pages', prop: 'event:page', col: 'Page',
        metrics: ['visitors', 'pageviews', 'time_on_page_median', 'bounce_rate', 'exit_rate'] },
      { label: 'Entry pages', prop: 'visit:entry_page', col: 'Entry page',
        metrics: ['visitors', 'visits', 'bounce_rate', 'visit_duration'] },
      { label: 'Exit pages', prop: 'visit:exit_page', col: 'Exit page',
        metrics: ['visitors', 'visits', 'exit_rate'], rename: { visits: 'Exits' } }
    ] },
    { title: 'Sources', tabs: [
      { label: 'Sources', prop: 'visit:source', col: 'Source', metrics: ['visitors', 'visits', 'bounce_rate', 'visit_duration'] },
      { label: 'Campaigns', prop: 'visit:utm_campaign', col: 'UTM campaign', metrics: ['visitors', 'visits', 'bounce_rate'] },
      { label: 'UTM source', prop: 'visit:utm_source', col: 'UTM source', metrics: ['visitors', 'visits', 'bounce_rate'] },
      { label: 'UTM medium', prop: 'visit:utm_medium', col: 'UTM medium', metrics: ['visitors', 'visits', 'bounce_rate'] }
    ] },
    { title: 'Locations', tabs: [
      { label: 'Regions', prop: 'visit:region', col: 'Region', metrics: ['visitors', 'visits', 'bounce_rate'] },
      { label: 'Countries', prop: 'visit:country', col: 'Country', metrics: ['visitors', 'visits', 'bounce_rate'] }
    ] },
    { title: 'Technology', tabs: [
      { label: 'Browsers', prop: 'visit:browser', col: 'Browser', metrics: ['visitors', 'visits', 'bounce_rate'] },
      { label: 'OS', prop: 'visit:os', col: 'Operating system', metrics: ['visitors', 'visits', 'bounce_rate'] },
      /* Major versions under their family; a family chip (click a browser
       * or an OS) drills into that family's versions. */
      { label: 'Browser versions', prop: 'visit:browser_version', fam: 'visit:browser', col: 'Browser version',
        metrics: ['visitors', 'visits', 'bounce_rate'] },
      { label: 'OS versions', prop: 'visit:os_version', fam: 'visit:os', col: 'OS version',
        metrics: ['visitors', 'visits', 'bounce_rate'] },
      { label: 'Devices', prop: 'visit:device', col: 'Device', metrics: ['visitors', 'visits', 'bounce_rate'] }
    ] },
    { title: 'Custom events', tabs: [
      { label: 'Events', prop: 'event:name', col: 'Event', metrics: ['visitors', 'events'] }
    ] }
  ];

  function buildCards() {
    var grid = $('tables');
    clear(grid);
    CARDS.forEach(function (card, ci) {
      card.active = card.active || 0;
      var tabs = el('div', { class: 'tabs', role: 'tablist' });
      var csv = el('a', { class: 'csv', href: '#', download: '' }, 'CSV');
      var body = el('div', { class: 'table-wrap' });
      var note = el('div', { class: 'folded-note' });
      card.tabs.forEach(function (t, ti) {
        var b = el('button', { class: 'tab', role: 'tab', type: 'button', 'aria-selected': ti === card.active ? 'true' : 'false' }, t.label);
        b.addEventListener('click', function () {
          card.active = ti;
          Array.prototype.forEach.call(tabs.children, function (c, k) { c.setAttribute('aria-selected', k === ti ? 'true' : 'false'); });
          loadTable(card);
        });
        if (card.tabs.length > 1) tabs.appendChild(b);
      });
      var sec = el('section', { class: 'card', id: 'card-' + ci, 'data-card': card.title }, [
        el('div', { class: 'card-head' }, [el('h2', null, card.title), tabs, csv]),
        body, note
      ]);
      card.node = { body: body, csv: csv, note: note };
      grid.appendChild(sec);
    });
    /* Filtered traffic pairs with the last table in the grid. */
    grid.appendChild($('filtered-card'));
  }

  /* The click-to-filter chip (insights.js keeps it in the URL as #f=PROP==VALUE). */
  function chip() {
    var f = new URLSearchParams(location.hash.slice(1)).get('f');
    var m = f ? /^((?:event|visit):[a-z_]+)==(.+)$/.exec(f) : null;
    return m ? { prop: m[1], value: m[2] } : null;
  }
  function chipPairs(a, b) {
    return (state.site.pairs || []).some(function (p) { return (p[0] === a && p[1] === b) || (p[0] === b && p[1] === a); });
  }

  function loadTable(card) {
    var t = card.tabs[card.active];
    var seq = state.seq;
    var c = chip();
    if (c && c.prop !== t.prop && c.prop !== t.fam) {
      /* A table no declared pair covers says so instead of showing unfiltered numbers. */
      clear(card.node.body);
      card.node.note.textContent = '';
      var pairOk = chipPairs(c.prop, t.prop);
      if (!pairOk) {
        card.node.body.appendChild(el('div', { class: 'empty-note pair-missing' },
          'No declared pair covers ' + c.prop + ' with ' + t.prop + '; add "crosstab = ' + c.prop + ' x ' + t.prop + '" to the site in haze.ini to answer it.'));
        return Promise.resolve();
      }
      t = { label: t.label, prop: t.prop, col: t.col, metrics: ['visitors', 'visits'], rename: t.rename };
    }
    var extra = { property: t.prop, metrics: t.metrics.join(','), limit: '100' };
    if (c && c.prop !== t.prop) extra.filters = c.prop + '==' + c.value;
    var params = baseParams(extra);
    var csvParams = baseParams(Object.assign({}, extra, { limit: '1000', format: 'csv' }));
    card.node.csv.setAttribute('href', '/api/v1/stats/breakdown?' + csvParams.toString());
    return api('/api/v1/stats/breakdown', params).then(function (res) {
      if (seq !== state.seq) return;
      t.rows = res.results;
      t.sort = t.sort || { key: 'visitors', desc: true };
      drawTable(card, t);
      card.node.note.textContent = res.folded > 0
        ? res.folded + ' rows with fewer than ' + state.minVisitors + ' visitors are grouped as (other).'
        : '';
      if (t.prop === 'event:page') {
        state.pages = res.results.filter(function (r) { return r.page !== '(other)'; }).map(function (r) { return r.page; });
        fillPathPicker();
      }
    });
  }

  function drawTable(card, t) {
    var body = card.node.body;
    clear(body);
    var key = t.prop.split(':')[1];
    if (key === 'name') key = 'name';
    var rows = t.rows.slice();
    if (!rows.length) {
      body.appendChild(el('div', { class: 'empty-note' }, 'No data for this period'));
      return;
    }
    var s = t.sort;
    rows.sort(function (a, b) {
      var ao = a[key] === '(other)', bo = b[key] === '(other)';
      if (ao !== bo) return ao ? 1 : -1;
      var x = a[s.key], y = b[s.key];
      if (s.key === key) { x = String(x); y = String(y); return s.desc ? y.localeCompare(x) : x.localeCompare(y); }
      x = x === null ? -Infinity : x; y = y === null ? -Infinity : y;
      return s.desc ? y - x : x - y;
    });
    var maxV = 1;
    rows.forEach(function (r) { maxV = Math.max(maxV, r.visitors || 0); });
    var head = el('tr');
    [key].concat(t.metrics).forEach(function (k, idx) {
      var label = idx === 0 ? t.col : ((t.rename && t.rename[k]) || LABELS[k] || k);
      var th = el('th', { scope: 'col', 'aria-sort': s.key === k ? (s.desc ? 'descending' : 'ascending') : 'none' });
      var b = el('button', { type: 'button' }, label);
      b.addEventListener('click', function () {
        t.sort = { key: k, desc: s.key === k ? !s.desc : idx !== 0 };
        drawTable(card, t);
      });
      th.appendChild(b);
      head.appendChild(th);
    });
    var tbody = el('tbody');
    rows.forEach(function (r) {
      var bar = el('span', { class: 'bar' });
      bar.style.width = Math.max(0.5, ((r.visitors || 0) / maxV) * 100).toFixed(1) + '%';
      var v = r[key];
      /* A version row names its family: "Chrome 131", "Chrome (other)". */
      var shown = t.fam && r[t.fam.split(':')[1]] !== v ? r[t.fam.split(':')[1]] + ' ' + v : valueText(v, t.prop);
      var txt = el('span', { class: 'txt' + (v === '' ? ' none' : '') }, shown);
      var tr = el('tr', { class: v === '(other)' ? 'other' : t.fam ? 'version' : 'clickable', 'data-value': v }, [el('td', { class: 'name', title: shown }, [bar, txt])]);
      if (v !== '(other)' && t.prop !== 'visit:exit_page' && !t.fam) {
        tr.addEventListener('click', function () { setChip(t.prop, v); });
      }
      t.metrics.forEach(function (mk) { tr.appendChild(el('td', null, (FORMAT[mk] || fmtNum)(r[mk]))); });
      tbody.appendChild(tr);
    });
    body.appendChild(el('table', null, [el('thead', null, head), tbody]));
  }

  /* Sets the chip (the URL keeps it) and reloads every panel with it. */
  function setChip(prop, value) {
    var p = new URLSearchParams(location.hash.slice(1));
    p.set('f', prop + '==' + value);
    history.replaceState(null, '', '#' + p.toString());
    load();
  }
  document.addEventListener('haze:chip', function () { load(); });

  /* ------------------------------------------------------------ funnels */

  function fillFunnelPicker() {
    var pick = $('funnel-pick');
    clear(pick);
    var fs = state.site.funnels || [];
    fs.forEach(function (f) { pick.appendChild(el('option', { value: f.name }, f.name)); });
    pick.hidden = fs.length < 2;
  }

  function loadFunnel() {
    var box = $('funnel');
    var fs = state.site.funnels || [];
    clear(box);
    if (!fs.length) {
      box.appendChild(el('div', { class: 'empty-note' }, 'No funnel is configured for this site (funnel = name: /a > /b in haze.ini).'));
      return Promise.resolve();
    }
    var seq = state.seq;
    var fp = { funnel: $('funnel-pick').value || fs[0].name };
    var c = chip();
    if (c) {
      if ((state.site.funnel_by || []).indexOf(c.prop) < 0) {
        box.appendChild(el('div', { class: 'empty-note pair-missing' }, 'Funnels are not kept per ' + c.prop +
          ' (add it to "funnel_by =" in haze.ini): remove the filter to see the funnel.'));
        return Promise.resolve();
      }
      fp.filters = c.prop + '==' + c.value;
    }
    return api('/api/v1/funnels', baseParams(fp)).then(function (res) {
      if (seq !== state.seq) return;
      clear(box);
      var f = res.results[0];
      if (!f) return;
      if (f.segment) {
        box.appendChild(el('div', { class: 'funnel-segment' }, 'Segment: ' + f.segment.property + ' is ' + f.segment.value));
        if (f.withheld) {
          box.appendChild(el('div', { class: 'empty-note' }, 'Fewer than ' + state.minVisitors + ' visitors of this segment entered the funnel: withheld.'));
          return;
        }
      }
      var first = f.steps[0].visitors || 0;
      var list = el('div', { class: 'funnel-steps' });
      f.steps.forEach(function (s) {
        var worst = f.biggest_dropoff_step === s.step;
        var bar = el('div', { class: 'step-bar' });
        bar.style.width = (first ? (s.visitors / first) * 100 : 0).toFixed(1) + '%';
        var meta = [el('span', null, [el('strong', null, fmtNum(s.visitors)), ' visitors'])];
        if (s.step > 1) {
          meta.push(el('span', null, [el('strong', null, s.conversion_from_previous.toFixed(1) + '%'), ' from previous']));
          meta.push(el('span', null, [el('strong', null, s.conversion_from_first.toFixed(1) + '%'), ' from start']));
          meta.push(el('span', { class: 'drop' }, [el('strong', null, fmtNum(s.dropoff)), ' left (' + s.dropoff_rate.toFixed(1) + '%)']));
          meta.push(el('span', null, ['median ', el('strong', null, fmtDur(s.median_seconds_from_previous)), ' to get here']));
        }
        list.appendChild(el('div', { class: 'step' + (worst ? ' worst' : ''), 'data-step': s.step }, [
          el('div', { class: 'step-head' }, [el('span', { class: 'step-name' }, [el('span', { class: 'step-num' }, s.step + '.'), s.name])]),
          el('div', { class: 'step-track' }, bar),
          el('div', { class: 'step-meta' }, meta)
        ]));
      });
      box.appendChild(list);
      if (f.biggest_dropoff_step) {
        var w = f.steps[f.biggest_dropoff_step - 1], prev = f.steps[f.biggest_dropoff_step - 2];
        box.appendChild(el('div', { class: 'funnel-summary' },
          'Biggest drop: between "' + prev.name + '" and "' + w.name + '" — ' + fmtNum(w.dropoff) +
          ' visitors (' + w.dropoff_rate.toFixed(1) + '%) leave, median ' + fmtDur(w.median_seconds_from_previous) + ' on the way.' +
          (f.biggest_dropoff_segment ? ' It drops most for ' + f.biggest_dropoff_segment.property + ' ' +
            f.biggest_dropoff_segment.value + ' (' + f.biggest_dropoff_segment.dropoff_rate.toFixed(1) + '%).' : '')));
      }
    });
  }

  /* ------------------------------------------------------------ paths */

  function fillPathPicker() {
    var pick = $('path-pick');
    var keep = pick.value;
    clear(pick);
    state.pages.slice(0, 100).forEach(function (p) { pick.appendChild(el('option', { value: p }, p)); });
    if (keep && state.pages.indexOf(keep) >= 0) pick.value = keep;
    loadPaths();
  }

  function pathList(title, items) {
    var ol = el('ol');
    if (!items.length) ol.appendChild(el('li', null, el('span', { class: 'p none' }, 'nothing above the threshold')));
    items.forEach(function (it) {
      ol.appendChild(el('li', null, [el('span', { class: 'p' }, it.page === '' ? '(entrance)' : it.page), el('span', { class: 'n' }, fmtNum(it.count))]));
    });
    return el('div', null, [el('h3', null, title), ol]);
  }

  function loadPaths() {
    var box = $('paths');
    var page = $('path-pick').value;
    clear(box);
    if (!page) {
      box.appendChild(el('div', { class: 'empty-note' }, 'No pages in this period'));
      return Promise.resolve();
    }
    var seq = state.seq;
    return api('/api/v1/paths', baseParams({ page: page })).then(function (res) {
      if (seq !== state.seq) return;
      clear(box);
      if (res.withheld) {
        box.appendChild(el('div', { class: 'empty-note' }, 'Fewer than ' + state.minVisitors + ' visitors saw this page: its paths are withheld.'));
        return;
      }
      append(box, [
        pathList('Came from', res.came_from),
        el('div', { class: 'path-center' }, [
          el('div', { class: 'p' }, res.page),
          el('div', { class: 'facts' }, [
            fmtNum(res.visitors) + ' visitors', el('br'),
            fmtNum(res.entries) + ' entered here', el('br'),
            fmtNum(res.exits) + ' left from here'
          ])
        ]),
        pathList('Went to next', res.went_to)
      ]);
    });
  }

  /* ------------------------------------------------------------ filtered, realtime */

  var REASONS = { bot: 'Bots', dnt: 'Do Not Track / GPC', gpc: 'Global Privacy Control', invalid: 'Invalid hits', unknown_site: 'Unknown site',
    untrusted_xff: 'X-Forwarded-For from a sender not in trusted_proxies' };

  function loadFiltered() {
    var seq = state.seq;
    return api('/api/v1/filtered', baseParams()).then(function (res) {
      if (seq !== state.seq) return;
      var box = $('filtered');
      clear(box);
      res.results.forEach(function (r) {
        box.appendChild(el('div', { class: 'reason' }, [el('div', { class: 'n' }, fmtNum(r.events)), el('div', { class: 'r' }, REASONS[r.reason] || r.reason)]));
      });
      box.appendChild(el('div', { class: 'reason' }, [el('div', { class: 'n' }, fmtNum(res.unknown_site)), el('div', { class: 'r' }, 'Unknown site (all sites)')]));
    });
  }

  function loadRealtime() {
    return api('/api/v1/stats/realtime/visitors', new URLSearchParams({ site_id: state.site.site_id })).then(function (n) {
      $('realtime-text').textContent = fmtNum(n) + ' visitor' + (n === 1 ? '' : 's') + ' in the last 5 minutes';
    }).catch(function () {});
  }

  /* ------------------------------------------------------------ loading */

  function load() {
    state.seq++;
    var seq = state.seq;
    setStatus('');
    saveHash();
    var agg = baseParams({ metrics: 'visitors,visits,pageviews,bounce_rate,visit_duration,time_on_page_median' });
    if (state.compare) agg.set('compare', 'previous_period');
    var hourly = state.period === 'day' || (state.period === 'custom' && state.from === state.to);
    var ts = baseParams({ metrics: 'visitors,pageviews', interval: hourly ? 'hour' : 'date' });
    var jobs = [
      api('/api/v1/stats/aggregate', agg).then(function (res) { if (seq === state.seq) renderKpis(res.results); }),
      api('/api/v1/stats/timeseries', ts).then(function (res) { if (seq === state.seq) renderChart(res.results, hourly); })
    ];
    CARDS.forEach(function (c) { jobs.push(loadTable(c)); });
    jobs.push(loadFunnel(), loadFiltered());
    Promise.all(jobs).catch(function (e) { if (e.message !== 'unauthorized') setStatus(e.message); });
    /* Groups, goals, pairs and access times live in insights.js. */
    document.dispatchEvent(new CustomEvent('haze:load', { detail: {
      site: state.site, period: state.period, from: state.from, to: state.to,
      minVisitors: state.minVisitors } }));
    loadRealtime();
    clearInterval(state.realtimeTimer);
    state.realtimeTimer = setInterval(loadRealtime, 30000);
  }

  function saveHash() {
    var p = new URLSearchParams({ site: state.site.site_id, period: state.period });
    if (state.period === 'custom') { p.set('from', state.from); p.set('to', state.to); }
    var f = new URLSearchParams(location.hash.slice(1)).get('f'); /* insights.js's filter chip */
    if (f) p.set('f', f);
    history.replaceState(null, '', '#' + p.toString());
  }

  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    var site = p.get('site');
    state.sites.forEach(function (s) { if (s.site_id === site) state.site = s; });
    var per = p.get('period');
    if (per && $('period').querySelector('option[value="' + (/^[a-z0-9]+$/.test(per) ? per : 'x') + '"]')) state.period = per;
    var re = /^\d{4}-\d{2}-\d{2}$/;
    if (re.test(p.get('from') || '')) state.from = p.get('from');
    if (re.test(p.get('to') || '')) state.to = p.get('to');
  }

  function syncControls() {
    $('site').value = state.site.site_id;
    $('period').value = state.period;
    var custom = state.period === 'custom';
    $('from-field').hidden = !custom;
    $('to-field').hidden = !custom;
    if (!state.from) state.from = state.site.today;
    if (!state.to) state.to = state.site.today;
    $('from').value = state.from;
    $('to').value = state.to;
    $('compare').checked = state.compare;
  }

  function start(info) {
    state.sites = info.results;
    state.minVisitors = info.min_visitors;
    if (!state.sites.length) {
      $('login').hidden = true;
      $('app').hidden = false;
      setStatus('No site is configured in haze.ini.');
      return;
    }
    state.site = state.sites[0];
    readHash();
    var pick = $('site');
    clear(pick);
    state.sites.forEach(function (s) { pick.appendChild(el('option', { value: s.site_id }, s.site_id)); });
    $('login').hidden = true;
    $('controls').hidden = false;
    $('app').hidden = false;
    buildCards();
    syncControls();
    fillFunnelPicker();

    pick.addEventListener('change', function () {
      state.sites.forEach(function (s) { if (s.site_id === pick.value) state.site = s; });
      fillFunnelPicker();
      load();
    });
    $('period').addEventListener('change', function () { state.period = $('period').value; syncControls(); load(); });
    $('from').addEventListener('change', function () { state.from = $('from').value; if (state.from && state.to && state.from <= state.to) load(); });
    $('to').addEventListener('change', function () { state.to = $('to').value; if (state.from && state.to && state.from <= state.to) load(); });
    $('compare').addEventListener('change', function () { state.compare = $('compare').checked; load(); });
    $('funnel-pick').addEventListener('change', loadFunnel);
    $('path-pick').addEventListener('change', loadPaths);
    load();
    if (info.audit) loadAudit(); /* admin tokens, with an audit log configured */
    else $('audit-card').hidden = true;
  }

  document.addEventListener('DOMContentLoaded', function () {
    var failed = /(^|[?&])login=failed(&|$)/.test(location.search);
    var expired = /(^|[?&])login=expired(&|$)/.test(location.search);
    fetch('/api/haze/sites', { credentials: 'same-origin' }).then(function (r) {
      if (r.status === 401) { showLogin(failed, expired); return null; }
      showWaiting(r);
      return r.json();
    }).then(function (info) {
      if (info) {
        if (failed || expired) history.replaceState(null, '', '/' + location.hash);
        start(info);
      }
    }).catch(function () { showLogin(false); });
  });
})();
