import type { HubFeature } from "../feature";
import { Affiliate } from "./affiliate.entity";
import { AffiliateResolver } from "./affiliate.resolver";
import { Campaign } from "./campaign.entity";
import { CampaignResolver } from "./campaign.resolver";
import { Operator } from "./operator.entity";
import { OperatorResolver } from "./operator.resolver";

/** Operators (with their postback secrets), affiliates and campaigns. */
export const tenantsFeature: HubFeature = {
  name: "tenants",
  entities: [Operator, Affiliate, Campaign],
  resolvers: [OperatorResolver, AffiliateResolver, CampaignResolver],
};
