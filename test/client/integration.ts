// The seed README's integration client: seven steps against a running service,
// each line backed by a real check. Usage: tsx test/client/integration.ts [ENDPOINT]
// (default http://localhost:8090). Exits 1 at the first failed check.
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";

const endpoint = process.argv[2] ?? process.env.ENDPOINT ?? "http://localhost:8090";
const ORG = "my-org";
const PROJECT = "my-project";
const DOMAIN = "development";

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function ensureProject(projects: Client<typeof ProjectService>): Promise<void> {
  try {
    await projects.getProject({ id: PROJECT, org: ORG });
  } catch {
    await projects.createProject({ project: { id: PROJECT, name: PROJECT, org: ORG } });
  }
}

const taskSpec = {
  taskTemplate: {
    id: { org: ORG, project: PROJECT, domain: DOMAIN, name: "hello_world.say_hello", version: "v1" },
    type: "container",
    target: { case: "container" as const, value: { image: "alpine:3", args: ["echo", "hello"] } },
  },
  shortName: "say_hello",
};

async function main(): Promise<void> {
  const transport = createConnectTransport({ baseUrl: endpoint, httpVersion: "2" });
  const runs = createClient(RunService, transport);
  await ensureProject(createClient(ProjectService, transport));
  const runName = `test-run-${Date.now().toString(36)}`;

  console.log("Test 1: Creating a run with task spec...");
  const created = await runs.createRun({
    id: { case: "runId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: runName } },
    task: { case: "taskSpec", value: taskSpec },
    inputWrapper: { case: "inputs", value: {} },
  });
  check(created.run?.action?.id?.run?.name === runName, "the created run carries the requested name");
  check(created.run?.action?.status?.phase === ActionPhase.QUEUED, "a new run is QUEUED");
  console.log(`✓ Run created successfully: ${runName}`);

  console.log("Test 2: Creating a run with auto-generated name...");
  const generated = await runs.createRun({
    id: { case: "projectId", value: { organization: ORG, name: PROJECT, domain: DOMAIN } },
    task: { case: "taskSpec", value: taskSpec },
  });
  const generatedName = generated.run?.action?.id?.run?.name ?? "";
  check(/^r[bcdfghjklmnpqrstvwxz2456789]{19}$/.test(generatedName), `generated name ${generatedName} has the reference's shape`);
  console.log(`✓ Run with auto-generated name created: ${generatedName}`);

  console.log("Test 3: Getting run details...");
  const details = await runs.getRunDetails({ runId: { org: ORG, project: PROJECT, domain: DOMAIN, name: runName } });
  check(details.details?.action?.id?.run?.name === runName, "details are for the requested run");
  check(details.details?.action?.spec.case === "task", "details carry the task spec");
  console.log(`✓ Retrieved run details: ${details.details?.action?.id?.name} (${ActionPhase[details.details?.action?.status?.phase ?? 0]})`);

  console.log("Test 4: Listing runs...");
  const listed = await runs.listRuns({ request: { limit: 10 }, scopeBy: { case: "projectId", value: { organization: ORG, name: PROJECT, domain: DOMAIN } } });
  const names = listed.runs.map((r) => r.action?.id?.run?.name);
  check(names.includes(runName) && names.includes(generatedName), "both new runs are listed");
  console.log(`✓ Found ${listed.runs.length} runs`);

  console.log("Test 5: Listing actions for the run...");
  const actions = await runs.listActions({ request: { limit: 10 }, runId: { org: ORG, project: PROJECT, domain: DOMAIN, name: runName } });
  check(actions.actions.some((a) => a.id?.name === "a0"), "the run's root action a0 is listed");
  console.log(`✓ Found ${actions.actions.length} actions`);

  console.log("Test 6: Aborting an action...");
  const first = actions.actions[0]!;
  await runs.abortAction({ actionId: first.id!, reason: "integration test" });
  const aborted = await runs.getActionDetails({ actionId: first.id! });
  check(aborted.details?.status?.phase === ActionPhase.ABORTED, "the action is ABORTED");
  console.log("✓ Action aborted successfully");

  console.log("Test 7: Aborting a run...");
  await runs.abortRun({ runId: { org: ORG, project: PROJECT, domain: DOMAIN, name: generatedName }, reason: "integration test" });
  const abortedRun = await runs.getRunDetails({ runId: { org: ORG, project: PROJECT, domain: DOMAIN, name: generatedName } });
  check(abortedRun.details?.action?.status?.phase === ActionPhase.ABORTED, "the run is ABORTED");
  console.log("✓ Run aborted successfully");

  console.log("All tests completed successfully! 🎉");
}

main().catch((error) => {
  console.error(`✗ ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
