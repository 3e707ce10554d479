import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import { Connection } from "../common/pagination";
import type { RequestLog } from "./request-log.entity";

@ObjectType("RequestLogEntry", { description: "One API call." })
export class RequestLogEntryType {
  @Field(() => ID)
  id!: string;

  @Field(() => Date, { description: "When the request arrived." })
  createdAt!: Date;

  @Field(() => String)
  requestId!: string;

  @Field(() => ID, { nullable: true })
  apiKeyId!: string | null;

  @Field(() => ID, { nullable: true })
  operatorId!: string | null;

  @Field(() => ID, { nullable: true })
  affiliateId!: string | null;

  @Field(() => String, { nullable: true })
  clientIp!: string | null;

  @Field(() => String, { description: "HTTP method, or WS for a graphql-ws operation." })
  method!: string;

  @Field(() => String, { description: "Route pattern, e.g. /postback, /click/:campaignId, /graphql." })
  route!: string;

  @Field(() => String, { nullable: true, description: "GraphQL operation name (or `query firstField`)." })
  operation!: string | null;

  @Field(() => Int, { description: "HTTP status." })
  status!: number;

  @Field(() => String, { nullable: true, description: "The error code, also for GraphQL errors answered with 200." })
  errorCode!: string | null;

  @Field(() => Float)
  durationMs!: number;

  static from(entry: RequestLog): RequestLogEntryType {
    return Object.assign(new RequestLogEntryType(), {
      id: entry.id,
      createdAt: entry.createdAt,
      requestId: entry.requestId,
      apiKeyId: entry.apiKeyId ?? null,
      operatorId: entry.operatorId ?? null,
      affiliateId: entry.affiliateId ?? null,
      clientIp: entry.clientIp ?? null,
      method: entry.method,
      route: entry.route,
      operation: entry.operation ?? null,
      status: entry.status,
      errorCode: entry.errorCode ?? null,
      durationMs: entry.durationUs / 1000,
    });
  }
}

@ObjectType({ description: "Request-log entries, newest first." })
export class RequestLogConnection extends Connection(RequestLogEntryType) {}

@InputType()
export class RequestLogFilter {
  @Field(() => ID, { nullable: true })
  apiKeyId?: string | null;

  @Field(() => ID, { nullable: true })
  operatorId?: string | null;

  @Field(() => String, { nullable: true })
  route?: string | null;

  @Field(() => Int, { nullable: true })
  status?: number | null;

  @Field(() => String, { nullable: true })
  errorCode?: string | null;

  @Field(() => Boolean, { nullable: true, description: "true: only failed calls (an error code)." })
  failed?: boolean | null;

  @Field(() => Date, { nullable: true, description: "createdAt at or after." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "createdAt before." })
  to?: Date | null;
}
