// kiln preview in a real browser (Debian's Chromium driven by playwright-core):
// open a chapter, edit it and see the new text without reloading by hand (and
// the page keeps its scroll position), break a directive and see the overlay
// with FILE:LINE: over the last good version, fix it and see the overlay go.
// Then a tiny experiment (300 images, one epoch) is added: it trains in the
// background, its progress shows at the bottom of the page, and the page
// reloads with its result (skipped without MNIST; make check fetches it). A
// small article in a temporary folder; its figure is a schedule, drawn
// without training.
//
//   node tests/browser/preview.mjs        (make check runs it; KILN_BIN, CHROMIUM)
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const kiln = path.resolve(process.env.KILN_BIN || 'bin/kiln');
const exe = process.env.CHROMIUM || ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
const fail = (msg) => { console.error(`browser/preview: FAIL: ${msg}`); process.exitCode = 1; throw new Error(msg); };
if (!exe) fail('no Chromium (src/scripts/deps.sh browser installs it)');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-browser-'));
const content = path.join(tmp, 'content');
fs.mkdirSync(content);
fs.writeFileSync(path.join(content, 'index.md'), '# Browser test\n\nA small article.\n');
const filler = Array.from({ length: 60 }, (_, i) => `Paragraph ${i + 1} of filler, so that the page scrolls.`).join('\n\n');
const chapter = (word, kind = 'schedule') =>
  `# Schedules\n\nThe ${word} paragraph.\n\n${filler}\n\n` +
  '```{experiment} stepped\nschedule = step\nstep_drop = 0.5\nstep_every = 1\nepochs = 3\n```\n\n' +
  `\`\`\`{figure} sched\nkind = ${kind}\nruns = stepped\nper = epoch\n\`\`\`\n\nThe end: ${word}.\n`;
const file = path.join(content, '01-s.md');
fs.writeFileSync(file, chapter('original'));

let log = '';
const data = process.env.KILN_DATA || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kiln/mnist');
const haveData = ['train-images-idx3-ubyte', 'train-images-idx3-ubyte.gz'].some((f) => fs.existsSync(path.join(data, f)));
const kp = spawn(kiln, ['preview', '--port', '0', '--content', content, '--out', path.join(tmp, 'site'),
  '--templates', path.resolve('templates'), '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
kp.stderr.on('data', (d) => { log += d; });
let browser;
try {
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`kiln preview did not start:\n${log}`)), 60000);
    const look = () => { const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(log); if (m) { clearTimeout(t); resolve(+m[1]); } };
    kp.stderr.on('data', look);
    kp.on('exit', (c) => reject(new Error(`kiln preview exited (${c}):\n${log}`)));
  });
  browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // every progress line the page shows, kept across its reloads
  await page.addInitScript(() => {
    const rec = () => {
      const b = document.getElementById('kiln-preview-progress');
      if (!b) return;
      const seen = JSON.parse(sessionStorage.getItem('seen-progress') || '[]');
      if (!seen.includes(b.textContent)) sessionStorage.setItem('seen-progress', JSON.stringify([...seen, b.textContent]));
    };
    new MutationObserver(rec).observe(document, { childList: true, subtree: true, characterData: true });
  });
  await page.goto(`http://127.0.0.1:${port}/01-s.html`);
  if (!(await page.textContent('body')).includes('The original paragraph')) fail('the page lacks its text');
  await page.waitForFunction(() => document.getElementById('kiln-preview-error') === null);

  // an edit: the new text shows by itself, at the same scroll position
  await page.evaluate(() => window.scrollTo(0, 1200));
  await page.waitForTimeout(100);
  const y0 = await page.evaluate(() => window.scrollY);
  if (y0 < 1000) fail(`the page did not scroll (scrollY ${y0})`);
  let t0 = Date.now();
  fs.writeFileSync(file, chapter('edited'));
  await page.waitForFunction(() => document.body.innerText.includes('The edited paragraph'), null, { timeout: 15000 })
    .catch(() => fail(`the edit did not show without a reload:\n${log}`));
  const shown = Date.now() - t0;
  await page.waitForFunction((y) => Math.abs(window.scrollY - y) < 5, y0, { timeout: 5000 })
    .catch(async () => fail(`the scroll position was lost: ${await page.evaluate(() => window.scrollY)} instead of ${y0}`));

  // a broken directive: the overlay with FILE:LINE: and the message, over the last good version
  fs.writeFileSync(file, chapter('broken', 'histroy'));
  const overlay = page.locator('#kiln-preview-error');
  await overlay.waitFor({ state: 'visible', timeout: 15000 }).catch(() => fail(`no overlay for a broken directive:\n${log}`));
  const text = await overlay.textContent();
  if (!/01-s\.md:\d+: \{figure\} sched: kind 'histroy' is not accepted \(did you mean 'history'\?\)/.test(text))
    fail(`the overlay does not say FILE:LINE: and the message: ${text}`);
  if (!(await page.textContent('body')).includes('The edited paragraph')) fail('the last good version is not under the overlay');

  // fixed: the overlay goes, the new text is there
  fs.writeFileSync(file, chapter('fixed'));
  await page.waitForFunction(() => document.body.innerText.includes('The fixed paragraph'), null, { timeout: 15000 })
    .catch(() => fail('the fix did not show'));
  await overlay.waitFor({ state: 'detached', timeout: 5000 }).catch(() => fail('the overlay stayed after the fix'));
  if (errors.length) fail(`script errors in the page: ${errors.join('; ')}`);

  // a reload by hand while the content is broken: the overlay comes back at once
  fs.writeFileSync(file, chapter('again', 'histroy'));
  await overlay.waitFor({ state: 'visible', timeout: 15000 });
  await page.reload();
  await overlay.waitFor({ state: 'visible', timeout: 5000 }).catch(() => fail('a reloaded page does not show the error'));
  // a new experiment: trained in the background, its progress in the page, then its result
  let trained = 'skipped: no MNIST in ' + data;
  if (haveData) {
    fs.writeFileSync(file, chapter('fixed') + '\n```{experiment} tiny\ntrain_limit = 300\ntest_limit = 100\nepochs = 1\n' +
      'batch_size = 50\n```\n\nTiny reached {{tiny.test_accuracy:.1%}}.\n');
    await page.waitForFunction(() => /Tiny reached \d+\.\d%/.test(document.body.innerText), null, { timeout: 120000 })
      .catch(() => fail(`the trained run's result did not show:\n${log}`));
    const seen = JSON.parse(await page.evaluate(() => sessionStorage.getItem('seen-progress') || '[]'));
    if (!seen.some((t) => t.includes('1 run to train'))) fail(`no training progress was shown: ${JSON.stringify(seen)}`);
    if (await page.locator('#kiln-preview-progress').count()) fail('the progress line stayed after the run was done');
    if (process.env.KILN_BROWSER_VERBOSE) console.log(seen);
    trained = `trained in the background, ${seen.length} progress lines shown`;
  }
  console.log(`browser/preview: ok (Chromium ${browser.version()}; an edit showed in the page ${shown} ms after the save; a new run ${trained})`);
} catch (e) {
  if (!process.exitCode) { console.error(`browser/preview: FAIL: ${e.message}`); process.exitCode = 1; }
} finally {
  if (browser) await browser.close();
  kp.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
