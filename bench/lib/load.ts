import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** A fresh body for every request (random payloads). */
  body?: () => string;
  /** A fresh path for every request (requests spread over several resources). */
  pathFor?: () => string;
  connections: number;
  seconds: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  rate?: number | undefined;
}

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  total: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  seconds: number;
}

/** One autocannon run, in this process (the server under test runs in another). */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const { body: makeBody, pathFor } = o;
  const request: autocannon.Request = { method: o.method, path: o.path, headers: o.headers };
  if (makeBody || pathFor)
    request.setupRequest = (req) => ({
      ...req,
      ...(makeBody ? { body: makeBody() } : {}),
      ...(pathFor ? { path: pathFor() } : {}),
    });
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    ...(o.rate ? { overallRate: o.rate } : {}),
    timeout: 10,
    requests: [request],
    renderProgressBar: false,
    renderResultsTable: false,
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
  return {
    // autocannon's own figure: mean of the per-second request counts.
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    meanMs: result.latency.mean,
    total: result.requests.total,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    seconds: result.duration,
  };
}
