import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { OwningOperatorOnly } from "../auth/operator-details";
import { DecimalScalar } from "../common/decimal";
import { Connection } from "../common/pagination";
import { Attribution, ConversionSource, ConversionStatus } from "./conversion-status";
import { ConversionOutcome } from "./conversion.service";
import type { Conversion } from "./conversion.entity";
import type { ConversionStatusChange } from "./conversion-status-change.entity";

registerEnumType(ConversionStatus, { name: "ConversionStatus", description: "pending → approved | rejected | reversed; approved → reversed." });
registerEnumType(Attribution, { name: "Attribution", description: "How the affiliate was found: the click itself, or the customer's earlier attributed conversion." });
registerEnumType(ConversionSource, { name: "ConversionSource" });
registerEnumType(ConversionOutcome, { name: "ConversionOutcome", description: "What a recordConversion did." });

@ObjectType("ConversionStatusChange", { description: "One entry of a conversion's status history; the first (from null) is its recording." })
export class ConversionStatusChangeType {
  @Field(() => ConversionStatus, { nullable: true })
  fromStatus!: ConversionStatus | null;

  @Field(() => ConversionStatus)
  toStatus!: ConversionStatus;

  @Field(() => Date)
  changedAt!: Date;

  @Field(() => ConversionSource)
  source!: ConversionSource;

  @OwningOperatorOnly((change: ConversionStatusChangeType) => change.operatorId)
  @Field(() => ID, { nullable: true, description: "The API key that made the change. Admins and the conversion's operator; null for other keys." })
  apiKeyId!: string | null;

  /** The conversion's operator (not a field): who may see apiKeyId. */
  operatorId!: string;

  static from(change: ConversionStatusChange, operatorId: string): ConversionStatusChangeType {
    return Object.assign(new ConversionStatusChangeType(), {
      fromStatus: change.fromStatus ?? null,
      toStatus: change.toStatus,
      changedAt: change.createdAt,
      source: change.source,
      apiKeyId: change.apiKeyId ?? null,
      operatorId,
    });
  }
}

@ObjectType("Conversion", { description: "One inbound event (registration, deposit, …) for a click or customer." })
export class ConversionType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  operatorId!: string;

  @Field(() => ID, { nullable: true, description: "Null while unattributed." })
  affiliateId!: string | null;

  @Field(() => Boolean)
  attributed!: boolean;

  @Field(() => Attribution, { nullable: true })
  attribution!: Attribution | null;

  @Field(() => String, { nullable: true, description: "The click_id as the operator sent it." })
  clickId!: string | null;

  @Field(() => String, { nullable: true })
  customerId!: string | null;

  @Field(() => String)
  event!: string;

  @Field(() => String, { nullable: true })
  eventId!: string | null;

  @Field(() => DecimalScalar, { nullable: true })
  amount!: string | null;

  @Field(() => String, { nullable: true })
  currency!: string | null;

  @Field(() => ConversionStatus)
  status!: ConversionStatus;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => String, { nullable: true })
  sub1!: string | null;

  @Field(() => String, { nullable: true })
  sub2!: string | null;

  @Field(() => String, { nullable: true })
  sub3!: string | null;

  @Field(() => String, { nullable: true })
  sub4!: string | null;

  @Field(() => String, { nullable: true })
  sub5!: string | null;

  @Field(() => ConversionSource)
  source!: ConversionSource;

  @Field(() => Date, { description: "When the hub recorded it." })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "When its status last changed." })
  statusChangedAt!: Date | null;

  @OwningOperatorOnly((conversion: ConversionType) => conversion.operatorId)
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      "The request as received, unknown parameters included (never the API key): client IP, signature, timestamp, request id. " +
      "Admins and the conversion's operator; null for other keys (affiliates).",
  })
  rawRequest!: Record<string, unknown> | null;

  static from(conversion: Conversion): ConversionType {
    return Object.assign(new ConversionType(), {
      id: conversion.id,
      operatorId: conversion.operatorId,
      affiliateId: conversion.affiliateId ?? null,
      attributed: conversion.affiliateId !== null && conversion.affiliateId !== undefined,
      attribution: conversion.attribution ?? null,
      clickId: conversion.clickId ?? null,
      customerId: conversion.customerId ?? null,
      event: conversion.event,
      eventId: conversion.eventId ?? null,
      amount: conversion.amount ?? null,
      currency: conversion.currency ?? null,
      status: conversion.status,
      occurredAt: conversion.occurredAt,
      sub1: conversion.sub1 ?? null,
      sub2: conversion.sub2 ?? null,
      sub3: conversion.sub3 ?? null,
      sub4: conversion.sub4 ?? null,
      sub5: conversion.sub5 ?? null,
      source: conversion.source,
      createdAt: conversion.createdAt,
      statusChangedAt: conversion.statusChangedAt ?? null,
      rawRequest: conversion.rawRequest,
    });
  }
}

@ObjectType({ description: "Conversions, newest first." })
export class ConversionConnection extends Connection(ConversionType) {}

@ObjectType()
export class RecordConversionPayload {
  @Field(() => ConversionType)
  conversion!: ConversionType;

  @Field(() => ConversionOutcome)
  outcome!: ConversionOutcome;
}
