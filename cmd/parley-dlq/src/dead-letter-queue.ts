import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { CONTENT_TYPE, ENVELOPE_VERSION } from '@parley/envelope';

/** One record of the dead-letter topic, with the headers every worker writes (kafka-record.ts). */
export interface StoredLetter {
  partition: number;
  offset: string;
  /** The original key: the room id (null when the source named no room). */
  key: string | null;
  /** The original value, untouched. */
  value: Buffer | null;
  reason: string;
  message: string;
  /** nats:<stream>:<seq>:<subject> or kafka:<topic>:<partition>:<offset> */
  source: string;
  service: string;
  at: number;
}

/** A request the queue cannot answer as asked: the CLI prints the message and exits 2. */
export class DlqUsageError extends Error {
  override readonly name = 'DlqUsageError';
}

/** On a redriven record in the message topic: the letter it came from (kafka:<dlq topic>:<partition>:<offset>). */
export const REDRIVEN_FROM_HEADER = 'dlq-redriven-from';
const READ_TIMEOUT_MS = 30_000;

/**
 * The dead-letter topic as an operator sees it: read it whole (it is small by nature: every
 * record in it is a bug or an outage someone has to look at), pick letters by reference or
 * reason, and redrive them into the message topic.
 *
 * A redrive produces the original key and value again, so the record takes the same path as
 * the first time; stores are idempotent by message id, so a message redriven twice (or
 * redriven after it was stored through another path) is still one row and one document.
 */
export class DeadLetterQueue {
  constructor(
    private readonly kafka: Kafka,
    private readonly topics: { topic: string; dlqTopic: string },
  ) {}

  /** Every letter from the start of what the topic retains up to its end now, by partition and offset. */
  async read(): Promise<StoredLetter[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    const groupId = `parley-dlq-${randomBytes(6).toString('hex')}`;
    try {
      if (!(await admin.listTopics()).includes(this.topics.dlqTopic)) {
        throw new DlqUsageError(`there is no topic ${this.topics.dlqTopic} on this Kafka (chat-ingestion-svc creates it when it first starts; KAFKA_DLQ_TOPIC names another)`);
      }
      const ends = await admin.fetchTopicOffsets(this.topics.dlqTopic);
      const remaining = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]));
      const letters: StoredLetter[] = [];
      if (remaining.size > 0) await this.consume(groupId, remaining, letters);
      return letters.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }

  /** Produces each letter's key and value into the message topic (acks=all); returns how many. */
  async redrive(letters: readonly StoredLetter[]): Promise<number> {
    if (letters.length === 0) return 0;
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({
        topic: this.topics.topic,
        acks: -1,
        messages: letters.map((l) => ({
          key: roomKey(l),
          value: l.value,
          headers: { v: String(ENVELOPE_VERSION), 'content-type': CONTENT_TYPE, [REDRIVEN_FROM_HEADER]: reference(this.topics.dlqTopic, l) },
        })),
      });
      return letters.length;
    } finally {
      await producer.disconnect();
    }
  }

  private async consume(groupId: string, remaining: Map<number, bigint>, out: StoredLetter[]): Promise<void> {
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.topics.dlqTopic, fromBeginning: true });
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const last = remaining.get(partition);
          if (last === undefined || BigInt(message.offset) > last) return;
          out.push(toLetter(partition, message.offset, message.key, message.value, message.headers ?? {}));
          if (BigInt(message.offset) === last) remaining.delete(partition);
          if (remaining.size === 0) done();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`reading ${this.topics.dlqTopic} took longer than ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS)));
      await Promise.race([finished, late]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
  }
}

function header(h: IHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v[0] : v)?.toString();
}

function toLetter(partition: number, offset: string, key: Buffer | null, value: Buffer | null, h: IHeaders): StoredLetter {
  return {
    partition,
    offset,
    key: key === null ? null : key.toString('utf8'),
    value,
    reason: header(h, 'dlq-reason') ?? 'unknown',
    message: header(h, 'dlq-message') ?? '',
    source: header(h, 'dlq-source') ?? '',
    service: header(h, 'dlq-service') ?? '',
    at: Number(header(h, 'dlq-at') ?? 0),
  };
}

/** kafka:<dlq topic>:<partition>:<offset>, the form dlq-source uses. */
export function reference(dlqTopic: string, l: Pick<StoredLetter, 'partition' | 'offset'>): string {
  return `kafka:${dlqTopic}:${l.partition}:${l.offset}`;
}

/**
 * The key a redriven record gets: the letter's own (the room), or for a letter without one the
 * room its value names. A record that names no room cannot be put back in order, so it is refused.
 */
export function roomKey(l: StoredLetter): string {
  if (l.key !== null && l.key !== '') return l.key;
  try {
    const room = (JSON.parse(l.value?.toString('utf8') ?? '') as { room_id?: unknown }).room_id;
    if (typeof room === 'string' && room !== '') return room;
  } catch {
    // Not JSON: no room to read.
  }
  throw new DlqUsageError(`dead letter ${l.partition}:${l.offset} has no key and its value names no room_id: it cannot be redriven in room order (reason ${l.reason}); fix its producer instead`);
}

const REF = /^(?:(\d+):)?(\d+)$/;

/**
 * Letters by reference, `<partition>:<offset>` or an offset alone when only one partition holds
 * it; every reference must name a letter, or nothing is selected.
 */
export function selectByRefs(letters: readonly StoredLetter[], refs: readonly string[]): StoredLetter[] {
  if (refs.length === 0) throw new DlqUsageError('name at least one dead letter as <partition>:<offset> (see `list`)');
  const picked = new Map<string, StoredLetter>();
  for (const ref of refs) {
    const m = REF.exec(ref.trim());
    if (!m) throw new DlqUsageError(`"${ref}" is not a dead letter reference: give <partition>:<offset> (e.g. 0:17), or an offset alone when one partition holds it`);
    const [, part, offset] = m;
    const found = letters.filter((l) => l.offset === String(BigInt(offset!)) && (part === undefined || l.partition === Number(part)));
    if (found.length > 1) throw new DlqUsageError(`offset ${offset} is in partitions ${found.map((l) => l.partition).join(', ')}: give it as <partition>:<offset>`);
    const letter = found[0];
    if (!letter) throw new DlqUsageError(`no dead letter at ${ref}: ${describeRange(letters, part === undefined ? undefined : Number(part))}`);
    picked.set(`${letter.partition}:${letter.offset}`, letter);
  }
  return [...picked.values()];
}

/** Every letter with this reason; an unknown reason names the ones present. */
export function selectByReason(letters: readonly StoredLetter[], reason: string): StoredLetter[] {
  const found = letters.filter((l) => l.reason === reason);
  if (found.length > 0) return found;
  const counts = new Map<string, number>();
  for (const l of letters) counts.set(l.reason, (counts.get(l.reason) ?? 0) + 1);
  const present = [...counts].map(([r, n]) => `${r} (${n})`).join(', ');
  throw new DlqUsageError(`no dead letters with reason "${reason}"; ${present === '' ? 'the dead-letter topic is empty' : `reasons present: ${present}`}`);
}

function describeRange(letters: readonly StoredLetter[], partition: number | undefined): string {
  if (letters.length === 0) return 'the dead-letter topic is empty';
  const parts = partition === undefined ? [...new Set(letters.map((l) => l.partition))] : [partition];
  return parts
    .map((p) => {
      const offs = letters.filter((l) => l.partition === p).map((l) => BigInt(l.offset));
      if (offs.length === 0) return `partition ${p} holds no dead letters`;
      const min = offs.reduce((a, b) => (b < a ? b : a));
      const max = offs.reduce((a, b) => (b > a ? b : a));
      return `partition ${p} holds offsets ${min}-${max}`;
    })
    .join('; ');
}
