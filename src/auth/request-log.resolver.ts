import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { AFTER_ARG, firstArg, mapNodes } from "../common/pagination";
import type { RequestContext } from "../context";
import { listRequestLog, REQUEST_LOG_LIST } from "./request-log.service";
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
    @Arg("first", () => Int, firstArg(REQUEST_LOG_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
  ): Promise<RequestLogConnection> {
    return mapNodes(await listRequestLog(ctx, filter ?? {}, first, after), RequestLogEntryType.from);
  }
}
