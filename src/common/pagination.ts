import { Field, ObjectType } from "type-graphql";
import { BadUserInputError } from "./errors";
import { isId } from "./ids";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Keyset position in a list ordered by (createdAt desc, id desc): stable under inserts. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | null | undefined): Cursor | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const [time, id, ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(time ?? "");
  if (rest.length > 0 || !id || !isId(id) || Number.isNaN(createdAt.getTime())) {
    throw new BadUserInputError("after is not a cursor this list produced", { field: "after" });
  }
  return { createdAt, id };
}

export function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE_SIZE}`, { field: "first" });
  }
  return size;
}

/** Small admin lists (operators, affiliates, campaigns, keys): oldest first, keyset on the time-ordered id. */
export const DEFAULT_LIST_SIZE = 100;

export function listSize(first: number | null | undefined): number {
  return pageSize(first ?? DEFAULT_LIST_SIZE);
}

export function afterId(after: string | null | undefined): string | undefined {
  if (after === null || after === undefined) return undefined;
  if (!isId(after)) throw new BadUserInputError("after must be an id from the previous page", { field: "after" });
  return after;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "Pass as `after` for the next page." })
  endCursor!: string | null;
}

/** Fetch one row more than asked; its presence says whether there is a next page. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], size: number): { nodes: T[]; pageInfo: PageInfo } {
  const nodes = rows.slice(0, size);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: Object.assign(new PageInfo(), { hasNextPage: rows.length > size, endCursor: last ? encodeCursor(last) : null }) };
}
