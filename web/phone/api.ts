/** The emulator's control endpoints the phone page uses, on the page's own origin. */
import type { Delivery, Received } from "./chat.ts";

export interface User {
  openId: string;
  nickname: string | null;
  subscribed: boolean;
  since: number | null;
}

export interface Code {
  ticket: string;
  url: string;
  kind: "temporary" | "permanent";
  scene: { id: number } | { str: string };
  createdAt: number;
  expiresAt: number | null;
}

/** A refusal by the emulator (`reason` as in its answer), or `unreachable` when there was no answer. */
export class EmulatorRefusal extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

async function call<T>(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new EmulatorRefusal("unreachable", "no answer");
  }
  const json = (await res.json().catch(() => ({}))) as { reason?: string; message?: string };
  if (!res.ok) throw new EmulatorRefusal(json.reason ?? `http_${res.status}`, json.message ?? `HTTP ${res.status}`);
  return json as T;
}

export const sceneOf = (code: Code): string => ("id" in code.scene ? String(code.scene.id) : code.scene.str);

export const api = {
  /** The emulator's clock (tests move it), epoch ms. */
  now: async () => (await call<{ now: number }>("GET", "/emulator/clock")).now,
  users: async () => (await call<{ users: User[] }>("GET", "/emulator/users")).users,
  nameUser: (openId: string, nickname: string) => call<User>("PUT", `/emulator/users/${encodeURIComponent(openId)}`, { nickname }),
  codes: async () => (await call<{ qrcodes: Code[] }>("GET", "/emulator/qrcodes")).qrcodes,
  deliveries: async (openId: string) =>
    (await call<{ deliveries: Delivery[] }>("GET", `/emulator/deliveries?limit=200&openId=${encodeURIComponent(openId)}`)).deliveries,
  /** Everything the account sent the user, in the order it reached them. */
  received: async (openId: string) => (await call<{ messages: Received[] }>("GET", `/emulator/users/${encodeURIComponent(openId)}/messages`)).messages,
  scan: (openId: string, source: { ticket: string } | { url: string } | { image: string }) => call("POST", "/emulator/scan", { openId, ...source }),
  follow: (openId: string) => call("POST", "/emulator/subscribe", { openId }),
  unfollow: (openId: string) => call("POST", "/emulator/unsubscribe", { openId }),
  send: (openId: string, content: string) => call("POST", "/emulator/message", { openId, content }),
};
