// The shared list components in a real browser: sortable headings that reverse on a second
// click and keep the filters, the pager, and badges that carry their words. Checked on the
// registers that gained them (controls, documents, cases, users), in both languages and
// at 390 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

/** The texts of one column of a table, top to bottom. */
async function column(page, table, n) {
  return page.locator(`${table} tbody tr td:nth-child(${n})`).allTextContents();
}

function sortedCopy(xs, desc = false) {
  const out = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return desc ? out.reverse() : out;
}

test('lists: sort, reverse, keep filters and page', async () => {
  const server = await startServer({ demo: true });
  const en = await launch('en-GB');
  const ja = await launch('ja-JP');
  const admin = await launch('ja-JP');
  try {
    await signIn(en.page, server.base, 'ciso', PASSWORD);
    await signIn(ja.page, server.base, 'csirt', PASSWORD);
    await signIn(admin.page, server.base, 'admin', PASSWORD);

    // Controls: sorted by code by default; a click on the title sorts by it, a second
    // click reverses; the status filter stays in every link.
    await en.page.goto(`${server.base}/controls?status=implemented`);
    assert.equal(await en.page.getAttribute('#controls th:nth-child(1)', 'aria-sort'), 'ascending');
    await en.page.click('#controls th:nth-child(2) a');
    await en.page.waitForURL(/sort=title/);
    assert.match(en.page.url(), /status=implemented/);
    assert.equal(await en.page.getAttribute('#controls th:nth-child(2)', 'aria-sort'), 'ascending');
    const titles = (await column(en.page, '#controls', 2)).map((t) => t.trim());
    assert.ok(titles.length > 1, 'some implemented controls');
    await en.page.click('#controls th:nth-child(2) a');
    await en.page.waitForURL(/dir=desc/);
    assert.equal(await en.page.getAttribute('#controls th:nth-child(2)', 'aria-sort'), 'descending');
    const reversed = (await column(en.page, '#controls', 2)).map((t) => t.trim());
    assert.equal(reversed[0], titles[titles.length - 1]);
    // Every status badge shows its words.
    for (const b of await en.page.locator('#controls .badge[data-state]').allTextContents()) assert.ok(b.trim().length > 0);

    // The full register pages: page 2 exists and keeps the order.
    await en.page.goto(`${server.base}/controls?sort=code`);
    const pager = en.page.locator('nav.pager');
    assert.match(await pager.textContent(), /Page 1 of \d+/);
    if (await pager.locator('a[rel=next]').count()) {
      await pager.locator('a[rel=next]').click();
      await en.page.waitForURL(/page=2/);
      assert.match(en.page.url(), /sort=code/);
      assert.match(await en.page.textContent('nav.pager'), /Page 2 of/);
    }
    await en.page.screenshot({ path: `${SHOTS}lists-controls-en.png`, fullPage: false });

    // Documents sort by title.
    await en.page.goto(`${server.base}/policies`);
    await en.page.click('#documents th:nth-child(2) a');
    await en.page.waitForURL(/sort=title/);
    const docs = (await column(en.page, '#documents', 2)).map((t) => t.trim());
    assert.deepEqual(docs, sortedCopy(docs));

    // Cases: newest first unless asked; by severity on request.
    await ja.page.goto(`${server.base}/incidents`);
    assert.equal(await ja.page.getAttribute('#incidents th:nth-child(7)', 'aria-sort'), 'descending');
    await ja.page.click('#incidents th:nth-child(4) a');
    await ja.page.waitForURL(/sort=severity/);
    assert.equal(await ja.page.getAttribute('#incidents th:nth-child(4)', 'aria-sort'), 'ascending');
    await ja.page.screenshot({ path: `${SHOTS}lists-incidents-ja.png`, fullPage: false });

    // Users: searched, sorted and counted.
    await admin.page.goto(`${server.base}/admin/users?search=adm`);
    assert.match(await admin.page.textContent('main p.hint'), /件のアカウント/);
    await admin.page.click('#users th:nth-child(1) a');
    await admin.page.waitForURL(/sort=username/);
    assert.match(admin.page.url(), /search=adm/);
    const names = (await column(admin.page, '#users', 1)).map((t) => t.trim());
    assert.deepEqual(names, ['secadmin', 'admin']);
    assert.deepEqual(names, sortedCopy(names, true));
    await ja.page.setViewportSize({ width: 390, height: 844 });
    await ja.page.goto(`${server.base}/incidents`);
    await ja.page.screenshot({ path: `${SHOTS}lists-incidents-ja-390.png`, fullPage: false });
    await admin.page.setViewportSize({ width: 390, height: 844 });
    await admin.page.screenshot({ path: `${SHOTS}lists-users-ja-390.png`, fullPage: false });
    assert.deepEqual(en.problems, []);
    assert.deepEqual(ja.problems, []);
    assert.deepEqual(admin.problems, []);
  } finally {
    await en.browser.close();
    await ja.browser.close();
    await admin.browser.close();
    await server.stop();
  }
});
