/**
 * Requests to the service's /api. The session cookie authorises them (same origin only); a write
 * carries `X-Wxqr-Csrf: 1`, which a cross-site form cannot send. The admin token is sent once, to
 * POST /api/session, and kept nowhere.
 */

/** A refusal or failure of the API, with the error code of its JSON body when it has one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Called on any 401, so that the app can ask for the token again. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (!SAFE_METHODS.has(method)) headers["x-wxqr-csrf"] = "1";
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "NETWORK", "the service did not answer");
  }
  if (res.status === 204) return undefined as T;
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const e = (json ?? {}) as { error?: string; message?: string; field?: string };
    // Signing in with a wrong token is a 401 too, but not a lost session.
    if (res.status === 401 && path !== "/api/session") onUnauthorized();
    throw new ApiError(res.status, e.error ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.field);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  delete: <T>(path: string) => request<T>("DELETE", path),
};

/** `path?k=v…` leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * POSTs `body` and saves the answer as a file named `fileName` (issue 13: a selection's ZIP, too
 * long for a link's URL). The answer is a blob in memory: the service bounds a selection.
 */
export async function postAndSave(path: string, body: unknown, fileName: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: { accept: "application/zip, application/json", "content-type": "application/json", "x-wxqr-csrf": "1" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "NETWORK", "the service did not answer");
  }
  if (!res.ok) {
    const e = ((await res.json().catch(() => undefined)) ?? {}) as { error?: string; message?: string; field?: string };
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, e.error ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.field);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Some browsers read the blob after the click returns: let it go a little later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
