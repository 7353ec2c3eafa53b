/** The live feed: scans, follows and unfollows as the stream announces them. */
import type { JSX } from "preact";
import { Empty } from "../components/status.tsx";
import { formatTime } from "../format.ts";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { restartLive, useLive } from "../live.ts";
import { usePageTitle } from "../page-title.ts";
import { Link } from "../router.tsx";
import type { ScanLogRow } from "../types.ts";

const KIND_LABELS: Record<ScanLogRow["kind"], MessageKey> = {
  scan: "live.kindScan",
  subscribe: "live.kindSubscribe",
  unsubscribe: "live.kindUnsubscribe",
  other: "live.kindOther",
};

export function LiveStatusNote(): JSX.Element {
  const { t } = useI18n();
  const { status } = useLive();
  return (
    <p class={`live-status live-${status}`} role="status">
      <span class="dot" aria-hidden="true" />
      {t(status === "open" ? "live.open" : status === "connecting" ? "live.connecting" : "live.closed")}
      {status === "closed" && (
        <button type="button" class="link-button" onClick={restartLive}>
          {t("live.reconnect")}
        </button>
      )}
    </p>
  );
}

export function Live(): JSX.Element {
  const { t, locale } = useI18n();
  usePageTitle(t("nav.live"));
  const { rows } = useLive();
  return (
    <>
      <div class="page-head">
        <h1>{t("nav.live")}</h1>
        <LiveStatusNote />
      </div>
      {rows.length === 0 ? (
        <Empty title={t("live.emptyTitle")}>
          <p>{t("live.emptyHelp")}</p>
        </Empty>
      ) : (
        <section class="card" aria-labelledby="live-caption">
          <div class="table-scroll">
            <table class="responsive">
              <caption id="live-caption">{t("live.caption")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("live.time")}</th>
                  <th scope="col">{t("live.kind")}</th>
                  <th scope="col">{t("live.follower")}</th>
                  <th scope="col">{t("live.scene")}</th>
                </tr>
              </thead>
              <tbody aria-live="polite">
                {rows.map((row) => (
                  <tr key={row.seq}>
                    <td data-label={t("live.time")}>{formatTime(locale, row.receivedAt)}</td>
                    <td data-label={t("live.kind")}>
                      <span class={`badge kind-${row.kind}`}>{t(KIND_LABELS[row.kind])}</span>
                      {row.isNewFollower && <span class="badge ok">{t("live.newFollower")}</span>}
                    </td>
                    <td data-label={t("live.follower")}>
                      <Link href={`/followers/${encodeURIComponent(row.openId)}`}>
                        <code>{row.openId}</code>
                      </Link>
                    </td>
                    <td data-label={t("live.scene")}>{row.scene ? <code>{row.scene}</code> : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
