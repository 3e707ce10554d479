import { Field, ID, ObjectType } from "type-graphql";
import { Connection } from "../common/pagination";
import type { Operator } from "./operator.entity";

@ObjectType("Operator", { description: "A brand whose systems send postbacks. Its signing secrets are never readable." })
export class OperatorType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Boolean, { description: "Postbacks must carry X-Hub-Timestamp and X-Hub-Signature." })
  requireSignature!: boolean;

  @Field(() => Date, { nullable: true, description: "When the postback signing secret was last rotated." })
  postbackSecretRotatedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "Until when the previous secret is still accepted, if a rotation is in its grace period." })
  previousPostbackSecretExpiresAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  static from(operator: Operator): OperatorType {
    return Object.assign(new OperatorType(), {
      id: operator.id,
      name: operator.name,
      requireSignature: operator.requireSignature,
      postbackSecretRotatedAt: operator.postbackSecretRotatedAt ?? null,
      previousPostbackSecretExpiresAt: operator.previousPostbackSecretExpiresAt ?? null,
      createdAt: operator.createdAt,
    });
  }
}

@ObjectType({ description: "The operator and its postback signing secret, shown this once." })
export class OperatorWithSecret {
  @Field(() => OperatorType)
  operator!: OperatorType;

  @Field(() => String, { description: "HMAC-SHA256 key for X-Hub-Signature. Store it now: the hub never shows it again." })
  postbackSecret!: string;
}

@ObjectType({ description: "Operators, oldest first." })
export class OperatorConnection extends Connection(OperatorType) {}
