import { Field, ObjectType } from "type-graphql";

@ObjectType({ description: "The hub process that answered." })
export class HubInfo {
  @Field(() => String)
  version!: string;

  @Field(() => String, { description: "all, api or worker" })
  role!: string;

  @Field(() => Date)
  now!: Date;
}
