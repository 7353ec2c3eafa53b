#!/usr/bin/env node
// The composition root of the `wxqr` command: the only place that reads the real process.
import { systemDeps } from "../deps.ts";
import { runCli } from "./program.ts";

const stopSignals = ["SIGINT", "SIGTERM"] as const;

const exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  deps: systemDeps(),
  stdout: process.stdout,
  stderr: process.stderr,
  untilStopped: () =>
    new Promise((resolve) => {
      for (const signal of stopSignals) process.once(signal, () => resolve(signal));
    }),
});
process.exitCode = exitCode;
