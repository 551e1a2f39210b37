/**
 * Generated run names: "r" followed by 19 characters from the Kubernetes
 * random-string alphabet (no vowels, no easily confused digits), 20 in all.
 */
import { randomInt } from "node:crypto";

export const RUN_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
export const RUN_NAME_LENGTH = 20;
export const RUN_NAME_PREFIX = "r";

/** Returns an integer in [0, n). */
export type RandomIndex = (n: number) => number;

/**
 * A deterministic source for tests and reproducible names: the same seed
 * always yields the same sequence (mulberry32 over the low 32 bits of the
 * seed mixed with the high ones).
 */
export function seededRandomIndex(seed: number | bigint): RandomIndex {
  const big = BigInt.asUintN(64, BigInt(seed));
  let state = Number((big ^ (big >> 32n)) & 0xffffffffn) >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(unit * n);
  };
}

/** Cryptographically random indices (the default: names must not collide across replicas). */
export const secureRandomIndex: RandomIndex = (n) => randomInt(n);

export function generateRunName(random: RandomIndex = secureRandomIndex): string {
  let name = RUN_NAME_PREFIX;
  while (name.length < RUN_NAME_LENGTH) name += RUN_NAME_ALPHABET[random(RUN_NAME_ALPHABET.length)];
  return name;
}

/** Longest run name (RunIdentifier.name's max_len in the IDL). */
export const RUN_NAME_MAX_LENGTH = 30;

/** A DNS-1035 label: a lower-case letter, then lower-case letters, digits and '-', not ending with '-'. */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why `name` cannot be a run name chosen by the caller, or undefined when it
 * can. The executor names Kubernetes objects after the run ("<run>-<action>",
 * and the Services and pods plugins derive from it), so a name must be a
 * DNS-1035 label of at most 30 characters. Generated names always are.
 */
export function runNameProblem(name: string): string | undefined {
  if (name.length > RUN_NAME_MAX_LENGTH) {
    return `invalid run name ${JSON.stringify(name)}: must be no more than ${RUN_NAME_MAX_LENGTH} characters`;
  }
  if (!DNS_1035_LABEL.test(name)) {
    return (
      `invalid run name ${JSON.stringify(name)}: a run name must be a DNS-1035 label: lower-case letters, digits and '-', ` +
      `starting with a letter and ending with a letter or digit (e.g. "my-run" or "abc-123")`
    );
  }
  return undefined;
}
