import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { ConversionStatus } from "./conversion-status";
import { ConversionType } from "./conversion.types";

export enum ConversionChangeKind {
  RECORDED = "RECORDED",
  STATUS_CHANGED = "STATUS_CHANGED",
}

registerEnumType(ConversionChangeKind, { name: "ConversionChangeKind", description: "A new conversion, or a status change of a known one." });

@ObjectType("ConversionLiveEvent", { description: "A conversion as it was recorded or changed status (conversionRecorded)." })
export class ConversionLiveEventType {
  @Field(() => ConversionChangeKind)
  kind!: ConversionChangeKind;

  @Field(() => ID, { description: "The outbound event (conversion.recorded or conversion.status_changed) that announced it; also its webhook-id." })
  eventId!: string;

  @Field(() => ConversionStatus, { description: "The status this change set." })
  status!: ConversionStatus;

  @Field(() => ConversionStatus, { nullable: true, description: "The status before, on STATUS_CHANGED." })
  previousStatus!: ConversionStatus | null;

  @Field(() => Date, { description: "When the hub recorded this change." })
  at!: Date;

  @Field(() => ConversionType, { description: "The conversion as it is now (a later change may already show)." })
  conversion!: ConversionType;
}
