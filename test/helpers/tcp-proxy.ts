import net from "node:net";

/**
 * A loopback TCP proxy in front of Postgres that a test can cut (`down()`), restore
 * (`up()`) or hold (`pause()`: bytes wait until `resume()`), to make the database
 * unreachable or slow without touching the real server.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private paused = false;
  private readonly held: Array<() => void> = [];
  port = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  static forDatabase(url: string): TcpProxy {
    const parsed = new URL(url);
    return new TcpProxy(parsed.hostname, Number(parsed.port || 5432));
  }

  /** The database URL rewritten to go through this proxy. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = "127.0.0.1";
    parsed.port = String(this.port);
    return parsed.toString();
  }

  async up(): Promise<void> {
    this.server = net.createServer((client) => this.connect(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stops listening and kills every open connection. */
  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  pause(): void {
    this.paused = true;
  }

  /** Chunks waiting while paused. */
  heldCount(): number {
    return this.held.length;
  }

  resume(): void {
    this.paused = false;
    this.held.splice(0).forEach((release) => release());
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on("data", (chunk) => {
        if (!this.paused) to.write(chunk);
        else this.held.push(() => to.write(chunk));
      });
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  }
}
