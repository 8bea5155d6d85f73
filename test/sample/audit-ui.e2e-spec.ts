/**
 * The audit viewer (/audit-ui) in a real headless Chromium (Debian's chromium driven by playwright-core):
 * sign in, the tenant's timeline with who/what/when and the changed fields highlighted, the entity filter,
 * the chain status (valid, then broken after a row is altered as the superuser), revert for owners only,
 * and members turned away.
 */
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { adminQuery } from '../db/test-database';
import { startSample, type InvoiceBody, type SampleHarness } from './sample-fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let h: SampleHarness;
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: apt-get install -y chromium (.ci/run does it), or set CHROMIUM_PATH.`,
    );
  }
  h = await startSample('sample_ui');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function signIn(email: string, tenant = ''): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${h.t.url}/audit-ui`);
  await page.fill('#email', email);
  await page.fill('#password', 'demo');
  await page.fill('#tenant', tenant);
  await page.click('#login button[type=submit]');
  return page;
}

it('an owner sees the timeline, filters it, sees changed fields, reverts, and sees a broken chain', async () => {
  const bob = await h.as('bob@acme.test');
  const inv = (await bob.post<InvoiceBody>('/invoices', { customer: 'Browser Ltd', amount: 100 })).body;
  await bob.patch(`/invoices/${inv.id}`, { amount: 250 });

  const page = await signIn('alice@acme.test');
  await page.waitForSelector('#verify.ok');
  expect(await page.textContent('#verify')).toMatch(/^valid \(\d+ entries/);
  expect(await page.textContent('#who')).toBe('alice@acme.test - acme (owner)');
  // the seed and bob's changes, newest first, nothing of globex
  await page.waitForSelector('tr.entry');
  const all = await page.$$eval('tr.entry', (rows) => rows.map((r) => r.textContent ?? ''));
  expect(all.length).toBeGreaterThanOrEqual(5);
  expect(all.join('\n')).not.toMatch(/Stark|Cyberdyne/);

  await page.selectOption('#entityType', 'Invoice');
  await page.fill('#entityId', inv.id);
  await page.click('#filter button[type=submit]');
  await page.waitForFunction("document.querySelectorAll('tr.entry').length === 2");
  const rows = await page.$$eval('tr.entry', (trs) =>
    trs.map((tr) => ({
      what: tr.querySelector('.action')?.textContent,
      who: tr.children[2].textContent,
      changed: [...tr.querySelectorAll('.after .changed')].map((e) => e.getAttribute('data-field')),
      before: tr.querySelector('.before')?.textContent,
    })),
  );
  expect(rows[0]).toEqual({
    what: 'update Invoice',
    who: 'bob@acme.test (user)',
    changed: ['amount'],
    before: 'amount: 100',
  });
  expect(rows[1]).toMatchObject({ what: 'insert Invoice', who: 'bob@acme.test (user)' });

  // revert the edit: the amount is 100 again and a revert entry heads the timeline
  await page.click('tr.entry:first-child button.revert');
  await page.waitForFunction("document.querySelectorAll('tr.entry').length === 3");
  expect(await page.textContent('tr.entry:first-child .action')).toBe('revert Invoice');
  expect((await (await h.as('alice@acme.test')).get<InvoiceBody>(`/invoices/${inv.id}`)).body.amount).toBe(
    100,
  );

  // alter an audit row as the superuser: the page reports the broken chain
  await adminQuery(
    h.db,
    `UPDATE bulkhead_audit_entry SET actor_id = 'mallory' WHERE entity = 'Invoice' AND entity_id = $1::jsonb AND action = 'insert'`,
    [JSON.stringify({ id: inv.id })],
  );
  await page.click('#reverify');
  await page.waitForSelector('#verify.broken');
  expect(await page.textContent('#verify')).toMatch(/^BROKEN at position \d+: entry altered/);
  await page.context().close();
});

it('admins see the timeline without revert buttons; members are turned away', async () => {
  await (
    await h.as('carol@globex.test')
  ).put(`/members/${await h.userId('erin@both.test')}`, { role: 'admin' });
  const admin = await signIn('erin@both.test', 'globex');
  await admin.waitForSelector('tr.entry');
  expect(await admin.textContent('#who')).toBe('erin@both.test - globex (admin)');
  expect(await admin.$$('button.revert')).toHaveLength(0);
  const text = (await admin.$$eval('tr.entry', (r) => r.map((x) => x.textContent).join('\n'))) ?? '';
  expect(text).not.toMatch(/Initech|Umbrella|Wayne/);
  await admin.context().close();

  const member = await signIn('bob@acme.test');
  await member.waitForFunction("document.getElementById('login-error').textContent !== ''");
  expect(await member.textContent('#login-error')).toBe('Only admins and owners can see the audit.');
  expect(await member.isVisible('#app')).toBe(false);
  await member.context().close();
});
