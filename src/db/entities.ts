import { ApiKey } from "../auth/api-key.entity";
import { RateLimitBucket } from "../auth/rate-limit.entity";
import { RequestLog } from "../auth/request-log.entity";
import { Click } from "../clicks/click.entity";
import { Conversion } from "../conversions/conversion.entity";
import { ConversionStatusChange } from "../conversions/conversion-status-change.entity";
import { Event } from "../webhooks/event.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Campaign } from "../tenants/campaign.entity";
import { Operator } from "../tenants/operator.entity";

/** Every feature's entities, in one list the ORM and the migrations read. */
export const ENTITIES = [
  Operator,
  Affiliate,
  ApiKey,
  Event,
  Campaign,
  Click,
  Conversion,
  ConversionStatusChange,
  RequestLog,
  RateLimitBucket,
];
