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

const layer = (files, allowed, extra = []) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            group: ["../*", "!../deps.ts", "!../errors.ts", ...allowed.map((a) => `!../${a}/*`), ...extra],
            message: "layer violation: see the import direction in design.md and style.md §1",
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "bench/results/"] },
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
  layer(["src/wechat/**/*.ts", "src/push/**/*.ts", "src/qr/**/*.ts", "src/store/**/*.ts"], []),
  layer(["src/emulator/**/*.ts"], ["push", "qr", "wechat"]),
  layer(["src/domain/**/*.ts"], ["wechat", "push", "qr", "store"]),
  layer(["src/server/**/*.ts"], ["wechat", "push", "qr", "store", "domain"]),
);
