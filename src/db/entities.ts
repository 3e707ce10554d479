import { ApiKey } from "../auth/api-key.entity";
import { Event } from "../webhooks/event.entity";

/** Every feature's entities, in one list the ORM and the migrations read. */
export const ENTITIES = [ApiKey, Event];
