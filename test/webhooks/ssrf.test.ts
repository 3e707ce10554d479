import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWebhookSecret } from "../../src/webhooks/signing";
import { CreateWebhookEndpointDocument } from "../generated/graphql";
import { graphql } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { attemptsOf, conversionData, publish, waitForDeliveryState } from "../helpers/webhooks";

/** WEBHOOK_ALLOW_PRIVATE_TARGETS=false, as in production. No external DNS is needed. */
let hub: TestHub;
let target: WebhookReceiver;

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "false", WEBHOOK_RETRY_SCHEDULE: "1h" } });
  target = await WebhookReceiver.start();
});
afterAll(async () => {
  await hub?.stop();
  await target?.close();
});

describe("SSRF protection", () => {
  it.each([
    ["http://93.184.216.34/hook", /must use https/],
    ["https://127.0.0.1/hook", /loopback/],
    ["https://10.0.0.5/hook", /private/],
    ["https://172.20.1.1/hook", /private/],
    ["https://192.168.0.10/hook", /private/],
    ["https://169.254.169.254/latest/meta-data", /link-local/],
    ["https://100.64.1.1/hook", /carrier-grade NAT/],
    ["https://0.0.0.0/hook", /unspecified/],
    ["https://[::1]/hook", /loopback/],
    ["https://[fd00::1]/hook", /unique-local/],
    ["https://[fe80::1]/hook", /link-local/],
    ["https://[::ffff:192.168.1.1]/hook", /private/],
    ["https://[::127.0.0.1]/hook", /IPv4-compatible/],
    ["https://localhost/hook", /this machine/],
    ["https://hooks.localhost/hook", /this machine/],
  ])("refuses to create an endpoint for %s", async (url, reason) => {
    const result = await graphql(hub.graphqlUrl, CreateWebhookEndpointDocument, { variables: { input: { url } }, apiKey: hub.adminKey });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
    expect(result.errors?.[0]?.message).toMatch(reason);
  });

  it("refuses postback templates that point inside too", async () => {
    const result = await graphql(hub.graphqlUrl, CreateWebhookEndpointDocument, {
      variables: { input: { url: "https://10.1.1.1/pb?cid={click_id}", format: "POSTBACK_URL" } },
      apiKey: hub.adminKey,
    });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
  });

  it("checks again at every connection: a stored private target is refused before anything is sent", async () => {
    // As if the endpoint had been valid when created and its name now resolves inside.
    const em = hub.hub.orm.em.fork();
    const port = target.port;
    const urls = [`https://localhost:${port}/hook`, `https://127.0.0.1:${port}/hook`];
    const endpointIds: string[] = [];
    for (const url of urls) {
      const { rows } = await hub.db.query<{ id: string }>(
        `insert into webhook_endpoint (id, created_at, updated_at, url, secret_sealed, secret_created_at)
         values (hub_uuid_v7(), now(), now(), $1, $2, now()) returning id`,
        [url, hub.hub.secrets.seal(generateWebhookSecret())],
      );
      endpointIds.push(rows[0]!.id);
    }
    const event = await publish(em, { type: "conversion.recorded", data: conversionData() });
    for (const endpointId of endpointIds) {
      const delivery = await waitForDeliveryState(hub, event.id, endpointId, ["failed"]);
      const [attempt] = await attemptsOf(hub, delivery.id);
      expect(attempt).toMatchObject({ error_class: "dns", http_status: null });
      expect(attempt!.error_message).toMatch(/refused .*(loopback|this machine)/);
    }
    expect(target.requests).toEqual([]);
  });
});
