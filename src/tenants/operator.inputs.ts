import { Field, InputType } from "type-graphql";

@InputType()
export class CreateOperatorInput {
  @Field(() => String)
  name!: string;

  @Field(() => Boolean, { defaultValue: true, description: "Refuse unsigned postbacks (default). Turn off only for networks that cannot sign." })
  requireSignature!: boolean;
}
