/** What an API key may do: the role half of every access rule. */
export enum ApiKeyRole {
  ADMIN = "ADMIN",
  OPERATOR = "OPERATOR",
  AFFILIATE = "AFFILIATE",
}

/** Who is calling: resolved once per request from its API key. */
export type Viewer =
  | { readonly kind: "anonymous" }
  | {
      readonly kind: "key";
      readonly apiKeyId: string;
      readonly role: ApiKeyRole;
      readonly operatorId: string | null;
      readonly affiliateId: string | null;
    };

export type KeyViewer = Extract<Viewer, { kind: "key" }>;

export const ANONYMOUS: Viewer = Object.freeze({ kind: "anonymous" });

export function isAdmin(viewer: Viewer): boolean {
  return viewer.kind === "key" && viewer.role === ApiKeyRole.ADMIN;
}
