import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../common/pagination";
import { AlertKind, AlertSeverity } from "./alert.entity";

registerEnumType(AlertKind, { name: "AlertKind" });
registerEnumType(AlertSeverity, { name: "AlertSeverity" });

@ObjectType("Alert", { description: "A condition ops must look at; active until the condition clears." })
export class AlertType {
  @Field(() => ID) id!: string;
  @Field(() => AlertKind) kind!: AlertKind;
  @Field(() => AlertSeverity) severity!: AlertSeverity;
  @Field(() => String, { description: "Identifies the condition, e.g. endpoint_disabled:<id>." }) key!: string;
  @Field(() => String) message!: string;
  @Field(() => GraphQLJSONObject) details!: Record<string, unknown>;
  @Field(() => ID, { nullable: true }) endpointId!: string | null;
  @Field(() => ID, { nullable: true }) operatorId!: string | null;
  @Field(() => ID, { nullable: true }) affiliateId!: string | null;
  @Field(() => Date, { name: "raisedAt" }) createdAt!: Date;
  @Field(() => Date, { nullable: true }) resolvedAt!: Date | null;
  @Field(() => Date, { nullable: true }) acknowledgedAt!: Date | null;
}

@ObjectType({ description: "Alerts, newest first." })
export class AlertConnection extends Connection(AlertType) {}
