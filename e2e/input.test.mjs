// Text pasted with an invisible control character (an escape from a terminal, a NUL from
// a broken export) is refused at the door with the field named, in the reader's
// language, and nothing is saved; going back keeps what was typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

for (const [locale, width, says] of [['ja-JP', 390, /「表題」に制御文字/], ['en-GB', 1280, /The field “Title” contains control characters/]]) {
  test(`a control character is refused with its field (${locale}, ${width} px)`, async () => {
    const server = await startServer({ demo: true });
    const emp = await launch(locale);
    try {
      await emp.page.setViewportSize({ width, height: 860 });
      await signIn(emp.page, server.base, 'employee', PASSWORD);
      await emp.page.goto(`${server.base}/incidents/report`);
      await emp.page.fill('#title', 'Phishing mail');
      // As if pasted from a terminal: the escape is invisible in the field.
      await emp.page.evaluate(() => { document.querySelector('#title').value = 'Phishing mail \u001b[31mURGENT'; });
      await emp.page.click('form.form button[type=submit]');
      await emp.page.waitForLoadState();
      const body = await emp.page.textContent('main');
      assert.match(body, says);
      await emp.page.screenshot({ path: `${SHOTS}control-characters-${locale}-${width}.png`, fullPage: true });
      const mine = await (await emp.page.request.get(`${server.base}/api/v1/incidents?limit=50`)).json();
      assert.ok(!JSON.stringify(mine).includes('URGENT'), 'nothing was saved');
    } finally {
      await emp.browser.close();
      await server.stop();
    }
  });
}

// A number written as people write it (「約12万件」) is refused beside its field; the form
// comes back with everything typed, that number included.
for (const [locale, width, says] of [['ja-JP', 390, /「約12万件」は整数ではありません/], ['en-GB', 1280, /“約12万件” is not a whole number/]]) {
  test(`a refused number keeps the whole form (${locale}, ${width} px)`, async () => {
    const server = await startServer({ demo: true });
    const u = await launch(locale);
    try {
      await u.page.setViewportSize({ width, height: 860 });
      await signIn(u.page, server.base, 'secadmin', PASSWORD);
      await u.page.goto(`${server.base}/assets/new`);
      await u.page.fill('#name', '搭乗者名簿（国際線）');
      const category = await u.page.locator('#category_id option >> nth=1').getAttribute('value');
      await u.page.selectOption('#category_id', category);
      const support = await u.page.locator('#supports option >> nth=0').getAttribute('value');
      await u.page.selectOption('#supports', [support]);
      await u.page.fill('#volume', '約12万件');
      await u.page.fill('#description', '国際線の搭乗者名簿。出発後90日で削除。');
      await u.page.click('form.form button[type=submit]');
      await u.page.waitForLoadState();
      assert.match(await u.page.textContent('#volume-error'), says);
      assert.equal(await u.page.inputValue('#name'), '搭乗者名簿（国際線）');
      assert.equal(await u.page.inputValue('#category_id'), category);
      assert.deepEqual(await u.page.locator('#supports').evaluate((s) => [...s.selectedOptions].map((o) => o.value)), [support]);
      assert.equal(await u.page.inputValue('#volume'), '約12万件');
      assert.equal(await u.page.inputValue('#description'), '国際線の搭乗者名簿。出発後90日で削除。');
      assert.equal(await u.page.getAttribute('#volume', 'aria-invalid'), 'true');
      await u.page.screenshot({ path: `${SHOTS}asset-form-kept-${locale}-${width}.png`, fullPage: true });
      // Corrected, it saves.
      await u.page.fill('#volume', '120,000');
      await u.page.click('form.form button[type=submit]');
      await u.page.waitForSelector('.flash');
      assert.match(await u.page.textContent('main'), /120,?000/);
    } finally {
      await u.browser.close();
      await server.stop();
    }
  });
}

// The running clocks page, as a CSIRT member on a phone: every running deadline across the
// cases, soonest first, and the dashboard's count agrees with it.
test('running reporting deadlines on one page (ja-JP, 390 px)', async () => {
  const server = await startServer({ demo: true });
  const u = await launch('ja-JP');
  try {
    await u.page.setViewportSize({ width: 390, height: 860 });
    await signIn(u.page, server.base, 'csirt', PASSWORD);
    const api = await (await u.page.request.get(`${server.base}/api/v1/incident-clocks`)).json();
    await u.page.goto(`${server.base}/incidents/clocks`);
    const rows = u.page.locator('#running-clocks tbody tr:not(:has(.empty))');
    assert.equal(await rows.count(), api.length);
    assert.match(await u.page.textContent('h1'), /進行中の報告期限/);
    await u.page.screenshot({ path: `${SHOTS}running-clocks-ja-390.png`, fullPage: true });
    // Sorted by deadline, then reversed by the heading.
    const dues = api.map((r) => r.clock.due_ms);
    assert.deepEqual(dues, [...dues].sort((a, b) => a - b));
    await u.page.goto(`${server.base}/`);
    if (api.length > 0) {
      const tile = u.page.locator('a.tile[href="/incidents/clocks"]');
      assert.match(await tile.textContent(), new RegExp(String(api.length)));
    }
  } finally {
    await u.browser.close();
    await server.stop();
  }
});
