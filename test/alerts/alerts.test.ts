import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disabledKey, rotationKey } from "../../src/alerts/alert-rules";
import { AcknowledgeAlertDocument, AlertsDocument, RotateWebhookSecretDocument, WebhookEndpointDocument } from "../generated/graphql";
import { graphql, graphqlOk } from "../helpers/graphql";
import { startTestHub, type TestHub } from "../helpers/hub";
import { insertApiKey, insertOperator } from "../helpers/tenants";
import { waitFor } from "../helpers/wait-for";
import { WebhookReceiver } from "../helpers/webhook-receiver";
import { conversionData, createEndpoint, publish, waitForDeliveryState } from "../helpers/webhooks";
import { ApiKeyRole } from "../../src/common/viewer";

let hub: TestHub;
let target: WebhookReceiver;

beforeAll(async () => {
  hub = await startTestHub({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1s,1s,1s", QUEUE_SAMPLE_INTERVAL_MS: "200" } });
  target = await WebhookReceiver.start(() => ({ status: 500 }));
});
afterAll(async () => {
  await hub?.stop();
  await target?.close();
});

async function activeAlert(key: string, apiKey = hub.adminKey) {
  return waitFor(async () => {
    const { alerts } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: true }, apiKey });
    return alerts.nodes.find((alert) => alert.key === key);
  }, { what: `alert ${key}` });
}

async function resolved(id: string) {
  return waitFor(async () => {
    const { alerts } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: false }, apiKey: hub.adminKey });
    return alerts.nodes.find((alert) => alert.id === id && alert.resolvedAt);
  }, { what: `alert ${id} to resolve` });
}

describe("alerts", () => {
  it("asks for rotation of a secret older than WEBHOOK_SECRET_MAX_AGE_DAYS, and rotating resolves it", async () => {
    const { endpoint } = await createEndpoint(hub, { url: target.url(), enabled: false });
    await hub.db.query("update webhook_endpoint set secret_created_at = now() - interval '2200 hours' where id = $1", [endpoint.id]);
    const alert = await activeAlert(rotationKey(endpoint.id));
    expect(alert).toMatchObject({ kind: "SECRET_ROTATION_DUE", severity: "WARNING", endpointId: endpoint.id, details: { secretAgeDays: 91, maxAgeDays: 90 } });
    await graphqlOk(hub.graphqlUrl, RotateWebhookSecretDocument, { variables: { endpointId: endpoint.id }, apiKey: hub.adminKey });
    await resolved(alert.id);
  });

  it("disables an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS, with an alert", async () => {
    const operator = await insertOperator(hub.hub.orm.em.fork());
    const { endpoint } = await createEndpoint(hub, { url: target.url(), ownerOperatorId: operator.id });
    const event = await publish(hub.hub.orm.em, { type: "conversion.recorded", data: conversionData({ operatorId: operator.id }), operatorId: operator.id });
    await waitForDeliveryState(hub, event.id, endpoint.id, ["failed"]);
    const { webhookEndpoint: failing } = await graphqlOk(hub.graphqlUrl, WebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: hub.adminKey });
    expect(failing.failingSince).not.toBeNull();
    // The run of failures began 121 hours ago: the next failure disables it.
    await hub.db.query("update webhook_endpoint set failing_since = now() - interval '121 hours' where id = $1", [endpoint.id]);

    const alert = await activeAlert(disabledKey(endpoint.id));
    expect(alert).toMatchObject({ kind: "ENDPOINT_DISABLED", severity: "CRITICAL", operatorId: operator.id });
    expect(alert.message).toMatch(/failed continuously for 120 hours/);
    const { webhookEndpoint } = await graphqlOk(hub.graphqlUrl, WebhookEndpointDocument, { variables: { id: endpoint.id }, apiKey: hub.adminKey });
    expect(webhookEndpoint).toMatchObject({ enabled: false, disabledReason: "FAILING" });
    // Its delivery is not dead: it waits for the endpoint to come back.
    const { rows } = await hub.db.query("select state from delivery where event_id = $1", [event.id]);
    expect(rows[0]!.state).toBe("failed");
  });

  it("shows owners their own alerts and lets them acknowledge them; acknowledged alerts stay active", async () => {
    const em = hub.hub.orm.em.fork();
    const operator = await insertOperator(em);
    const other = await insertOperator(em);
    const operatorKey = (await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: operator.id })).secret;
    const otherKey = (await insertApiKey(em, { role: ApiKeyRole.OPERATOR, operatorId: other.id })).secret;
    const { endpoint } = await createEndpoint(hub, { url: target.url(), enabled: false }, operatorKey);
    await hub.db.query("update webhook_endpoint set secret_created_at = now() - interval '200 days' where id = $1", [endpoint.id]);
    const alert = await activeAlert(rotationKey(endpoint.id), operatorKey);
    expect(alert.operatorId).toBe(operator.id);

    const { alerts: theirs } = await graphqlOk(hub.graphqlUrl, AlertsDocument, { variables: { active: true }, apiKey: otherKey });
    expect(theirs.nodes.map((a) => a.id)).not.toContain(alert.id);
    const refused = await graphql(hub.graphqlUrl, AcknowledgeAlertDocument, { variables: { id: alert.id }, apiKey: otherKey });
    expect(refused.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    const { acknowledgeAlert } = await graphqlOk(hub.graphqlUrl, AcknowledgeAlertDocument, { variables: { id: alert.id }, apiKey: operatorKey });
    expect(acknowledgeAlert.acknowledgedAt).not.toBeNull();
    expect(acknowledgeAlert.active).toBe(true);
  });
});
