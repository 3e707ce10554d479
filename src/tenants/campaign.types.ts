import { Field, ID, ObjectType } from "type-graphql";
import { Connection } from "../common/pagination";
import type { Campaign } from "./campaign.entity";

@ObjectType("Campaign", { description: "An operator's offer; affiliates link to /click/{id}?affiliate_id=…" })
export class CampaignType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  operatorId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "Where the click redirect sends visitors; {click_id} is filled in." })
  landingUrl!: string;

  @Field(() => String, { description: "The click redirect's path on this hub; append ?affiliate_id=<id>&sub1=…" })
  clickPath!: string;

  @Field(() => Date)
  createdAt!: Date;

  static from(campaign: Campaign): CampaignType {
    return Object.assign(new CampaignType(), {
      id: campaign.id,
      operatorId: campaign.operatorId,
      name: campaign.name,
      landingUrl: campaign.landingUrl,
      clickPath: `/click/${campaign.id}`,
      createdAt: campaign.createdAt,
    });
  }
}

@ObjectType({ description: "Campaigns, oldest first." })
export class CampaignConnection extends Connection(CampaignType) {}
