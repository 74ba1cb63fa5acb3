/**
 * A TCP forwarding endpoint for tests, as an ElastiCache primary endpoint behaves in a failover: it
 * listens on a free 127.0.0.1 port and pipes each connection to its current target; `pointAt` re-points
 * it, so new connections reach the new target while connections already open stay open and keep
 * talking to the old one.
 *
 * ```ts
 * const endpoint = await TcpForwarder.start({ port: primary.port });
 * // ... connect to endpoint.url ...
 * endpoint.pointAt(replica.port); // new connections go to the replica; old ones stay on the primary
 * await endpoint.stop();          // always, in afterAll
 * ```
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './redis-server';

export interface ForwardTarget {
  /** The target's port. */
  readonly port: number;
  /** The target's host. @default 127.0.0.1 */
  readonly host?: string;
}

export class TcpForwarder {
  /** Connections made so far, per target port (a reconnection shows up here). */
  readonly connectionsByTargetPort = new Map<number, number>();
  /** Connections open now, per target port. */
  readonly openByTargetPort = new Map<number, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    /** The port the endpoint listens on. */
    readonly port: number,
    private readonly server: Server,
    private target: ForwardTarget,
  ) {}

  /** Listens on a free port and forwards to `target`. */
  static async start(target: ForwardTarget): Promise<TcpForwarder> {
    const port = await freePort();
    const server = createServer();
    const forwarder = new TcpForwarder(port, server, target);
    server.on('connection', (socket) => forwarder.forward(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return forwarder;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Sends new connections to `target`; connections already open keep their old target. */
  pointAt(target: ForwardTarget): void {
    this.target = target;
  }

  /** Closes the listener and every forwarded connection. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket): void {
    const { port, host = '127.0.0.1' } = this.target;
    this.connectionsByTargetPort.set(port, (this.connectionsByTargetPort.get(port) ?? 0) + 1);
    this.openByTargetPort.set(port, (this.openByTargetPort.get(port) ?? 0) + 1);
    const upstream = createConnection({ port, host });
    upstream.once('close', () => this.openByTargetPort.set(port, this.openByTargetPort.get(port)! - 1));
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // Either side closing or failing closes the other, as a dropped TCP connection would.
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
