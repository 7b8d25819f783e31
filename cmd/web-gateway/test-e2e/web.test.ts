import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { deferrer, eventually, uniqueName } from '@parley/test-support';
import { startStack, repoRoot, type Edge, type Gateway } from './stack.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'test-results');
const PASSWORD = 'correct horse battery';
const pageErrors: string[] = [];
/** What the browser refused under the gateway's Content-Security-Policy, on any page load. */
const cspViolations: string[] = [];

/** Installs Debian's Chromium when it is missing; the reason to skip when that is impossible. */
function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  try {
    execFileSync('bash', [join(repoRoot, 'scripts/ensure-chromium.sh')], { stdio: 'inherit', timeout: 540_000 });
  } catch (err) {
    return `${CHROMIUM} is absent and could not be installed: ${(err as Error).message}`;
  }
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent and could not be installed`;
}

const skip = chromiumMissing();

/** Confirmed message bodies in the room view, top to bottom. */
const bodies = (page: Page) => page.$$eval('.scroller ol.messages:not(.pending-list) li.msg .body', (els) => els.map((e) => e.textContent ?? ''));
/** The room's composer (the thread panel has one of its own). */
const COMPOSER = '.room > form.composer textarea';
/** A confirmed message in the room view, by a text of its body. */
const inRoom = (text: string) => `.scroller ol.messages:not(.pending-list) li.msg:has(.body:text-is("${text}"))`;
const pendingCount = (page: Page) => page.$$eval('ol.pending-list li', (els) => els.length);
const connState = (page: Page) => page.getAttribute('.conn', 'data-state');

async function waitBodies(page: Page, want: string[], timeoutMs = 20_000): Promise<void> {
  await eventually(async () => {
    const got = await bodies(page);
    return want.every((w) => got.filter((g) => g === w).length === 1) && (await pendingCount(page)) === 0;
  }, timeoutMs, 100).catch(async (err: Error) => {
    const pending = await page.$$eval('ol.pending-list li', (els) => els.map((e) => `${e.getAttribute("data-state")}: ${e.textContent}`));
    throw new Error(`${err.message}\nwanted each once: ${JSON.stringify(want)}\nshown: ${JSON.stringify(await bodies(page))}\npending: ${JSON.stringify(pending)}\nconnection: ${await connState(page)}\npage errors: ${JSON.stringify(pageErrors.slice(-10))}`);
  });
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill(COMPOSER, text);
  await page.press(COMPOSER, 'Enter');
}

describe('web client in Chromium', { skip, timeout: 240_000 }, () => {
  const hooks: Array<() => unknown> = [];
  const defer = deferrer({ after: (fn) => void hooks.push(fn) });
  let browser: Browser;
  let aliceGw: Gateway;
  let bobGw: Gateway;
  let edge: Edge;
  let alice: Page;
  let bob: Page;
  const room = `lobby ${uniqueName('r').slice(-6)}`;
  const sent: string[] = [];
  const aliceName = uniqueName('alice').slice(0, 30);

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const stack = await startStack(defer, { historyLimit: 5, sendsPerUser: 12 });
    edge = stack.edge;
    // One gateway per user, so one user's connection can be cut while the other keeps chatting.
    [aliceGw, bobGw] = [await stack.gateway(), await stack.gateway()];
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    defer(() => browser.close());
    const open = async () => {
      const page = await (await browser.newContext({ viewport: { width: 1100, height: 640 } })).newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
      await page.exposeFunction('__parleyCspViolation', (what: string) => void cspViolations.push(what));
      await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => window.__parleyCspViolation(e.violatedDirective + ' ' + e.blockedURI));" });
      return page;
    };
    [alice, bob] = [await open(), await open()];
  });
  after(async () => {
    for (const fn of hooks) await fn();
  });

  it('registers, refuses a wrong password, and signs in', async () => {
    const register = async (page: Page, base: string, name: string, display: string) => {
      await page.goto(base);
      await page.fill('input[name=username]', name);
      await page.fill('input[name=password]', PASSWORD);
      await page.fill('input[name=display_name]', display);
      await page.click('button[name=register]');
      await page.waitForSelector('#logout');
    };
    await register(alice, aliceGw.base, aliceName, 'Alice <b>A</b>');
    const bobName = uniqueName('bob').slice(0, 30);
    await register(bob, bobGw.base, bobName, 'Bob');
    await bob.click('#logout');
    await bob.fill('input[name=username]', bobName);
    await bob.fill('input[name=password]', 'wrong password!');
    await bob.click('button[name=login]');
    await bob.waitForSelector('.auth .error:text("Wrong username or password.")');
    await bob.screenshot({ path: join(SHOTS, 'web-login-error.png') });
    await bob.fill('input[name=password]', PASSWORD);
    await bob.click('button[name=login]');
    await bob.waitForSelector('#logout');
    assert.equal(await alice.textContent('#whoami span'), 'Alice <b>A</b>', 'a display name with markup is shown as text');
  });

  it('creates a public room, the other user joins, and both see each other live', async () => {
    await alice.fill('input[name=room_name]', room);
    await alice.selectOption('select[name=visibility]', 'public');
    await alice.click('.create-room button');
    await alice.waitForSelector(`.room h2:text-is("${room}")`);
    await alice.waitForSelector('.conn[data-state=live]');
    await bob.click('.rooms button.link[title=Refresh]');
    await bob.click(`.rooms ul.public li:has-text("${room}") button`);
    await bob.waitForSelector('.conn[data-state=live]');

    sent.push('hello from alice, the first message', 'hi alice, bob here');
    await send(alice, sent[0]!);
    await waitBodies(bob, [sent[0]!]);
    await send(bob, sent[1]!);
    await waitBodies(alice, sent);
    await waitBodies(bob, sent);
  });

  it('shows HTML and script tags in messages as text', async () => {
    const evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b>';
    sent.push(evil);
    await send(alice, evil);
    await waitBodies(bob, sent);
    assert.equal(await bob.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.equal(await bob.$$eval('ol.messages script, ol.messages img, ol.messages b', (els) => els.length), 0);
  });

  it('loses nothing visible when the edge is killed mid-chat and restarted', async () => {
    const burst = Array.from({ length: 5 }, (_, i) => `burst ${i} before the crash`);
    for (const b of burst) await send(alice, b);
    await edge.kill();
    await eventually(async () => (await connState(alice)) === 'reconnecting' && (await connState(bob)) === 'reconnecting', 10_000, 50);
    const during = ['written while the edge was down', 'and another one from alice'];
    for (const d of during) await send(alice, d);
    await send(bob, 'bob typed during the outage too');
    assert.ok((await pendingCount(alice)) >= during.length, 'messages written while offline are pending');
    await alice.screenshot({ path: join(SHOTS, 'web-reconnecting.png') });
    await edge.start();
    sent.push(...burst, ...during, 'bob typed during the outage too');
    await waitBodies(alice, sent, 40_000);
    await waitBodies(bob, sent, 40_000);
    assert.equal(await connState(alice), 'live');
    assert.deepEqual(await bodies(alice), await bodies(bob), 'both show the same messages in the same order');
    assert.equal(new Set(await bodies(alice)).size, (await bodies(alice)).length, 'no duplicates');
  });

  it('resumes from the last message seen after its own connection was cut', async () => {
    await bobGw.stop();
    await eventually(async () => (await connState(bob)) !== 'live', 10_000, 50);
    const missed = ['bob missed this', 'and this', 'and this third one'];
    for (const m of missed) await send(alice, m);
    sent.push(...missed);
    await waitBodies(alice, sent);
    await bobGw.start();
    await waitBodies(bob, sent, 30_000);
    assert.equal(await connState(bob), 'live');
    assert.deepEqual(await bodies(bob), await bodies(alice));
  });

  it('holds messages back while rate limited and delivers each once afterwards', async () => {
    // More than two fixed windows' worth (12 each): some are held back even when the flood
    // straddles a window boundary.
    const flood = Array.from({ length: 30 }, (_, i) => `flood ${i}`);
    for (const f of flood) await send(alice, f);
    await alice.waitForSelector('ol.pending-list li[data-state=retrying]', { timeout: 10_000 });
    sent.push(...flood);
    await waitBodies(alice, sent, 60_000);
    await waitBodies(bob, sent, 30_000);
    assert.deepEqual(await bodies(alice), await bodies(bob));
  });

  it('reload shows history, and scrolling up loads older pages', async () => {
    const queried: string[] = [];
    const record = (req: { url(): string }) => void (req.url().includes('/api/query/') && queried.push(new URL(req.url()).pathname));
    bob.on('request', record);
    await bob.reload();
    await bob.waitForSelector('.conn[data-state=live]');
    // The edge replays only the newest 5; the rest arrives from the query service on scroll.
    await eventually(async () => {
      await bob.$eval('.scroller', (el) => (el.scrollTop = 0));
      return (await bodies(bob)).length >= sent.length;
    }, 30_000, 300);
    bob.off('request', record);
    assert.deepEqual(await bodies(bob), await bodies(alice), 'history after reload equals what was seen live');
    // Scrolling back pages by id from Cassandra; the lagging search index is not asked for messages
    // (the unread badges' counts and a read marker's readers are not pages of the room).
    const pages = queried.filter((p) => !p.endsWith('/v1/unread') && !p.endsWith('/readers'));
    assert.ok(pages.length > 0 && pages.every((p) => p.endsWith('/messages/latest')), JSON.stringify(queried));
    await bob.screenshot({ path: join(SHOTS, 'web-room.png') });
  });

  it('search finds an old message and highlights the match', async () => {
    await alice.fill('.search input', 'first');
    const marks = await eventually(async () => {
      await alice.click('.search button');
      await alice.waitForSelector('.search-results:not([hidden]) ol.hits', { timeout: 5000 });
      const found = await alice.$$eval('.search-results mark', (els) => els.map((e) => e.textContent));
      return found.length > 0 ? found : undefined;
    }, 30_000, 500);
    assert.deepEqual(marks, ['first']);
    assert.match((await alice.textContent('.search-results .fragment')) ?? '', /hello from alice, the first message/);
    await alice.fill('.search input', 'bold');
    await alice.click('.search button');
    await alice.waitForSelector('.search-results .fragment:has(mark)');
    assert.equal(await alice.$$eval('.search-results script, .search-results img, .search-results b', (els) => els.length), 0, 'highlights carry only <mark>');
    await alice.screenshot({ path: join(SHOTS, 'web-search.png') });
    await alice.click('.search-results button.link');
    assert.ok(await alice.isHidden('.search-results'));
  });

  it('edits, reacts, replies and deletes through the page, and the other page follows live', async () => {
    const errorsBefore = pageErrors.length;
    const first = sent[0]!;
    const edited = 'hello from alice, the first message (now edited)';
    // Edit: only one's own messages offer it.
    assert.equal(await bob.locator(`${inRoom(first)} [data-act=edit]`).count(), 0, 'bob cannot edit alice\'s message');
    await alice.click(`${inRoom(first)} [data-act=edit]`);
    await alice.fill('.edit-box textarea', edited);
    await alice.press('.edit-box textarea', 'Enter');
    await bob.waitForSelector(`${inRoom(edited)} .edited`, { timeout: 30_000 });
    await alice.waitForSelector(`${inRoom(edited)} .edited`, { timeout: 30_000 });

    // Reactions: counts on both pages, the reader's own pressed.
    await bob.click(`${inRoom(edited)} [data-act=react]`);
    await bob.click(`${inRoom(edited)} .picker button:text-is("👍")`);
    const chip = `${inRoom(edited)} .reaction[data-emoji="👍"]`;
    await alice.waitForSelector(`${chip}[aria-pressed=false]:has(.count:text-is("1"))`, { timeout: 30_000 });
    await bob.waitForSelector(`${chip}[aria-pressed=true]:has(.count:text-is("1"))`, { timeout: 30_000 });
    await alice.click(chip);
    await bob.waitForSelector(`${chip}[aria-pressed=true]:has(.count:text-is("2"))`, { timeout: 30_000 });
    await bob.click(chip);
    await alice.waitForSelector(`${chip}[aria-pressed=true]:has(.count:text-is("1"))`, { timeout: 30_000 });

    // A reply that mentions alice: highlighted for her, counted below the parent, read in the thread.
    const reply = `a reply for @${aliceName} in the thread`;
    // Its body holds a span around the mention, so it is found by a part of its text.
    const replyRow = '.scroller ol.messages:not(.pending-list) li.msg:has(.body:has-text("a reply for"))';
    await bob.click(`${inRoom(edited)} [data-act=reply]`);
    await bob.waitForSelector('.reply-bar');
    await send(bob, reply);
    await alice.waitForSelector(`${replyRow}.mention-me .mention:text-is("@${aliceName}")`, { timeout: 30_000 });
    await bob.waitForSelector(replyRow);
    assert.equal(await bob.locator(`${replyRow}.mention-me`).count(), 0, 'only the one mentioned is highlighted');
    await alice.click(`${inRoom(edited)} .thread-link:text-is("1 reply")`, { timeout: 30_000 });
    await alice.waitForSelector('.thread-panel .thread-replies li.msg .body:has-text("a reply for")');
    await alice.fill('.thread-panel textarea', 'answered in the thread');
    await alice.press('.thread-panel textarea', 'Enter');
    await bob.waitForSelector(`${inRoom(edited)} .thread-link:text-is("2 replies")`, { timeout: 30_000 });
    await alice.waitForSelector('.thread-panel .thread-replies li.msg .body:text-is("answered in the thread")', { timeout: 30_000 });

    // Delete: the owner deletes bob's message, bob deletes his reply; both pages show tombstones.
    const bobs = sent[1]!;
    await alice.click(`${inRoom(bobs)} [data-act=delete]`);
    await alice.click(`${inRoom(bobs)} [data-act=delete]`);
    const tombstone = `.scroller li.msg.deleted .body:text-is("This message was deleted.")`;
    await bob.waitForSelector(tombstone, { timeout: 30_000 });
    await bob.click(`${replyRow} [data-act=delete]`);
    await bob.click(`${replyRow} [data-act=delete]`);
    await alice.waitForSelector('.thread-panel .thread-replies li.msg.deleted', { timeout: 30_000 });
    await eventually(async () => (await alice.locator(tombstone).count()) === 2, 30_000, 100);
    assert.equal(await alice.locator(`${inRoom(edited)} [data-act=delete]`).count(), 1, 'one\'s own message can be deleted');
    await alice.screenshot({ path: join(SHOTS, 'web-changes.png') });
    assert.deepEqual(pageErrors.slice(errorsBefore), [], 'no page errors');
  });

  it('shows who is online and typing, read markers, unread badges and direct rooms', async () => {
    const errorsBefore = pageErrors.length;
    const online = (name: string) => `.members li[data-online=true] .name:text-is("${name}")`;
    await alice.waitForSelector(online('Bob'), { timeout: 20_000 });
    await bob.waitForSelector(online('Alice <b>A</b>'), { timeout: 20_000 });
    // Typing: keystrokes in bob's composer show on alice's page, and the line expires by itself.
    // Typing is the first thing the edge drops, so bob goes on typing until it shows.
    await eventually(async () => {
      await bob.type(COMPOSER, 'thinking… ', { delay: 20 });
      return alice.waitForSelector('.typing:text-is("Bob is typing…")', { timeout: 2500 }).then(() => true, () => false);
    }, 20_000, 0);
    await bob.fill(COMPOSER, '');
    await alice.waitForSelector('.typing:empty', { timeout: 12_000 });
    // Read marker: bob's page is visible, so alice's newest message is read as soon as it is shown.
    sent.push('is anyone reading this?');
    await send(alice, sent.at(-1)!);
    await alice.waitForSelector(`${inRoom(sent.at(-1)!)} .seen:text-is("seen by Bob")`, { timeout: 20_000 });
    // A direct room: alice starts it from the member list; bob's list gains it with an unread badge.
    await alice.click('.members li:has(.name:text-is("Bob")) [data-dm]');
    await alice.waitForSelector('.room h2:text-is("direct")');
    await alice.waitForSelector('.conn[data-state=live]');
    await alice.waitForSelector('.rooms ul.mine a:text-is("@ Bob")');
    await send(alice, 'psst, bob');
    await waitBodies(alice, ['psst, bob']);
    const badge = '.rooms ul.mine li:has(a:text-is("@ direct message")) .badge';
    await eventually(async () => {
      // The page asks GET /v1/unread on focus (and every 30 s); the count lags the stream by a search refresh.
      await bob.evaluate(() => (globalThis as unknown as { dispatchEvent(e: Event): boolean }).dispatchEvent(new Event('focus')));
      return (await bob.locator(`${badge}:text-is("1")`).count()) === 1;
    }, 30_000, 500);
    await bob.screenshot({ path: join(SHOTS, 'web-presence.png') });
    // Opening it shows the message and marks it read: the badge goes, and alice sees bob online there.
    await bob.click('.rooms ul.mine a:text-is("@ direct message")');
    await waitBodies(bob, ['psst, bob']);
    await eventually(async () => (await bob.locator(badge).count()) === 0, 20_000, 100);
    await alice.waitForSelector(online('Bob'), { timeout: 20_000 });
    assert.equal(await alice.locator('.room button.danger').count(), 0, 'a direct room cannot be deleted');
    // Back to the lobby for the last step.
    for (const page of [alice, bob]) {
      await page.click(`.rooms ul.mine a:text-is("${room}")`);
      await page.waitForSelector('.conn[data-state=live]');
    }
    assert.deepEqual(pageErrors.slice(errorsBefore), [], 'no page errors');
  });

  it('runs within the CSP: no inline script, no eval, nothing from elsewhere', () => {
    assert.deepEqual(cspViolations, []);
  });

  it('tells the other member when the room is deleted while open', async () => {
    await alice.click('button.danger');
    await alice.click('button.danger');
    await bob.waitForSelector('.banner:text("This room was deleted.")', { timeout: 20_000 });
    assert.equal(await connState(bob), 'ended');
    assert.ok(await bob.isDisabled(COMPOSER));
  });
});
