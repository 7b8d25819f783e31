import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from 'nats';
import { Backoff, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';

/**
 * Follows the events another service stores in a JetStream stream, from this edge's start on.
 * An ordered consumer starts at the start time (every socket here is younger) and, when it has
 * to be recreated, at the sequence after the last event seen, so an event stored while this
 * edge was cut off from NATS still arrives. The owning service creates the stream; until it
 * exists this retries with backoff (nothing can have happened through it yet).
 */
export interface StreamFollowerOptions {
  name: string;
  js: JetStreamClient;
  stream: string;
  filterSubjects: string | string[];
  log: Logger;
  /** What stops working while the stream cannot be read, for the one warning per outage. */
  degraded: string;
  onEvent: (data: Uint8Array) => void;
}

const MAX_BACKOFF_MS = 5000;
/** Events stamped by a service whose clock runs a little behind ours still count. */
const CLOCK_SKEW_MS = 5000;

export class StreamFollower implements Component {
  readonly name: string;
  private readonly stopping = new AbortController();
  private iter: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private lastSeq = 0;
  private consuming = false;
  private readonly since = new Date(Date.now() - CLOCK_SKEW_MS).toISOString();

  constructor(private readonly o: StreamFollowerOptions) {
    this.name = o.name;
  }

  /** Does not wait for the stream: the edge serves while the owning service is still starting. */
  async start(): Promise<void> {
    this.loop = this.run();
  }

  /** True while a consumer is delivering (not while the stream cannot be read). */
  get following(): boolean {
    return this.consuming;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.iter?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: MAX_BACKOFF_MS });
    let failing = false;
    while (!this.stopping.signal.aborted) {
      try {
        const start = this.lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: this.since };
        const consumer = await this.o.js.consumers.get(this.o.stream, { filterSubjects: this.o.filterSubjects, ...start });
        this.iter = await consumer.consume({ max_messages: 256 });
        if (failing) this.o.log.info({ stream: this.o.stream }, `${this.o.name}: following again`);
        failing = false;
        this.consuming = true;
        backoff.reset();
        for await (const m of this.iter) {
          this.lastSeq = m.seq;
          this.o.onEvent(m.data);
        }
        this.consuming = false;
        if (!this.stopping.signal.aborted) throw new Error(`${this.o.name} consumer ended`);
      } catch (err) {
        this.consuming = false;
        if (this.stopping.signal.aborted) return;
        // One warning per outage: the stream may simply not exist until its owner has started.
        if (!failing) this.o.log.warn({ err, stream: this.o.stream }, `${this.o.name} unavailable: ${this.o.degraded} until this recovers`);
        failing = true;
        await backoff.wait(this.stopping.signal).catch(() => undefined);
      }
    }
  }
}
