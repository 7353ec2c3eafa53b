/** `Authorization: Bearer <admin token>` on the API, compared in constant time. */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** A checker for one secret: hashing both sides first makes the comparison length-independent. */
export function bearerChecker(secret: string): (authorization: string | undefined) => boolean {
  const expected = digest(secret);
  return (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    return m !== null && timingSafeEqual(digest(m[1]!), expected);
  };
}
