import type { HubFeature } from "../feature";
import { Click } from "./click.entity";
import { installClickRoute } from "./click.route";

/** The public click redirect: `GET /click/:campaignId` records a click and sends the visitor on. */
export const clicksFeature: HubFeature = {
  name: "clicks",
  entities: [Click],
  install: ({ hub, app }) => {
    if (app) installClickRoute(app, hub);
  },
};
