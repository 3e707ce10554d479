import { Entity, Enum, ManyToOne, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { WebhookEndpoint } from "./webhook-endpoint.entity";

export enum ReplayBatchState {
  QUEUED = "QUEUED",
  RUNNING = "RUNNING",
  DONE = "DONE",
  FAILED = "FAILED",
}

/** A `replayFailedDeliveries` request, run as a background job; the handle callers follow. */
@Entity({ tableName: "delivery_replay_batch" })
export class DeliveryReplayBatch extends BaseEntity<"state" | "matched" | "replayed" | "finishedAt" | "error" | "requestedByKeyId"> {
  @ManyToOne(() => WebhookEndpoint, { deleteRule: "cascade", mapToPk: true, fieldName: "endpoint_id" })
  endpointId!: string;

  @Property({ type: "datetime", columnType: "timestamptz" })
  since!: Date;

  @Property({ type: "datetime", columnType: "timestamptz" })
  until!: Date;

  @Enum({ items: () => ReplayBatchState, default: ReplayBatchState.QUEUED })
  state: ReplayBatchState = ReplayBatchState.QUEUED;

  /** Failed or dead deliveries found in the window (at most the per-call limit). */
  @Property({ type: "integer", nullable: true })
  matched?: number | null;

  @Property({ type: "integer", default: 0 })
  replayed: number = 0;

  @Property({ type: "datetime", columnType: "timestamptz", nullable: true })
  finishedAt?: Date | null;

  @Property({ type: "text", nullable: true })
  error?: string | null;

  @Property({ type: "uuid", nullable: true })
  requestedByKeyId?: string | null;
}
