/** The only way Palier reads the time: injected, so tests and simulations control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
