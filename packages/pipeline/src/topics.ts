import type { Admin } from 'kafkajs';

/**
 * Creates topics that are missing. Partition count bounds consumer parallelism; the replication
 * factor follows the broker default so a single-node dev broker and a cluster both work.
 */
export async function ensureTopics(admin: Admin, topics: string[], numPartitions: number): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions})) });
}
