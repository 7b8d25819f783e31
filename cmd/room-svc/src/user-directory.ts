import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { userV1, fromGrpcError } from '@parley/proto';

/** Whether a user id names someone: room-svc must not add members that do not exist. */
export interface UserDirectory {
  /** NOT_FOUND for an unknown user; DEPENDENCY_UNAVAILABLE/TIMEOUT when user-svc is away. */
  requireUser(userId: string): Promise<void>;
  close(): void;
}

const CALL_TIMEOUT_MS = 2000;

/** Asks user-svc's GetUser each time: adding a member is rare and must not trust a stale "no". */
export class GrpcUserDirectory implements UserDirectory {
  private readonly client: userV1.UserServiceClient;

  constructor(address: string) {
    this.client = new userV1.UserServiceClient(address, credentials.createInsecure());
  }

  requireUser(userId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.getUser({ userId }, new Metadata(), { deadline: Date.now() + CALL_TIMEOUT_MS }, (err: ServiceError | null) =>
        err ? reject(fromGrpcError(err, 'user-svc')) : resolve(),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
