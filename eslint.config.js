// Lint = typecheck (tsc, in `npm run lint`) + these rules. The layer rules keep the
// dependency direction of design.md: wechat/, push/, qr/ and store/ import only deps.ts,
// errors.ts and their own files; nothing imports cli/; emulator and service meet only over HTTP.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const ambientIo = [
  { object: "Date", property: "now", message: "take a Clock (src/deps.ts) instead" },
  { object: "Math", property: "random", message: "take a Random (src/deps.ts) instead" },
  { object: "process", property: "env", message: "only main.ts files read the environment; pass options" },
];
const ambientGlobals = [
  { name: "fetch", message: "take deps.fetch instead" },
  { name: "setTimeout", message: "take deps.clock.sleep instead" },
];

const LAYERS = ["wechat", "push", "qr", "store", "domain", "server", "emulator", "cli"];

// A file in `files` may not import from the folders in `forbidden`, at any depth, nor match `more`.
const layer = (files, forbidden, more = []) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            regex: `^\\.\\.?/(\\.\\./)*(${forbidden.join("|")})(/|$)`,
            message: "layer violation: see the import direction in design.md and style.md §1",
          },
          ...more,
        ],
      },
    ],
  },
});
const except = (...allowed) => LAYERS.filter((l) => !allowed.includes(l));

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "bench/results/", "bench/.peers/", ".tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/deps.ts", "src/**/main.ts", "src/**/*.test.ts", "src/qr/render-worker.ts", "src/qr/render-pool.ts"],
    rules: {
      "no-restricted-properties": ["error", ...ambientIo],
      "no-restricted-globals": ["error", ...ambientGlobals],
    },
  },
  // The library layers know only deps.ts, errors.ts and themselves.
  layer(["src/wechat/**/*.ts"], except("wechat")),
  layer(["src/push/**/*.ts"], except("push")),
  layer(["src/qr/**/*.ts"], except("qr")),
  layer(["src/store/**/*.ts"], except("store")),
  // The domain never runs DDL: the composition roots migrate before they build the service.
  layer(
    ["src/domain/**/*.ts"],
    ["server", "emulator", "cli"],
    [{ regex: "^\\.\\./store/migrations(\\.ts)?$", message: "migrations run from the composition roots (src/cli, test harnesses), never from the domain" }],
  ),
  layer(["src/server/**/*.ts"], ["emulator", "cli"]),
  // The emulator and the service meet only over HTTP; the emulator may reuse the library.
  layer(["src/emulator/**/*.ts"], ["store", "domain", "server", "cli"]),
  // The web pages are built by Vite for the browser and talk to the servers only over HTTP.
  {
    files: ["web/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^(\\.\\./)+src(/|$)", message: "web/ talks to the service and the emulator over HTTP only" }] },
      ],
    },
  },
);
