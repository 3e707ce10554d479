// Prints the webhook delivery queue depth as it changes, over graphql-ws (npm packages graphql-ws and ws).
//   HUB_WS_URL=ws://localhost:4000/graphql HUB_KEY=<api key> node examples/live-client.mjs
// An admin key sees the whole queue; an operator or affiliate key its own endpoints' share.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const client = createClient({
  url: process.env.HUB_WS_URL ?? "ws://localhost:4000/graphql",
  webSocketImpl: WebSocket,
  connectionParams: { apiKey: process.env.HUB_KEY },
  // Reconnect after restarts and drops; a refused key (4401) or bad request (4400) is final.
  retryAttempts: Infinity,
  on: {
    closed: (event) => process.stderr.write(`connection closed: ${event.code} ${event.reason}\n`),
  },
});

client.subscribe(
  { query: "subscription { queueDepthChanged { pending dueNow scheduledRetries inFlight dead oldestPendingAgeSeconds } }" },
  {
    next: ({ data, errors }) => {
      if (errors) {
        process.stderr.write(`refused: ${JSON.stringify(errors)}\n`); // the key may not run it (e.g. FORBIDDEN)
        process.exit(1);
      }
      process.stdout.write(`${new Date().toISOString()} ${JSON.stringify(data.queueDepthChanged)}\n`);
    },
    error: (error) => {
      process.stderr.write(`subscription ended: ${error?.reason ?? error?.message ?? JSON.stringify(error)}\n`);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
