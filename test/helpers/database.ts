import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  url: string;
  name: string;
  /** A client for assertions on the database itself. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

export function databaseUrl(database: string): string {
  const url = new URL(inject("serverUrl"));
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl("postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh copy of the migrated template: isolated, so test files run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `hub_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((client) => client.query(`create database ${name} template ${inject("templateDatabase")}`));
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on("error", () => {});
  return {
    url,
    name,
    query: (sql, params) => pool.query(sql, params as unknown[]),
    drop: async () => {
      await pool.end();
      await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}
