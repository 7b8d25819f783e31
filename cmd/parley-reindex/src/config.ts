import { elasticFields, field, kafkaFields, types } from '@parley/config';
import { pipelineFields } from '@parley/pipeline';

/** `make reindex`'s settings: the elastic worker's names, and how the rebuild switches. */
export const spec = {
  ...kafkaFields,
  ...elasticFields,
  ...pipelineFields,
  groupId: field({ env: 'KAFKA_GROUP_ID', schema: types.string(200), default: 'chat-command-elastic', doc: "the live elastic worker's group (left alone; the rebuild's group is <group>.reindex.<n>)" }),
  bulkMaxDocs: field({ env: 'REINDEX_BULK_MAX_DOCS', schema: types.int(1, 50_000), default: '2000', doc: 'records per bulk request of the rebuild' }),
  switchLag: field({ env: 'REINDEX_SWITCH_LAG', schema: types.int(0, 1_000_000), default: '50', doc: 'records the rebuild may still be behind when the alias moves (it writes them right after)' }),
  guardAgeS: field({ env: 'REINDEX_GUARD_AGE_S', schema: types.int(1, 86_400), default: '60', doc: 'messages older than this must all be in the new index before the alias moves' }),
  timeoutS: field({ env: 'REINDEX_TIMEOUT_S', schema: types.int(10, 604_800), default: '86400', doc: 'give up (nothing switched) when the rebuild has not caught up by then' }),
  oldIndices: field({ env: 'REINDEX_OLD_INDICES', schema: types.enumOf(['keep', 'delete'] as const), default: 'keep', doc: 'what becomes of the old indices after the switch (keep: for a rollback)' }),
  allowTruncated: field({ env: 'REINDEX_ALLOW_TRUNCATED', schema: types.bool(), default: 'no', doc: 'rebuild even when retention deleted the start of the topic (the new index then lacks those messages)' }),
  logLevel: field({ env: 'LOG_LEVEL', schema: types.string(16), default: 'info', doc: 'pino level' }),
};
