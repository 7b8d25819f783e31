import { PassThrough } from 'node:stream';
import type { RestClient } from '@parley/client';
import { eventually } from '@parley/test-support';
import { Repl } from '../src/repl.js';

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
