import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { NotFoundError } from "../errors.js";
import type { TaskSpecRepo } from "../interfaces/task.js";

export function createTaskSpecRepo(h: DatabaseHandle, clock: Clock): TaskSpecRepo {
  const { db } = h;
  return {
    async put(digest, spec) {
      const now = clock.now();
      await db
        .insertInto("task_specs")
        .values({ digest, spec, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column("digest").doNothing())
        .execute();
    },

    async get(digest) {
      const row = await db.selectFrom("task_specs").selectAll().where("digest", "=", digest).executeTakeFirst();
      if (!row) throw new NotFoundError(`task spec not found: ${digest}`);
      return row;
    },
  };
}
