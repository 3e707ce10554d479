import { Field, ID, InputType } from "type-graphql";

@InputType()
export class CreateCampaignInput {
  @Field(() => ID)
  operatorId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "Absolute http(s) URL containing {click_id}." })
  landingUrl!: string;
}
