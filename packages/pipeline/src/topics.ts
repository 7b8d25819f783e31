import type { Admin } from 'kafkajs';

const CREATE_ATTEMPTS = 10;

/**
 * Creates topics that are missing. Partition count bounds consumer parallelism; the replication
 * factor follows the broker default so a single-node dev broker and a cluster both work.
 *
 * A broker that has just started may answer the leader wait with "does not host this
 * topic-partition" (code 3) while its metadata catches up; that is retried, since the topic
 * does get created. Anything else is thrown at once.
 */
export async function ensureTopics(admin: Admin, topics: string[], numPartitions: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    try {
      if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions })) });
      await admin.fetchTopicMetadata({ topics });
      return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      const transient = type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE' || type === 'NOT_LEADER_FOR_PARTITION';
      if (!transient || attempt >= CREATE_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
