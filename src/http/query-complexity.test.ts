import { buildSchema, getOperationAST, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { countSelections, introspectionListSizes, measureOperation } from "./query-complexity";

const schema = buildSchema(`
  type Query {
    deliveries(first: Int = 50): Page!
    items(first: Int): [Item!]!
    hub: Hub!
    tags: [String!]!
  }
  type Page { nodes: [Item!]! endCursor: String }
  type Item { id: ID! children: [Item!]! parent: Item }
  type Hub { now: String }
`);
const sizes = { list: 10, page: 100 };

function measure(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  return { ...countSelections(document), ...measureOperation(schema, document, getOperationAST(document, operationName)!, variables, sizes) };
}

describe("query complexity", () => {
  it("multiplies a connection's lists by its first, and leaves its other fields at one", () => {
    // deliveries 1 + nodes (1 + 20 × id) + endCursor 1
    expect(measure("{ deliveries(first: 20) { nodes { id } endCursor } }")).toMatchObject({ cost: 23, depth: 3 });
  });

  it("takes first from the schema's default, a variable, or the variable's default", () => {
    expect(measure("{ deliveries { nodes { id } } }").cost).toBe(1 + 1 + 50);
    expect(measure("query ($n: Int) { deliveries(first: $n) { nodes { id } } }", { n: 7 }).cost).toBe(1 + 1 + 7);
    expect(measure("query ($n: Int = 3) { deliveries(first: $n) { nodes { id } } }").cost).toBe(1 + 1 + 3);
    // Not a count: coercion refuses it later; meanwhile it counts as the assumed page.
    expect(measure("query ($n: Int) { items(first: $n) { id } }", { n: "many" }).cost).toBe(1 + 100);
  });

  it("assumes a page for a paged list left without first, and the list size for lists without first", () => {
    expect(measure("{ items { id } }").cost).toBe(1 + 100);
    // deliveries 1 + nodes (1 + 2 × children (1 + 10 × id))
    expect(measure("{ deliveries(first: 2) { nodes { children { id } } } }").cost).toBe(1 + 1 + 2 * (1 + 10));
    expect(measure("{ tags }").cost).toBe(1);
  });

  it("counts aliases and fields as written in the whole document, the unused operations included", () => {
    expect(measure("query A { a: hub { now } b: hub { x: now } } query B { tags }", undefined, "A")).toMatchObject({ aliases: 3, fields: 5 });
  });

  it("measures a fragment once however often it is spread, and ends on cycles", () => {
    let fragments = "fragment F0 on Query { hub { now } }\n";
    for (let level = 1; level < 60; level++) fragments += `fragment F${level} on Query { ...F${level - 1} ...F${level - 1} }\n`;
    const started = performance.now();
    const bomb = measure(`{ ...F59 }\n${fragments}`);
    expect(performance.now() - started).toBeLessThan(200);
    expect(bomb.fields).toBe(2);
    expect(bomb.cost).toBeGreaterThan(1e17);
    expect(measure("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A hub { now } }")).toMatchObject({ cost: 2, depth: 2 });
  });

  it("follows fragments and inline fragments for depth", () => {
    expect(measure("{ deliveries { ...P } } fragment P on Page { nodes { ... on Item { parent { id } } } }").depth).toBe(4);
  });

  it("counts introspection apart, with the schema's real list sizes, and without ofType levels", () => {
    const typeCount = introspectionListSizes(schema).get("__Schema.types")!;
    const shallow = measure("{ __schema { types { name } } }");
    expect(shallow).toMatchObject({ introspection: true, cost: 0, introspectionCost: 1 + 1 + typeCount, depth: 3 });
    expect(measure("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }").depth).toBe(5);
    // Re-entering a type's fields multiplies by the longest field list each time.
    const nested = measure("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }");
    expect(nested.introspectionCost).toBeGreaterThan(typeCount * 4 ** 3);
  });

  it("finds introspection hidden in a fragment, and not in __typename", () => {
    expect(measure('{ ...F } fragment F on Query { __type(name: "Item") { name } }').introspection).toBe(true);
    expect(measure("{ __typename hub { __typename } }").introspection).toBe(false);
  });
});
