import type { HubFeature } from "./feature";
import { alertsFeature } from "./alerts";
import { authFeature } from "./auth";
import { clicksFeature } from "./clicks";
import { conversionsFeature } from "./conversions";
import { jobsFeature } from "./jobs";
import { liveFeature } from "./live";
import { outboxFeature } from "./outbox";
import { systemFeature } from "./system";
import { tenantsFeature } from "./tenants";
import { webhooksFeature } from "./webhooks";

/**
 * Every feature of the hub, the one list. A new feature is a folder with an `index.ts`
 * describing it (see feature.ts) and one line here, plus its migration.
 * Installed in this order (auth before the routes it guards), shut down in reverse.
 */
export const FEATURES: readonly HubFeature[] = [
  systemFeature,
  jobsFeature,
  liveFeature,
  tenantsFeature,
  authFeature,
  outboxFeature,
  clicksFeature,
  conversionsFeature,
  webhooksFeature,
  alertsFeature,
];
