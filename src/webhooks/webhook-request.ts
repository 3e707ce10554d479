import type { SecretBox } from "../common/secret-box";
import { HUB_VERSION } from "../common/version";
import type { ClaimedDelivery } from "./delivery.statements";
import type { AttemptRequest } from "./http-attempt";
import { renderPostbackUrl } from "./postback-template";
import { signatureHeader } from "./signing";
import { WebhookFormat } from "./webhook-endpoint.entity";

const USER_AGENT = `affiliate-hub-webhooks/${HUB_VERSION}`;
/** Opened secrets, by sealed text; bounded so a hub with many endpoints cannot grow it forever. */
const MAX_CACHED_SECRETS = 1_000;

export type WebhookRequest = Omit<AttemptRequest, "timeoutMs" | "signal">;

/**
 * Builds the HTTP request for a claimed delivery: a signed Standard Webhooks POST, or the
 * GET of a postback URL template. Secrets are opened once and kept (bounded) per process.
 */
export function createWebhookRequestBuilder(secrets: SecretBox): (claimed: ClaimedDelivery, timestampSeconds: number) => WebhookRequest {
  const openedSecrets = new Map<string, string>();

  function openSecret(sealed: string): string {
    let secret = openedSecrets.get(sealed);
    if (secret === undefined) {
      secret = secrets.open(sealed);
      if (openedSecrets.size >= MAX_CACHED_SECRETS) openedSecrets.clear();
      openedSecrets.set(sealed, secret);
    }
    return secret;
  }

  return (claimed, timestampSeconds) => {
    const common = { "user-agent": USER_AGENT, "webhook-id": claimed.event_id, "webhook-timestamp": String(timestampSeconds) };
    if (claimed.format === WebhookFormat.POSTBACK_URL) {
      return { method: "GET", url: renderPostbackUrl(claimed.url, claimed.event_payload, timestampSeconds), headers: common, body: undefined };
    }
    const body = JSON.stringify({ type: claimed.event_type, timestamp: claimed.event_created_at.toISOString(), data: claimed.event_payload });
    const signing = [openSecret(claimed.secret_sealed)];
    if (claimed.previous_secret_sealed) signing.push(openSecret(claimed.previous_secret_sealed));
    return {
      method: "POST",
      url: claimed.url,
      headers: { ...common, "content-type": "application/json", "webhook-signature": signatureHeader(signing, claimed.event_id, timestampSeconds, body) },
      body,
    };
  };
}
