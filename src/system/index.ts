import type { HubFeature } from "../feature";
import { SystemResolver } from "./system.resolver";

/** `hub { version role now }`: what process answers, for smoke checks. */
export const systemFeature: HubFeature = {
  name: "system",
  resolvers: [SystemResolver],
};
