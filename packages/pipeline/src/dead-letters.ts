import type { Producer } from 'kafkajs';
import { deadLetterRecord, type DeadLetter } from '@parley/envelope';
import type { Logger } from '@parley/log';
import { Backoff } from '@parley/lifecycle';
import type { Registry } from '@parley/metrics';
import { pipelineMetrics, type PipelineMetrics } from './metrics.js';

/** Where a worker puts what it can never process, with the reason. */
export interface DeadLetterSink {
  /** Resolves once every letter is durably stored; retries while the store is away. */
  send(letters: DeadLetter[], signal: AbortSignal): Promise<void>;
}

/**
 * Dead letters go to a Kafka topic through an idempotent producer with acks=all. The worker
 * acknowledges (or commits) the poison record only after this resolved, so a dead letter is
 * never lost either. Each stored letter counts in `parley_dead_letters_total{reason}`.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly metrics: PipelineMetrics | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly log: Logger,
    registry?: Registry,
  ) {
    this.metrics = registry === undefined ? undefined : pipelineMetrics(registry);
  }

  async send(letters: DeadLetter[], signal: AbortSignal): Promise<void> {
    if (letters.length === 0) return;
    const backoff = new Backoff();
    for (;;) {
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: letters.map((d) => deadLetterRecord(d)) });
        for (const d of letters) {
          this.log.warn({ reason: d.reason, source: d.source, detail: d.message }, 'dead-lettered');
          this.metrics?.deadLetters.inc({ reason: d.reason });
        }
        return;
      } catch (err) {
        this.metrics?.producerErrors.inc({ topic: this.topic });
        this.log.warn({ err, attempt: backoff.attempts }, 'dead-letter topic unavailable; retrying');
        await backoff.wait(signal);
      }
    }
  }
}
