import "reflect-metadata";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { lexicographicSortSchema, printSchema } from "graphql";
import { buildHubSchema, SCHEMA_FILE } from "../src/schema";
import { LocalPubSub } from "../src/live/local-pubsub";
import { resolversOf } from "../src/feature";
import { FEATURES } from "../src/features";

/** `npm run schema` rewrites schema/schema.graphql; `-- --check` fails when it is stale. */
async function main(): Promise<void> {
  const schema = await buildHubSchema(resolversOf(FEATURES), new LocalPubSub());
  const text = `# Emitted from the type-graphql resolvers by \`npm run schema\`; do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
  const file = path.resolve(SCHEMA_FILE);
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      process.stderr.write(`${SCHEMA_FILE} is stale: run \`npm run schema\` and commit it.\n`);
      process.exit(1);
    }
    process.stdout.write(`${SCHEMA_FILE} is up to date.\n`);
    return;
  }
  writeFileSync(file, text);
  process.stdout.write(`Wrote ${SCHEMA_FILE}.\n`);
}

void main();
