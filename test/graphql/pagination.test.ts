import { getNamedType, getNullableType, isListType, isNonNullType, isObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PAGE_SIZE } from "../../src/common/pagination";
import { LocalPubSub } from "../../src/live/local-pubsub";
import { buildHubSchema } from "../../src/schema";
import { resolversOf } from "../../src/feature";
import { FEATURES } from "../../src/features";
import { RecordConversionDocument } from "../generated/graphql";
import { graphql, graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { createAffiliate, createCampaign, createKey, createOperator } from "../helpers/inbound";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { createEndpoint } from "../helpers/webhooks";

/**
 * Every list in the API is a connection paged the same way. Each list is walked page by
 * page against the order Postgres gives for the same rows, across page boundaries,
 * and refuses bad `first` and `after` the same way.
 */

interface ListCase {
  field: string;
  /** Extra variable definitions and arguments (filters), if the walk needs them. */
  variables?: { definitions: string; arguments: string; values: () => Record<string, unknown> };
  /** The ids the list must give, in its order, straight from the tables. */
  expected: () => Promise<string[]>;
}

interface PageResult {
  nodes: Array<{ id: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

let hub: TestHub;
let receiver: WebhookReceiver;
let seedKey: { id: string; secret: string };

const ids = async (sql: string, params: unknown[] = []) => (await hub.db.query<{ id: string }>(sql, params)).rows.map((row) => row.id);

const lists: ListCase[] = [
  { field: "operators", expected: () => ids("select id from operator order by id") },
  { field: "affiliates", expected: () => ids("select id from affiliate order by id") },
  { field: "campaigns", expected: () => ids("select id from campaign order by id") },
  { field: "apiKeys", expected: () => ids("select id from api_key order by id") },
  { field: "webhookEndpoints", expected: () => ids("select id from webhook_endpoint order by id") },
  { field: "alerts", expected: () => ids("select id from alert order by id desc") },
  { field: "deliveries", expected: () => ids("select id from delivery order by id desc") },
  { field: "conversions", expected: () => ids("select id from conversion order by created_at desc, id desc") },
  {
    field: "requestLog",
    // Every call of this test is logged too; the seed key's entries hold still.
    variables: { definitions: ", $filter: RequestLogFilter", arguments: ", filter: $filter", values: () => ({ filter: { apiKeyId: seedKey.id } }) },
    expected: () => ids("select id from request_log where api_key_id = $1 order by created_at desc, id desc", [seedKey.id]),
  },
];

function listQuery(list: ListCase): string {
  return `query Page($first: Int, $after: String${list.variables?.definitions ?? ""}) {
    ${list.field}(first: $first, after: $after${list.variables?.arguments ?? ""}) { nodes { id } pageInfo { hasNextPage endCursor } }
  }`;
}

async function page(list: ListCase, variables: { first?: number | null; after?: string | null }) {
  return graphql<Record<string, PageResult>, Record<string, unknown>>(hub.graphqlUrl, listQuery(list), {
    apiKey: hub.adminKey,
    variables: { ...list.variables?.values(), ...variables },
  });
}

async function pageOk(list: ListCase, variables: { first?: number | null; after?: string | null }): Promise<PageResult> {
  const result = await page(list, variables);
  if (result.errors?.length || !result.data) throw new Error(`${list.field}: ${JSON.stringify(result.errors)}`);
  return result.data[list.field]!;
}

/** Follows endCursor until hasNextPage is false; returns each page's size and flag. */
async function walk(list: ListCase, first: number): Promise<{ ids: string[]; pages: Array<[number, boolean]>; last: PageResult }> {
  const seen: string[] = [];
  const pages: Array<[number, boolean]> = [];
  let after: string | null = null;
  for (;;) {
    const current: PageResult = await pageOk(list, { first, after });
    seen.push(...current.nodes.map((node) => node.id));
    pages.push([current.nodes.length, current.pageInfo.hasNextPage]);
    if (!current.pageInfo.hasNextPage) return { ids: seen, pages, last: current };
    if (pages.length > 200) throw new Error(`${list.field}: no end in sight`);
    after = current.pageInfo.endCursor;
  }
}

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", REQUEST_LOG_FLUSH_INTERVAL_MS: "100" } });
  receiver = await WebhookReceiver.start(() => ({ status: 204 }));
  const operators = [await createOperator(hub, { requireSignature: false }), await createOperator(hub), await createOperator(hub)];
  for (let i = 0; i < 3; i++) await createAffiliate(hub);
  for (const operator of operators) await createCampaign(hub, operator.operatorId);
  for (let i = 0; i < 3; i++) await createEndpoint(hub, { url: receiver.url(`/hook-${i}`) });
  for (let i = 0; i < 5; i++) {
    await graphqlOk(hub.graphqlUrl, RecordConversionDocument, {
      apiKey: hub.adminKey,
      variables: { input: { operatorId: operators[0]!.operatorId, customerId: `paging-${i}`, event: "registration" } },
    });
  }
  await hub.db.query(
    `insert into alert (id, created_at, kind, severity, key, message)
     select hub_uuid_v7(), now(), 'QUEUE_DEPTH', 'WARNING', 'paging-test:' || n, 'for paging' from generate_series(1, 4) n`,
  );
  seedKey = await createKey(hub, { role: "ADMIN" });
  for (let i = 0; i < 5; i++) await graphqlOk(hub.graphqlUrl, "{ hub { now } }", { apiKey: seedKey.secret });
  await waitFor(async () => (await ids("select id from request_log where api_key_id = $1", [seedKey.id])).length === 5, { what: "the seed key's request-log entries" });
  await waitFor(async () => (await ids("select id from delivery where state <> 'succeeded'")).length === 0, { what: "the seeded deliveries to finish" });
  // Rows written in one ingest batch or one log flush share created_at; only the id orders
  // them. Three of each share it here, so pages of two break inside the tie.
  await hub.db.query("update conversion set created_at = (select max(created_at) from conversion) where id in (select id from conversion order by id limit 3)");
  await hub.db.query("update request_log set created_at = (select max(created_at) from request_log where api_key_id = $1) where id in (select id from request_log where api_key_id = $1 order by id limit 3)", [seedKey.id]);
});
afterAll(async () => {
  await hub?.stop();
  await receiver?.close();
});

describe("every list pages the same way", () => {
  it.each(lists.map((list) => [list.field, list] as const))("%s: first/after walks the whole list in order, across page boundaries", async (_field, list) => {
    const expected = await list.expected();
    expect(expected.length, "seeded rows").toBeGreaterThanOrEqual(3);

    const byTwo = await walk(list, 2);
    expect(byTwo.ids).toEqual(expected);
    const fullPages = Math.floor(expected.length / 2);
    const pageSizes = expected.length % 2 === 0 ? Array(fullPages).fill(2) : [...Array(fullPages).fill(2), 1];
    expect(byTwo.pages).toEqual(pageSizes.map((size, index) => [size, index < pageSizes.length - 1]));

    // Exactly one page's worth: no next page, and no empty page after it.
    expect((await walk(list, expected.length)).pages).toEqual([[expected.length, false]]);
    // One short: the last row spills onto a second page.
    const spill = await walk(list, expected.length - 1);
    expect(spill.pages).toEqual([[expected.length - 1, true], [1, false]]);
    expect(spill.ids).toEqual(expected);
    // Past the end: an empty page without a cursor.
    expect(await pageOk(list, { first: 2, after: spill.last.pageInfo.endCursor })).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it.each(lists.map((list) => [list.field, list] as const))("%s: first over the maximum or below 1 is BAD_USER_INPUT on first", async (_field, list) => {
    for (const first of [0, -3, MAX_PAGE_SIZE + 1]) {
      const result = await page(list, { first });
      expect(result.errors?.[0]?.extensions, `first: ${first}`).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
      expect(result.data).toBeNull();
    }
    expect((await pageOk(list, { first: MAX_PAGE_SIZE })).pageInfo.hasNextPage).toBe(false);
  });

  it.each(lists.map((list, index) => [list.field, list, lists[(index + 1) % lists.length]!] as const))(
    "%s: garbage, a forged cursor and another list's cursor are BAD_USER_INPUT on after",
    async (_field, list, otherList) => {
      const foreign = (await pageOk(otherList, { first: 1 })).pageInfo.endCursor;
      expect(foreign).toBeTruthy();
      const own = (await pageOk(list, { first: 1 })).pageInfo.endCursor!;
      const forged = Buffer.from(Buffer.from(own, "base64url").toString("utf8").replace(/[0-9a-f]{8}-/, "not-an-id-"), "utf8").toString("base64url");
      for (const after of ["garbage", forged, foreign!]) {
        const result = await page(list, { first: 2, after });
        expect(result.errors?.[0]?.extensions, `after: ${after}`).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
      }
      // Newest-first logs are both keyed on (createdAt, id): their cursors differ by list name alone.
      if (list.field === "conversions") {
        const logCursor = (await pageOk(lists.find((other) => other.field === "requestLog")!, { first: 1 })).pageInfo.endCursor!;
        expect((await page(list, { after: logCursor })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
      }
    },
  );

  it("first defaults to the page size the schema states (100 for admin lists)", async () => {
    await hub.db.query("insert into operator (id, created_at, name) select hub_uuid_v7(), now(), 'bulk ' || n from generate_series(1, 101) n");
    const operators = lists[0]!;
    const [byDefault, byNull] = [await pageOk(operators, {}), await pageOk(operators, { first: null })];
    expect(byDefault.nodes.map((node) => node.id)).toEqual((await operators.expected()).slice(0, 100));
    expect(byDefault.pageInfo.hasNextPage).toBe(true);
    expect(byNull).toEqual(byDefault);
  });
});

describe("lists nested in a node are bare, with a stated cap", () => {
  it("Delivery.attempts lists the latest 100 attempts, oldest first", async () => {
    const [delivery] = (await hub.db.query<{ id: string; endpoint_id: string; event_id: string }>("select id, endpoint_id, event_id from delivery order by id limit 1")).rows;
    await hub.db.query(
      `insert into delivery_attempt (id, created_at, delivery_id, endpoint_id, event_id, series, attempt_number, replay, started_at, duration_ms, succeeded, worker)
       select hub_uuid_v7(), now(), $1, $2, $3, 1 + (n - 1) / 12, 1 + (n - 1) % 12, true, now(), 1, false, 'paging-test' from generate_series(1, 105) n`,
      [delivery!.id, delivery!.endpoint_id, delivery!.event_id],
    );
    const all = await ids("select id from delivery_attempt where delivery_id = $1 order by series, attempt_number", [delivery!.id]);
    expect(all).toHaveLength(106);
    const { deliveries } = await graphqlOk<{ deliveries: { nodes: Array<{ id: string; attempts: Array<{ id: string }> }> } }, { id: string }>(
      hub.graphqlUrl,
      "query($id: ID!) { deliveries(filter: { eventId: $id }, first: 500) { nodes { id attempts { id } } } }",
      { apiKey: hub.adminKey, variables: { id: delivery!.event_id } },
    );
    expect(deliveries.nodes.find((node) => node.id === delivery!.id)!.attempts.map((attempt) => attempt.id)).toEqual(all.slice(-100));
  });

  it("OutboundEvent.deliveries lists at most 100; deliveries(filter: { eventId }) pages through all", async () => {
    const [event] = (await hub.db.query<{ id: string }>("select id from event order by id limit 1")).rows;
    await hub.db.query(
      `with endpoints as (
         insert into webhook_endpoint (id, created_at, url, enabled, secret_sealed, secret_created_at, updated_at)
         select hub_uuid_v7(), now(), 'https://example.com/never-called', false, 'unused', now(), now() from generate_series(1, 101)
         returning id
       )
       insert into delivery (id, created_at, event_id, endpoint_id, state, queued_at)
       select hub_uuid_v7(), now(), $1, id, 'succeeded', now() from endpoints`,
      [event!.id],
    );
    const all = await ids("select id from delivery where event_id = $1 order by id", [event!.id]);
    expect(all.length).toBeGreaterThan(101);
    const nested = await graphqlOk<{ event: { deliveries: Array<{ id: string }> } }, { id: string }>(hub.graphqlUrl, "query($id: ID!) { event(id: $id) { deliveries { id } } }", {
      apiKey: hub.adminKey,
      variables: { id: event!.id },
    });
    expect(nested.event.deliveries.map((delivery) => delivery.id)).toEqual(all.slice(0, 100));
    const paged = await walk({ ...lists.find((list) => list.field === "deliveries")!, variables: { definitions: ", $filter: DeliveryFilter", arguments: ", filter: $filter", values: () => ({ filter: { eventId: event!.id } }) } }, 50);
    expect([...paged.ids].reverse()).toEqual(all);
  });
});

describe("the schema", () => {
  it("has no bare list at the root: every list is a connection with first (default and maximum stated) and after", async () => {
    const schema = await buildHubSchema(resolversOf(FEATURES), new LocalPubSub());
    const rootFields = Object.values(schema.getQueryType()!.getFields());
    expect(rootFields.filter((field) => isListType(getNullableType(field.type))).map((field) => field.name)).toEqual([]);
    const connections = rootFields.filter((field) => getNamedType(field.type).name.endsWith("Connection"));
    expect(connections.map((field) => field.name).sort()).toEqual(lists.map((list) => list.field).sort());
    for (const field of connections) {
      const type = getNamedType(field.type);
      expect(isObjectType(type) && Object.keys(type.getFields()).sort(), field.name).toEqual(["nodes", "pageInfo"]);
      const first = field.args.find((arg) => arg.name === "first")!;
      const after = field.args.find((arg) => arg.name === "after")!;
      expect(String(first.type), field.name).toBe("Int");
      expect(first.defaultValue, field.name).toEqual(expect.any(Number));
      expect(first.description, field.name).toBe(`Page size: default ${first.defaultValue}, at most ${MAX_PAGE_SIZE}.`);
      expect(String(after.type), field.name).toBe("String");
      expect(isNonNullType(field.type), field.name).toBe(true);
    }
  });
});
