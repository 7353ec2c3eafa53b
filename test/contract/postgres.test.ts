import { describePostgres, postgresFactory, POSTGRES_URL } from "../helpers/databases.ts";
import { describeDomain } from "./domain.contract.ts";
import { describeStore } from "./store.contract.ts";

// .ci/run checks the marker this writes: a CI run where the PostgreSQL suite did not run fails.
describePostgres("contract", () => {
  describeStore(() => postgresFactory(POSTGRES_URL!));
  describeDomain(() => postgresFactory(POSTGRES_URL!));
});
