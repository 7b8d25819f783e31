import { PassThrough } from 'node:stream';
import { RestClient, type RestEndpoints } from '@parley/client';
import { eventually, uniqueName, type deferrer } from '@parley/test-support';
import { Repl } from '../src/repl.js';

export type Terminal = ReturnType<typeof terminal>;

/** The terminal client as a person drives it: lines typed in, the screen read back. */
export function terminal(rest: RestClient, wsUrl: string) {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += String(c)));
  const done = new Repl(rest, wsUrl, input, output).run();
  return {
    type: (line: string) => void input.write(`${line}\n`),
    screen: () => text,
    /** Waits for a line matching `re` and returns its match. */
    waitFor: (re: RegExp, timeoutMs = 15_000) =>
      eventually(async () => re.exec(text), timeoutMs, 20).catch((err: Error) => {
        throw new Error(`${err.message}: ${re} not on screen:\n${text}`);
      }),
    quit: async () => {
      input.end();
      await done;
    },
  };
}

/** Alice registers and creates a public room, Bob registers and joins it; both are live. */
export async function twoInRoom(defer: ReturnType<typeof deferrer>, endpoints: RestEndpoints, wsUrl: string) {
  const [a, b] = [terminal(new RestClient({ endpoints }), wsUrl), terminal(new RestClient({ endpoints }), wsUrl)];
  defer(() => a.quit());
  defer(() => b.quit());
  const [alice, bob] = [uniqueName('alice').slice(0, 30), uniqueName('bob').slice(0, 30)];
  a.type(`/register ${alice} correct-horse-battery`);
  await a.waitFor(/logged in as alice/);
  a.type('/create lobby');
  const roomId = (await a.waitFor(/created lobby: ([0-9a-f-]{36})/))[1]!;
  await a.waitFor(/-- live --/);
  b.type(`/register ${bob} correct-horse-battery`);
  await b.waitFor(/logged in as bob/);
  b.type(`/join ${roomId}`);
  await b.waitFor(/-- live --/);
  return { a, b, roomId, alice, bob };
}
