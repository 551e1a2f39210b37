import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PostgreSQL-backed suites create their own databases; keep files apart.
    pool: "forks",
    // Lets memory tests force a full collection (globalThis.gc) before counting what is still alive.
    execArgv: ["--expose-gc"],
    server: {
      deps: {
        // The IDL package ships .ts sources; let vite transform them.
        inline: ["@flyteorg/flyteidl2"],
      },
    },
  },
});
