/** A follower: where they came from, who invited them, whom they invited. */
import type { JSX } from "preact";
import { Empty, ErrorNotice, Loading } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link } from "../router.tsx";
import type { Follower } from "../types.ts";
import { useApi } from "../use-api.ts";

function FollowerLink({ openId }: { openId: string }): JSX.Element {
  return (
    <Link href={`/followers/${encodeURIComponent(openId)}`}>
      <code>{openId}</code>
    </Link>
  );
}

export function FollowerView({ openId }: { openId: string }): JSX.Element {
  const { t, n } = useI18n();
  usePageTitle(openId);
  const follower = useApi<Follower>(`/api/followers/${encodeURIComponent(openId)}`, { live: true });
  return (
    <>
      <p class="breadcrumb">
        <Link href="/referrals">{t("follower.back")}</Link>
      </p>
      <h1>
        {t("follower.title")} <code>{openId}</code>
      </h1>
      {follower.error?.status === 404 && !follower.data ? (
        <Empty title={t("follower.notFound")}>
          <p>{t("follower.notFoundHelp")}</p>
        </Empty>
      ) : follower.error && !follower.data ? (
        <ErrorNotice error={follower.error} onRetry={follower.reload} />
      ) : !follower.data ? (
        <Loading />
      ) : (
        <section class="card" aria-label={t("follower.title")}>
          <dl class="facts">
            <div>
              <dt>{t("follower.subscribed")}</dt>
              <dd>
                <span class={follower.data.subscribed ? "badge ok" : "badge"}>{t(follower.data.subscribed ? "follower.yes" : "follower.no")}</span>
              </dd>
            </div>
            <div>
              <dt>{t("follower.source")}</dt>
              <dd>{follower.data.source ? <code>{follower.data.source}</code> : t("follower.unknownSource")}</dd>
            </div>
            <div>
              <dt>{t("follower.inviter")}</dt>
              <dd>{follower.data.inviter ? <FollowerLink openId={follower.data.inviter} /> : t("follower.noInviter")}</dd>
            </div>
            <div>
              <dt>{t("follower.invitees", { n: n(follower.data.invitees.length) })}</dt>
              <dd>
                {follower.data.invitees.length === 0 ? (
                  t("follower.noInvitees")
                ) : (
                  <ul class="plain-list">
                    {follower.data.invitees.map((id) => (
                      <li key={id}>
                        <FollowerLink openId={id} />
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
            </div>
            {follower.data.imported && (
              <div>
                <dt>{t("follower.imported")}</dt>
                <dd>{t("follower.importedHelp")}</dd>
              </div>
            )}
          </dl>
        </section>
      )}
    </>
  );
}
