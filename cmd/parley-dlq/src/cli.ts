import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { DeadLetterQueue, DlqUsageError, selectByReason, selectByRefs, type StoredLetter } from './dead-letter-queue.js';

export const USAGE = `usage: make dlq ARGS="<command>"   (or node --import tsx cmd/parley-dlq/main.ts <command>)

  list [--reason R] [--limit N]   dead letters, oldest first: reference, time, reason, service, source, room, detail
  show <partition:offset>         one letter: its headers, key and value
  redrive <partition:offset>...   put these letters' records back into the message topic
  redrive --reason R              ... every letter with this reason

A reference is <partition>:<offset> as \`list\` prints it (an offset alone when one partition holds it).
Redrive after the cause is fixed: stores are idempotent by message id, so redriving twice stores once.
Environment: KAFKA_BROKERS (127.0.0.1:9092), KAFKA_TOPIC (chat.messages), KAFKA_DLQ_TOPIC (chat.messages.dlq).`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs one command; resolves with the exit code (0 done, 1 failed, 2 bad usage). */
export async function runDlq(argv: string[], kafka: Kafka, topics: { topic: string; dlqTopic: string }, io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { reason: { type: 'string' }, limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...refs] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const queue = new DeadLetterQueue(kafka, topics);
  try {
    switch (command) {
      case 'list': {
        const limit = values.limit === undefined ? Infinity : Number(values.limit);
        if (values.limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new DlqUsageError(`--limit must be a positive whole number, not "${values.limit}"`);
        const all = await queue.read();
        const letters = values.reason === undefined ? all : selectByReason(all, values.reason);
        for (const l of letters.slice(0, limit)) io.out(listLine(l));
        io.out(`${letters.length} dead letter(s)${values.reason === undefined ? '' : ` with reason ${values.reason}`} in ${topics.dlqTopic}${letters.length > limit ? `, first ${limit} shown` : ''}`);
        return 0;
      }
      case 'show': {
        if (refs.length !== 1) throw new DlqUsageError('show takes exactly one <partition>:<offset>');
        for (const line of showLines(selectByRefs(await queue.read(), refs)[0]!)) io.out(line);
        return 0;
      }
      case 'redrive': {
        if ((refs.length > 0) === (values.reason !== undefined)) throw new DlqUsageError('redrive takes either references (<partition>:<offset>...) or --reason R, not both and not neither');
        const all = await queue.read();
        const letters = values.reason === undefined ? selectByRefs(all, refs) : selectByReason(all, values.reason);
        const n = await queue.redrive(letters);
        for (const l of letters) io.out(`redriven ${l.partition}:${l.offset} (${l.reason}, room ${l.key ?? '-'}) -> ${topics.topic}`);
        io.out(`${n} record(s) redriven into ${topics.topic}`);
        return 0;
      }
      default:
        throw new DlqUsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof DlqUsageError) {
      io.err(err.message);
      return 2;
    }
    io.err(`dlq ${command} failed: ${(err as Error).message}`);
    return 1;
  }
}

function listLine(l: StoredLetter): string {
  const at = l.at > 0 ? new Date(l.at).toISOString() : '-';
  return `${l.partition}:${l.offset}\t${at}\t${l.reason}\t${l.service}\t${l.source}\troom=${l.key ?? '-'}\t${l.message}`;
}

function showLines(l: StoredLetter): string[] {
  return [
    `reference  ${l.partition}:${l.offset}`,
    `reason     ${l.reason}`,
    `detail     ${l.message}`,
    `service    ${l.service}`,
    `source     ${l.source}`,
    `at         ${l.at > 0 ? new Date(l.at).toISOString() : '-'}`,
    `key        ${l.key ?? '(none)'}`,
    `value      ${printable(l.value)}`,
  ];
}

/** Pretty JSON when it parses, the text when it is UTF-8, base64 otherwise. */
function printable(value: Buffer | null): string {
  if (value === null) return '(none)';
  const text = new TextDecoder('utf-8', { fatal: true });
  let s: string;
  try {
    s = text.decode(value);
  } catch {
    return `(not UTF-8, ${value.length} bytes, base64) ${value.toString('base64')}`;
  }
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return JSON.stringify(s);
  }
}
