/**
 * A round-robin TCP splitter in a process of its own (started by bench/sections/ingest.ts for
 * the two-instance row): each incoming connection goes to the next upstream in turn and is piped
 * both ways until either side closes, as an L4 load balancer spreads keep-alive connections. It
 * never parses HTTP, so it adds one hop's copying and nothing else.
 *
 * Listens on 127.0.0.1:0, sends `{ type: "listening", port }`, answers `{ type: "stats" }` with
 * the connections each upstream got and its CPU time, and closes on `{ type: "close" }` or when
 * the parent goes.
 * @module
 */
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { childConfig, fail, serveParent, toParent, type IpcMessage } from "./child.ts";

export interface SplitterConfig {
  /** Ports of the upstreams on 127.0.0.1, taken in turn. */
  upstreams: number[];
}

export interface SplitterStats {
  type: "stats";
  /** Connections handed to each upstream, in `upstreams` order. */
  connections: number[];
  cpuMicros: number;
}

const config = childConfig<SplitterConfig>();
const connections = config.upstreams.map(() => 0);
const open = new Set<Socket>();
let turn = 0;

function track(socket: Socket): void {
  open.add(socket);
  socket.once("close", () => open.delete(socket));
}

const server = createServer({ noDelay: true }, (client) => {
  const index = turn;
  turn = (turn + 1) % config.upstreams.length;
  connections[index]! += 1;
  const upstream = connect({ host: "127.0.0.1", port: config.upstreams[index]!, noDelay: true });
  track(client);
  track(upstream);
  // One side's error or close ends the pair, as a balancer drops a connection whose peer went away.
  const end = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end).on("close", end);
  upstream.on("error", end).on("close", end);
  client.pipe(upstream);
  upstream.pipe(client);
});

try {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, resolve);
  });
  serveParent(async (message: IpcMessage) => {
    if (message.type === "stats") {
      const cpu = process.cpuUsage();
      await toParent<SplitterStats>({ type: "stats", connections: [...connections], cpuMicros: cpu.user + cpu.system });
    } else if (message.type === "close") {
      for (const socket of open) socket.destroy();
      server.close(() => process.exit(0));
    }
  });
  await toParent({ type: "listening", port: (server.address() as AddressInfo).port });
} catch (error) {
  fail(error);
}
