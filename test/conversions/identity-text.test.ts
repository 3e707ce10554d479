import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../helpers/hub";
import { canonical, createOperator, getPostback, nowSeconds, postPostback, sign, signedGraphql, writtenRows, type OperatorFixture, type PostbackResponse } from "../helpers/inbound";

/**
 * Issue 10: identity fields with lone surrogates or U+FFFD collapsed into one conversion
 * (`t1u-\ud800`, `t1u-\udbff` and a literal U+FFFD all became `t1u-�` in Postgres), and
 * occurred_at accepted an offset of +99:99.
 */
let hub: TestHub;
let operator: OperatorFixture;

beforeAll(async () => {
  hub = await startTestHub();
  operator = await createOperator(hub);
});
afterAll(async () => {
  await hub?.stop();
});

const signed = () => ({ apiKey: operator.apiKey, secret: operator.postbackSecret });
/** JSON text written by hand, so escapes such as \ud800 reach the hub as sent. */
const jsonText = (fields: Record<string, string>) => `{${Object.entries(fields).map(([name, value]) => `"${name}":"${value}"`).join(",")}}`;

async function refused(send: () => Promise<PostbackResponse>, field: string): Promise<void> {
  const before = await writtenRows(hub);
  const response = await send();
  expect({ status: response.status, code: response.body.error?.code, field: response.body.error?.field }).toEqual({ status: 400, code: "BAD_USER_INPUT", field });
  expect(await writtenRows(hub)).toEqual(before);
}

describe("identity fields must be well-formed text", () => {
  it("refuses lone surrogates and U+FFFD in event_id instead of collapsing them into one conversion", async () => {
    const tag = `t1u-${Date.now()}-`;
    for (const suffix of ["\\ud800", "\\udbff", "\\udc00", "\\ufffd", "\uFFFD"]) {
      await refused(() => postPostback(hub.urls.http, jsonText({ event_id: tag + suffix, click_id: "c", event: "ftd" }), "application/json", signed()), "event_id");
    }
    // A valid pair is fine.
    const pair = await postPostback(hub.urls.http, jsonText({ event_id: `${tag}\\ud83d\\ude00`, click_id: "c", event: "ftd" }), "application/json", signed());
    expect(pair.status).toBe(200);
    const { rows } = await hub.db.query<{ event_id: string }>("select event_id from conversion where event_id like $1", [`${tag}%`]);
    expect(rows.map((row) => row.event_id)).toEqual([`${tag}😀`]);
  });

  it("refuses them in click_id and customer_id, on GET, JSON and form postbacks", async () => {
    // %ED%A0%80 is a UTF-16 surrogate encoded as UTF-8 (invalid): it decodes to U+FFFD.
    for (const field of ["click_id", "customer_id"]) {
      const query = `${field}=id-%ED%A0%80&event=ftd`;
      const timestamp = nowSeconds();
      const response = await fetch(`${hub.urls.http}/postback?${query}`, {
        headers: { "x-api-key": operator.apiKey, "x-hub-timestamp": String(timestamp), "x-hub-signature": sign(operator.postbackSecret, timestamp, canonical([...new URLSearchParams(query)])) },
      });
      const body = (await response.json()) as { error?: { code: string; field?: string } };
      expect({ status: response.status, ...body.error }).toMatchObject({ status: 400, code: "BAD_USER_INPUT", field });
      await refused(() => postPostback(hub.urls.http, jsonText({ [field]: "id-\\udbff", event: "ftd" }), "application/json", signed()), field);
      await refused(() => postPostback(hub.urls.http, `${field}=id-%ED%A0%80&event=ftd`, "application/x-www-form-urlencoded", signed()), field);
      // Raw bytes that are not UTF-8 at all.
      await refused(() => postPostback(hub.urls.http, Buffer.concat([Buffer.from(`{"${field}":"id-`), Buffer.from([0xff, 0xfe]), Buffer.from('","event":"ftd"}')]), "application/json", signed()), field);
    }
  });

  it("refuses them in recordConversion, naming the GraphQL field", async () => {
    const query = "mutation($input: RecordConversionInput!) { recordConversion(input: $input) { outcome } }";
    for (const [field, input] of [
      ["eventId", { eventId: "t1u-\uD800", clickId: "c", event: "ftd" }],
      ["clickId", { clickId: "c-\uDBFF", event: "ftd" }],
      ["customerId", { customerId: "p-\uFFFD", event: "ftd" }],
    ] as const) {
      const before = await writtenRows(hub);
      const answer = await signedGraphql(hub.graphqlUrl, query, { ...signed(), variables: { input } });
      expect(answer.errors?.[0]?.extensions, field).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(await writtenRows(hub)).toEqual(before);
    }
  });
});

describe("occurred_at offsets", () => {
  it("refuses offsets beyond ±14:00 and minutes of 60 or more; accepts the real extremes", async () => {
    for (const offset of ["+99:99", "+14:01", "-14:30", "+15:00", "-12:60", "+0560", "+24"]) {
      await refused(() => getPostback(hub.urls.http, { click_id: `c-${offset}`, event: "registration", occurred_at: `2026-01-10T10:00:00${offset}` }, signed()), "occurred_at");
    }
    for (const [offset, utc] of [["+14:00", "2026-01-09T20:00:00.000Z"], ["-12:00", "2026-01-10T22:00:00.000Z"], ["+0545", "2026-01-10T04:15:00.000Z"]] as const) {
      const response = await getPostback(hub.urls.http, { click_id: `ok-${Date.now()}-${offset}`, event: "registration", occurred_at: `2026-01-10T10:00:00${offset}` }, signed());
      expect(response.status, offset).toBe(200);
      const { rows } = await hub.db.query<{ occurred_at: Date }>("select occurred_at from conversion where id = $1", [response.body.conversionId]);
      expect(rows[0]!.occurred_at.toISOString(), offset).toBe(utc);
    }
  });
});
