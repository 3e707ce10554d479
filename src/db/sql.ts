import type { EntityManager, Knex } from "@mikro-orm/postgresql";

export type SqlValue = string | number | boolean | Date | null;

/** A statement with `:name` parameters, compiled once to knex's positional `?` form. */
export interface NamedStatement {
  readonly text: string;
  readonly names: readonly string[];
}

// `:name`, but not the second half of a `::type` cast (preceded by `:` or a word character).
const NAMED_PARAMETER = /(?<![:\w]):([a-z_][a-z0-9_]*)/gi;

export function namedSql(text: string): NamedStatement {
  const names: string[] = [];
  const positional = text.replace(NAMED_PARAMETER, (_match, name: string) => {
    names.push(name);
    return "?";
  });
  return Object.freeze({ text: positional, names: Object.freeze(names) });
}

/**
 * Runs a hand-written statement with real bind parameters, on the unit of work's
 * transaction when there is one: for what the ORM cannot express (INSERT … ON CONFLICT
 * … RETURNING, conditional UPDATE … RETURNING, CTEs).
 */
export async function sqlRows<R>(em: EntityManager, statement: NamedStatement | string, parameters: Readonly<Record<string, SqlValue>> | readonly SqlValue[] = []): Promise<R[]> {
  const compiled = typeof statement === "string" ? { text: statement, names: [] } : statement;
  const bindings = Array.isArray(parameters)
    ? parameters
    : compiled.names.map((name) => {
        const value = (parameters as Readonly<Record<string, SqlValue>>)[name];
        if (value === undefined) throw new Error(`SQL parameter :${name} is missing`);
        return value;
      });
  const runner = em.getTransactionContext<Knex.Transaction>() ?? em.getKnex();
  const result = (await runner.raw(compiled.text, bindings as Knex.Value[])) as { rows: R[] };
  return result.rows;
}

/**
 * Timestamps from hand-written statements: MikroORM makes the driver hand timestamptz back
 * as Postgres text ("2026-01-02 03:04:05.678901+00"); a plain pg pool returns Dates. This
 * reads both (and Postgres' infinities).
 */
export function toDate(value: string | Date): Date;
export function toDate(value: string | Date | null | undefined): Date | null;
export function toDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (value === "infinity" || value === "-infinity") return new Date(value === "infinity" ? 8.64e15 : -8.64e15);
  const date = new Date(value.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${value}`);
  return date;
}
