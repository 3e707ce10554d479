import { Field, ID, InputType } from "type-graphql";
import { DecimalScalar } from "../common/decimal";
import { ConversionStatus } from "./conversion-status";
import "./conversion.types";

@InputType({ description: "The postback's parameters, camelCased; the same rules apply." })
export class RecordConversionInput {
  @Field(() => ID, { nullable: true, description: "Admins must name the operator; operator keys record for their own." })
  operatorId?: string | null;

  @Field(() => String, { nullable: true })
  clickId?: string | null;

  @Field(() => String, { nullable: true })
  customerId?: string | null;

  @Field(() => String, { description: "registration, ftd, deposit, qualified, trade, or a custom name [a-z][a-z0-9_]{0,63}" })
  event!: string;

  @Field(() => String, { nullable: true, description: "Idempotency key: the conversion's identity when given." })
  eventId?: string | null;

  @Field(() => DecimalScalar, { nullable: true })
  amount?: string | null;

  @Field(() => String, { nullable: true, description: "ISO 4217; required with amount." })
  currency?: string | null;

  @Field(() => ConversionStatus, { nullable: true, description: "Default APPROVED." })
  status?: ConversionStatus | null;

  @Field(() => Date, { nullable: true, description: "Default now." })
  occurredAt?: Date | null;

  @Field(() => String, { nullable: true })
  sub1?: string | null;

  @Field(() => String, { nullable: true })
  sub2?: string | null;

  @Field(() => String, { nullable: true })
  sub3?: string | null;

  @Field(() => String, { nullable: true })
  sub4?: string | null;

  @Field(() => String, { nullable: true })
  sub5?: string | null;
}

@InputType()
export class ConversionFilter {
  @Field(() => ID, { nullable: true })
  operatorId?: string | null;

  @Field(() => ID, { nullable: true })
  affiliateId?: string | null;

  @Field(() => String, { nullable: true })
  event?: string | null;

  @Field(() => ConversionStatus, { nullable: true })
  status?: ConversionStatus | null;

  @Field(() => Boolean, { nullable: true, description: "false: only unattributed conversions (unknown click or customer)." })
  attributed?: boolean | null;

  @Field(() => Date, { nullable: true, description: "occurredAt at or after." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "occurredAt before." })
  to?: Date | null;
}
