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
 * Timestamps from hand-written statements: MikroORM makes the driver hand timestamptz
 * back as Postgres text ("2026-01-02 03:04:05.123+00"); this reads either form.
 */
export function asDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  const date = new Date(value.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00"));
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${value}`);
  return date;
}
