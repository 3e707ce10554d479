import { Entity, Enum, Index, ManyToOne, Property } from "@mikro-orm/core";
import { BaseEntity } from "../db/base.entity";
import { Conversion } from "./conversion.entity";
import { ConversionSource, ConversionStatus } from "./conversion-status";

/** A conversion's status history: the first row (fromStatus null) is its recording. createdAt is the change's time. */
@Entity({ tableName: "conversion_status_change" })
@Index({ name: "conversion_status_change_conversion_idx", properties: ["conversionId", "createdAt"] })
export class ConversionStatusChange extends BaseEntity<"fromStatus" | "apiKeyId"> {
  @ManyToOne(() => Conversion, { mapToPk: true, fieldName: "conversion_id", deleteRule: "cascade" })
  conversionId!: string;

  @Enum({ items: () => ConversionStatus, nativeEnumName: "conversion_status", nullable: true })
  fromStatus?: ConversionStatus | null;

  @Enum({ items: () => ConversionStatus, nativeEnumName: "conversion_status" })
  toStatus!: ConversionStatus;

  @Enum({ items: () => ConversionSource, nativeEnumName: "conversion_source" })
  source!: ConversionSource;

  @Property({ type: "uuid", nullable: true })
  apiKeyId?: string | null;
}
