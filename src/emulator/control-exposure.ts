/**
 * The emulator's control API (`/emulator/*`) is unauthenticated and can point pushes at any URL
 * and act as any user: reachable from a network, it is an open relay. So the emulator listens on
 * loopback only, unless its caller says, by a name that cannot be missed, that exposure is meant.
 * @module
 */
import { isIP } from "node:net";
import { ValidationError } from "../errors.ts";

/**
 * 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. Anything else, including `0.0.0.0`, `::`
 * and host names that might resolve anywhere, counts as exposed.
 * @example
 * isLoopbackHost("127.0.0.2"); // true
 * isLoopbackHost("0.0.0.0"); // false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  const v4 = h.startsWith("::ffff:") && isIP(h.slice(7)) === 4 ? h.slice(7) : h;
  if (isIP(v4) === 4) return v4.split(".")[0] === "127";
  return isIP(h) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(h);
}

/** Throws unless `host` is loopback or `unsafeExposeControlApi` is set. */
export function assertControlApiPrivate(host: string, unsafeExposeControlApi: boolean): void {
  if (unsafeExposeControlApi || isLoopbackHost(host)) return;
  throw new ValidationError(
    "host",
    `${host} is not a loopback address, and anyone who reaches the emulator's control API (/emulator/*) can make it push to any URL; listen on 127.0.0.1, or pass --unsafe-expose-control-api (unsafeExposeControlApi) if you mean it`,
  );
}
