import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { IdentityService } from "#gen/flyteidl2/auth/identity_pb.js";
import { AuthMetadataService } from "#gen/flyteidl2/auth/auth_service_pb.js";
import { SettingsService } from "#gen/flyteidl2/settings/settings_service_pb.js";
import { create } from "@bufbuild/protobuf";
import { DomainSchema, ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import { TriggerService } from "#gen/flyteidl2/trigger/trigger_service_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { Config } from "./config/index.js";
import { createInProcessBus, type EventBus } from "./events/bus.js";
import { createPostgresBus, type PostgresBus } from "./events/postgres.js";
import { openDatabase, type DatabaseHandle } from "./repository/dialect/index.js";
import { runMigrations } from "./repository/migrate.js";
import { createRepository, type Repository } from "./repository/index.js";
import { createPendingEnqueueRepo } from "./repository/kysely/pending-enqueue.js";
import { createScheduleTriggerSource } from "./repository/kysely/schedule-triggers.js";
import { seedProjects } from "./repository/seed.js";
import { inProcessCreateRun } from "./scheduler/in-process.js";
import { createTriggerScheduler, type TriggerScheduler } from "./scheduler/trigger-scheduler.js";
import { startHttpServer, type RunningHttpServer } from "./server/http-server.js";
import { createRequestHandler } from "./server/request-handler.js";
import { buildRoutes, mount } from "./server/routes.js";
import { errorMappingInterceptor } from "./server/interceptors/errors.js";
import { loggingInterceptor } from "./server/interceptors/logging.js";
import { validationInterceptor } from "./server/interceptors/validation.js";
import { identityInterceptor } from "./server/interceptors/identity.js";
import { createIdentityEnricher } from "./service/identity/identity-enricher.js";
import { createAbortReconciler, type AbortReconciler } from "./service/abort-reconciler.js";
import { createActionsClient, type ActionsClient } from "./service/actions-client.js";
import { createAuthMetadataService } from "./service/auth-metadata-service.js";
import { createOAuth2MetadataSource } from "./service/oauth2-metadata.js";
import { OAUTH2_METADATA_PATH, oauth2MetadataHandler } from "./server/well-known.js";
import { createEnqueueRetrier, type EnqueueRetrier } from "./service/enqueue-retrier.js";
import { createIdentityService } from "./service/identity-service.js";
import { createInternalRunService } from "./service/internal-run-service/index.js";
import { startStatisticsKeeper, type StatisticsKeeper } from "./repository/dialect/pg-statistics.js";
import { createStreamGauge, type StreamGauge } from "./service/internal-run-service/stream-batches.js";
import { createProjectService } from "./service/project-service.js";
import { createSettingsService } from "./service/settings-service.js";
import { createRunService } from "./service/run-service/index.js";
import { createTaskService } from "./service/task-service.js";
import { createTriggerService } from "./service/trigger-service.js";
import { createBlobStore, type BlobStore } from "./storage/index.js";
import { systemClock, type Clock } from "./util/clock.js";
import { createTelemetry, type Telemetry } from "./telemetry/otel.js";
import { otelClientInterceptor, otelServerInterceptor } from "./telemetry/otel-interceptor.js";
import { traceRepositories } from "./telemetry/trace-repository.js";
import { countSchedulerFires, createRunsMetrics, type RunsMetrics } from "./telemetry/prometheus.js";
import { watchInboxStats } from "./service/run-service/watch-support.js";

/** WatchRuns messages smaller than this are sent uncompressed (the other RPCs: connect's 1 KiB). */
const WATCH_RUNS_COMPRESS_MIN_BYTES = 64 * 1024;

export interface AppOptions {
  config: Config;
  logger: Logger;
  /** Defaults to the wall clock. */
  clock?: Clock;
  /** Listen on this port instead of runs.server.port (0 = any free port, for tests). */
  listenPort?: number;
  /** Folder holding `<dialect>/<namespace>/*.sql`; defaults to the project's migrations/. */
  migrationsDir?: string;
  /** Replaces the ActionsService client built from runs.actionsServiceUrl (tests pass a fake). */
  actionsClient?: ActionsClient;
  /** Replaces the blob store built from storage.* (tests pass an in-memory one). */
  blobStore?: BlobStore;
}

export interface App {
  readonly db: DatabaseHandle;
  readonly repository: Repository;
  /** The HTTP listener; undefined when runs.server.port is 0. */
  readonly server: RunningHttpServer | undefined;
  /** Sends requested aborts to the executor; running until close(). */
  readonly abortReconciler: AbortReconciler;
  /** Change notifications (in process; on PostgreSQL also across processes via LISTEN/NOTIFY). */
  readonly bus: EventBus;
  /** Retries CreateRun's Enqueue calls the executor did not accept; running until close(). */
  readonly enqueueRetrier: EnqueueRetrier;
  /** Fires the runs of schedule triggers; undefined when runs.triggerScheduler.enabled is false. */
  readonly triggerScheduler: TriggerScheduler | undefined;
  /** Prometheus metrics (served at runs.server.metrics.path unless disabled). */
  readonly metrics: RunsMetrics;
  /** OpenTelemetry from the `otel` section (no tracer or meter with `noop`). */
  readonly telemetry: Telemetry;
  /** Items read off the executor's bidi streams and not answered yet (back-pressure; tests and metrics). */
  readonly streamGauge: StreamGauge;
  /** Stops serving (in-flight unary calls finish, streams end), then closes the database. */
  close(opts?: { graceMs?: number }): Promise<void>;
}

const DEFAULT_MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

/** The composition root: builds every layer from config and starts serving. */
export async function createApp(opts: AppOptions): Promise<App> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock();
  const dbLogger = logger.child({ component: "db" });

  const telemetry = await createTelemetry(config.otel, logger.child({ component: "otel" }));
  const tracer = telemetry.tracer;
  const db = await openDatabase(config.database, dbLogger);
  let sources: { bus?: EventBus; reconciler?: AbortReconciler; retrier?: EnqueueRetrier } = {};
  const metrics = createRunsMetrics({
    busSubscribers: () => sources.bus?.subscriberCount() ?? 0,
    abortBacklog: () => sources.reconciler?.backlog(),
    enqueueBacklog: () => sources.retrier?.backlog(),
    pool: db.poolStats ? () => db.poolStats!() : undefined,
    watchInbox: () => watchInboxStats,
  });
  let abortReconciler: AbortReconciler | undefined;
  let closeBlobStore: (() => void) | undefined;
  let closeActionsClient: (() => void) | undefined;
  let pgBus: PostgresBus | undefined;
  let statistics: StatisticsKeeper | undefined;
  let enqueueRetrier: EnqueueRetrier | undefined;
  let triggerScheduler: TriggerScheduler | undefined;
  try {
    const migrated = await runMigrations(db, opts.migrationsDir ?? DEFAULT_MIGRATIONS, dbLogger);
    dbLogger.info({ kind: db.kind, applied: migrated.applied.length }, "database ready");
    const streamGauge = createStreamGauge();
    if (db.kind === "postgres") statistics = startStatisticsKeeper({ db: db.db, logger: dbLogger });
    let bus: EventBus;
    if (db.kind === "postgres" && db.newClient) {
      pgBus = createPostgresBus({ newClient: db.newClient, logger: logger.child({ component: "events" }) });
      await pgBus.start();
      bus = pgBus;
    } else {
      bus = createInProcessBus();
    }
    const plainRepository = createRepository(db, clock, bus);
    const repository = tracer
      ? traceRepositories(plainRepository, tracer, db.kind === "postgres" ? "postgresql" : "sqlite")
      : plainRepository;
    await seedProjects(repository.projects, config.runs.seedProjects, clock, dbLogger);

    let blobStore = opts.blobStore;
    if (!blobStore) {
      const built = createBlobStore(config.storage, { logger });
      closeBlobStore = () => built.close();
      blobStore = built;
    }
    const ownClient = opts.actionsClient
      ? undefined
      : createActionsClient({
          baseUrl: config.runs.actionsServiceUrl,
          interceptors: [metrics.clientInterceptor, ...(tracer ? [otelClientInterceptor(tracer)] : [])],
        });
    closeActionsClient = () => ownClient?.close?.();
    const actionsClient = opts.actionsClient ?? ownClient!;
    const reconciler = createAbortReconciler({
      actions: repository.actions,
      client: actionsClient,
      config: config.runs.abortReconciler,
      logger: logger.child({ component: "abort-reconciler" }),
      clock,
      onRetry: metrics.abortRetry,
    });
    abortReconciler = reconciler;
    reconciler.start();
    // CreateRun's Enqueue is recorded and retried until the executor accepts it (same backoff settings as aborts).
    const retrier = createEnqueueRetrier({
      pending: createPendingEnqueueRepo(db, clock),
      actions: repository.actions,
      client: actionsClient,
      logger: logger.child({ component: "enqueue-retrier" }),
      clock,
      initialDelayMs: config.runs.abortReconciler.initialDelay,
      maxDelayMs: config.runs.abortReconciler.maxDelay,
      onRetry: metrics.enqueueRetry,
    });
    sources = { bus, reconciler, retrier };
    enqueueRetrier = retrier;
    retrier.start();

    const domains = config.runs.domains.map((d) => create(DomainSchema, d));
    const shutdown = new AbortController();
    const runService = createRunService({
      actions: repository.actions,
      tasks: repository.tasks,
      taskSpecs: repository.taskSpecs,
      triggers: repository.triggers,
      projects: repository.projects,
      blobStore,
      enqueuer: retrier,
      abortReconciler: reconciler,
      storagePrefix: config.runs.storagePrefix,
      clock,
      logger: logger.child({ component: "run-service" }),
      bus,
    });
    const authLogger = logger.child({ component: "auth-metadata" });
    const oauth2Metadata = createOAuth2MetadataSource({ config: config.runs.authMetadata, logger: authLogger, clock });
    const services = [
      mount(ProjectService, createProjectService({ projects: repository.projects, domains, clock })),
      mount(TaskService, createTaskService({ tasks: repository.tasks, projects: repository.projects })),
      mount(TriggerService, createTriggerService({ triggers: repository.triggers, projects: repository.projects })),
      // WatchRuns: a live message is compressed only when large (a snapshot), not per stream per change: each
      // compression is a zlib job on the libuv threadpool, which 100 streams × a batch of a few runs saturate,
      // delaying the file writes of CreateRun and every stream behind them.
      mount(RunService, runService, { watchRuns: { compressMinBytes: WATCH_RUNS_COMPRESS_MIN_BYTES } }),
      mount(
        InternalRunService,
        createInternalRunService({
          actions: repository.actions,
          taskSpecs: repository.taskSpecs,
          clock,
          logger: logger.child({ component: "internal-run-service" }),
          isConnectionError: db.isConnectionError,
          streamGauge,
        }),
      ),
      mount(IdentityService, createIdentityService()),
      mount(
        AuthMetadataService,
        createAuthMetadataService({ dataplaneDomain: "", config: config.runs.authMetadata, metadata: oauth2Metadata }),
      ),
      mount(SettingsService, createSettingsService({ settings: repository.settings })),
    ];
    const readiness = async () => {
      try {
        await db.ping();
      } catch (error) {
        throw new Error(`database ping failed: ${(error as Error).message}`);
      }
    };

    if (config.runs.trustForwardedIdentityHeaders) {
      logger.info(
        { identityHeaders: config.runs.identityHeaders },
        "caller identity is read from forwarded headers without signature checks (runs.trustForwardedIdentityHeaders)",
      );
    }
    // As in the reference, port 0 runs no HTTP server (background work only).
    let server: RunningHttpServer | undefined;
    const port = opts.listenPort ?? config.runs.server.port;
    if (opts.listenPort !== undefined || port !== 0) {
      const rpcLogger = logger.child({ component: "rpc" });
      const handler = createRequestHandler({
        routes: buildRoutes({
          services,
          healthy: () => readiness().then(() => true, () => false),
        }),
        interceptors: [
          ...(tracer && telemetry.meter ? [otelServerInterceptor(tracer, telemetry.meter)] : []),
          metrics.serverInterceptor,
          loggingInterceptor(rpcLogger),
          errorMappingInterceptor({ logger: rpcLogger, isConnectionError: db.isConnectionError }),
          validationInterceptor(),
          identityInterceptor({
            trustForwardedHeaders: config.runs.trustForwardedIdentityHeaders,
            headers: config.runs.identityHeaders,
            enricher: createIdentityEnricher({
              authServerBaseUrl: config.runs.authMetadata.externalAuthServerBaseUrl,
              logger: logger.child({ component: "identity" }),
              clock,
            }),
          }),
        ],
        httpRoutes: new Map([[OAUTH2_METADATA_PATH, oauth2MetadataHandler(oauth2Metadata, authLogger)]]),
        readiness,
        corsAllowedOrigins: config.runs.server.cors.allowedOrigins,
        maxRequestBytes: config.runs.server.maxRequestBytes,
        shutdownSignal: shutdown.signal,
        logger: rpcLogger,
        metrics: config.runs.server.metrics.enabled
          ? { path: config.runs.server.metrics.path, scrape: () => metrics.scrape() }
          : undefined,
      });
      server = await startHttpServer({
        host: config.runs.server.host,
        port,
        handler,
        logger: logger.child({ component: "http" }),
      });
      logger.info({ host: server.host, port: server.port }, "serving");
    }

    if (config.runs.triggerScheduler.enabled) {
      // Runs are created in process through the RunService's own CreateRun.
      triggerScheduler = createTriggerScheduler({
        source: createScheduleTriggerSource(db),
        triggers: repository.triggers,
        createRun: countSchedulerFires(
          inProcessCreateRun(runService, { logger: logger.child({ component: "trigger-scheduler" }), isConnectionError: db.isConnectionError }),
          metrics,
        ),
        onMissedSlots: metrics.schedulerMissed,
        config: config.runs.triggerScheduler,
        logger: logger.child({ component: "trigger-scheduler" }),
        clock,
      });
      triggerScheduler.start();
    }
    const scheduler = triggerScheduler;

    let closing: Promise<void> | undefined;
    return {
      db,
      repository,
      server,
      abortReconciler: reconciler,
      bus,
      enqueueRetrier: retrier,
      triggerScheduler: scheduler,
      telemetry,
      metrics,
      streamGauge,
      close(closeOpts) {
        closing ??= (async () => {
          shutdown.abort();
          await server?.close({ graceMs: closeOpts?.graceMs });
          // Background loops stop before the database closes; what they had pending stays in it.
          await scheduler?.stop();
          await retrier.stop({ graceMs: closeOpts?.graceMs });
          await reconciler.stop({ graceMs: closeOpts?.graceMs });
          closeActionsClient?.();
          closeBlobStore?.();
          await pgBus?.close();
          await statistics?.stop();
          await db.close();
          await telemetry.shutdown();
          logger.info("stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    await triggerScheduler?.stop().catch(() => undefined);
    await enqueueRetrier?.stop({ graceMs: 0 }).catch(() => undefined);
    await abortReconciler?.stop({ graceMs: 0 }).catch(() => undefined);
    closeActionsClient?.();
    closeBlobStore?.();
    await pgBus?.close().catch(() => undefined);
    await statistics?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    await telemetry.shutdown();
    throw error;
  }
}
