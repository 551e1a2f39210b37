// WatchRuns messages shared by every stream: a run is encoded once, and what a binary stream receives is byte for
// byte what the ordinary message would be; JSON streams get the ordinary message.
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { RunSchema, type Run } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchRunsResponseSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { isBinaryCodec, SharedRun, watchRunsMessages } from "../../src/service/run-service/watch-runs-messages.js";

function run(name: string, phase = ActionPhase.QUEUED): Run {
  return create(RunSchema, {
    action: {
      id: { run: { org: "o", project: "p", domain: "d", name }, name: "a0" },
      metadata: { spec: { case: "task", value: { id: { project: "p", domain: "d", name: "wf.t", version: "v1" }, taskType: "python" } } },
      status: { phase, attempts: 1, startTime: { seconds: 1_700_000_000n, nanos: 5 } },
    },
  });
}

const plain = (runs: Run[]) => toBinary(WatchRunsResponseSchema, create(WatchRunsResponseSchema, { runs }));

describe("WatchRuns shared messages", () => {
  it("a binary stream's message encodes to the same bytes as the ordinary message and decodes to the same runs", () => {
    const runs = [run("r1"), run("r2", ActionPhase.RUNNING), run("r3", ActionPhase.SUCCEEDED)];
    const [msg] = watchRunsMessages(runs.map((r) => new SharedRun(r)), true, 500);
    const bytes = toBinary(WatchRunsResponseSchema, msg);
    expect(bytes).toEqual(plain(runs));
    expect(fromBinary(WatchRunsResponseSchema, bytes).runs).toEqual(runs);
  });

  it("one run's encoding and its single-run message are made once and shared by every stream", () => {
    const shared = new SharedRun(run("r1"));
    const streams = Array.from({ length: 3 }, () => watchRunsMessages([shared], true, 500));
    expect(streams[1][0]).toBe(streams[0][0]);
    expect(streams[2][0]).toBe(streams[0][0]);
    expect(shared.runsEntry()).toBe(shared.runsEntry());
    // In a batch with other runs the same encoded entry is reused.
    const [batch] = watchRunsMessages([shared, new SharedRun(run("r2"))], true, 500);
    expect(batch.$unknown?.[0]).toBe(shared.runsEntry());
    expect(toBinary(WatchRunsResponseSchema, streams[0][0])).toEqual(plain([run("r1")]));
  });

  it("splits into messages of at most maxPerMessage runs, in order, for both codecs", () => {
    const runs = ["a", "b", "c", "d", "e"].map((n) => run(n));
    const shared = runs.map((r) => new SharedRun(r));
    const binary = watchRunsMessages(shared, true, 2);
    expect(binary.map((m) => fromBinary(WatchRunsResponseSchema, toBinary(WatchRunsResponseSchema, m)).runs)).toEqual([runs.slice(0, 2), runs.slice(2, 4), runs.slice(4)]);
    const json = watchRunsMessages(shared, false, 2);
    expect(json.map((m) => m.runs)).toEqual([runs.slice(0, 2), runs.slice(2, 4), runs.slice(4)]);
    expect(watchRunsMessages([], true, 2)).toEqual([]);
  });

  it("a JSON stream gets the ordinary message (unknown fields do not exist in JSON)", () => {
    const runs = [run("r1"), run("r2")];
    const [msg] = watchRunsMessages(runs.map((r) => new SharedRun(r)), false, 500);
    expect(msg.$unknown).toBeUndefined();
    expect(toJson(WatchRunsResponseSchema, msg)).toEqual(toJson(WatchRunsResponseSchema, create(WatchRunsResponseSchema, { runs })));
  });

  it("tells binary codecs from JSON ones by the request's content type", () => {
    for (const ct of ["application/connect+proto", "application/grpc", "application/grpc+proto", "application/grpc-web+proto", "application/proto"]) {
      expect(isBinaryCodec(ct)).toBe(true);
    }
    for (const ct of ["application/connect+json", "application/grpc-web+json", "application/json", "application/grpc+JSON"]) {
      expect(isBinaryCodec(ct)).toBe(false);
    }
  });
});
