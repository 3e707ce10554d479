import http from "node:http";
import net from "node:net";

/**
 * A raw TCP client for HTTP/1.1 on loopback: it can be as slow, as silent or as numerous
 * as an attacker would be, and can choose its source address (any 127.x.y.z is loopback,
 * so 127.0.0.2 is a second client IP on one machine).
 */
export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything the server sent so far, as latin1 text. */
  received(): string;
  /** Settles when the socket closes (by either side): milliseconds since it connected, and what the server sent. */
  readonly closed: Promise<{ afterMs: number; received: string }>;
  /** Writes unless the socket is already gone (a slow client keeps trying until it is cut). */
  write(text: string | Buffer): void;
  /** Writes `chunk` every `intervalMs` until the socket closes or the returned function is called. */
  trickle(chunk: string, intervalMs: number): () => void;
  destroy(): void;
}

export function openRaw(baseUrl: string, options: { localAddress?: string } = {}): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let connectedAt = 0;
    let received = "";
    const socket = net.connect({ host: hostname, port: Number(port), localAddress: options.localAddress });
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    // Resets count as closes here; what matters is that the server let go.
    socket.on("error", () => undefined);
    const closed = new Promise<{ afterMs: number; received: string }>((settle) =>
      socket.once("close", () => settle({ afterMs: Date.now() - connectedAt, received })),
    );
    const write = (text: string | Buffer) => {
      if (!socket.destroyed && socket.writable) socket.write(text);
    };
    socket.once("connect", () => {
      connectedAt = Date.now();
      resolve({
        socket,
        received: () => received,
        closed,
        write,
        trickle: (chunk, intervalMs) => {
          const timer = setInterval(() => write(chunk), intervalMs);
          const stop = () => clearInterval(timer);
          socket.once("close", stop);
          return stop;
        },
        destroy: () => socket.destroy(),
      });
    });
    socket.once("error", reject);
  });
}

/** The status and JSON body of the first HTTP response in `text` (undefined when there is none). */
export function firstResponse(text: string): { status: number; body: unknown } | undefined {
  const match = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
  if (!match) return undefined;
  const length = /^content-length:\s*(\d+)/im.exec(match[2]!);
  const bodyText = length ? match[3]!.slice(0, Number(length[1])) : match[3]!;
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // not JSON: keep the text
  }
  return { status: Number(match[1]), body };
}

/**
 * A GET with node:http from a chosen source address, on a fresh connection that is closed
 * afterwards (no pooled keep-alive connection lingers to count against a cap).
 */
export function getFrom(url: string, localAddress: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = http.get(url, { localAddress, agent: false, headers: { connection: "close" } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}
