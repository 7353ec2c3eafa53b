/** One channel: its code to download, its figures and chart, compare with others, edit, archive. */
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, withQuery } from "../api.ts";
import { DateRange, lastDays, type DayRange } from "../components/date-range.tsx";
import { PerDayChart } from "../components/per-day-chart.tsx";
import { Figures } from "../components/figures.tsx";
import { LineChart } from "../components/line-chart.tsx";
import { ErrorNotice, Loading } from "../components/status.tsx";
import { daysBetween, dayOf, formatDay } from "../format.ts";
import { fillDays } from "../stats.ts";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import type { Channel, ChannelGroup, ChannelPage, ChannelStats, Counts, DayCounts } from "../types.ts";
import { useApi } from "../use-api.ts";
import { ChannelStatusBadge } from "../components/channel-status.tsx";
import { toZoneInput } from "../zone-time.ts";
import { audienceBody, audienceFieldsOf, ChannelForm, type ChannelFields } from "./channel-form.tsx";
import { CodeExpiry, CodeType, ImageLink } from "../components/channel-code.tsx";

const IMAGE_SIZES = [258, 430, 860, 1280] as const;
const CHART_METRICS: ReadonlyArray<[keyof Counts, MessageKey]> = [
  ["scans", "counts.scans"],
  ["newFollowers", "counts.newFollowers"],
  ["unfollows", "counts.unfollows"],
];
const MAX_COMPARED = 5;

function channelPath(id: string): string {
  return `/api/channels/${encodeURIComponent(id)}`;
}

export function ChannelView({ id }: { id: string }): JSX.Element {
  const { t } = useI18n();
  const channel = useApi<Channel>(channelPath(id), { live: true });
  usePageTitle(channel.data?.name ?? t("nav.channels"));

  return (
    <>
      <p class="breadcrumb">
        <Link href="/channels">{t("channel.back")}</Link>
      </p>
      {channel.error && !channel.data ? (
        <>
          <h1>{t("channel.title")}</h1>
          <ErrorNotice error={channel.error} onRetry={channel.reload} />
        </>
      ) : !channel.data ? (
        <>
          <h1>{t("channel.title")}</h1>
          <Loading />
        </>
      ) : (
        <ChannelBody channel={channel.data} onChanged={channel.reload} />
      )}
    </>
  );
}

function ChannelBody({ channel, onChanged }: { channel: Channel; onChanged: () => void }): JSX.Element {
  const { t, locale } = useI18n();
  return (
    <>
      <div class="page-head">
        <h1>
          {channel.name}
          {channel.archived && <span class="badge">{t("channel.archived")}</span>}
          <ChannelStatusBadge status={channel.status} />
        </h1>
        <p class="hint">
          {t("channel.createdOn", { day: formatDay(locale, dayOf(Date.parse(channel.createdAt))) })}
          <ChannelGroupNote groupId={channel.groupId} />
        </p>
        {(channel.startsAt !== null || channel.endsAt !== null) && (
          <p class="hint schedule">
            {t("audience.range", {
              from: channel.startsAt === null ? t("audience.noStart") : toZoneInput(channel.startsAt).replace("T", " "),
              to: channel.endsAt === null ? t("audience.noEnd") : toZoneInput(channel.endsAt).replace("T", " "),
            })}
          </p>
        )}
      </div>
      <div class="columns">
        <QrCard channel={channel} />
        <section class="card" aria-labelledby="today-title">
          <h2 id="today-title">{t("channel.today")}</h2>
          <Figures counts={channel.today} compact />
          <h2 id="total-title">{t("channel.total")}</h2>
          <Figures counts={channel.total} compact />
        </section>
      </div>
      <StatsCard channel={channel} />
      <EditCard channel={channel} onChanged={onChanged} />
    </>
  );
}

function QrCard({ channel }: { channel: Channel }): JSX.Element {
  const { t, n } = useI18n();
  const [size, setSize] = useState<number>(430);
  const base = `/api/qrcodes/${encodeURIComponent(channel.qrcode.id)}/image`;
  const fileName = `${channel.name}-${size}`;
  return (
    <section class="card qr-card" aria-labelledby="qr-title">
      <h2 id="qr-title">{t("channel.qr")}</h2>
      <img class="qr-image" src={`${base}.png?size=430`} width={200} height={200} alt={t("channel.qrAlt", { name: channel.name })} />
      <div class="field">
        <label for="qr-size">{t("channel.qrSize")}</label>
        <select id="qr-size" value={size} onChange={(e) => setSize(Number(e.currentTarget.value))}>
          {IMAGE_SIZES.map((s) => (
            <option value={s} key={s}>
              {t("channel.pixels", { n: n(s) })}
            </option>
          ))}
        </select>
      </div>
      <div class="actions">
        <a class="button" href={`${base}.png?size=${size}`} download={`${fileName}.png`}>
          {t("channel.downloadPng")}
        </a>
        <a class="button secondary" href={`${base}.svg?size=${size}`} download={`${fileName}.svg`}>
          {t("channel.downloadSvg")}
        </a>
      </div>
      <p class="hint code-url">
        {t("channel.url")} <code>{channel.qrcode.url}</code>
      </p>
      {/* --- temporary channels (issue #13) --- */}
      <p class="code-info">
        {t("code.type")}: <CodeType channel={channel} /> <CodeExpiry channel={channel} />
      </p>
      <ImageLink channel={channel} />
      {/* --- end temporary channels --- */}
    </section>
  );
}

function StatsCard({ channel }: { channel: Channel }): JSX.Element {
  const { t } = useI18n();
  const [range, setRange] = useState<DayRange>(() => lastDays(30));
  const stats = useApi<ChannelStats>(withQuery(`${channelPath(channel.id)}/stats`, range as unknown as Record<string, string>), { live: true });
  const csv = withQuery(`${channelPath(channel.id)}/stats.csv`, range as unknown as Record<string, string>);

  return (
    <section class="card" aria-labelledby="stats-title">
      <div class="card-head">
        <h2 id="stats-title">{t("channel.perDay")}</h2>
        <a class="button secondary" href={csv} download>
          {t("channel.csv")}
        </a>
      </div>
      <DateRange value={range} onChange={setRange} />
      <PerDayChart
        stats={stats}
        range={range}
        caption={t("channel.chartCaption", { name: channel.name })}
        choices={CHART_METRICS}
        initialMetrics={["scans", "newFollowers", "unfollows"]}
      />
      <Compare channel={channel} range={range} />
    </section>
  );
}

/** Several channels' figure of one kind on one chart; the compared ids stay in the URL (`?compare=`). */
function Compare({ channel, range }: { channel: Channel; range: DayRange }): JSX.Element {
  const { t, locale } = useI18n();
  const { path, query } = useLocation();
  const compared = (query.get("compare") ?? "").split(",").filter((id) => id !== "" && id !== channel.id);
  const [metric, setMetric] = useState<keyof Counts>("scans");
  const [search, setSearch] = useState("");
  const [series, setSeries] = useState<Array<{ id: string; name: string; days: DayCounts[] }> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const candidates = useApi<ChannelPage>(search.trim() ? withQuery("/api/channels", { search: search.trim(), limit: 8, archived: "all" }) : null);

  const setCompared = (ids: string[]): void => {
    const params = new URLSearchParams(query);
    if (ids.length) params.set("compare", ids.join(","));
    else params.delete("compare");
    const qs = params.toString();
    navigate(qs ? `${path}?${qs}` : path, { replace: true });
  };

  const key = `${[channel.id, ...compared].join(",")}|${range.from}|${range.to}`;
  useEffect(() => {
    if (compared.length === 0) return;
    let cancelled = false;
    setError(null);
    Promise.all(
      [channel.id, ...compared].map(async (id) => {
        const [c, s] = await Promise.all([
          id === channel.id ? Promise.resolve(channel) : api.get<Channel>(channelPath(id)),
          api.get<ChannelStats>(withQuery(`${channelPath(id)}/stats`, { from: range.from, to: range.to })),
        ]);
        return { id, name: c.name, days: fillDays(range, s.days) };
      }),
    ).then(
      (all) => !cancelled && setSeries(all),
      (err: unknown) => !cancelled && setError(err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err))),
    );
    return () => {
      cancelled = true;
    };
  }, [key, channel.total.scans, channel.total.newFollowers, channel.total.unfollows]);

  const labels = useMemo(() => daysBetween(range.from, range.to).map((d) => formatDay(locale, d, "short")), [range.from, range.to, locale]);
  const metricLabel = t(CHART_METRICS.find(([k]) => k === metric)![1]);

  return (
    <div class="compare">
      <h3>{t("compare.title")}</h3>
      <p class="hint">{t("compare.help")}</p>
      <div class="compare-controls">
        <div class="field">
          <label for="compare-metric">{t("compare.metric")}</label>
          <select id="compare-metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value as keyof Counts)}>
            {CHART_METRICS.map(([k, label]) => (
              <option value={k} key={k}>
                {t(label)}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="compare-search">{t("compare.add")}</label>
          <input
            id="compare-search"
            type="search"
            value={search}
            disabled={compared.length >= MAX_COMPARED}
            placeholder={t("channels.searchPlaceholder")}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </div>
      </div>
      {search.trim() && (
        <div class="candidates" aria-live="polite">
          {candidates.loading ? (
            <Loading />
          ) : (
            (() => {
              const options = (candidates.data?.channels ?? []).filter((c) => c.id !== channel.id && !compared.includes(c.id));
              return options.length === 0 ? (
                <p class="hint">{t("compare.none")}</p>
              ) : (
                <ul class="chips">
                  {options.map((c) => (
                    <li key={c.id}>
                      <button
                        type="button"
                        class="chip"
                        onClick={() => {
                          setCompared([...compared, c.id]);
                          setSearch("");
                        }}
                      >
                        {t("compare.addOne", { name: c.name })}
                      </button>
                    </li>
                  ))}
                </ul>
              );
            })()
          )}
        </div>
      )}
      {compared.length > 0 && (
        <>
          <ul class="chips" aria-label={t("compare.compared")}>
            {(series ?? []).slice(1).map((s) => (
              <li key={s.id}>
                <span class="chip static">
                  {s.name}
                  <button
                    type="button"
                    class="chip-remove"
                    aria-label={t("compare.remove", { name: s.name })}
                    onClick={() => setCompared(compared.filter((id) => id !== s.id))}
                  >
                    ×
                  </button>
                </span>
              </li>
            ))}
          </ul>
          {error ? (
            <ErrorNotice error={error} onRetry={() => setCompared(compared)} />
          ) : !series ? (
            <Loading />
          ) : (
            <LineChart
              tableCaption={t("compare.caption", { metric: metricLabel })}
              data={{
                title: t("compare.caption", { metric: metricLabel }),
                labels,
                series: series.map((s) => ({ name: s.name, values: s.days.map((d) => d[metric]) })),
              }}
            />
          )}
        </>
      )}
    </div>
  );
}

function EditCard({ channel, onChanged }: { channel: Channel; onChanged: () => void }): JSX.Element {
  const { t } = useI18n();
  const [archiveError, setArchiveError] = useState<ApiError | null>(null);
  const [archiveDone, setArchiveDone] = useState<string | null>(null);

  const save = async (fields: ChannelFields): Promise<string> => {
    await api.patch<Channel>(channelPath(channel.id), {
      name: fields.name,
      welcome: fields.welcome.trim() === "" ? null : fields.welcome,
      ...audienceBody(fields.audience, audienceFieldsOf(channel)),
      groupId: fields.groupId ?? null,
    });
    onChanged();
    return t("channel.saved");
  };
  const toggleArchive = async (): Promise<void> => {
    setArchiveError(null);
    try {
      await api.patch<Channel>(channelPath(channel.id), { archived: !channel.archived });
      setArchiveDone(t(channel.archived ? "channel.unarchived" : "channel.archivedDone"));
      onChanged();
    } catch (err) {
      setArchiveError(err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err)));
    }
  };

  return (
    <section class="card" aria-labelledby="edit-title">
      <h2 id="edit-title">{t("channel.edit")}</h2>
      <ChannelForm
        key={channel.id}
        initial={{ name: channel.name, welcome: channel.welcome ?? "", audience: audienceFieldsOf(channel), groupId: channel.groupId }}
        submitLabel={t("action.save")}
        onSubmit={save}
      />
      <PauseToggle channel={channel} onChanged={onChanged} />
      <h3>{t(channel.archived ? "channel.unarchiveTitle" : "channel.archiveTitle")}</h3>
      <p class="hint">{t(channel.archived ? "channel.unarchiveHelp" : "channel.archiveHelp")}</p>
      {archiveError && <ErrorNotice error={archiveError} />}
      <div class="actions">
        <button type="button" class={channel.archived ? "secondary" : "danger"} onClick={toggleArchive}>
          {t(channel.archived ? "channel.unarchive" : "channel.archive")}
        </button>
        <span role="status" class="form-done">
          {archiveDone}
        </span>
      </div>
    </section>
  );
}

/** Pause or resume (issue #13): scans keep counting either way, only replies and follow-ups stop. */
function PauseToggle({ channel, onChanged }: { channel: Channel; onChanged: () => void }): JSX.Element {
  const { t } = useI18n();
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const toggle = async (): Promise<void> => {
    setError(null);
    try {
      await api.patch<Channel>(channelPath(channel.id), { paused: !channel.paused });
      setDone(t(channel.paused ? "audience.resumedDone" : "audience.pausedDone"));
      onChanged();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err)));
    }
  };
  return (
    <>
      <h3>{t("audience.pauseTitle")}</h3>
      <p class="hint">{t("audience.pauseHelp")}</p>
      {error && <ErrorNotice error={error} />}
      <div class="actions">
        <button type="button" class="secondary" aria-pressed={channel.paused} onClick={toggle}>
          {t(channel.paused ? "audience.resume" : "audience.pause")}
        </button>
        <span role="status" class="form-done">
          {done}
        </span>
      </div>
    </>
  );
}

/** Issue 13: the channel's group, a link to the group's channels. */
function ChannelGroupNote({ groupId }: { groupId: string | null }): JSX.Element {
  const { t } = useI18n();
  const groups = useApi<{ groups: ChannelGroup[] }>(groupId ? "/api/channel-groups" : null);
  const group = groups.data?.groups.find((g) => g.id === groupId);
  return (
    <span class="channel-group-note">
      {t("groups.group")}
      {t("groups.colon")}
      {groupId === null ? t("groups.none") : group ? <Link href={withQuery("/channels", { groupId: group.id })}>{group.name}</Link> : "…"}
    </span>
  );
}
