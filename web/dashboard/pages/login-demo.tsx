/**
 * Scan-to-login, as a site would do it: its backend creates a session (here the dashboard, with
 * its cookie), the page shows the session's code by the session's secret alone and follows the
 * session's events until someone scans it.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { ErrorNotice } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import type { ScanSessionCreated, ScanSessionView } from "../types.ts";

const STATUSES: readonly ScanSessionView["status"][] = ["pending", "scanned", "confirmed", "expired"];

export function LoginDemo(): JSX.Element {
  const { t } = useI18n();
  usePageTitle(t("demo.heading"));
  const [session, setSession] = useState<ScanSessionCreated | null>(null);
  const [view, setView] = useState<ScanSessionView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    setView(null);
    try {
      setSession(await api.post<ScanSessionCreated>("/api/scan-sessions", { purpose: "login" }));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err)));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (session === null) return;
    const events = new EventSource(`/api/scan-sessions/${encodeURIComponent(session.id)}/events?secret=${encodeURIComponent(session.secret)}`);
    for (const status of STATUSES)
      events.addEventListener(status, (e) => {
        const next = JSON.parse((e as MessageEvent<string>).data) as ScanSessionView;
        setView(next);
        // The server ends the stream on a final status; EventSource would otherwise reconnect.
        if (next.openId !== undefined || next.status === "expired") events.close();
      });
    return () => events.close();
  }, [session]);

  const secretQuery = session ? `secret=${encodeURIComponent(session.secret)}` : "";
  const loggedIn = view?.openId;
  return (
    <>
      <h1>{t("demo.heading")}</h1>
      <section class="card login-demo" aria-labelledby="demo-title">
        <h2 id="demo-title">{t("demo.title")}</h2>
        <p>{t("demo.intro")}</p>
        {error && <ErrorNotice error={error} onRetry={start} />}
        {session === null ? (
          <button type="button" onClick={start} disabled={busy}>
            {t("demo.start")}
          </button>
        ) : (
          <div class="demo-body">
            {!loggedIn && view?.status !== "expired" && (
              <img
                class="qr-image"
                src={`/api/scan-sessions/${encodeURIComponent(session.id)}/image.png?${secretQuery}&size=430`}
                width={220}
                height={220}
                alt={t("demo.qrAlt")}
              />
            )}
            <p class={loggedIn ? "demo-status done" : "demo-status"} role="status" aria-live="assertive">
              {loggedIn
                ? t("demo.loggedIn", { openId: loggedIn })
                : view?.status === "expired"
                  ? t("demo.expired")
                  : view?.status === "scanned"
                    ? t("demo.scanned")
                    : t("demo.waiting")}
            </p>
            {!loggedIn && view?.status !== "expired" && (
              <p class="hint code-url">
                {t("demo.url")} <code>{session.qrcode.url}</code>
              </p>
            )}
            {(loggedIn || view?.status === "expired") && (
              <button type="button" class="secondary" onClick={start} disabled={busy}>
                {t("demo.again")}
              </button>
            )}
          </div>
        )}
      </section>
    </>
  );
}
