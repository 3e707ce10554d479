import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { HubConfig } from "./config";
import type { Logger } from "./common/logger";
import type { LocalPubSub } from "./live/local-pubsub";
import type { SecretBox } from "./common/secret-box";
import type { EventTypeSpec } from "./common/event-type";
import { type Viewer } from "./common/viewer";
import type { CallLog } from "./http/access";

/** The long-lived parts of one hub process, handed to routes, resolvers and tasks. */
export interface Hub {
  readonly config: HubConfig;
  readonly log: Logger;
  readonly orm: MikroORM;
  /** Plain pg pool for graphile-worker, readiness checks and LISTEN; the ORM has its own. */
  readonly pool: pg.Pool;
  readonly metrics: Registry;
  /** Subscriptions read from here; publishers elsewhere reach it through the live bridge. */
  readonly pubSub: LocalPubSub;
  /** Encrypts and decrypts stored signing secrets. */
  readonly secrets: SecretBox;
  /** Every outbound event type the features declare. */
  readonly eventTypes: readonly EventTypeSpec[];
}

/** A GraphQL POST as sent: what a request signature (X-Hub-Timestamp, X-Hub-Signature) covers. */
export interface SignedRequest {
  readonly body: Buffer;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
}

/** One unit of work (an HTTP request, a GraphQL operation, a job): its own EntityManager fork. */
export interface RequestContext {
  readonly hub: Hub;
  readonly em: EntityManager;
  readonly viewer: Viewer;
  readonly requestId: string;
  readonly log: Logger;
  /** GraphQL over HTTP POST only (absent over graphql-ws and in jobs): for mutations that need a signature. */
  readonly signedRequest?: SignedRequest;
  /** The API call's request-log entry, for services that write it in the transaction of a money change. */
  readonly callLog?: CallLog;
  /** GraphQL operations: aborted when the operation passes its deadline, its client leaves, or it is answered. */
  readonly signal?: AbortSignal;
}

export function createRequestContext(
  hub: Hub,
  viewer: Viewer,
  requestId: string,
  call: Pick<RequestContext, "signedRequest" | "callLog"> = {},
): RequestContext {
  return {
    hub,
    em: hub.orm.em.fork(),
    viewer,
    requestId,
    log: hub.log.child({ requestId }),
    ...call,
  };
}
