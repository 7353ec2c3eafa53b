/** Referrals: who brought the most new followers over a range; look a follower up. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { withQuery } from "../api.ts";
import { DateRange, lastDays, type DayRange } from "../components/date-range.tsx";
import { Empty, ErrorNotice, Loading } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link, navigate } from "../router.tsx";
import type { Leaderboard } from "../types.ts";
import { useApi } from "../use-api.ts";

export function Referrals(): JSX.Element {
  const { t, n } = useI18n();
  usePageTitle(t("nav.referrals"));
  const [range, setRange] = useState<DayRange>(() => lastDays(30));
  const board = useApi<Leaderboard>(withQuery("/api/referrals/leaderboard", { from: range.from, to: range.to, limit: 100 }), { live: true });
  const [openId, setOpenId] = useState("");

  return (
    <>
      <h1>{t("nav.referrals")}</h1>
      <section class="card" aria-labelledby="board-title">
        <h2 id="board-title">{t("referrals.leaderboard")}</h2>
        <p class="hint">{t("referrals.help")}</p>
        <DateRange value={range} onChange={setRange} />
        {board.error && !board.data ? (
          <ErrorNotice error={board.error} onRetry={board.reload} />
        ) : !board.data ? (
          <Loading />
        ) : board.data.leaders.length === 0 ? (
          <Empty title={t("referrals.emptyTitle")}>
            <p>{t("referrals.emptyHelp")}</p>
          </Empty>
        ) : (
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">{t("referrals.leaderboard")}</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    {t("referrals.rank")}
                  </th>
                  <th scope="col">{t("referrals.inviter")}</th>
                  <th scope="col" class="num">
                    {t("referrals.invitees")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {board.data.leaders.map((leader, i) => (
                  <tr key={leader.openId}>
                    <td class="num">{n(i + 1)}</td>
                    <th scope="row">
                      <Link href={`/followers/${encodeURIComponent(leader.openId)}`}>
                        <code>{leader.openId}</code>
                      </Link>
                    </th>
                    <td class="num">{n(leader.invitees)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {board.data && <p class="hint">{t(board.data.newMeans === "new-to-account" ? "referrals.newToAccount" : "referrals.newToWxqr")}</p>}
      </section>
      <section class="card" aria-labelledby="lookup-title">
        <h2 id="lookup-title">{t("referrals.lookup")}</h2>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (openId.trim()) navigate(`/followers/${encodeURIComponent(openId.trim())}`);
          }}
        >
          <div class="field grow">
            <label for="lookup-openid">{t("referrals.openId")}</label>
            <input id="lookup-openid" value={openId} autocomplete="off" spellcheck={false} onInput={(e) => setOpenId(e.currentTarget.value)} />
          </div>
          <button type="submit">{t("referrals.show")}</button>
        </form>
      </section>
    </>
  );
}
