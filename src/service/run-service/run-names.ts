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
