import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../helpers/hub";

const TOKEN = "metrics-scrape-token-0123456789abcdef";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ env: { METRICS_TOKEN: TOKEN } });
});
afterAll(async () => {
  await hub?.stop();
});

async function scrape(headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${hub.urls.http}/metrics`, { headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe("METRICS_TOKEN", () => {
  it("serves /metrics to a scraper that sends Authorization: Bearer <token>", async () => {
    const { status, text } = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(status).toBe(200);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it("refuses a scrape without the token, or with a wrong one, with 401 and no figures", async () => {
    const missing = await scrape();
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text)).toMatchObject({ error: { code: "MISSING_METRICS_TOKEN" } });
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');

    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer ${hub.adminKey}`]) {
      const wrong = await scrape({ authorization });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text)).toMatchObject({ error: { code: "INVALID_METRICS_TOKEN" } });
      expect(wrong.text).not.toContain("process_cpu");
    }
    // An API key in its own header is not a metrics token either.
    expect((await scrape({ "x-api-key": hub.adminKey })).status).toBe(401);
  });

  it("leaves /healthz and /readyz open for probes", async () => {
    expect((await fetch(`${hub.urls.http}/healthz`)).status).toBe(200);
    expect((await fetch(`${hub.urls.http}/readyz`)).status).toBe(200);
  });
});
