import type { NonEmptyArray } from "type-graphql";
import { SystemResolver } from "./system/system.resolver";

/** Every feature's resolvers; the schema is built from exactly this list. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [SystemResolver];
