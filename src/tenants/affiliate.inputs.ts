import { Field, InputType } from "type-graphql";

@InputType()
export class CreateAffiliateInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  email?: string | null;
}
