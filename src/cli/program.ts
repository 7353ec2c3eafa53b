/** The `wxqr` command line: builds the commander program and runs it against a context. */
import { Command, CommanderError } from "commander";
import type { CliContext } from "./context.ts";
import { registerChannelCommands } from "./commands/channels.ts";
import { registerDevCommand } from "./commands/dev.ts";
import { registerEmulatorCommand } from "./commands/emulator.ts";
import { registerFollowerCommands } from "./commands/followers.ts";
import { registerQrCommands } from "./commands/qr.ts";
import { registerScanCommands } from "./commands/scan.ts";
import { registerServiceCommands } from "./commands/serve.ts";
import { describeError, EXIT_USAGE } from "./report-error.ts";

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("wxqr")
    .description("WeChat Official Account parametric QR codes and scan events")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerChannelCommands(program, ctx);
  registerDevCommand(program, ctx);
  registerEmulatorCommand(program, ctx);
  registerFollowerCommands(program, ctx);
  registerQrCommands(program, ctx);
  registerScanCommands(program, ctx);
  registerServiceCommands(program, ctx);
  for (const command of program.commands) inheritSettings(command);
  return program;
}

function inheritSettings(command: Command): void {
  command.exitOverride().showHelpAfterError("(run with --help for usage)");
  for (const sub of command.commands) inheritSettings(sub);
}

/** Runs one invocation; resolves to the process exit code. Failures become one line on stderr. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help/version text).
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const { line, exitCode } = describeError(err);
    ctx.stderr.write(`wxqr: ${line}\n`);
    if ((ctx.env.WXQR_DEBUG === "1" || ctx.env.WXQR_DEBUG === "true") && err instanceof Error && err.stack) ctx.stderr.write(`${err.stack}\n`);
    return exitCode;
  }
}
