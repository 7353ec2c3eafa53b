/** Overview: today, the last 7 and 30 days across all channels, the quota, the webhook's backlog, each group's totals. */
import type { JSX } from "preact";
import { withQuery } from "../api.ts";
import { Figures } from "../components/figures.tsx";
import { Gauge } from "../components/gauge.tsx";
import { Empty, ErrorNotice, Loading } from "../components/status.tsx";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link } from "../router.tsx";
import type { ChannelPage, Overview as OverviewJson, OverviewGroup } from "../types.ts";
import { useApi } from "../use-api.ts";

const PERIODS: ReadonlyArray<["today" | "last7" | "last30", MessageKey]> = [
  ["today", "overview.today"],
  ["last7", "overview.last7"],
  ["last30", "overview.last30"],
];

export function Overview(): JSX.Element {
  const { t, n } = useI18n();
  usePageTitle(t("nav.overview"));
  const overview = useApi<OverviewJson>("/api/overview", { live: true });
  const top = useApi<ChannelPage>(withQuery("/api/channels", { sort: "todayScans", order: "desc", limit: 5 }), { live: true });

  return (
    <>
      <h1>{t("nav.overview")}</h1>
      {overview.error && !overview.data ? (
        <ErrorNotice error={overview.error} onRetry={overview.reload} />
      ) : !overview.data ? (
        <Loading />
      ) : (
        <>
          <div class="periods">
            {PERIODS.map(([key, label]) => (
              <section class="card" aria-labelledby={`period-${key}`} key={key}>
                <h2 id={`period-${key}`}>{t(label)}</h2>
                <Figures counts={overview.data![key]} />
              </section>
            ))}
          </div>
          <div class="columns">
            <section class="card quota" aria-labelledby="quota-title">
              <h2 id="quota-title">{t("overview.quota")}</h2>
              <Gauge
                used={overview.data.quota.permanent.used}
                limit={overview.data.quota.permanent.limit}
                label={t("overview.quotaLabel", { used: n(overview.data.quota.permanent.used), limit: n(overview.data.quota.permanent.limit) })}
              />
              <p>{t("overview.quotaText", { used: n(overview.data.quota.permanent.used), limit: n(overview.data.quota.permanent.limit) })}</p>
              <p class="hint">{t("overview.quotaRemaining", { remaining: n(overview.data.quota.permanent.remaining) })}</p>
            </section>
            {overview.data.webhook && (
              <section class="card" aria-labelledby="webhook-title">
                <h2 id="webhook-title">{t("overview.webhook")}</h2>
                <dl class="figures compact">
                  <div class="figure">
                    <dt>{t("overview.webhookBacklog")}</dt>
                    <dd>{n(overview.data.webhook.backlog)}</dd>
                  </div>
                  <div class="figure">
                    <dt>{t("overview.webhookFailing")}</dt>
                    <dd class={overview.data.webhook.failing ? "negative" : undefined}>
                      {typeof overview.data.webhook.failing === "number"
                        ? n(overview.data.webhook.failing)
                        : t(overview.data.webhook.failing ? "common.yes" : "common.no")}
                    </dd>
                  </div>
                </dl>
                {overview.data.webhook.failing ? <p class="hint">{t("overview.webhookHint")}</p> : null}
              </section>
            )}
            <section class="card top-channels" aria-labelledby="top-title">
              <h2 id="top-title">{t("overview.topToday")}</h2>
              {top.error && !top.data ? (
                <ErrorNotice error={top.error} onRetry={top.reload} />
              ) : !top.data ? (
                <Loading />
              ) : top.data.total === 0 ? (
                <Empty title={t("channels.emptyTitle")}>
                  <p>
                    <Link href="/channels?new=1">{t("channels.emptyAction")}</Link>
                  </p>
                </Empty>
              ) : (
                <>
                  <ol class="top-list">
                    {top.data.channels.map((c) => (
                      <li key={c.id}>
                        <Link href={`/channels/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                        <span class="top-figure">{t("overview.scansToday", { n: n(c.today.scans) })}</span>
                      </li>
                    ))}
                  </ol>
                  <p>
                    <Link href="/channels">{t("overview.allChannels", { n: n(top.data.total) })}</Link>
                  </p>
                </>
              )}
            </section>
          </div>
          {overview.data.groups.length > 0 && <GroupTotals groups={overview.data.groups} />}
        </>
      )}
    </>
  );
}

/** Issue 13: each group's sums (no unique scanners: they do not add up across channels). */
function GroupTotals({ groups }: { groups: OverviewGroup[] }): JSX.Element {
  const { t, n } = useI18n();
  const signed = (value: number): string => (value > 0 ? `+${n(value)}` : n(value));
  return (
    <section class="card" aria-labelledby="group-totals-title">
      <div class="card-head">
        <h2 id="group-totals-title">{t("overview.groups")}</h2>
        <Link href="/groups">{t("overview.manageGroups")}</Link>
      </div>
      <div class="table-scroll">
        <table class="responsive">
          <caption class="visually-hidden">{t("overview.groups")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("groups.group")}</th>
              <th scope="col" class="num">
                {t("channels.todayScans")}
              </th>
              <th scope="col" class="num">
                {t("channels.todayNew")}
              </th>
              <th scope="col" class="num">
                {t("overview.groupScans7")}
              </th>
              <th scope="col" class="num">
                {t("overview.groupScans30")}
              </th>
              <th scope="col" class="num">
                {t("overview.groupNew30")}
              </th>
              <th scope="col" class="num">
                {t("overview.groupNet30")}
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.id}>
                <th scope="row" data-label={t("groups.group")}>
                  <Link href={withQuery("/analysis", { groupId: g.id })}>{g.name}</Link>
                </th>
                <td class="num" data-label={t("channels.todayScans")}>
                  {n(g.today.scans)}
                </td>
                <td class="num" data-label={t("channels.todayNew")}>
                  {n(g.today.newFollowers)}
                </td>
                <td class="num" data-label={t("overview.groupScans7")}>
                  {n(g.last7.scans)}
                </td>
                <td class="num" data-label={t("overview.groupScans30")}>
                  {n(g.last30.scans)}
                </td>
                <td class="num" data-label={t("overview.groupNew30")}>
                  {n(g.last30.newFollowers)}
                </td>
                <td class={g.last30.netGrowth < 0 ? "num negative" : "num"} data-label={t("overview.groupNet30")}>
                  {signed(g.last30.netGrowth)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
