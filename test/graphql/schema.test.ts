import { describe, expect, it } from "vitest";
import { getMetadataStorage } from "type-graphql";
import { createLogger } from "../../src/common/logger";
import { openOrm } from "../../src/db/orm";
import { buildHubSchema } from "../../src/schema";
import { LocalPubSub } from "../../src/live/local-pubsub";
import { createTestDatabase } from "../helpers/database";
import { entitiesOf, resolversOf } from "../../src/feature";
import { FEATURES } from "../../src/features";

describe("schema rules", () => {
  it("every query, mutation and subscription states who may call it (deny by default)", async () => {
    const schema = await buildHubSchema(resolversOf(FEATURES), new LocalPubSub());
    const storage = getMetadataStorage();
    const authorized = new Set(storage.authorizedFields.map((field) => `${field.target.name}.${field.fieldName}`));
    const rootHandlers = [...storage.queries, ...storage.mutations, ...storage.subscriptions];
    const rootFields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
      .flatMap((type) => (type ? Object.keys(type.getFields()) : []));
    expect(rootFields.length).toBeGreaterThan(0);
    const unguarded = rootHandlers
      .filter((handler) => rootFields.includes(handler.schemaName))
      .filter((handler) => !authorized.has(`${handler.target.name}.${handler.methodName}`))
      .map((handler) => handler.schemaName);
    expect(unguarded).toEqual([]);
  });

  it("the migrations produce exactly the schema the entities describe", async () => {
    const db = await createTestDatabase();
    const orm = await openOrm(db.url, 2, entitiesOf(FEATURES), createLogger("silent"));
    try {
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe("");
    } finally {
      await orm.close(true);
      await db.drop();
    }
  });
});
