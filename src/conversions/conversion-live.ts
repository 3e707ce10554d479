import { BadUserInputError, NotFoundError } from "../common/errors";
import { isId } from "../common/ids";
import type { RequestContext } from "../context";
import { tenantEvents } from "../live/subscriptions";
import { ConversionChangeKind, ConversionLiveEventType } from "./conversion-live.types";
import type { ConversionStatus } from "./conversion-status";
import { Conversion } from "./conversion.entity";
import { ConversionType } from "./conversion.types";
import { Event } from "../outbox/event.entity";
import { type ConversionRecordedMessage } from "./conversion-topics";
import { type TenantRef } from "../common/tenant-scope";

/**
 * `conversionRecorded(operatorId?, affiliateId?)`: new conversions and status changes the
 * viewer may see (admins: all; operator keys: their operator's; affiliate keys: those
 * attributed to them), optionally narrowed. A tenant key naming another tenant is FORBIDDEN.
 * Produced by the `event_live` trigger on the conversion's outbox event, on commit.
 */
export function conversionEvents(ctx: RequestContext, filter: TenantRef): AsyncIterableIterator<ConversionRecordedMessage> {
  for (const field of ["operatorId", "affiliateId"] as const) {
    const value = filter[field];
    if (value !== null && value !== undefined && !isId(value)) throw new BadUserInputError(`${field} must be an id`, { field });
  }
  return tenantEvents(ctx, "conversion.recorded", filter);
}

/** Loads what a message announces with a fresh EntityManager: the event (what changed) and the conversion (as now). */
export async function loadConversionChange(ctx: RequestContext, message: ConversionRecordedMessage): Promise<ConversionLiveEventType> {
  const em = ctx.hub.orm.em.fork();
  const event = await em.findOne(Event, { id: message.eventId });
  const conversionId = event?.payload.conversionId;
  if (!event || typeof conversionId !== "string") throw new NotFoundError("Event", message.eventId);
  const conversion = await em.findOne(Conversion, { id: conversionId });
  if (!conversion) throw new NotFoundError("Conversion", conversionId);
  const previous = event.payload.previousStatus;
  return Object.assign(new ConversionLiveEventType(), {
    kind: event.type === "conversion.status_changed" ? ConversionChangeKind.STATUS_CHANGED : ConversionChangeKind.RECORDED,
    eventId: event.id,
    status: (event.payload.status as ConversionStatus | undefined) ?? conversion.status,
    previousStatus: typeof previous === "string" ? (previous as ConversionStatus) : null,
    at: event.createdAt,
    conversion: ConversionType.from(conversion),
  });
}
