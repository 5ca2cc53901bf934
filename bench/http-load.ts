import { createRequire } from 'node:module';

/**
 * The load generator of the HTTP figure, run as its own process (`node --import tsx
 * bench/http-load.ts '<json>'`) so that autocannon's CPU is not the server's event loop. GETs
 * `<origin><path with :id replaced>` over `connections` keep-alive connections for `seconds`,
 * cycling through the ids, and prints one JSON line: requests per second, latency, failures.
 */
interface LoadOptions {
  origin: string;
  /** A path with `:id`, e.g. /api/v1/people/:id. */
  path: string;
  ids: number[];
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

interface AutocannonRequest {
  method: 'GET';
  setupRequest: (request: { path: string }) => { path: string };
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

// autocannon ships no types of its own; the few fields used are typed above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
let next = 0;
const result = await autocannon({
  url: options.origin,
  connections: options.connections,
  duration: options.seconds,
  headers: options.headers,
  requests: [
    {
      method: 'GET',
      setupRequest: (request) => {
        const id = options.ids[next % options.ids.length] ?? 0;
        next += 1;
        return { ...request, path: options.path.replace(':id', String(id)) };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    perSecond: result.requests.total / options.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  })}\n`,
);
