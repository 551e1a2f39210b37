/**
 * The reference's NOTIFY wire format: channel `action_updates` with payload
 * "project/domain/run/action", channel `run_updates` with "project/domain/run".
 */
import type { ChangeEvent } from "./bus.js";

export const ACTION_CHANNEL = "action_updates";
export const RUN_CHANNEL = "run_updates";

/** Longest payload pg_notify accepts (bytes, less one). */
export const MAX_PAYLOAD_BYTES = 7999;

export interface Notification {
  channel: string;
  payload: string;
}

/** The NOTIFY of a change event; undefined for events that stay in process (resync). */
export function changeEventToNotification(event: ChangeEvent): Notification | undefined {
  switch (event.kind) {
    case "action":
      return { channel: ACTION_CHANNEL, payload: `${event.project}/${event.domain}/${event.run}/${event.action}` };
    case "run":
      return { channel: RUN_CHANNEL, payload: `${event.project}/${event.domain}/${event.run}` };
    default:
      return undefined;
  }
}

/** A received notification as a change event; undefined when the channel or payload is not ours. */
export function notificationToChangeEvent(channel: string, payload: string): ChangeEvent | undefined {
  const parts = payload.split("/");
  if (parts.some((p) => p === "")) return undefined;
  if (channel === ACTION_CHANNEL && parts.length === 4) {
    const [project, domain, run, action] = parts;
    return { kind: "action", project, domain, run, action };
  }
  if (channel === RUN_CHANNEL && parts.length === 3) {
    const [project, domain, run] = parts;
    return { kind: "run", project, domain, run };
  }
  return undefined;
}

