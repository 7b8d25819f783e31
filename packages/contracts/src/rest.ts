import { z } from 'zod';
import { messageSchema } from './message.js';

/**
 * JSON answers shared by more than one service or client. Each service's routes declare these
 * as their response schemas; the CLI, the SDK and the web page read them with the same types.
 */

/** Every REST error, from every service: a stable code, a message for people, maybe details. */
export const errorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** `/messages/latest`: a page of messages oldest to newest, paged back by `before_id`. */
export const latestPageSchema = z.object({ messages: z.array(messageSchema), has_more: z.boolean() }).meta({ id: 'LatestPage' });
export type LatestPage = z.infer<typeof latestPageSchema>;

/** A message found by search or history: the message, plus highlighted fragments for a search. */
export const foundMessageSchema = messageSchema.extend({ highlights: z.array(z.string()).optional() }).meta({ id: 'FoundMessage' });
export type FoundMessage = z.infer<typeof foundMessageSchema>;

/** `/messages` (history) and `/search`: newest or oldest first, continued with `cursor`. */
export const searchPageSchema = z.object({ messages: z.array(foundMessageSchema), next_cursor: z.string().nullable() }).meta({ id: 'SearchPage' });
export type SearchPage = z.infer<typeof searchPageSchema>;
