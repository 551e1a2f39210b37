/** The domain errors repositories throw (defined in src/util/errors.ts, shared by every layer). */
export * from "../util/errors.js";
