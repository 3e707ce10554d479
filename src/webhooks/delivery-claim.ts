import type pg from "pg";
import type { DeliveryEngineDeps } from "./delivery-engine";
import {
  CLAIM_DELIVERY,
  LEASE_SLOT_INDEX,
  LOAD_HANDED_OFF,
  PARK_DELIVERY,
  RETRY_DELIVERY_JOB,
  type ClaimedDelivery,
  type ParkedRow,
} from "./delivery.statements";
import { CLAIM_ROUNDS, contendedRetryAt, FAILING_ENDPOINT_MAX_IN_FLIGHT, PARK_BATCH, parkedRecheckAt } from "./in-flight-limit";

/** The first step of an attempt: a lease on the delivery and one of its endpoint's in-flight slots. */

function isSlotTaken(error: unknown): boolean {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === "23505" && constraint === LEASE_SLOT_INDEX;
}

/**
 * Leases the delivery on one of its endpoint's free in-flight slots, or parks it until
 * one frees. A lost slot race (another worker took the same slot number) or a slot freed
 * between the two statements is just another round.
 */
export async function takeSlot(
  deps: Pick<DeliveryEngineDeps, "pool" | "config" | "metrics">,
  deliveryId: string,
  token: string,
  random: () => number,
): Promise<{ claimed: ClaimedDelivery } | { outcome: "skipped" | "waiting_for_slot" | "contended" }> {
  const { pool, config } = deps;
  for (let round = 0; round < CLAIM_ROUNDS; round++) {
    try {
      const { rows } = await pool.query<ClaimedDelivery>({
        ...CLAIM_DELIVERY,
        values: [deliveryId, token, config.leaseMs, config.maxInFlightPerEndpoint, FAILING_ENDPOINT_MAX_IN_FLIGHT],
      });
      if (rows[0]) return { claimed: rows[0] };
    } catch (error) {
      if (isSlotTaken(error)) continue;
      throw error;
    }
    const { rows } = await pool.query<ParkedRow>({
      ...PARK_DELIVERY,
      values: [deliveryId, config.maxInFlightPerEndpoint, FAILING_ENDPOINT_MAX_IN_FLIGHT, PARK_BATCH, parkedRecheckAt(new Date(), random)],
    });
    const parked = rows[0];
    if (!parked?.due) return { outcome: "skipped" };
    if (parked.self_parked) {
      deps.metrics.slotWaits.inc();
      return { outcome: "waiting_for_slot" };
    }
  }
  await pool.query({ ...RETRY_DELIVERY_JOB, values: [deliveryId, contendedRetryAt(new Date(), random)] });
  return { outcome: "contended" };
}

/** A delivery a recorded success leased to this worker (RECORD_SUCCESS's hand-off), ready to send. */
export async function loadHandedOff(pool: pg.Pool, deliveryId: string, token: string): Promise<ClaimedDelivery | undefined> {
  const { rows } = await pool.query<ClaimedDelivery>({ ...LOAD_HANDED_OFF, values: [deliveryId, token] });
  return rows[0];
}
