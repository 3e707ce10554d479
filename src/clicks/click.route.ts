import type { FastifyInstance } from "fastify";
import type { AccessPolicy } from "../http/access";
import { BadUserInputError } from "../common/errors";
import { createRequestContext, type Hub } from "../context";
import { recordClick } from "./click.service";

/** Browsers follow it, so no key: strict validation and a budget per client IP instead. */
const CLICK_ACCESS: AccessPolicy = { kind: "public" };

const SUBS = ["sub1", "sub2", "sub3", "sub4", "sub5"] as const;

function single(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new BadUserInputError(`${field} is given more than once`, { field });
  return value;
}

/** `GET /click/:campaignId?affiliate_id=…&sub1…sub5` → 302 to the campaign's landing URL with {click_id} filled in. */
export function installClickRoute(app: FastifyInstance, hub: Hub): void {
  app.get<{ Params: { campaignId: string }; Querystring: Record<string, unknown> }>(
    "/click/:campaignId",
    { config: { access: CLICK_ACCESS } },
    async (request, reply) => {
      const query = request.query;
      const ctx = createRequestContext(hub, { kind: "anonymous" }, request.id);
      const { location } = await recordClick(ctx, {
        campaignId: request.params.campaignId,
        affiliateId: single(query.affiliate_id, "affiliate_id"),
        subs: SUBS.map((name) => single(query[name], name)),
        clientIp: request.access?.clientIp ?? request.ip,
        userAgent: request.headers["user-agent"],
      });
      return reply.header("cache-control", "no-store").redirect(location, 302);
    },
  );
}
