import path from "node:path";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

/**
 * Infrastructure never imports a feature: features plug in through src/features.ts, and
 * infrastructure takes what it needs from that list as parameters (see src/feature.ts).
 * Everything under src/ that is not listed here is a feature.
 */
const INFRASTRUCTURE = new Set(["common", "db", "http", "jobs", "live", "config.ts", "context.ts", "feature.ts"]);
const SRC = path.resolve(import.meta.dirname, "src");

function srcEntry(file) {
  const relative = path.relative(SRC, file);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep)[0];
}

const infrastructureBoundary = {
  meta: { type: "problem", messages: { feature: "Infrastructure must not import the feature folder '{{feature}}': take what you need as a parameter (see src/feature.ts)." } },
  create(context) {
    if (!INFRASTRUCTURE.has(srcEntry(context.filename))) return {};
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const entry = srcEntry(path.resolve(path.dirname(context.filename), spec));
      if (entry === undefined) return;
      const name = INFRASTRUCTURE.has(entry) || INFRASTRUCTURE.has(`${entry}.ts`) ? undefined : entry;
      if (name) context.report({ node, messageId: "feature", data: { feature: name } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test/generated/**", ".data/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-console": "error",
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { hub: { rules: { "infrastructure-boundary": infrastructureBoundary } } },
    rules: { "hub/infrastructure-boundary": "error" },
  },
  {
    files: ["migrations/**"],
    rules: { "@typescript-eslint/no-unused-vars": "off" },
  },
);
