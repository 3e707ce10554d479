import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { encodeCursor } from "../common/pagination";
import type { RequestContext } from "../context";
import { listRequestLog } from "./request-log.service";
import { RequestLogConnection, RequestLogEntryType, RequestLogFilter } from "./request-log.types";

@Resolver()
export class RequestLogResolver {
  @Authorized("ADMIN", "OPERATOR")
  @Query(() => RequestLogConnection, {
    description: "Every REST and GraphQL call. Admins: all; operator keys: their operator's. Entries are written in batches (up to REQUEST_LOG_FLUSH_INTERVAL_MS late).",
  })
  async requestLog(
    @Ctx() ctx: RequestContext,
    @Arg("filter", () => RequestLogFilter, { nullable: true }) filter: RequestLogFilter | null,
    @Arg("first", () => Int, { nullable: true, description: "Page size, default 50, at most 500." }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
  ): Promise<RequestLogConnection> {
    const page = await listRequestLog(ctx, filter ?? {}, first, after);
    const nodes = page.nodes.map(RequestLogEntryType.from);
    return Object.assign(new RequestLogConnection(), {
      nodes,
      edges: nodes.map((node) => ({ cursor: encodeCursor(node), node })),
      pageInfo: page.pageInfo,
    });
  }
}
