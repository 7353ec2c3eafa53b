/** Channel groups (issue 13): create, rename and delete them; each links to its channels and its merged analysis. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError, withQuery } from "../api.ts";
import { Empty, ErrorNotice, Loading, errorAdvice } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link } from "../router.tsx";
import type { ChannelGroup } from "../types.ts";
import { useApi } from "../use-api.ts";

export const GROUP_NAME_MAX = 100;

function groupPath(id: string): string {
  return `/api/channel-groups/${encodeURIComponent(id)}`;
}

const asApiError = (err: unknown): ApiError => (err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err)));

export function Groups(): JSX.Element {
  const { t } = useI18n();
  usePageTitle(t("groups.title"));
  const groups = useApi<{ groups: ChannelGroup[] }>("/api/channel-groups");
  // One announcement for every change on the page, read out by screen readers.
  const [done, setDone] = useState("");

  return (
    <>
      <div class="page-head">
        <h1>{t("groups.title")}</h1>
      </div>
      <p class="hint">{t("groups.help")}</p>
      <CreateGroup
        onCreated={(name) => {
          setDone(t("groups.created", { name }));
          groups.reload();
        }}
      />
      <p role="status" class="form-done">
        {done}
      </p>
      {groups.error && !groups.data ? (
        <ErrorNotice error={groups.error} onRetry={groups.reload} />
      ) : !groups.data ? (
        <Loading />
      ) : groups.data.groups.length === 0 ? (
        <Empty title={t("groups.empty")}>
          <p>{t("groups.emptyHelp")}</p>
        </Empty>
      ) : (
        <section class="card" aria-labelledby="groups-caption">
          <div class="table-scroll">
            <table class="group-table responsive">
              <caption id="groups-caption">{t("groups.caption", { n: groups.data.groups.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("groups.name")}</th>
                  <th scope="col" class="num">
                    {t("groups.channels")}
                  </th>
                  <th scope="col" class="num">
                    {t("groups.archivedChannels")}
                  </th>
                  <th scope="col">{t("groups.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {groups.data.groups.map((g) => (
                  <GroupRow
                    key={g.id}
                    group={g}
                    onChanged={(message) => {
                      setDone(message);
                      groups.reload();
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}

function CreateGroup({ onCreated }: { onCreated: (name: string) => void }): JSX.Element {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed === "") {
      setError(t("groups.nameRequired"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.post<ChannelGroup>("/api/channel-groups", { name: trimmed });
      setName("");
      onCreated(trimmed);
    } catch (err) {
      const apiError = asApiError(err);
      setError(apiError.code === "NAME_CONFLICT" ? t("groups.nameConflict") : t(errorAdvice(apiError)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card inline-form" onSubmit={submit} noValidate aria-labelledby="new-group-title">
      <h2 id="new-group-title" class="visually-hidden">
        {t("groups.new")}
      </h2>
      <div class="field grow">
        <label for="new-group-name">{t("groups.newName")}</label>
        <input
          id="new-group-name"
          value={name}
          maxLength={GROUP_NAME_MAX}
          aria-invalid={error !== null}
          aria-describedby={error ? "new-group-error" : undefined}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </div>
      <button type="submit" disabled={busy}>
        {t("groups.create")}
      </button>
      {error && (
        <p id="new-group-error" class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

type RowMode = "view" | "rename" | "delete";

function GroupRow({ group, onChanged }: { group: ChannelGroup; onChanged: (message: string) => void }): JSX.Element {
  const { t, n } = useI18n();
  const [mode, setMode] = useState<RowMode>("view");
  const [name, setName] = useState(group.name);
  const [error, setError] = useState<string | null>(null);
  const errorId = `group-${group.id}-error`;

  const run = async (action: () => Promise<unknown>, message: string): Promise<void> => {
    setError(null);
    try {
      await action();
      setMode("view");
      onChanged(message);
    } catch (err) {
      const apiError = asApiError(err);
      setError(apiError.code === "NAME_CONFLICT" ? t("groups.nameConflict") : t(errorAdvice(apiError)));
    }
  };
  const rename = (e: Event): void => {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed === "") setError(t("groups.nameRequired"));
    else void run(() => api.patch(groupPath(group.id), { name: trimmed }), t("groups.renamed", { name: trimmed }));
  };

  return (
    <tr>
      <th scope="row" data-label={t("groups.name")}>
        {mode === "rename" ? (
          <form class="inline-form" onSubmit={rename} noValidate>
            <div class="field">
              <label for={`group-${group.id}-name`}>{t("groups.renameField", { name: group.name })}</label>
              <input
                id={`group-${group.id}-name`}
                value={name}
                maxLength={GROUP_NAME_MAX}
                aria-invalid={error !== null}
                aria-describedby={error ? errorId : undefined}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </div>
            <button type="submit">{t("action.save")}</button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setMode("view");
                setName(group.name);
                setError(null);
              }}
            >
              {t("action.cancel")}
            </button>
          </form>
        ) : (
          <Link href={withQuery("/channels", { groupId: group.id })}>{group.name}</Link>
        )}
        {error && (
          <p id={errorId} class="form-error" role="alert">
            {error}
          </p>
        )}
      </th>
      <td class="num" data-label={t("groups.channels")}>
        {n(group.channels)}
      </td>
      <td class="num" data-label={t("groups.archivedChannels")}>
        {n(group.archivedChannels)}
      </td>
      <td data-label={t("groups.actions")}>
        {mode === "delete" ? (
          <div class="row-actions" role="group" aria-label={t("groups.deleteConfirm", { name: group.name })}>
            <span>{t("groups.deleteConfirm", { name: group.name })}</span>
            <button type="button" class="danger small" onClick={() => run(() => api.delete(groupPath(group.id)), t("groups.deleted", { name: group.name }))}>
              {t("groups.deleteYes")}
            </button>
            <button type="button" class="secondary small" onClick={() => setMode("view")}>
              {t("action.cancel")}
            </button>
          </div>
        ) : (
          <div class="row-actions">
            <Link class="button secondary small" href={withQuery("/analysis", { groupId: group.id })}>
              {t("groups.analyse")}
            </Link>
            <button type="button" class="secondary small" aria-label={t("groups.renameLabel", { name: group.name })} onClick={() => setMode("rename")}>
              {t("groups.rename")}
            </button>
            <button type="button" class="secondary small" aria-label={t("groups.deleteLabel", { name: group.name })} onClick={() => setMode("delete")}>
              {t("groups.delete")}
            </button>
          </div>
        )}
      </td>
    </tr>
  );
}
