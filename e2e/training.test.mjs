// Training in the browser: an employee finds their course on the home page, reads it,
// fails and then passes the quiz, and downloads the certificate; the CISO's office starts
// a campaign (a refused form keeps what was typed) and writes a course whose quiz text is
// refused with its line named; progress shows per company, in Japanese and English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';

test('training: take a course and pass its quiz; start a campaign; write a course', async () => {
  const server = await startServer({ demo: true });
  const employee = await launch('ja-JP');
  const ciso = await launch('en-US');
  try {
    const e = employee.page;
    await signIn(e, server.base, 'employee', PASSWORD);
    const tile = e.locator('a.tile[href="/training"]');
    assert.equal(await tile.locator('.tile-value').textContent(), '1');
    await tile.click();
    await e.waitForURL(`${server.base}/training`);
    await e.click('#my-training a:has-text("情報セキュリティ教育")');
    await e.waitForURL(/\/training\/assignments\/[0-9a-f-]{36}$/);
    assert.match(await e.locator('#course-body').textContent(), /お客さまの情報を守る/);
    // One right answer of four fails a mark of 75 %.
    await e.check('#quiz-1 input[value="0"]');
    await e.click('#quiz button[type=submit]');
    await e.waitForLoadState();
    assert.match(await e.locator('.flash').textContent(), /不合格/);
    assert.match(await e.locator('#attempts').textContent(), /1 \/ 4/);
    assert.match(await e.locator('#quiz .hint').textContent(), /残り受験回数: 2 回/);
    // All right, the third question with both its right choices.
    await e.check('#quiz-1 input[value="0"]');
    await e.check('#quiz-2 input[value="1"]');
    await e.check('#quiz-3 input[value="0"]');
    await e.check('#quiz-3 input[value="1"]');
    await e.check('#quiz-4 input[value="1"]');
    await e.click('#quiz button[type=submit]');
    await e.waitForLoadState();
    assert.match(await e.locator('.flash').textContent(), /合格です/);
    assert.equal(await e.locator('[data-state="assignment:completed"]').count(), 1);
    await e.screenshot({ path: `${SHOTS}training-passed-ja.png`, fullPage: true });
    const [download] = await Promise.all([e.waitForEvent('download'), e.click('#certificate')]);
    const pdf = await download.createReadStream();
    const chunks = [];
    for await (const c of pdf) chunks.push(c);
    assert.equal(Buffer.concat(chunks).subarray(0, 5).toString(), '%PDF-');
    await e.setViewportSize({ width: 390, height: 800 });
    await e.goto(`${server.base}/training`);
    assert.ok(await e.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
    await e.screenshot({ path: `${SHOTS}training-mine-ja-390.png`, fullPage: true });
    assert.deepEqual(employee.problems, []);

    // The CISO's office, in English: a campaign without a due date is refused with the
    // title kept; with one, it enrols and shows its progress.
    const c = ciso.page;
    await signIn(c, server.base, 'ciso', PASSWORD);
    await c.goto(`${server.base}/training/campaigns`);
    await c.fill('#title', 'Onboarding: security basics');
    const course = await c.locator('#course_id option', { hasText: 'PHISH-REVIEW' }).getAttribute('value');
    await c.selectOption('#course_id', course);
    await c.fill('#joined_within_days', '3O');
    await c.click('#new-campaign button[type=submit]');
    await c.waitForLoadState();
    assert.equal(await c.inputValue('#title'), 'Onboarding: security basics');
    assert.equal(await c.getAttribute('#joined_within_days', 'aria-invalid'), 'true');
    assert.equal(await c.inputValue('#joined_within_days'), '3O');
    await c.fill('#joined_within_days', '');
    await c.fill('#due_on', '2099-03-31');
    await c.click('#new-campaign button[type=submit]');
    await c.waitForURL(/\/training\/campaigns\/[0-9a-f-]{36}$/);
    assert.match(await c.locator('#total-rate').textContent(), /0 %/);
    assert.ok(Number(await c.locator('#progress tfoot td.num').first().textContent()) > 100, 'everyone was enrolled');
    await c.screenshot({ path: `${SHOTS}training-campaign-en.png`, fullPage: true });

    // A course whose quiz has a choice before any question is refused naming the line,
    // and the text stays as typed.
    await c.goto(`${server.base}/training/courses/new`);
    await c.fill('#code', 'SEC-TEST');
    await c.fill('#title_en', 'A test course');
    const quiz = '- a choice first\n? Question / Question\n* right\n- wrong\n';
    await c.fill('#quiz', quiz);
    await c.click('form.form button[type=submit]');
    await c.waitForLoadState();
    assert.match(await c.locator('#quiz-error').textContent(), /Line 1/);
    assert.equal(await c.inputValue('#quiz'), quiz);
    await c.fill('#quiz', quiz.slice('- a choice first\n'.length));
    await c.click('form.form button[type=submit]');
    await c.waitForURL(/\/training\/courses\/[0-9a-f-]{36}$/);
    assert.match(await c.locator('#quiz-text').textContent(), /\* right/);
    assert.deepEqual(ciso.problems, []);
  } finally {
    await employee.browser.close();
    await ciso.browser.close();
    await server.stop();
  }
});
