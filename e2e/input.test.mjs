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
