import { afterAll, afterEach, describe } from "vitest";
import { announcePostgres, markPostgresRan, postgresFactory, POSTGRES_URL } from "../helpers/databases.ts";
import { describeDomain } from "./domain.contract.ts";
import { describeStore } from "./store.contract.ts";

const run = announcePostgres("contract suite (PostgreSQL)");

describe.runIf(run)("PostgreSQL", () => {
  let finished = 0;
  afterEach(() => {
    finished++;
  });
  describeStore(() => postgresFactory(POSTGRES_URL!));
  describeDomain(() => postgresFactory(POSTGRES_URL!));
  // .ci/run checks this file: a CI run where the PostgreSQL suite did not run fails.
  afterAll(() => markPostgresRan("contract-postgres", finished));
});
