import { ApiKeyRole } from "./api-key.entity";

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

export const ANONYMOUS: Viewer = Object.freeze({ kind: "anonymous" });

export function isAdmin(viewer: Viewer): boolean {
  return viewer.kind === "key" && viewer.role === ApiKeyRole.ADMIN;
}
