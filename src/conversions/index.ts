import type { HubFeature } from "../feature";
import { CONVERSION_EVENT_TYPES } from "./conversion-events";
import { ConversionLiveResolver } from "./conversion-live.resolver";
import { ConversionStatusChange } from "./conversion-status-change.entity";
import { Conversion } from "./conversion.entity";
import { ConversionResolver } from "./conversion.resolver";
import { installPostbackRoutes } from "./postback.route";

/** Conversions in (signed idempotent postbacks, recordConversion), attribution, their history and live feed. */
export const conversionsFeature: HubFeature = {
  name: "conversions",
  entities: [Conversion, ConversionStatusChange],
  resolvers: [ConversionResolver, ConversionLiveResolver],
  eventTypes: CONVERSION_EVENT_TYPES,
  install: async ({ hub, app }) => {
    if (app) await installPostbackRoutes(app, hub);
  },
};
