import { randomBytes } from "node:crypto";
import type { TaskList } from "graphile-worker";
import { loadConfig } from "../../src/config";
import { generateEncryptionKey } from "../../src/common/secret-box";
import { createLogger } from "../../src/common/logger";
import { startHub, type RunningHub } from "../../src/hub";
import { createTestDatabase, type TestDatabase } from "./database";

export interface TestHub extends RunningHub {
  db: TestDatabase;
  adminKey: string;
  graphqlUrl: string;
  websocketUrl: string;
  stop(): Promise<void>;
}

/** What creating fixtures through the public API needs: an in-process hub or a spawned one. */
export type AdminApi = Pick<TestHub, "graphqlUrl" | "adminKey">;

/** One per test process; stored secrets in a test database are sealed with it. */
export const TEST_ENCRYPTION_KEY = generateEncryptionKey();

export function generateAdminKey(): string {
  return `ahk_test_${randomBytes(24).toString("base64url")}`;
}

/**
 * A whole hub in this test process, on its own database and an ephemeral loopback
 * port. `env` overrides configuration exactly as environment variables would.
 */
export async function startTestHub(
  options: { env?: Record<string, string>; db?: TestDatabase; extraTasks?: TaskList } = {},
): Promise<TestHub> {
  const db = options.db ?? (await createTestDatabase());
  const adminKey = generateAdminKey();
  const config = loadConfig({
    DATABASE_URL: db.url,
    HOST: "127.0.0.1",
    PORT: "0",
    HUB_ADMIN_KEY: adminKey,
    HUB_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    WORKER_POLL_INTERVAL_MS: "200",
    MIGRATE_ON_START: "false",
    ...options.env,
  });
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
  const running = await startHub(config, log, { extraTasks: options.extraTasks });
  return {
    ...running,
    db,
    adminKey,
    graphqlUrl: `${running.urls.http}/graphql`,
    websocketUrl: `${running.urls.ws}/graphql`,
    stop: async () => {
      await running.close();
      if (!options.db) await db.drop();
    },
  };
}
