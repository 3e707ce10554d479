import { ApiKey } from "../auth/api-key.entity";
import { Event } from "../webhooks/event.entity";
import { Affiliate } from "../tenants/affiliate.entity";
import { Operator } from "../tenants/operator.entity";

/** Every feature's entities, in one list the ORM and the migrations read. */
export const ENTITIES = [Operator, Affiliate, ApiKey, Event];
