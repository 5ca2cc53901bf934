/**
 * Named points where a test can make the process die (SIGKILL, as a power cut would) or hang
 * (to observe it mid-way), set once at startup from KLUIS_TEST_HOOK=<point>:<kill|stall>.
 * Unset in production; a point that is not armed costs one comparison.
 */
export type TestHookAction = 'kill' | 'stall';

let armed: { point: string; action: TestHookAction } | undefined;

/** Parses `<point>:<kill|stall>`; throws on anything else (config validates it first). */
export function armTestHook(spec: string | undefined): void {
  if (spec === undefined) {
    armed = undefined;
    return;
  }
  const match = /^([a-z0-9.:-]+):(kill|stall)$/.exec(spec);
  if (!match?.[1] || !match[2]) throw new Error('KLUIS_TEST_HOOK: expected <point>:<kill|stall>');
  armed = { point: match[1], action: match[2] as TestHookAction };
}

/** Dies or hangs here when this point is armed; otherwise returns at once. */
export async function reachTestHook(point: string): Promise<void> {
  if (armed?.point !== point) return;
  if (armed.action === 'kill') {
    process.kill(process.pid, 'SIGKILL');
  }
  // Stall: keep the process alive (and serving) until the test kills it.
  await new Promise<never>(() => {
    setInterval(() => undefined, 60_000);
  });
}
