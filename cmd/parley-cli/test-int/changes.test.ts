/**
 * Messages that change, in two terminals on the whole system (e2e/system.ts: every service its
 * own process, so changes come back as `message_updated` from the store): /edit, /react (a
 * toggle), /reply, /thread, /delete and /mentions, each change shown again as an "(updated)" line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually } from '@parley/test-support';
import { startSystem } from '../../../e2e/system.js';
import { twoInRoom } from './terminal.js';

/** The last line on a screen that starts with `prefix`. */
const lastLine = (screen: string, prefix: string) => screen.split('\n').filter((l) => l.startsWith(prefix)).at(-1) ?? '';

test('two terminals edit, react, reply, read a thread and delete', { timeout: 240_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem();
  defer(() => sys.stop());
  const edge = sys.urls.edges[0]!;
  const { a, b, bob } = await twoInRoom(defer, sys.endpoints, edge);

  a.type(`hello @${bob}`);
  await b.waitFor(/^#1 \[[^\]]+\] alice_\S+: hello @bob_\S+$/m);
  await a.waitFor(/^#1 \[[^\]]+\] alice_\S+ \(you\): hello/m);

  b.type('/edit #1 hijacked');
  await b.waitFor(/edit refused \(not_author\): only the author can edit a message/);
  b.type('/edit #7 nothing there');
  await b.waitFor(/! no message #7 on this screen/);
  b.type('/react #1 thumbs');
  await b.waitFor(/usage: \/react <#n\|id> <emoji>/);

  a.type('/edit #1 hello everyone');
  await b.waitFor(/^#1 \(updated\) \[[^\]]+\] alice_\S+: hello everyone \(edited\)$/m, 30_000);

  b.type('/react #1 👍');
  await a.waitFor(/^#1 \(updated\) .*: hello everyone \(edited\) \[👍 1\]$/m, 30_000);
  await b.waitFor(/^#1 \(updated\) .*: hello everyone \(edited\) \[👍 1\*\]$/m, 30_000);
  b.type('/react #1 👍');
  await eventually(async () => lastLine(a.screen(), '#1 ').endsWith('hello everyone (edited)'), 30_000, 50);

  b.type('/reply #1 an answer below');
  await a.waitFor(/^#2 \[[^\]]+\] bob_\S+ ↪ #1: an answer below$/m, 30_000);
  await a.waitFor(/^#1 \(updated\) .*hello everyone \(edited\) \(1 reply\)$/m, 30_000);
  a.type('/thread #1');
  await a.waitFor(/-- 1 reply --\n#2 \[[^\]]+\] bob_\S+ ↪ #1: an answer below/);

  // The edit took the first @mention away (mentions follow the current body); a new one.
  a.type(`ping @${bob}, have a look`);
  await b.waitFor(/: ping @bob_\S+, have a look$/m);
  // The search index lags the stream a little: ask until the mention is there.
  await eventually(async () => {
    b.type('/mentions');
    await new Promise((r) => setTimeout(r, 500));
    return /^1 message\(s\) mention you$/m.test(b.screen());
  }, 30_000, 500);

  b.type('/delete #2');
  await a.waitFor(/^#2 \(updated\) \[[^\]]+\] bob_\S+ ↪ #1: \(deleted\)$/m, 30_000);
  a.type('/delete #1');
  await b.waitFor(/^#1 \(updated\) \[[^\]]+\] alice_\S+: \(deleted\)$/m, 30_000);

  assert.equal(b.screen().split('\n').filter((l) => l.endsWith(': an answer below')).length, 1, 'the reply was shown once, then only updated');
});
