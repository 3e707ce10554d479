import { defineConfig } from "vitest/config";

export default defineConfig({
  // type-graphql requires graphql's CommonJS build; Vite would otherwise load the ESM
  // one too and graphql refuses objects "from another module or realm".
  resolve: { alias: { graphql: "graphql/index.js" } },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "bench/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["reflect-metadata"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
