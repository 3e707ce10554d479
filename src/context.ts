import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { HubConfig } from "./config";
import type { Logger } from "./common/logger";
import type { Viewer } from "./auth/viewer";
import type { LocalPubSub } from "./live/local-pubsub";
import type { SecretBox } from "./common/secret-box";

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
}

/** One unit of work (an HTTP request, a GraphQL operation, a job): its own EntityManager fork. */
export interface RequestContext {
  readonly hub: Hub;
  readonly em: EntityManager;
  readonly viewer: Viewer;
  readonly requestId: string;
  readonly log: Logger;
  /** GraphQL operations: aborted when the operation passes its deadline, its client leaves, or it is answered. */
  readonly signal?: AbortSignal;
}

export function createRequestContext(hub: Hub, viewer: Viewer, requestId: string): RequestContext {
  return {
    hub,
    em: hub.orm.em.fork(),
    viewer,
    requestId,
    log: hub.log.child({ requestId }),
  };
}
