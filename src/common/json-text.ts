const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function clean(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD").replaceAll("\u0000", "\uFFFD");
}

/**
 * JSON for a jsonb column, from untrusted input: Postgres refuses `\u0000` and unpaired
 * surrogates in jsonb, so they become U+FFFD instead of failing the whole write.
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value, function replacer(this: unknown, _key, inner: unknown) {
    if (typeof inner === "string") return clean(inner);
    if (inner && typeof inner === "object" && !Array.isArray(inner) && !(inner instanceof Date)) {
      const entries = Object.entries(inner as Record<string, unknown>);
      if (entries.some(([name]) => clean(name) !== name)) return Object.fromEntries(entries.map(([name, v]) => [clean(name), v]));
    }
    return inner;
  });
}
