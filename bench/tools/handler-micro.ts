// Development aid: CPU per CreateRun of the RunService handler alone (no
// HTTP server, no validation interceptor), 16 calls in flight, one process,
// SQLite in a temp folder, with one piece swapped at a time:
//   core     memory blob store, Enqueue to a no-op client, nothing recorded
//   files    + inputs.pb written by the file store
//   retrier  + the durable Enqueue (record with the run, delete after success)
//   rpc      + a real ActionsService client calling a stub in this process
//            (client and stub CPU together)
// Differences between the lines are what each piece costs.
// Usage: npx tsx bench/tools/handler-micro.ts [calls per variant]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createRunRequest } from "../lib/request.ts";
import { openDatabase } from "../../src/repository/dialect/index.ts";
import { runMigrations } from "../../src/repository/migrate.ts";
import { createRepository } from "../../src/repository/index.ts";
import { createPendingEnqueueRepo } from "../../src/repository/kysely/pending-enqueue.ts";
import { defaultConfig } from "../../src/config/index.ts";
import { systemClock } from "../../src/util/clock.ts";
import { createRunService } from "../../src/service/run-service/index.ts";
import { createFileBlobStore, createMemoryBlobStore } from "../../src/storage/index.ts";
import { directEnqueuer } from "../../src/service/enqueuer.ts";
import { createEnqueueRetrier } from "../../src/service/enqueue-retrier.ts";
import { createActionsClient } from "../../src/service/actions-client.ts";
import { startActionsStubOn } from "../lib/actions-stub.ts";
import { projectToRow } from "../../src/repository/transformers/project.ts";
import { create } from "@bufbuild/protobuf";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";

const logger = pino({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "hm-"));
const config = defaultConfig();
config.database.kind = "sqlite";
config.database.sqlite.file = join(dir, "runs.db");
const h = await openDatabase(config.database, logger);
await runMigrations(h, join(import.meta.dirname, "../../migrations"), logger);
const clock = systemClock();
const repo = createRepository(h, clock);
await repo.projects.create(projectToRow(create(ProjectSchema, { id: "flytesnacks", name: "flytesnacks" }), clock.now()));
const stub = await startActionsStubOn(0);
const noop = { enqueue: async () => {}, abort: async () => {} };
const real = createActionsClient({ baseUrl: stub.url });
const variants: Record<string, () => any> = {
  core: () => ({ blobStore: createMemoryBlobStore(), enqueuer: directEnqueuer(noop) }),
  files: () => ({ blobStore: createFileBlobStore(), enqueuer: directEnqueuer(noop) }),
  retrier: () => ({ blobStore: createMemoryBlobStore(), enqueuer: createEnqueueRetrier({ pending: createPendingEnqueueRepo(h, clock), actions: repo.actions, client: noop, logger }) }),
  rpc: () => ({ blobStore: createMemoryBlobStore(), enqueuer: directEnqueuer(real) }),
};
let n = 0;
for (let round = 0; round < 3; round++) for (const [name, mk] of Object.entries(variants)) {
  const svc = createRunService({ actions: repo.actions, tasks: repo.tasks, taskSpecs: repo.taskSpecs, triggers: repo.triggers, projects: repo.projects, storagePrefix: `file://${dir}/data`, clock, logger, ...mk() });
  const N = Number(process.argv[2] ?? 1500);
  let left = N;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, async () => { while (left-- > 0) await svc.createRun!(createRunRequest(`r${n++}x${round}`), {} as never); }));
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(8), ((c.user + c.system) / N).toFixed(0), "µs cpu/call", (((performance.now() - t0) * 1000) / N).toFixed(0), "µs wall/call");
}
real.close?.(); await stub.close(); await h.close();
