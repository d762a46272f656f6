/* kiln: the site's one script (no framework), copied into every site beside
   style.css. Without it the pages read as well; with it:
   - the contents: closed on a phone, open on a wide screen, and the section
     being read marked (aria-current="location") as the page scrolls;
   - the search: words typed in the header's box are looked up in
     search-index.js (loaded at the first use; kiln writes it with the
     pages): the sections holding every word, a word matching at its start
     ("sched" finds "schedule"), case and accents ignored, each with a
     snippet where the words are marked, and marked again in the section
     a result opens. Keys: / to search, the arrows through the results,
     Enter to go, Escape to close;
   - print: the runs' settings (closed <details>) opened for the printout,
     closed again after it, where the stylesheet's ::details-content cannot;
   - the theme: the header's toggle (System, Light, Dark), the figures'
     dark images following it. */
(function () {
  'use strict';
  var script = document.currentScript;
  /* the site's folder as the page links it: "" on the site's pages, where
     kiln diff's page (outside the site) says "../out/" */
  var root = script ? (script.getAttribute('src') || '').replace(/kiln\.js$/, '') : '';

  /* ---- the theme: the choice kept in localStorage ("kiln-theme": light,
     dark, none for the system's), which layout.html's inline script puts on
     html[data-theme] before the first paint; the stylesheet does the rest.
     A figure's dark <source>s ask for (prefers-color-scheme: dark) in their
     media: forced dark they take their data-dark media (the same without
     it), forced light "not all", so that each <picture> follows the page,
     not the system. ---- */
  var THEME = 'kiln-theme';
  function stored() {
    try { var t = localStorage.getItem(THEME); return t === 'light' || t === 'dark' ? t : ''; } catch (e) { return ''; }
  }
  function apply(t) {
    var root = document.documentElement;
    if (t) root.setAttribute('data-theme', t);
    else root.removeAttribute('data-theme');
    document.querySelectorAll('picture source[data-dark]').forEach(function (s) {
      if (!s.hasAttribute('data-media')) s.setAttribute('data-media', s.getAttribute('media') || '');
      var m = t === 'dark' ? s.getAttribute('data-dark') : t === 'light' ? 'not all' : s.getAttribute('data-media');
      if (s.getAttribute('media') !== m) s.setAttribute('media', m);
    });
  }
  function theme() {
    apply(stored());
    var box = document.querySelector('header.site .theme'), sel = box && box.querySelector('select');
    if (!sel) return;
    sel.value = stored();
    box.hidden = false;
    sel.addEventListener('change', function () {
      try { if (sel.value) localStorage.setItem(THEME, sel.value); else localStorage.removeItem(THEME); } catch (e) {}
      apply(sel.value);
    });
    window.addEventListener('storage', function (e) { /* chosen in another tab */
      if (e.key === THEME) { sel.value = stored(); apply(sel.value); }
    });
  }

  /* ---- the contents ---- */
  function contents() {
    var box = document.querySelector('.sidebar');
    var details = box && box.querySelector('details');
    if (details && window.matchMedia) {
      var wide = window.matchMedia('(min-width: 900px)');
      var fit = function () { details.open = wide.matches; };
      fit();
      if (wide.addEventListener) wide.addEventListener('change', fit);
    }
    var links = Array.prototype.slice.call(document.querySelectorAll('.toc .sections a[href^="#"]'));
    var heads = [];
    links.forEach(function (a) {
      var h = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
      if (h) heads.push({ a: a, h: h });
    });
    if (!heads.length || !('IntersectionObserver' in window)) return;
    var current = null;
    function update() {
      /* the section read is the last whose heading has reached the top
         sixth of the window (where a link to it puts it); at the very end
         of the page, the last one in view */
      var line = window.innerHeight * 0.15, k = -1, i;
      for (i = 0; i < heads.length && heads[i].h.getBoundingClientRect().top <= line; i++) k = i;
      var end = document.documentElement;
      if (window.innerHeight + window.scrollY >= end.scrollHeight - 2)
        for (i = heads.length - 1; i > k; i--)
          if (heads[i].h.getBoundingClientRect().top < window.innerHeight) { k = i; break; }
      var a = k >= 0 ? heads[k].a : null;
      if (a === current) return;
      if (current) current.removeAttribute('aria-current');
      current = a;
      if (!a) return;
      a.setAttribute('aria-current', 'location');
      if (box && box.scrollHeight > box.clientHeight + 1) { /* keep it in the sidebar's view */
        var r = a.getBoundingClientRect(), b = box.getBoundingClientRect();
        if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - b.height / 3;
      }
    }
    var io = new IntersectionObserver(update, { rootMargin: '0px 0px -85% 0px' });
    heads.forEach(function (x) { io.observe(x.h); });
    var foot = document.querySelector('footer.site');
    if (foot) new IntersectionObserver(update).observe(foot);
    update();
  }

  /* ---- the search ---- */

  /* lower case without accents, one UTF-16 unit for one, so that a position
     in the folded text is the same position in the shown one */
  function fold(s) {
    var out = '';
    for (var i = 0; i < s.length; i++) {
      var c = s[i], f = c.normalize ? c.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase() : c.toLowerCase();
      out += f.length === 1 ? f : c.toLowerCase().length === 1 ? c.toLowerCase() : c;
    }
    return out;
  }
  var WORD = /[0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]/;
  function words(q) {
    return fold(q).split(/[^0-9a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+/).filter(function (w) { return w; });
  }
  /* where w starts a word in t (at most max places) */
  function hits(t, w, max) {
    var r = [];
    for (var p = t.indexOf(w); p >= 0 && r.length < max; p = t.indexOf(w, p + 1))
      if (p === 0 || !WORD.test(t[p - 1])) r.push(p);
    return r;
  }
  /* text with every place a word starts marked, into el */
  function marked(el, text, low, ws, from, to) {
    var marks = [];
    ws.forEach(function (w) {
      hits(low.slice(from, to), w, 50).forEach(function (p) { marks.push([from + p, from + p + w.length]); });
    });
    marks.sort(function (x, y) { return x[0] - y[0]; });
    var at = from;
    marks.forEach(function (m) {
      if (m[0] < at) return;
      el.appendChild(document.createTextNode(text.slice(at, m[0])));
      var k = document.createElement('mark');
      k.textContent = text.slice(m[0], m[1]);
      el.appendChild(k);
      at = m[1];
    });
    el.appendChild(document.createTextNode(text.slice(at, to)));
  }
  function snippet(el, s, ws) {
    var first = -1;
    ws.forEach(function (w) {
      var h = hits(s.low, w, 1);
      if (h.length && (first < 0 || h[0] < first)) first = h[0];
    });
    var from = Math.max(0, first - 60), to;
    if (from > 0) { var sp = s.text.indexOf(' ', from); from = sp >= 0 && sp < first ? sp + 1 : from; }
    to = Math.min(s.text.length, from + 190);
    if (to < s.text.length) { var e = s.text.lastIndexOf(' ', to); to = e > first ? e : to; }
    if (from > 0) el.appendChild(document.createTextNode('… '));
    marked(el, s.text, s.low, ws, from, to);
    if (to < s.text.length) el.appendChild(document.createTextNode(' …'));
  }

  function search() {
    var form = document.querySelector('form.search');
    var input = form && form.querySelector('input');
    if (!input) return;
    form.hidden = false;
    var panel = document.createElement('div');
    panel.className = 'search-results';
    panel.id = 'search-results';
    panel.hidden = true;
    var status = document.createElement('p');
    status.className = 'search-status';
    status.setAttribute('role', 'status');
    var list = document.createElement('ol');
    panel.appendChild(status);
    panel.appendChild(list);
    form.appendChild(panel);
    input.setAttribute('aria-controls', panel.id);
    var index = null, asked = false;
    window.kilnIndex = function (data) {
      index = data.sections.map(function (s) {
        var page = data.pages[s.page];
        return { href: root + page.page + '#' + s.anchor, where: page.title, heading: s.heading, text: s.text,
                 hlow: fold(s.heading), low: fold(s.text), last: page.appendix ? 1 : 0 };
      });
      run();
    };
    function load() {
      if (asked) return;
      asked = true;
      var s = document.createElement('script');
      s.src = new URL('search-index.js', script && script.src ? script.src : location.href).href;
      s.onerror = function () { status.textContent = 'The search index (search-index.js) could not be loaded.'; };
      document.head.appendChild(s);
    }
    function run() {
      var q = input.value.trim();
      list.textContent = '';
      if (q.length < 2 && !/[^\x00-\x7f]/.test(q)) { panel.hidden = true; return; } /* one letter: only η and its kind */
      panel.hidden = false;
      if (!index) { status.textContent = 'Loading the index…'; return; }
      var ws = words(q), found = [];
      index.forEach(function (s, i) {
        var score = 0;
        for (var j = 0; j < ws.length; j++) {
          var nh = hits(s.hlow, ws[j], 1).length, nt = hits(s.low, ws[j], 8).length;
          if (!nh && !nt) return;
          score += 8 * nh + nt;
        }
        if (ws.length) found.push({ s: s, score: score, i: i });
      });
      /* the chapters' sections first, most hits first (a word in the
         heading counts for 8), then the appendix's runs */
      found.sort(function (x, y) { return x.s.last - y.s.last || y.score - x.score || x.i - y.i; });
      status.textContent = !found.length ? 'No section holds “' + q + '”.'
        : found.length === 1 ? '1 section holds “' + q + '”.'
        : found.length + ' sections hold “' + q + '”' + (found.length > 20 ? ', the first 20 shown.' : '.');
      found.slice(0, 20).forEach(function (f) {
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = f.s.href;
        if (f.s.heading !== f.s.where) {
          var where = document.createElement('span');
          where.className = 'where';
          where.textContent = f.s.where;
          a.appendChild(where);
        }
        var h = document.createElement('span');
        h.className = 'heading';
        marked(h, f.s.heading, f.s.hlow, ws, 0, f.s.heading.length);
        a.appendChild(h);
        if (f.s.text) {
          var p = document.createElement('span');
          p.className = 'snippet';
          snippet(p, f.s, ws);
          a.appendChild(p);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
    }
    function results() { return Array.prototype.slice.call(list.querySelectorAll('a')); }
    input.addEventListener('focus', function () { load(); if (input.value.trim()) run(); });
    input.addEventListener('input', function () { load(); run(); });
    input.addEventListener('keydown', function (e) {
      var r = results();
      if (e.key === 'ArrowDown' && r.length) { e.preventDefault(); r[0].focus(); }
      else if (e.key === 'Enter') { e.preventDefault(); if (r.length) r[0].click(); }
      else if (e.key === 'Escape') { input.value = ''; run(); }
    });
    panel.addEventListener('keydown', function (e) {
      var r = results(), i = r.indexOf(document.activeElement);
      if (e.key === 'ArrowDown' && i >= 0) { e.preventDefault(); (r[i + 1] || r[i]).focus(); }
      else if (e.key === 'ArrowUp' && i >= 0) { e.preventDefault(); (i ? r[i - 1] : input).focus(); }
      else if (e.key === 'Escape') { e.preventDefault(); panel.hidden = true; input.focus(); }
    });
    panel.addEventListener('click', function (e) {
      var a = e.target.closest('a');
      if (!a) return;
      panel.hidden = true;
      try { sessionStorage.setItem('kiln-search', JSON.stringify({ href: a.href, words: words(input.value) })); } catch (x) { /* private mode */ }
      if (a.href === location.href) arrived(); /* already there: no hashchange */
    });
    form.addEventListener('focusout', function (e) { /* tabbed out of the results */
      if (e.relatedTarget && !form.contains(e.relatedTarget)) panel.hidden = true;
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); });
    document.addEventListener('click', function (e) { if (!form.contains(e.target)) panel.hidden = true; });
    document.addEventListener('keydown', function (e) {
      var t = e.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); input.focus(); input.select(); }
    });
  }

  /* arriving from a result: its words marked in the section it names */
  function arrived() {
    var got;
    try { got = JSON.parse(sessionStorage.getItem('kiln-search') || 'null'); } catch (x) { got = null; }
    if (!got || got.href !== location.href || !location.hash) return;
    sessionStorage.removeItem('kiln-search');
    var h = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!h || !/^H[1-6]$/.test(h.tagName)) return;
    var texts = [];
    for (var el = h; el; el = el.nextElementSibling) {
      if (el !== h && /^H[1-3]$/.test(el.tagName)) break; /* where the index's section ends */
      var tw = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, { acceptNode: function (n) {
        return n.parentNode.closest('math, mark, .anchor, script, style') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      } });
      for (var n = tw.nextNode(); n; n = tw.nextNode()) texts.push(n);
    }
    texts.forEach(function (n) {
      var low = fold(n.nodeValue);
      if (!got.words.some(function (w) { return hits(low, w, 1).length; })) return;
      var span = document.createElement('span');
      marked(span, n.nodeValue, low, got.words, 0, n.nodeValue.length);
      span.querySelectorAll('mark').forEach(function (m) { m.className = 'found'; });
      while (span.firstChild) n.parentNode.insertBefore(span.firstChild, n);
      n.parentNode.removeChild(n);
    });
  }

  /* ---- print: every experiment's settings on paper ---- */
  function printing() {
    var opened = [];
    window.addEventListener('beforeprint', function () {
      document.querySelectorAll('details.experiment:not([open])').forEach(function (d) { d.open = true; opened.push(d); });
    });
    window.addEventListener('afterprint', function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
  }

  function start() {
    theme();
    printing();
    contents();
    search();
    arrived();
    window.addEventListener('hashchange', arrived);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
