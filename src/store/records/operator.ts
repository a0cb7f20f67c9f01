// Wrong operator PINs, kept only as times, so guessing the PIN from a terminal is throttled across processes.
import type { DatabaseSync } from "node:sqlite";

export interface OperatorPinFailures {
  record(at: number): void;
  /** Failures since a time. */
  since(from: number): number;
  /** Forgets the failures once the right PIN was entered. */
  clear(): void;
}

export function createOperatorPinFailures(db: DatabaseSync): OperatorPinFailures {
  const insert = db.prepare("INSERT INTO operator_pin_failures (at) VALUES (?)");
  const count = db.prepare("SELECT COUNT(*) AS n FROM operator_pin_failures WHERE at > ?");
  const clear = db.prepare("DELETE FROM operator_pin_failures");
  return {
    record: (at) => {
      insert.run(at);
    },
    since: (from) => (count.get(from) as { n: number }).n,
    clear: () => {
      clear.run();
    },
  };
}
