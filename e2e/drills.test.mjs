// E-mail drills in the browser: the CISO's office sets up a sending profile, writes a
// fake sign-in drill mail and a drill (each refused form keeps what was typed), launches
// it to the one demo employee through a local SMTP sink; a link scanner's fetch counts for
// nobody, the employee's own click and sign-in attempt show the teachable moment at once,
// count in the results and assign the remedial course; the desk records the employee's
// report by its reference code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, launch, signIn, SHOTS } from './helpers.mjs';

const PASSWORD = 'demo-password-2026';
// What a person's desktop Chrome sends: the headless default names a machine.
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** A plain SMTP sink on a free loopback port that keeps every message it is given. */
async function smtpSink() {
  const messages = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let data = false;
    let current = { from: '', to: [], raw: '' };
    sock.write('220 sink ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (data) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          current.raw = buf.slice(0, end);
          current.at = Date.now();
          messages.push(current);
          current = { from: '', to: [], raw: '' };
          buf = buf.slice(end + 5);
          data = false;
          sock.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') sock.write('250-sink\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') { current.from = line; sock.write('250 ok\r\n'); }
        else if (verb === 'RCPT') { current.to.push(line); sock.write('250 ok\r\n'); }
        else if (verb === 'DATA') { data = true; sock.write('354 go on\r\n'); }
        else if (verb === 'QUIT') { sock.write('221 bye\r\n'); sock.end(); return; }
        else sock.write('250 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, messages, close: () => new Promise((r) => server.close(r)) };
}

const tokyoToday = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('drills: set up, launch, a scanner and a person click, remedial course, report', async () => {
  const sink = await smtpSink();
  const server = await startServer({ demo: true });
  const ciso = await launch('en-US');
  const person = await launch('ja-JP', { userAgent: CHROME });
  const office = await launch('ja-JP');
  try {
    const c = ciso.page;
    c.on('dialog', (d) => d.accept());
    await signIn(c, server.base, 'ciso', PASSWORD);

    // A plain connection to another machine is refused, naming the field; the rest stays.
    await c.goto(`${server.base}/drills/profiles`);
    await c.fill('#name', 'Drill relay');
    await c.fill('#host', 'smtp.example.com');
    await c.fill('#port', String(sink.port));
    await c.selectOption('#security', 'none');
    await c.fill('#envelope_from', 'bounces@drill.example.com');
    await c.click('#profile-form button[type=submit]');
    await c.waitForLoadState();
    assert.equal(await c.getAttribute('#security', 'aria-invalid'), 'true');
    assert.match(await c.locator('#security-error').textContent(), /unencrypted/i);
    assert.equal(await c.inputValue('#name'), 'Drill relay');
    assert.equal(await c.inputValue('#envelope_from'), 'bounces@drill.example.com');
    await c.fill('#host', '127.0.0.1');
    await c.click('#profile-form button[type=submit]');
    await c.waitForURL(`${server.base}/drills/profiles`);
    assert.match(await c.locator('#drill-profiles').textContent(), /Drill relay/);

    // A fake sign-in mail without its link is refused on the body, as typed.
    await c.goto(`${server.base}/drills/templates/new`);
    await c.fill('#name', 'Mailbox full');
    await c.selectOption('#kind', 'credential');
    await c.fill('#from_name', 'IT Service Desk');
    await c.fill('#from_address', 'it-desk@drill.example.com');
    await c.fill('#subject_ja', 'メールボックスの容量が上限に近づいています');
    await c.fill('#body_ja', '{{name}} 様\n\n容量を増やすにはサインインしてください。\n\n参照: {{ref}}');
    await c.fill('#subject_en', 'Your mailbox is almost full');
    const bodyEn = 'Dear {{name}},\n\nSign in to keep receiving mail.\n\nRef: {{ref}}';
    await c.fill('#body_en', bodyEn);
    await c.click('#template-form button[type=submit]');
    await c.waitForLoadState();
    assert.equal(await c.getAttribute('#body_ja', 'aria-invalid'), 'true');
    assert.equal(await c.inputValue('#body_en'), bodyEn);
    await c.fill('#body_ja', '{{name}} 様\n\n容量を増やすには次のページでサインインしてください。\n{{link}}\n\n参照: {{ref}}');
    await c.fill('#body_en', 'Dear {{name}},\n\nSign in to keep receiving mail:\n{{link}}\n\nRef: {{ref}}');
    await c.click('#template-form button[type=submit]');
    await c.waitForURL(/\/drills\/templates\/[0-9a-f-]{36}$/);
    assert.match(await c.locator('#preview-en .mail-body').textContent(), /Dear Taro Yamada/);
    assert.match(await c.locator('#preview-ja .mail-body').textContent(), /山田 太郎 様/);
    await c.screenshot({ path: `${SHOTS}drills-template-en.png`, fullPage: true });

    // The drill: a window that closes at 25:00 is refused with the name kept; then a
    // draft for the one demo employee, today in Tokyo, with the remedial course.
    await c.goto(`${server.base}/drills`);
    await c.fill('#name', 'Mailbox drill');
    await c.selectOption('#template_id', { label: 'Mailbox full(Fake sign-in page)' });
    await c.selectOption('#profile_id', { label: 'Drill relay(127.0.0.1)' });
    await c.selectOption('#roles', 'employee');
    await c.fill('#first_day', tokyoToday());
    await c.fill('#last_day', tokyoToday());
    for (const d of ['6', '7']) await c.check(`#weekdays input[value="${d}"]`);
    await c.fill('#window_start', '00:00');
    await c.fill('#window_end', '25:00');
    await c.fill('#cap', '5');
    await c.fill('#link_base', server.base);
    const course = await c.locator('#remedial_course_id option', { hasText: 'PHISH-REVIEW' }).getAttribute('value');
    await c.selectOption('#remedial_course_id', course);
    await c.click('#new-drill button[type=submit]');
    await c.waitForLoadState();
    assert.equal(await c.getAttribute('#window_end', 'aria-invalid'), 'true');
    assert.equal(await c.inputValue('#name'), 'Mailbox drill');
    assert.equal(await c.inputValue('#remedial_course_id'), course);
    assert.ok(await c.isChecked('#weekdays input[value="7"]'), 'the weekdays stay as ticked');
    await c.fill('#window_end', '23:59');
    await c.click('#new-drill button[type=submit]');
    await c.waitForURL(/\/drills\/campaigns\/[0-9a-f-]{36}$/);
    const drillUrl = c.url();
    assert.match(await c.locator('#drill-summary').textContent(), /PHISH-REVIEW/);
    await c.click('#drill-launch');
    await c.waitForLoadState();
    assert.equal(await c.locator('[data-state="drill-state:scheduled"]').count(), 1);

    // The sender runs every 15 s; the mail carries the token in its header.
    let mail;
    for (let i = 0; i < 90 && !mail; i++) { await sleep(500); mail = sink.messages[0]; }
    assert.ok(mail, 'the drill mail reached the relay');
    assert.equal(sink.messages.length, 1, 'one person, one mail');
    const token = /X-Drill-Ref: ([a-z2-7]{26})/i.exec(mail.raw)[1].toLowerCase();
    assert.match(mail.raw, new RegExp(`Message-ID: <${token}@127\\.0\\.0\\.1>`, 'i'));

    // A link scanner fetches at once: it is told nothing and counts for nobody.
    const scan = await fetch(`${server.base}/d/${token}`, { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Proofpoint URL Defense)' } });
    assert.equal(scan.status, 200);

    // The employee, past the scanners' first seconds, opens the link in their own browser.
    await sleep(Math.max(0, mail.at + 16000 - Date.now()));
    const p = person.page;
    await p.goto(`${server.base}/d/${token}`);
    assert.equal(await p.locator('#drill-landing').count(), 1);
    await p.fill('#drill-account', 'yamada');
    await p.fill('#drill-password', 'not-my-real-one');
    await p.click('#drill-landing button[type=submit]');
    await p.waitForLoadState();
    assert.match(await p.locator('#drill-lesson h1').textContent(), /訓練/);
    await p.screenshot({ path: `${SHOTS}drills-lesson-ja.png`, fullPage: true });
    await p.setViewportSize({ width: 390, height: 800 });
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
    await p.screenshot({ path: `${SHOTS}drills-lesson-ja-390.png`, fullPage: true });

    // The results: the person's click counts, the scanner's does not.
    await c.goto(drillUrl);
    assert.equal((await c.locator('#total-clicked').textContent()).trim().split(/\s|\(/)[0], '1');
    assert.ok(Number(await c.locator('#total-machine').textContent()) >= 1, 'the scanner was judged a machine');
    await c.screenshot({ path: `${SHOTS}drills-results-en.png`, fullPage: true });
    // Its trace says why the scanner's fetch did not count.
    await c.click('#drill-recipients tbody a');
    await c.waitForURL(/\/recipients\/[0-9a-f-]{36}$/);
    const trace = await c.locator('#drill-trace').textContent();
    assert.match(trace, /scanner's or program's user agent/);
    assert.match(trace, /A person/);
    await c.screenshot({ path: `${SHOTS}drills-trace-en.png`, fullPage: true });

    // The group's own gateway: a line that is no network is refused by its number, as typed.
    await c.goto(`${server.base}/drills/scanners`);
    await c.fill('#nets', '198.51.100.0/24\n10.0.0.0/33');
    await c.fill('#agents', 'acme-mailgw');
    await c.click('#scanners-form button[type=submit]');
    await c.waitForLoadState();
    assert.match(await c.locator('#nets-error').textContent(), /Line 2/);
    assert.equal(await c.inputValue('#agents'), 'acme-mailgw');
    await c.fill('#nets', '198.51.100.0/24\n10.0.0.0/8 # the group proxy');
    await c.click('#scanners-form button[type=submit]');
    await c.waitForURL(`${server.base}/drills/scanners`);
    assert.equal(await c.inputValue('#nets'), '198.51.100.0/24\n10.0.0.0/8');

    // The remedial course is on the employee's own training page.
    await signIn(p, server.base, 'employee', PASSWORD);
    await p.goto(`${server.base}/training`);
    assert.match(await p.locator('#my-training').textContent(), /Mailbox drill|フィッシング|PHISH/);

    // The employee also phoned the desk with the reference code from the mail.
    const ref = `${token.slice(0, 4)}-${token.slice(4, 8)}-${token.slice(8, 12)}`;
    await c.goto(`${server.base}/drills/reports`);
    await c.fill('#text', `Caller read out: ${ref.toUpperCase()}`);
    await c.click('#report-form button[type=submit]');
    await c.waitForLoadState();
    assert.match(await c.locator('#report-matches').textContent(), /Mailbox drill/);
    assert.match(await c.locator('#report-matches').textContent(), /First report/);
    await c.goto(drillUrl);
    assert.match(await c.locator('#drill-results tfoot').textContent(), /1\(100 %\)/);

    // The company's security administrator, in Japanese on a phone: the group's drill is
    // listed, its results show, and the recipients are anonymised for them.
    const o = office.page;
    await signIn(o, server.base, 'secadmin', PASSWORD);
    await o.setViewportSize({ width: 390, height: 860 });
    await o.goto(`${server.base}/drills`);
    assert.match(await o.locator('#drill-campaigns').textContent(), /Mailbox drill/);
    await o.screenshot({ path: `${SHOTS}drills-list-ja-390.png`, fullPage: true });
    assert.ok(await o.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
    await o.goto(drillUrl);
    assert.match(await o.locator('main').textContent(), /担当者にのみ表示/);
    assert.equal(await o.locator('#drill-recipients').textContent().then((t) => t.includes('@')), false, 'no addresses for a reader');
    await o.screenshot({ path: `${SHOTS}drills-results-ja-390.png`, fullPage: true });
    await c.setViewportSize({ width: 390, height: 860 });
    await c.goto(`${server.base}/drills`);
    assert.ok(await c.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on a phone');
    assert.deepEqual(ciso.problems, []);
    assert.deepEqual(person.problems, []);
    assert.deepEqual(office.problems, []);
  } finally {
    await ciso.browser.close();
    await person.browser.close();
    await office.browser.close();
    await server.stop();
    await sink.close();
  }
});
