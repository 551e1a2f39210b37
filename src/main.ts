import { getHeapStatistics } from "node:v8";
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config/index.js";
import { createLogger } from "./util/logger.js";

const SHUTDOWN_GRACE_MS = 30_000;

/** Entry point: load config, build the app, serve until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logger);
  logger.info(
    {
      configFile: config.configFile ?? "(none: defaults)",
      database: config.database.kind,
      node: process.version,
      // The JavaScript heap's limit (scripts/start.sh sets it; README "Memory").
      heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    },
    "Starting runs-service",
  );

  let app;
  try {
    app = await createApp({ config, logger });
  } catch (error) {
    logger.fatal({ err: error }, "start-up failed");
    process.stderr.write(`start-up failed: ${(error as Error).message}\n`);
    process.exit(1);
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("graceful shutdown took too long: exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + 5_000);
    deadline.unref();
    app.close({ graceMs: SHUTDOWN_GRACE_MS }).then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

process.on("unhandledRejection", (reason) => {
  // A stray rejection must not take the service down; it is a bug to fix, so say so loudly.
  process.stderr.write(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`);
});

await main();
