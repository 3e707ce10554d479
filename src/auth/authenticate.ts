import type { EntityManager } from "@mikro-orm/postgresql";
import { UnauthenticatedError } from "../common/errors";
import { findActiveKey, viewerOf } from "./api-key.service";
import { ANONYMOUS, type Viewer } from "../common/viewer";

/** No key: anonymous (public routes decide). A key that is unknown or revoked: refused outright. */
export async function authenticate(em: EntityManager, secret: string | undefined): Promise<Viewer> {
  if (secret === undefined) return ANONYMOUS;
  const key = await findActiveKey(em, secret);
  if (!key) throw new UnauthenticatedError("INVALID_API_KEY", "The API key is unknown or revoked");
  return viewerOf(key);
}
