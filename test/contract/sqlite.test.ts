import { sqliteFactory } from "../helpers/databases.ts";
import { describeDomain } from "./domain.contract.ts";
import { describeStore } from "./store.contract.ts";

describeStore(sqliteFactory);
describeDomain(sqliteFactory);
