import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { AFTER_ARG, firstArg, mapNodes } from "../common/pagination";
import type { RequestContext } from "../context";
import { CreateApiKeyInput } from "./api-key.inputs";
import { API_KEY_LIST, createApiKey, listApiKeys, revokeApiKey } from "./api-key.service";
import { ApiKeyConnection, ApiKeyType, ApiKeyWithSecret } from "./api-key.types";

@Resolver()
export class ApiKeyResolver {
  @Authorized("ADMIN")
  @Mutation(() => ApiKeyWithSecret, { description: "Admins. Returns the key's secret once." })
  async createApiKey(@Ctx() ctx: RequestContext, @Arg("input", () => CreateApiKeyInput) input: CreateApiKeyInput): Promise<ApiKeyWithSecret> {
    const { key, secret } = await createApiKey(ctx.em, input);
    ctx.log.info({ apiKeyId: key.id, role: key.role }, "API key created");
    return Object.assign(new ApiKeyWithSecret(), { apiKey: ApiKeyType.from(key), secret });
  }

  @Authorized("ADMIN")
  @Mutation(() => ApiKeyType, { description: "Admins. The key stops working at once, in every process." })
  async revokeApiKey(@Ctx() ctx: RequestContext, @Arg("id", () => ID) id: string): Promise<ApiKeyType> {
    const key = await revokeApiKey(ctx.em, id);
    ctx.log.info({ apiKeyId: key.id }, "API key revoked");
    return ApiKeyType.from(key);
  }

  @Authorized()
  @Query(() => ApiKeyConnection, { description: "Admins: every key; operator/affiliate keys: their own tenant's. Never the secrets. Oldest first." })
  async apiKeys(
    @Ctx() ctx: RequestContext,
    @Arg("first", () => Int, firstArg(API_KEY_LIST)) first: number | null,
    @Arg("after", () => String, AFTER_ARG) after: string | null,
  ): Promise<ApiKeyConnection> {
    return mapNodes(await listApiKeys(ctx.em, ctx.viewer, first, after), ApiKeyType.from);
  }
}
