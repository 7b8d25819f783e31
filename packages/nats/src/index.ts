/**
 * Parley's NATS topology: subjects, stream configurations, the one way streams are created or
 * brought to their configuration, following a stream from a point in time, and the lease that
 * hands out snowflake instance numbers. Connecting is @parley/clients' job.
 */
export * from './subjects.js';
export * from './streams.js';
export * from './stream-follower.js';
export * from './instance-lease.js';
export * from './errors.js';
export * from './fanout.js';
