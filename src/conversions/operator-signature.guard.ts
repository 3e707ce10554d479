import { UseMiddleware, type MiddlewareFn } from "type-graphql";
import { ApiKeyRole } from "../common/viewer";
import type { RequestContext } from "../context";
import { PostbackSecrets } from "../tenants/postback-secret";
import { Operator } from "../tenants/operator.entity";
import { SignatureError, verifyPostbackSignature } from "./postback-signature";

/**
 * For mutations that write money or conversions. The postback signature is a second factor
 * beside the operator's key; without this, a leaked key alone could record or reverse money
 * over GraphQL. So an OPERATOR key whose operator requires signed postbacks must sign the
 * GraphQL POST the same way: `X-Hub-Timestamp` and `X-Hub-Signature: v1=<hex
 * HMAC-SHA256(secret, timestamp + "." + raw HTTP body)>`, both secrets valid during a
 * rotation. Admin keys, and operators created with requireSignature: false, are not
 * subject to it. Runs after @Authorized and before the resolver, so a refusal writes nothing.
 *
 *   @Authorized("ADMIN", "OPERATOR")
 *   @RequiresOperatorSignature()
 *   @Mutation(() => …)
 */
export function RequiresOperatorSignature(): MethodDecorator {
  return UseMiddleware(operatorSignatureMiddleware);
}

const operatorSignatureMiddleware: MiddlewareFn<RequestContext> = async ({ context }, next) => {
  await assertOperatorSignature(context);
  return next();
};

/** The check itself, for services that are not resolvers (e.g. a REST door to the same write). */
export async function assertOperatorSignature(ctx: RequestContext): Promise<void> {
  const { viewer } = ctx;
  if (viewer.kind !== "key" || viewer.role !== ApiKeyRole.OPERATOR || !viewer.operatorId) return;
  const operator = await ctx.em.findOne(Operator, { id: viewer.operatorId });
  if (!operator?.requireSignature) return;
  const request = ctx.signedRequest;
  if (!request) {
    throw new SignatureError(
      "This operator's money mutations must be signed, and graphql-ws (WebSocket) has no raw HTTP body to sign: send it as a signed HTTP POST to /graphql",
      "MISSING_SIGNATURE",
    );
  }
  const now = new Date();
  verifyPostbackSignature({
    secrets: new PostbackSecrets(ctx.hub.secrets).valid(
      {
        requireSignature: operator.requireSignature,
        postbackSecret: operator.postbackSecret ?? null,
        previousPostbackSecret: operator.previousPostbackSecret ?? null,
        previousPostbackSecretExpiresAt: operator.previousPostbackSecretExpiresAt ?? null,
      },
      now,
    ),
    timestamp: request.timestamp,
    signature: request.signature,
    payload: request.body,
    nowSeconds: Math.floor(now.getTime() / 1000),
    toleranceSeconds: ctx.hub.config.postbackTimestampToleranceSeconds,
  });
}
