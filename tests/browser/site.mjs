// The article's site in a real browser (Debian's Chromium driven by
// playwright-core), built from the committed results only (a copy of
// content/cache, --no-run: nothing trains):
//  - axe-core on every page, at 1280 and at 390 px wide, light and with a
//    dark colour scheme asked for, and once more with the search's results open
//    (light and dark): any violation fails, and the count per page is
//    printed;
//  - the search: a known word typed finds its known section, the word is
//    marked in the snippet, the keyboard reaches and follows the result (the
//    word marked there, in that section only), and on a phone the results
//    fit the screen;
//  - dark mode: with a dark scheme asked for the page is dark and each
//    figure shows its -dark image; the header's toggle forces dark on a light
//    system (or light on a dark one), the figure following, kept in
//    localStorage and applied before the first paint (the other theme's
//    image not even fetched); print stays light; without scripts the
//    system's scheme; at 390 px the -narrow images;
//  - the contents: open on a wide screen, closed on a phone, and the section
//    marked (aria-current="location") follows the scrolling;
//  - the layout, on every page and on kiln diff's page (build/diff.html
//    beside the site) at 1280 and 390 px, every run's settings opened: the
//    page never scrolls sideways, and every table's last column is in view or
//    the table scrolls in its own focusable region (at 1280 px the article's
//    tables fit their column); kiln diff's page has the site's header and
//    chapter list;
//  - print (media emulated): every run's settings shown where the prose
//    introduces them, wrapped; the header, contents, search and pager hidden.
//
//   node tests/browser/site.mjs      (make check runs it; KILN_BIN, CHROMIUM;
//                                     KILN_SITE=DIR checks a site built already)
import { chromium } from 'playwright-core';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const kiln = path.resolve(process.env.KILN_BIN || 'bin/kiln');
const exe = process.env.CHROMIUM || ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
const fail = (msg) => { console.error(`browser/site: FAIL: ${msg}`); process.exitCode = 1; throw new Error(msg); };

// the word and the section it must find (content/03-adaptive-optimizers.md)
const WORD = 'adadel', SECTION = '03-adaptive-optimizers.html#does-adadelta-need-a-learning-rate';
// the page whose contents highlight is followed, and some of its sections (h2 and h3)
const CHAPTER = '02-learning-rate-decay.html', FOLLOW = ['why-lower-the-rate', 'step-decay', 'which-schedule', 'training-with-decay'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-site-'));
let browser;
try {
  if (!exe) fail('no Chromium (src/scripts/deps.sh browser installs it)');
  let site = process.env.KILN_SITE && path.resolve(process.env.KILN_SITE);
  if (!site) {
    // the committed results are the release build's; another build (asan, debug) has none to find
    const made = JSON.parse(fs.readFileSync('content/cache/manifest/build.json', 'utf8')).trainer;
    const mine = /trainer (\w+)/.exec(execFileSync(kiln, ['version'], { encoding: 'utf8' }))[1];
    if (made !== mine) {
      console.log(`browser/site: SKIP (the committed results are trainer ${made}'s, ${kiln} is ${mine})`);
      fs.rmSync(tmp, { recursive: true, force: true });
      process.exit(0);
    }
    fs.cpSync('content/cache', path.join(tmp, 'cache'), { recursive: true });
    site = path.join(tmp, 'site');
    execFileSync(kiln, ['build', '-q', '--no-run', '--content', 'content', '--templates', 'templates',
      '--cache', path.join(tmp, 'cache'), '--out', site], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const pages = fs.readdirSync(site).filter((f) => f.endsWith('.html')).sort();
  if (pages.length < 4) fail(`only ${pages.length} pages in ${site}`);
  // kiln diff's page, outside the site as make diff writes it (build/diff.html
  // beside out/): a real change from the history when the clone has it (a
  // trainer change: 10 runs changed, 57 overlay plots), else the committed
  // build against itself
  const diffPage = path.join(tmp, 'build', 'diff.html');
  const diffArgs = (a) => ['diff', ...a, '--html', diffPage, '--site', site, '--content', 'content', '--templates', 'templates', '-q'];
  let dr = spawnSync(kiln, diffArgs(['8cd0195', '784d076']), { encoding: 'utf8' });
  if (dr.status === 2) dr = spawnSync(kiln, diffArgs(['content/cache/manifest/build.json', 'content/cache/manifest/build.json']), { encoding: 'utf8' });
  if (dr.status !== 0 && dr.status !== 1) fail(`kiln diff: exit ${dr.status}: ${dr.stderr}`);
  const url = (p) => p === 'diff' ? 'file://' + diffPage : 'file://' + path.join(site, p);
  browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
  const errors = [];
  const open = async (width, colorScheme = 'light') => {
    const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme });
    page.on('pageerror', (e) => errors.push(String(e)));
    return page;
  };
  const axe = async (page) => {
    await page.addScriptTag({ content: axeSource });
    return page.evaluate(async () => (await window.axe.run(document)).violations.map((v) =>
      ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) })));
  };

  // axe-core on every page, wide and narrow
  const report = [], bad = [];
  // (and a dark colour scheme asked for: the same pages, or a dark theme's)
  for (const [width, scheme] of [[1280, 'light'], [390, 'light'], [1280, 'dark'], [390, 'dark']]) {
    const page = await open(width, scheme);
    const how = `${width}px${scheme === 'dark' ? ' dark' : ''}`;
    for (const p of [...pages, 'diff']) {
      await page.goto(url(p));
      const v = await axe(page);
      const n = v.reduce((s, x) => s + x.nodes.length, 0);
      report.push(`${p} ${how}: ${n}`);
      for (const x of v) bad.push(`${p} at ${how}: ${x.id} (${x.nodes.length}: ${x.nodes.slice(0, 3).join(', ')})`);
    }
    await page.close();
  }
  console.log(`browser/site: axe-core ${JSON.parse(fs.readFileSync(require.resolve('axe-core/package.json'))).version}, violations per page: ${report.join('; ')}`);
  if (bad.length) fail(`axe-core violations:\n  ${bad.join('\n  ')}`);

  // the layout: nothing wider than the screen, no table's last column out of reach
  const layout = [];
  for (const width of [1280, 390]) {
    const page = await open(width);
    for (const p of [...pages, 'diff']) {
      await page.goto(url(p));
      const r = await page.evaluate((w) => {
        document.querySelectorAll('details').forEach((d) => { d.open = true; }); // the settings count too
        const scroller = (el) => {
          for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
            if (/auto|scroll/.test(getComputedStyle(a).overflowX)) return a;
          return null;
        };
        const tables = [...document.querySelectorAll('main table')].map((t) => {
          const cells = t.rows[0].cells, last = cells[cells.length - 1].getBoundingClientRect();
          const box = scroller(t), main = document.querySelector('main').getBoundingClientRect();
          const region = box && box.tabIndex >= 0 && box.getAttribute('role') === 'region' && box.getBoundingClientRect().right <= innerWidth + 1;
          const name = t.closest('figure')?.querySelector('.label')?.textContent || t.className || 'a table';
          return { name, inView: last.right <= Math.min(innerWidth, main.right) + 1, region: !!region,
                   scrolls: box ? box.scrollWidth - box.clientWidth : 0 };
        });
        return { sw: document.scrollingElement.scrollWidth, iw: innerWidth, tables };
      }, width);
      if (r.sw > r.iw) fail(`${p} at ${width} px scrolls sideways (${r.sw} px wide)`);
      for (const t of r.tables) {
        if (!t.inView && !t.region) fail(`${p} at ${width} px: ${t.name}'s last column is cut off, outside any focusable scrolling region`);
        if (width === 1280 && p !== 'diff' && t.scrolls > 0) fail(`${p} at 1280 px: ${t.name} is ${t.scrolls} px wider than its column`);
      }
      layout.push(r.tables.length);
    }
    await page.close();
  }
  // kiln diff's page: the site's header, chapter list and stylesheet
  {
    const page = await open(1280);
    await page.goto(url('index.html'));
    const siteToc = await page.evaluate(() => [...document.querySelectorAll('nav.sidebar .toc a')].map((a) => a.href));
    await page.goto(url('diff'));
    const d = await page.evaluate(() => ({
      toc: [...document.querySelectorAll('nav.sidebar .toc a')].map((a) => a.href),
      home: document.querySelector('header.site a.home')?.href,
      header: getComputedStyle(document.querySelector('header.site') || document.body).display,
      h1: document.querySelector('main h1')?.textContent,
    }));
    if (JSON.stringify(d.toc) !== JSON.stringify(siteToc)) fail(`diff.html's chapter list ${JSON.stringify(d.toc)} is not the site's ${JSON.stringify(siteToc)}`);
    if (d.home !== url('index.html')) fail(`diff.html's header links ${d.home}, not the site's front page`);
    if (d.header !== 'flex' || d.h1 !== 'What changed') fail(`diff.html is not styled by the site's style.css (header ${d.header}, h1 ${d.h1})`);
    // its overlay plots dark with a dark scheme (where it has any: a real change)
    await page.emulateMedia({ colorScheme: 'dark' });
    const overlays = await page.evaluate(async () => {
      const imgs = [...document.querySelectorAll('figure.overlay img')].slice(0, 3);
      for (const i of imgs) { i.scrollIntoView(); await new Promise((r) => setTimeout(r, 100)); }
      return imgs.map((i) => i.currentSrc.split('/').pop());
    });
    const light = overlays.filter((f) => f && !f.endsWith('-dark.png'));
    if (light.length) fail(`diff.html with a dark scheme shows the light overlay plots ${light.join(', ')}`);
    await page.emulateMedia({ colorScheme: 'light' });
    // and its search looks in the site and links into it
    await page.fill('input[type=search]', WORD);
    await page.waitForFunction((u) => [...document.querySelectorAll('.search-results a')].some((a) => a.href === u), url(SECTION), { timeout: 10000 })
      .catch(() => fail(`searching "${WORD}" on diff.html does not link ${url(SECTION)}`));
    await page.close();
  }
  // print: the settings where the prose introduces them, no navigation
  const printed = [];
  {
    const page = await open(1280);
    await page.emulateMedia({ media: 'print' });
    for (const p of pages) {
      await page.goto(url(p));
      const r = await page.evaluate(() => ({
        listings: [...document.querySelectorAll('pre.config')].map((e) => ({
          shown: e.checkVisibility() && e.getBoundingClientRect().height > 0, wraps: e.scrollWidth <= e.clientWidth + 1 })),
        nav: ['header.site .home', 'nav.sidebar', 'form.search', 'nav.pager', '.skip']
          .filter((q) => document.querySelector(q) && document.querySelector(q).checkVisibility()),
      }));
      const hidden = r.listings.filter((x) => !x.shown).length, wide = r.listings.filter((x) => !x.wraps).length;
      if (hidden) fail(`printing ${p} leaves out ${hidden} of its ${r.listings.length} run settings`);
      if (wide) fail(`printing ${p}: ${wide} run settings wider than the page`);
      if (r.nav.length) fail(`printing ${p} shows ${r.nav.join(', ')}`);
      printed.push(r.listings.length);
    }
    await page.close();
  }

  // dark mode: the system's scheme, the header's toggle (kept in localStorage,
  // applied before the first paint), and the figures following either; at
  // phone width the narrow figures
  const themed = [];
  {
    const chapter = pages.find((p) => p.startsWith('01-')) || pages[0];
    const ctxs = [];
    const view = async ({ width = 1280, scheme = 'light', js = true, theme } = {}) => {
      const ctx = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, javaScriptEnabled: js });
      ctxs.push(ctx);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      page.pngs = [];
      page.on('request', (r) => { if (r.url().endsWith('.png')) page.pngs.push(path.basename(r.url())); });
      if (theme) await page.addInitScript((t) => localStorage.setItem('kiln-theme', t), theme);
      await page.goto(url(chapter));
      return page;
    };
    // the page's background (its luminance, 0 black to 1 white) and the first figure's image
    const state = async (page) => {
      await page.locator('figure picture img').first().scrollIntoViewIfNeeded();
      await page.waitForFunction(() => { const i = document.querySelector('figure picture img'); return i.complete && i.naturalWidth > 0; });
      return page.evaluate(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        const i = document.querySelector('figure picture img'), box = i.getBoundingClientRect();
        return { lum: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255, src: i.currentSrc.split('/').pop(), light: i.getAttribute('src').split('/').pop(),
                 shown: Math.round(box.width), natural: i.naturalWidth,
                 toggle: !!document.querySelector('header.site .theme:not([hidden])'), theme: document.documentElement.dataset.theme || '' };
      });
    };
    const expect = (what, st, dark, variant) => {
      const want = st.light.replace(/\.png$/, `${variant}.png`);
      if ((st.lum < 0.2) !== dark) fail(`${what}: the page's background is ${dark ? 'not dark' : 'dark'} (luminance ${st.lum.toFixed(2)})`);
      if (st.src !== want) fail(`${what}: the figure shows ${st.src}, not ${want}`);
      themed.push(`${what}: ${st.src}`);
    };
    let page = await view({ scheme: 'dark' });
    expect('dark system', await state(page), true, '-dark');
    page = await view({ scheme: 'light' });
    let st = await state(page);
    expect('light system', st, false, '');
    if (!st.toggle) fail('the theme toggle is not shown');
    // the toggle forces dark on a light system, the figure follows; and back
    await page.selectOption('header.site .theme select', 'dark');
    await page.waitForFunction(() => document.querySelector('figure picture img').currentSrc.endsWith('-dark.png'), null, { timeout: 5000 }).catch(() => {});
    expect('toggle dark on a light system', await state(page), true, '-dark');
    if (await page.evaluate(() => localStorage.getItem('kiln-theme')) !== 'dark') fail('the toggle does not keep its choice in localStorage');
    const v = await axe(page);
    if (v.length) fail(`axe-core with the toggle on dark (light system): ${JSON.stringify(v)}`);
    // kept for the next page, set before the first paint: the light image is not even fetched
    page.pngs = [];
    await page.reload();
    st = await state(page);
    expect('toggle dark, reloaded', st, true, '-dark');
    if (page.pngs.includes(st.light)) fail(`reloaded with the toggle on dark, the page fetched the light ${st.light} too (${page.pngs.join(' ')})`);
    if (await page.locator('header.site .theme select').inputValue() !== 'dark') fail('reloaded, the toggle does not say Dark');
    // printed, the page is light whatever the toggle says
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => [document.body, document.querySelector('main pre')].map((e) => {
      const [r, g, b] = getComputedStyle(e).backgroundColor.match(/\d+/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    }));
    if (printed.some((l) => l < 0.8)) fail(`printed with the toggle on dark, the page or a listing is dark (luminance ${printed.join(', ')})`);
    await page.emulateMedia({ media: 'screen' });
    await page.selectOption('header.site .theme select', '');
    await page.waitForFunction(() => document.querySelector('figure picture img').currentSrc.endsWith('-loss.png') || !document.querySelector('figure picture img').currentSrc.includes('-dark'), null, { timeout: 5000 }).catch(() => {});
    expect('toggle back to system (light)', await state(page), false, '');
    if (await page.evaluate(() => localStorage.getItem('kiln-theme')) !== null) fail('"System" leaves a choice in localStorage');
    // forced light on a dark system
    page = await view({ scheme: 'dark', theme: 'light' });
    st = await state(page);
    expect('toggle light on a dark system', st, false, '');
    const dark = st.light.replace(/\.png$/, '-dark.png');
    if (page.pngs.includes(dark)) fail(`with the toggle on light, the page fetched the dark ${dark} too`);
    // no scripts: the system's scheme rules, no toggle
    page = await view({ scheme: 'dark', js: false });
    st = await state(page);
    expect('dark system without scripts', st, true, '-dark');
    if (st.toggle) fail('without scripts the theme toggle is shown');
    // a phone: the narrow figure (larger type), light and dark, filling the column
    for (const scheme of ['light', 'dark']) {
      page = await view({ width: 390, scheme });
      st = await state(page);
      expect(`390 px ${scheme}`, st, scheme === 'dark', scheme === 'dark' ? '-narrow-dark' : '-narrow');
      if (st.shown < 300 || st.natural !== 800) fail(`at 390 px the narrow figure is ${st.shown} px wide on the page, ${st.natural} px in the file (want 300+ and 800)`);
    }
    page = await view({ width: 390, scheme: 'light', theme: 'dark' });
    expect('390 px, toggle dark', await state(page), true, '-narrow-dark');
    for (const c of ctxs) await c.close();
  }

  // the search: "/" to the box, a word's prefix, the known section among the results
  let page = await open(1280);
  await page.goto(url(pages.find((p) => p.startsWith('01-')) || pages[0]));
  await page.keyboard.press('/');
  if (!(await page.evaluate(() => document.activeElement && document.activeElement.type === 'search')))
    fail('"/" does not put the cursor in the search box');
  await page.keyboard.type(WORD);
  const hit = page.locator(`.search-results a[href="${SECTION}"]`);
  await hit.waitFor({ timeout: 10000 }).catch(() => fail(`searching "${WORD}" does not list ${SECTION}`));
  const marks = await hit.locator('mark').allTextContents();
  if (!marks.length || !marks.every((m) => m.toLowerCase() === WORD)) fail(`the result marks ${JSON.stringify(marks)}, not "${WORD}"`);
  const shown = await page.locator('.search-results li').count();
  const said = await page.locator('.search-status').textContent();
  if (!/\d+ sections? holds?/.test(said)) fail(`the results say "${said}"`);
  const v = await axe(page); // the open results too, in either scheme
  if (v.length) fail(`axe-core with the search's results open: ${JSON.stringify(v)}`);
  await page.emulateMedia({ colorScheme: 'dark' });
  const vd = await axe(page);
  if (vd.length) fail(`axe-core with the search's results open, dark: ${JSON.stringify(vd)}`);
  await page.emulateMedia({ colorScheme: 'light' });
  // the keyboard: down to the results, down to the known one, Enter follows it
  await page.keyboard.press('ArrowDown');
  for (let i = 0; i < shown && !(await page.evaluate((s) => document.activeElement.getAttribute('href') === s, SECTION)); i++)
    await page.keyboard.press('ArrowDown');
  if (!(await page.evaluate((s) => document.activeElement.getAttribute('href') === s, SECTION)))
    fail('the arrow keys do not reach the result');
  await Promise.all([page.waitForURL((u) => String(u).endsWith(SECTION)), page.keyboard.press('Enter')]);
  const id = SECTION.split('#')[1];
  const top = await page.evaluate((i) => document.getElementById(i).getBoundingClientRect().top, id);
  if (Math.abs(top) > 5) fail(`the section is not at the top of the window after following the result (${top}px)`);
  // the word marked in the section arrived at, and only there
  const found = await page.evaluate(() => {
    const hs = [...document.querySelectorAll('main h1, main h2, main h3')];
    return [...document.querySelectorAll('mark.found')].map((m) => {
      const before = hs.filter((h) => h.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
      return [m.textContent.toLowerCase(), before.length ? before[before.length - 1].id : ''];
    });
  });
  if (!found.length || found.some(([w, at]) => w !== WORD || at !== id))
    fail(`after following the result the page marks ${JSON.stringify(found)}, not "${WORD}" in #${id}`);
  const v2 = await axe(page);
  if (v2.length) fail(`axe-core on the page with the marks: ${JSON.stringify(v2)}`);
  // nothing matches: said so
  await page.fill('input[type=search]', 'qqzzxx');
  await page.waitForFunction(() => /No section holds/.test(document.querySelector('.search-status').textContent));
  await page.close();

  // on a phone: the results fit the screen
  page = await open(390);
  await page.goto(url(pages[0]));
  await page.fill('input[type=search]', WORD);
  await page.locator(`.search-results a[href="${SECTION}"]`).waitFor({ timeout: 10000 })
    .catch(() => fail(`at 390 px, searching "${WORD}" does not list ${SECTION}`));
  const box = await page.locator('.search-results').boundingBox();
  if (box.x < 0 || box.x + box.width > 390) fail(`at 390 px the results run off the screen (${box.x} to ${box.x + box.width})`);
  // nor does a long word in them (the references' addresses) widen them
  await page.fill('input[type=search]', 'https');
  await page.waitForFunction(() => /hold|No section/.test(document.querySelector('.search-status').textContent));
  const over = await page.evaluate(() => { const r = document.querySelector('.search-results'); return r.scrollWidth - r.clientWidth; });
  if (over > 1) fail(`at 390 px a result is ${over} px wider than the results' box`);
  await page.goto(url(CHAPTER));
  if (await page.evaluate(() => document.querySelector('.sidebar details').open)) fail('at 390 px the contents are open');
  // the header: the title on a row of its own, at most two lines, and the
  // search box, the PDF link and the theme toggle together on the next
  const hdr = await page.evaluate(() => {
    const r = (q) => document.querySelector(q).getBoundingClientRect();
    const home = r('header.site .home'), search = r('form.search'), pdf = r('header.site .pdf'), theme = r('header.site .theme');
    const line = parseFloat(getComputedStyle(document.querySelector('header.site .home')).lineHeight) || 20;
    return { lines: Math.round(home.height / line), below: search.top >= home.bottom, row: Math.abs(search.top - pdf.top) < 12 && Math.abs(pdf.top - theme.top) < 12 };
  });
  if (hdr.lines > 2 || !hdr.below || !hdr.row) fail(`at 390 px the header is out of order: ${JSON.stringify(hdr)}`);
  await page.close();

  // the contents: open, and the marked section follows the scrolling
  page = await open(1280);
  await page.goto(url(CHAPTER));
  if (!(await page.evaluate(() => document.querySelector('.sidebar details').open))) fail('at 1280 px the contents are closed');
  const marked = () => page.evaluate(() => {
    const a = document.querySelectorAll('.toc a[aria-current="location"]');
    return a.length === 1 ? a[0].getAttribute('href') : `${a.length} marked`;
  });
  if ((await page.locator('.toc .sections a').count()) < FOLLOW.length) fail(`${CHAPTER} lists too few sections`);
  for (const s of [...FOLLOW, ...FOLLOW.slice(0, 2).reverse()]) {
    await page.evaluate((i) => document.getElementById(i).scrollIntoView({ block: 'start' }), s);
    await page.waitForFunction((h) => {
      const a = document.querySelectorAll('.toc a[aria-current="location"]');
      return a.length === 1 && a[0].getAttribute('href') === h;
    }, `#${s}`, { timeout: 5000 }).catch(async () => fail(`scrolled to #${s}, the contents mark ${await marked()}`));
  }
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const last = await page.evaluate(() => { const a = document.querySelectorAll('.toc .sections a'); return a[a.length - 1].getAttribute('href'); });
  await page.waitForFunction((h) => document.querySelector(`.toc a[aria-current="location"]`)?.getAttribute('href') === h, last, { timeout: 5000 })
    .catch(async () => fail(`at the end of the page the contents mark ${await marked()}, not ${last}`));
  await page.close();
  if (errors.length) fail(`script errors in the pages: ${errors.join('; ')}`);
  console.log(`browser/site: ok (${pages.length} pages, no axe-core violation at 1280 and 390 px, light and dark; "${WORD}" found ${SECTION} ` +
    `among ${shown} results, reached by the keyboard, ${found.length} marks there; the contents followed ${FOLLOW.length + 2} scrolls; ` +
    `no page nor diff.html wider than 1280 or 390 px, ${layout.reduce((a, b) => a + b, 0) / 2} tables in reach; ` +
    `printed: ${printed.reduce((a, b) => a + b, 0)} run settings shown, no navigation; figures: ${themed.join(', ')})`);
} catch (e) {
  if (!process.exitCode) { console.error(`browser/site: FAIL: ${e.message}`); process.exitCode = 1; }
} finally {
  if (browser) await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
