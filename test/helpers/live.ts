import type { Socket } from "node:net";
import type { Client } from "graphql-ws";
import WebSocket from "ws";
import { liveListenerApplicationName } from "../../src/live/install";
import type { TestDatabase } from "./database";
import type { HubProcess } from "./hub-process";
import { waitFor } from "./wait-for";

export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * A graphql-transport-ws connection driven by hand, for what the graphql-ws client
 * hides: close codes of refused connections, not answering pings, not reading at all.
 */
export class RawGraphqlSocket {
  readonly messages: Array<{ type: string; id?: string; payload?: unknown }> = [];
  readonly closed: Promise<CloseInfo>;
  pings = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("message", (data) => this.messages.push(JSON.parse(data.toString()) as { type: string }));
    ws.on("ping", () => (this.pings += 1));
    ws.on("error", () => {});
  }

  static async open(url: string, options: { autoPong?: boolean } = {}): Promise<RawGraphqlSocket> {
    const ws = new WebSocket(url, "graphql-transport-ws", { autoPong: options.autoPong ?? true });
    const socket = new RawGraphqlSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return socket;
  }

  /** Opens and sends connection_init; resolves once acknowledged (or closed). */
  static async connect(url: string, payload: unknown, options: { autoPong?: boolean } = {}): Promise<RawGraphqlSocket> {
    const socket = await RawGraphqlSocket.open(url, options);
    socket.send({ type: "connection_init", payload });
    await Promise.race([socket.waitForMessage((m) => m.type === "connection_ack"), socket.closed]);
    return socket;
  }

  get acknowledged(): boolean {
    return this.messages.some((m) => m.type === "connection_ack");
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): void {
    this.send({ id, type: "subscribe", payload: { query, variables } });
  }

  async waitForMessage(predicate: (message: RawGraphqlSocket["messages"][number]) => boolean, timeoutMs = 15_000) {
    return waitFor(() => this.messages.find(predicate), { timeoutMs, what: "a graphql-ws message" });
  }

  /** The TCP socket under the WebSocket: pause() it to stop reading entirely. */
  get tcp(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }
}

/** The close event a graphql-ws client reports, as a promise. */
export function closeEventOf(on: (listener: (event: unknown) => void) => void): Promise<CloseInfo> {
  return new Promise((resolve) => on((event) => resolve({ code: (event as CloseInfo).code, reason: String((event as CloseInfo).reason) })));
}

/** The value of one sample in Prometheus text, e.g. `hub_ws_closed_by_server_total{reason="slow"}`. */
export function metricValue(text: string, sample: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

export async function disposeAll(clients: Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.dispose()));
}

/** The Postgres backend pid of an api process's live listener, if it is connected. */
export async function liveListenerPid(db: TestDatabase, hub: HubProcess): Promise<number | undefined> {
  const { rows } = await db.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database() and application_name = $1",
    [liveListenerApplicationName("api", hub.child.pid!)],
  );
  return rows[0]?.pid;
}
