// Prints the hub's job queue as it changes, over graphql-ws (npm packages graphql-ws and ws).
//   HUB_WS_URL=ws://localhost:4000/graphql HUB_KEY=<admin key> node examples/live-client.mjs
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
  { query: "subscription { jobQueueChanged { due scheduled running failed oldestDueAgeSeconds } }" },
  {
    next: ({ data, errors }) => {
      if (errors) {
        process.stderr.write(`refused: ${JSON.stringify(errors)}\n`); // e.g. FORBIDDEN for a non-admin key
        process.exit(1);
      }
      process.stdout.write(`${new Date().toISOString()} ${JSON.stringify(data.jobQueueChanged)}\n`);
    },
    error: (error) => {
      process.stderr.write(`subscription ended: ${error?.reason ?? error?.message ?? JSON.stringify(error)}\n`);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
