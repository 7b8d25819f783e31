import type { JetStreamClient } from 'nats';
import type { MessageChanged } from '@parley/contracts';
import { ParleyError } from '@parley/errors';
import { roomUpdateSubject, updateMsgId } from '@parley/nats';
import type { ChangeNotifier } from './cassandra-message-sink.js';

const encoder = new TextEncoder();

/**
 * Announces message changes on `<prefix>.room.<roomId>.upd`, which the message stream captures
 * beside the room's `.msg` subject: an edge's one ordered consumer per room then sees sends and
 * changes in one order. Each announcement is a JetStream publish deduplicated by (message,
 * event), so the replay of a record announces its state once within the duplicate window.
 */
export class ChangeAnnouncer implements ChangeNotifier {
  constructor(
    private readonly js: () => JetStreamClient,
    private readonly opts: { stream: string; prefix: string; timeoutMs: number },
  ) {}

  async announce(roomId: string, changes: MessageChanged[]): Promise<void> {
    const js = this.js();
    try {
      await Promise.all(
        changes.map((c) =>
          js.publish(roomUpdateSubject(roomId, this.opts.prefix), encoder.encode(JSON.stringify(c)), {
            msgID: updateMsgId(roomId, c.message.id, c.event_id),
            expect: { streamName: this.opts.stream },
            timeout: this.opts.timeoutMs,
          }),
        ),
      );
    } catch (err) {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', `could not announce ${changes.length} message change(s): ${(err as Error).message}`, { cause: err });
    }
  }
}
