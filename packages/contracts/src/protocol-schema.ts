import { z } from 'zod';
import { CLOSE_ADVICE, CloseCodes, clientFrameSchema, ERROR_FRAME_CODES, serverFrameSchema, WS_SUBPROTOCOL } from './frames.js';

/**
 * The WebSocket protocol as one JSON Schema (draft 2020-12) document, generated from the frame
 * schemas so it cannot drift from them: `client` is what a client may send, `server` what the
 * edge sends; `$defs` names every frame and the message. Close and error codes ride along as
 * `x-` members for client generators. The edge serves it at GET /v1/protocol.schema.json.
 */
export function websocketProtocolSchema(): Record<string, unknown> {
  const doc = z.toJSONSchema(z.object({ client: clientFrameSchema, server: serverFrameSchema }), { target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    ...doc,
    $id: 'https://parley.chat/schemas/websocket-protocol.json',
    title: 'Parley WebSocket protocol',
    description: `Frames on /v1/rooms/{roomId}/ws (subprotocol ${WS_SUBPROTOCOL}): one UTF-8 JSON object per text frame.`,
    'x-close-codes': Object.fromEntries(Object.entries(CloseCodes).map(([name, code]) => [code, { name, advice: CLOSE_ADVICE[code] ?? 'resume' }])),
    'x-error-codes': ERROR_FRAME_CODES,
  };
}
