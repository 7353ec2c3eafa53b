/**
 * Channels: search, filter by group, sort and page through thousands; create one; tick some (or
 * every match) for a batch operation. State lives in the URL's query, the ticks in the page.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, withQuery } from "../api.ts";
import { GroupOptions } from "../components/group-options.tsx";
import { Empty, ErrorNotice, Loading } from "../components/status.tsx";
import { formatDay, dayOf } from "../format.ts";
import { useI18n, type MessageKey } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import type { Channel, ChannelGroup, ChannelPage } from "../types.ts";
import { useApi } from "../use-api.ts";
import { ChannelStatusBadge } from "../components/channel-status.tsx";
import { audienceBody, ChannelForm, codeBody, type ChannelFields, NO_AUDIENCE_FIELDS } from "./channel-form.tsx";
import { CodeExpiry, CodeType } from "../components/channel-code.tsx";
import { BatchBar, type ListFilters, type Selection } from "./channels-batch.tsx";

const SORTS: ReadonlyArray<[string, MessageKey]> = [
  ["createdAt", "channels.sortCreated"],
  ["name", "channels.sortName"],
  ["todayScans", "channels.sortToday"],
  ["totalScans", "channels.sortTotal"],
];
const PAGE_SIZES = [20, 50, 100] as const;
const ARCHIVED: ReadonlyArray<[string, MessageKey]> = [
  ["false", "channels.showActive"],
  ["true", "channels.showArchived"],
  ["all", "channels.showAll"],
];

export function Channels(): JSX.Element {
  const { t, n, locale } = useI18n();
  usePageTitle(t("nav.channels"));
  const { query } = useLocation();
  const search = query.get("search") ?? "";
  const sort = query.get("sort") ?? "createdAt";
  const order = query.get("order") === "asc" || query.get("order") === "desc" ? query.get("order")! : sort === "name" ? "asc" : "desc";
  const archived = query.get("archived") ?? "false";
  const groupId = query.get("groupId") ?? "";
  const size = PAGE_SIZES.find((s) => String(s) === query.get("size")) ?? PAGE_SIZES[0];
  const page = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);

  const setQuery = (changes: Record<string, string | number | undefined>, resetPage = true): void => {
    const next: Record<string, string | number | undefined> = {
      search,
      sort,
      order,
      archived,
      groupId: groupId || undefined,
      size,
      page: resetPage ? undefined : page,
      ...changes,
    };
    navigate(withQuery("/channels", next), { replace: true });
  };

  // Typing updates the field at once and the query after a pause.
  const [typed, setTyped] = useState(search);
  useEffect(() => setTyped(search), [search]);
  useEffect(() => {
    if (typed === search) return;
    const timer = setTimeout(() => setQuery({ search: typed.trim() || undefined }), 300);
    return () => clearTimeout(timer);
  }, [typed]);

  const list = useApi<ChannelPage>(
    withQuery("/api/channels", { search, sort, order, archived, groupId: groupId || undefined, limit: size, offset: (page - 1) * size }),
    { live: true },
  );
  const pages = list.data ? Math.max(1, Math.ceil(list.data.total / size)) : 1;
  const [creating, setCreating] = useState(query.get("new") === "1");
  const groups = useApi<{ groups: ChannelGroup[] }>("/api/channel-groups");
  const groupNames = new Map((groups.data?.groups ?? []).map((g) => [g.id, g.name]));

  // Ticks belong to one set of filters: changing them starts a new selection.
  const filters: ListFilters = { search, groupId, archived: archived === "true" || archived === "all" ? archived : "false" };
  const filterKey = `${search}|${groupId}|${archived}`;
  const [selection, setSelection] = useState<Selection>({ kind: "ids", ids: [] });
  useEffect(() => setSelection({ kind: "ids", ids: [] }), [filterKey]);
  const onPage = list.data?.channels.map((c) => c.id) ?? [];
  const isSelected = (id: string): boolean => selection.kind === "filter" || selection.ids.includes(id);
  const pageSelected = onPage.length > 0 && onPage.every(isSelected);
  const someOnPageSelected = onPage.some(isSelected);
  const selectedCount = selection.kind === "filter" ? (list.data?.total ?? 0) : selection.ids.length;
  const toggle = (id: string, on: boolean): void => {
    const ids = selection.kind === "filter" ? onPage : selection.ids;
    setSelection({ kind: "ids", ids: on ? [...ids.filter((i) => i !== id), id] : ids.filter((i) => i !== id) });
  };
  const togglePage = (on: boolean): void => {
    const ids = selection.kind === "filter" ? [] : selection.ids.filter((id) => !onPage.includes(id));
    setSelection({ kind: "ids", ids: on ? [...ids, ...onPage] : ids });
  };

  const create = async (fields: ChannelFields): Promise<void> => {
    const channel = await api.post<Channel>("/api/channels", {
      name: fields.name,
      ...(fields.welcome.trim() ? { welcome: fields.welcome } : {}),
      ...audienceBody(fields.audience),
      ...codeBody(fields),
      ...(fields.groupId ? { groupId: fields.groupId } : {}),
    });
    navigate(`/channels/${encodeURIComponent(channel.id)}`);
  };

  return (
    <>
      <div class="page-head">
        <h1>{t("nav.channels")}</h1>
        <button type="button" aria-expanded={creating} aria-controls="new-channel" onClick={() => setCreating(!creating)}>
          {t("channels.new")}
        </button>
      </div>
      {creating && (
        <section id="new-channel" class="card" aria-labelledby="new-channel-title">
          <h2 id="new-channel-title">{t("channels.newTitle")}</h2>
          <p class="hint">{t("channels.newHelp")}</p>
          <ChannelForm
            initial={{ name: "", welcome: "", audience: NO_AUDIENCE_FIELDS, groupId: groupId && groupId !== "none" ? groupId : null }}
            submitLabel={t("channels.create")}
            onSubmit={create}
            withCode
          />
        </section>
      )}

      <form class="filters card" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="channel-search">{t("channels.search")}</label>
          <input
            id="channel-search"
            type="search"
            value={typed}
            placeholder={t("channels.searchPlaceholder")}
            onInput={(e) => setTyped(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="channel-group">{t("groups.filter")}</label>
          <select id="channel-group" value={groupId} onChange={(e) => setQuery({ groupId: e.currentTarget.value || undefined })}>
            <option value="">{t("groups.all")}</option>
            <option value="none">{t("groups.none")}</option>
            <GroupOptions groups={groups.data?.groups} />
          </select>
        </div>
        <div class="field">
          <label for="channel-sort">{t("channels.sort")}</label>
          <select id="channel-sort" value={sort} onChange={(e) => setQuery({ sort: e.currentTarget.value, order: undefined })}>
            {SORTS.map(([value, label]) => (
              <option value={value} key={value}>
                {t(label)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="channel-order">{t("channels.order")}</label>
          <select id="channel-order" value={order} onChange={(e) => setQuery({ order: e.currentTarget.value })}>
            <option value="desc">{t("channels.orderDesc")}</option>
            <option value="asc">{t("channels.orderAsc")}</option>
          </select>
        </div>
        <div class="field">
          <label for="channel-archived">{t("channels.status")}</label>
          <select id="channel-archived" value={archived} onChange={(e) => setQuery({ archived: e.currentTarget.value })}>
            {ARCHIVED.map(([value, label]) => (
              <option value={value} key={value}>
                {t(label)}
              </option>
            ))}
          </select>
        </div>
      </form>

      {list.data && (selection.kind === "filter" || selection.ids.length > 0) && (
        <BatchBar
          selection={selection}
          count={selectedCount}
          filters={filters}
          groups={groups.data?.groups ?? []}
          onDone={() => {
            list.reload();
            groups.reload();
          }}
          onClear={() => setSelection({ kind: "ids", ids: [] })}
        />
      )}

      {list.error && !list.data ? (
        <ErrorNotice error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading label={t("channels.loading")} />
      ) : list.data.total === 0 ? (
        search ? (
          <Empty title={t("channels.noMatch", { search })}>
            <p>{t("channels.noMatchHelp")}</p>
            <button type="button" class="secondary" onClick={() => setQuery({ search: undefined })}>
              {t("channels.clearSearch")}
            </button>
          </Empty>
        ) : groupId ? (
          <Empty title={t("groups.noChannels")}>
            <button type="button" class="secondary" onClick={() => setQuery({ groupId: undefined })}>
              {t("groups.showAll")}
            </button>
          </Empty>
        ) : archived === "true" ? (
          <Empty title={t("channels.noArchived")} />
        ) : (
          <Empty title={t("channels.emptyTitle")}>
            <p>{t("channels.emptyHelp")}</p>
            {!creating && (
              <button type="button" onClick={() => setCreating(true)}>
                {t("channels.new")}
              </button>
            )}
          </Empty>
        )
      ) : list.data.channels.length === 0 ? (
        <Empty title={t("channels.pastEnd")}>
          <button type="button" class="secondary" onClick={() => setQuery({ page: undefined })}>
            {t("channels.firstPage")}
          </button>
        </Empty>
      ) : (
        <section class="card" aria-labelledby="channel-table-caption">
          <div class="selection-line">
            <label class="check">
              <input
                type="checkbox"
                checked={pageSelected}
                indeterminate={someOnPageSelected && !pageSelected}
                onChange={(e) => togglePage(e.currentTarget.checked)}
              />
              {t("batch.selectPage")}
            </label>
            {pageSelected && selection.kind === "ids" && list.data.total > onPage.length && (
              <button type="button" class="link-button" onClick={() => setSelection({ kind: "filter" })}>
                {t("batch.selectAllMatching", { n: n(list.data.total) })}
              </button>
            )}
          </div>
          <div class="table-scroll">
            <table class="channel-table responsive">
              <caption id="channel-table-caption">
                {t("channels.showing", {
                  from: n((page - 1) * size + 1),
                  to: n((page - 1) * size + list.data.channels.length),
                  total: n(list.data.total),
                })}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t("channel.name")}</th>
                  <th scope="col">{t("groups.group")}</th>
                  <th scope="col" class="num">
                    {t("channels.todayScans")}
                  </th>
                  <th scope="col" class="num">
                    {t("channels.todayNew")}
                  </th>
                  <th scope="col" class="num">
                    {t("channels.totalScans")}
                  </th>
                  <th scope="col" class="num">
                    {t("channels.totalNew")}
                  </th>
                  <th scope="col">{t("channels.created")}</th>
                  <th scope="col">{t("audience.status")}</th>
                  <th scope="col">{t("code.column")}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.channels.map((c) => (
                  <tr key={c.id} class={isSelected(c.id) ? "selected" : undefined}>
                    <th scope="row" data-label={t("channel.name")}>
                      <input
                        type="checkbox"
                        class="row-check"
                        aria-label={t("batch.selectOne", { name: c.name })}
                        checked={isSelected(c.id)}
                        onChange={(e) => toggle(c.id, e.currentTarget.checked)}
                      />
                      <Link href={`/channels/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                      {c.archived && <span class="badge">{t("channel.archived")}</span>}
                    </th>
                    <td data-label={t("groups.group")}>{c.groupId ? (groupNames.get(c.groupId) ?? "") : <span class="muted">{t("groups.none")}</span>}</td>
                    <td class="num" data-label={t("channels.todayScans")}>
                      {n(c.today.scans)}
                    </td>
                    <td class="num" data-label={t("channels.todayNew")}>
                      {n(c.today.newFollowers)}
                    </td>
                    <td class="num" data-label={t("channels.totalScans")}>
                      {n(c.total.scans)}
                    </td>
                    <td class="num" data-label={t("channels.totalNew")}>
                      {n(c.total.newFollowers)}
                    </td>
                    <td data-label={t("channels.created")}>{formatDay(locale, dayOf(Date.parse(c.createdAt)))}</td>
                    <td data-label={t("audience.status")}>
                      <ChannelStatusBadge status={c.status} />
                    </td>
                    <td data-label={t("code.column")}>
                      <CodeType channel={c} /> <CodeExpiry channel={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pagination" aria-label={t("channels.pages")}>
            <button type="button" class="secondary" disabled={page <= 1} onClick={() => setQuery({ page: page - 1 }, false)}>
              {t("channels.prev")}
            </button>
            <span>{t("channels.pageOf", { page: n(page), pages: n(pages) })}</span>
            <button type="button" class="secondary" disabled={page >= pages} onClick={() => setQuery({ page: page + 1 }, false)}>
              {t("channels.next")}
            </button>
            <label for="channel-size">{t("channels.pageSize")}</label>
            <select id="channel-size" value={size} onChange={(e) => setQuery({ size: e.currentTarget.value })}>
              {PAGE_SIZES.map((s) => (
                <option value={s} key={s}>
                  {n(s)}
                </option>
              ))}
            </select>
          </nav>
        </section>
      )}
    </>
  );
}
