import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import { NotFoundError } from "../errors.js";
import type { TaskSpecRepo } from "../interfaces/task.js";

/** How many digests put() remembers as stored. */
const KNOWN_DIGESTS = 1_000;

export function createTaskSpecRepo(h: DatabaseHandle, clock: Clock): TaskSpecRepo {
  const { db } = h;
  /**
   * Digests this repository stored (or found stored). A row is content-addressed
   * and never updated or deleted, so storing the same digest again is skipped:
   * every run of one task would otherwise repeat the INSERT.
   */
  const known = new Set<string>();
  return {
    async put(digest, spec) {
      if (known.has(digest)) return;
      const now = clock.now();
      await db
        .insertInto("task_specs")
        .values({ digest, spec, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column("digest").doNothing())
        .execute();
      if (known.size >= KNOWN_DIGESTS) known.clear();
      known.add(digest);
    },

    async get(digest) {
      const row = await db.selectFrom("task_specs").selectAll().where("digest", "=", digest).executeTakeFirst();
      if (!row) throw new NotFoundError(`task spec not found: ${digest}`);
      return row;
    },
  };
}
