// Types of scripts/soak/reconcile.mjs (the outage soak's pass/fail check).

/** The soak figures the check reads (the JSON line `npm run soak:outage` prints last). */
export interface SoakFigures {
  accepted: number;
  sent: number;
  dropped: number;
  requests: number;
  warmupAccepted: number;
  inconsistentSamples: number;
  samples: number;
  messagesInTopic: number;
  httpErrors: number;
  peakBufferedBytes: number;
  maxBytes: number;
  resumedAfterBrokerReadyMs: number | undefined;
  appExitCode: number | null;
}

/** The problems in `figures`; empty when everything reconciles. */
export function unreconciled(figures: SoakFigures): string[];
