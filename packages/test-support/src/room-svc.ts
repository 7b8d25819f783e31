import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { RunningService } from '@parley/service';
import { roomV1 } from '@parley/proto';
import { connectNats } from '@parley/clients';
import { infra, uniqueName, freePort, startInTest, type deferrer } from './index.js';
import { migratedSchema } from './user-svc.js';
import { roomService } from '@parley/room-svc/app';

type Defer = ReturnType<typeof deferrer>;

export interface RoomSvcNames {
  schema: string;
  prefix: string;
  stream: string;
}

/** A fresh schema and fresh NATS names; the stream is deleted at cleanup. */
export async function roomNames(defer: Defer): Promise<RoomSvcNames & { pg: Awaited<ReturnType<typeof migratedSchema>>['pg'] }> {
  const { schema, pg } = await migratedSchema(defer, 'room');
  const prefix = `${uniqueName('evt')}.events`;
  const stream = uniqueName('ROOM_EVENTS');
  defer(async () => {
    const nats = await connectNats({ url: infra.natsUrl, name: 'room-test-cleanup' });
    await nats.client.jsm.streams.delete(stream).catch(() => undefined);
    await nats.close();
  });
  return { schema, prefix, stream, pg };
}

export interface RunningRoomSvc {
  http: string;
  grpcAddr: string;
  svc: RunningService;
  stop(): Promise<number>;
}

export async function startRoomSvc(defer: Defer, names: RoomSvcNames, userGrpcAddr: string, overrides: Record<string, string> = {}): Promise<RunningRoomSvc> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const env = {
    DATABASE_URL: infra.databaseUrl,
    NATS_URL: infra.natsUrl,
    ROOM_DB_SCHEMA: names.schema,
    ROOM_EVENTS_PREFIX: names.prefix,
    ROOM_EVENTS_STREAM: names.stream,
    ROOM_HTTP_PORT: String(httpPort),
    ROOM_GRPC_PORT: String(grpcPort),
    USER_SVC_GRPC_ADDR: userGrpcAddr,
    ROOM_OUTBOX_POLL_MS: '50',
    ROOM_OUTBOX_MAX_BACKOFF_MS: '500',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
  const { svc, stop } = await startInTest(defer, roomService, env);
  return { http: `http://127.0.0.1:${httpPort}`, grpcAddr: `127.0.0.1:${grpcPort}`, svc, stop };
}

export function roomGrpcClient(defer: Defer, addr: string) {
  const client = new roomV1.RoomServiceClient(addr, credentials.createInsecure());
  defer(() => client.close());
  const opts = () => ({ deadline: Date.now() + 5000 });
  return {
    getRoom: (roomId: string) =>
      new Promise<roomV1.GetRoomResponse>((resolve, reject) =>
        client.getRoom({ roomId }, new Metadata(), opts(), (err: ServiceError | null, res?: roomV1.GetRoomResponse) => (err ? reject(err) : resolve(res!))),
      ),
    checkMembership: (roomId: string, userId: string) =>
      new Promise<roomV1.CheckMembershipResponse>((resolve, reject) =>
        client.checkMembership({ roomId, userId }, new Metadata(), opts(), (err: ServiceError | null, res?: roomV1.CheckMembershipResponse) => (err ? reject(err) : resolve(res!))),
      ),
  };
}
