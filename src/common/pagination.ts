import type { EntityManager, EntityName, FilterQuery, QueryOrderMap } from "@mikro-orm/core";
import { Field, ObjectType, type ArgOptions, type ClassType } from "type-graphql";
import { BadUserInputError } from "./errors";
import { isId } from "./ids";

/**
 * One way to page every list in the API: a connection `{ nodes, pageInfo }`, `first`
 * (a stated default, at most MAX_PAGE_SIZE) and `after` (an opaque cursor), keyset
 * pagination on the list's own order, one row fetched beyond the page to learn whether
 * another follows.
 */
export const MAX_PAGE_SIZE = 500;

/** Every listed row has a time-ordered UUIDv7 id and a creation time. */
export interface Positioned {
  id: string;
  createdAt: Date;
}

type OrderKey = keyof Positioned;

/** How a list is ordered. Its cursors carry the ordering key and the list's name. */
export interface ListOrder {
  /** Names the list inside its cursors, so a cursor from another list is refused. */
  readonly list: string;
  /** Most significant first; `id` last, so the order is total. */
  readonly key: readonly OrderKey[];
  readonly direction: "asc" | "desc";
  /** Page size when `first` is not given. */
  readonly defaultSize: number;
}

/** Admin lists (operators, keys, endpoints...): oldest first by the time-ordered id. */
export function oldestFirstById(list: string, defaultSize = 100): ListOrder {
  return { list, key: ["id"], direction: "asc", defaultSize };
}

/** Logs whose rows carry an exact (millisecond) creation time: newest first, the id breaking ties. */
export function newestFirst(list: string, defaultSize = 50): ListOrder {
  return { list, key: ["createdAt", "id"], direction: "desc", defaultSize };
}

/**
 * Newest first by the time-ordered id, for tables whose `created_at` is Postgres's
 * `now()` (microseconds, finer than a cursor's JavaScript time could resume at).
 */
export function newestFirstById(list: string, defaultSize = 50): ListOrder {
  return { list, key: ["id"], direction: "desc", defaultSize };
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

@ObjectType({ description: "Where a page ends, and whether another follows." })
export class PageInfo {
  @Field(() => Boolean, { description: "More items follow this page: ask again with `after: endCursor`." })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "Pass as `after` for the next page; null when the page is empty." })
  endCursor!: string | null;
}

export interface Page<Node> {
  nodes: Node[];
  pageInfo: PageInfo;
}

export function mapNodes<Row, Node>(page: Page<Row>, toNode: (row: Row) => Node): Page<Node> {
  return { nodes: page.nodes.map(toNode), pageInfo: page.pageInfo };
}

/**
 * The connection type of a list: `@ObjectType() class OperatorConnection extends Connection(OperatorType) {}`.
 * Nodes are listed in the list's order.
 */
export function Connection<Node extends object>(NodeType: ClassType<Node>) {
  // Never in the schema itself: only its named subclasses are reachable from resolvers.
  @ObjectType()
  abstract class ConnectionType {
    @Field(() => [NodeType], { description: "At most `first` items." })
    nodes!: Node[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/** The `first` argument: nullable with the list's default, so schema and cost estimates show it. */
export function firstArg(order: ListOrder): ArgOptions {
  return { nullable: true, defaultValue: order.defaultSize, description: `Page size: default ${order.defaultSize}, at most ${MAX_PAGE_SIZE}.` };
}

export const AFTER_ARG: ArgOptions = { nullable: true, description: "The previous page's `pageInfo.endCursor`: this page starts after it." };

export function pageSize(order: ListOrder, first: number | null | undefined): number {
  const size = first ?? order.defaultSize;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE_SIZE}`, { field: "first" });
  }
  return size;
}

/** A position in a list: the values of its ordering key. */
export type Cursor = Partial<Positioned> & { id: string };

const SEPARATOR = "|";

export function encodeCursor(order: ListOrder, row: Positioned): string {
  const values = order.key.map((field) => (field === "createdAt" ? row.createdAt.toISOString() : row.id));
  return Buffer.from([order.list, ...values].join(SEPARATOR), "utf8").toString("base64url");
}

export function decodeCursor(order: ListOrder, after: string | null | undefined): Cursor | undefined {
  if (after === null || after === undefined) return undefined;
  const refused = () => new BadUserInputError(`after is not a cursor from ${order.list}: pass the endCursor of a previous page`, { field: "after" });
  const [list, ...values] = Buffer.from(after, "base64url").toString("utf8").split(SEPARATOR);
  if (list !== order.list || values.length !== order.key.length) throw refused();
  const cursor: Partial<Positioned> = {};
  order.key.forEach((field, index) => {
    const value = values[index]!;
    if (field === "id") {
      if (!isId(value)) throw refused();
      cursor.id = value.toLowerCase();
    } else {
      const time = new Date(value);
      if (Number.isNaN(time.getTime()) || time.toISOString() !== value) throw refused();
      cursor.createdAt = time;
    }
  });
  return cursor as Cursor;
}

/** Rows strictly after the cursor in the list's order (a row-value comparison spelled for the ORM). */
export function afterCursor<Row extends Positioned>(order: ListOrder, cursor: Cursor): FilterQuery<Row> {
  const beyond = order.direction === "asc" ? "$gt" : "$lt";
  const alternatives: Array<Record<string, unknown>> = [];
  const equalSoFar: Record<string, unknown> = {};
  for (const field of order.key) {
    alternatives.push({ ...equalSoFar, [field]: { [beyond]: cursor[field] } });
    equalSoFar[field] = cursor[field];
  }
  return (alternatives.length === 1 ? alternatives[0] : { $or: alternatives }) as FilterQuery<Row>;
}

export function orderBy<Row extends Positioned>(order: ListOrder): Array<QueryOrderMap<Row>> {
  return order.key.map((field) => ({ [field]: order.direction }) as QueryOrderMap<Row>);
}

/** `rows` was fetched with `limit size + 1`: the extra row only says that another page follows. */
export function toPage<Row extends Positioned>(order: ListOrder, rows: Row[], size: number): Page<Row> {
  const nodes = rows.slice(0, size);
  const last = nodes[nodes.length - 1];
  const pageInfo = Object.assign(new PageInfo(), { hasNextPage: rows.length > size, endCursor: last ? encodeCursor(order, last) : null });
  return { nodes, pageInfo };
}

/** One page of an entity list: `where` narrows it (tenant scope, filters); the order and the cursor do the rest. */
export async function findPage<Row extends Positioned>(
  em: EntityManager,
  entity: EntityName<Row>,
  where: FilterQuery<Row>,
  order: ListOrder,
  args: PageArgs,
): Promise<Page<Row>> {
  const size = pageSize(order, args.first);
  const cursor = decodeCursor(order, args.after);
  const conditions = cursor ? [where, afterCursor<Row>(order, cursor)] : [where];
  const rows = (await em.find(entity, { $and: conditions } as FilterQuery<Row>, { orderBy: orderBy<Row>(order), limit: size + 1 })) as Row[];
  return toPage(order, rows, size);
}
