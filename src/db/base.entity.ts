import { OptionalProps, PrimaryKey, Property } from "@mikro-orm/core";
import { newId } from "../common/ids";

export abstract class BaseEntity<Optional = never> {
  [OptionalProps]?: "createdAt" | Optional;

  @PrimaryKey({ type: "uuid" })
  id: string = newId();

  @Property({ type: "datetime", columnType: "timestamptz" })
  createdAt: Date = new Date();
}
