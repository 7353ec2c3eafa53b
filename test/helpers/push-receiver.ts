/**
 * A service's push endpoint for tests: a real Fastify app on 127.0.0.1:0 with `registerPushRoute`
 * and a real `createPushReceiver`, recording every message it opens. It can be told to hang
 * (never answer until released) or to fail (its handler throws, so it answers 503) for the next
 * n pushes, to exercise the platform's retries without any sleeping.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { createPushReceiver, type PushMessage } from "../../src/push/index.ts";
import { registerPushRoute } from "../../src/server/index.ts";
import type { PushAnswer } from "../../src/push/handler.ts";

export interface TestReceiver {
  /** The push URL, `http://127.0.0.1:<port>/wechat`. */
  url: string;
  app: FastifyInstance;
  /** Every message opened, in order, retries included. */
  messages: PushMessage[];
  /** How the next pushes are handled: hang this many (Infinity: all), then fail this many with 503. */
  hangNext: number;
  failNext: number;
  /** Lets every hanging handler finish (their answers go nowhere: the platform gave up on them). */
  release(): void;
  close(): Promise<void>;
}

export interface TestReceiverOptions {
  token: string;
  appId: string;
  encodingAESKey?: string;
  now: () => number;
  /** The reply for a message; default: `welcome <openId>` for scans, nothing otherwise. */
  reply?: (message: PushMessage) => PushAnswer;
}

const welcome = (message: PushMessage): PushAnswer => (message.kind === "scan" ? { text: `welcome ${message.openId}` } : undefined);

export async function startReceiver(options: TestReceiverOptions): Promise<TestReceiver> {
  const receiver = createPushReceiver({ token: options.token, appId: options.appId, encodingAESKey: options.encodingAESKey, now: options.now });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  let releaseAll: () => void = () => {};
  const released = new Promise<void>((resolve) => (releaseAll = resolve));
  const reply = options.reply ?? welcome;

  const handle: TestReceiver = {
    url: "",
    app,
    messages: [],
    hangNext: 0,
    failNext: 0,
    release: () => releaseAll(),
    async close() {
      releaseAll();
      await app.close();
    },
  };

  registerPushRoute(app, {
    receiver,
    onMessage: async (message) => {
      handle.messages.push(message);
      if (handle.hangNext > 0) {
        handle.hangNext -= 1;
        await released;
        throw new Error("released after the platform gave up");
      }
      if (handle.failNext > 0) {
        handle.failNext -= 1;
        throw new Error("storage is down (test)");
      }
      return reply(message);
    },
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("receiver: no address");
  handle.url = `http://127.0.0.1:${address.port}/wechat`;
  return handle;
}
