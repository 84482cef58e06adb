/**
 * Tells a caller's error handler about a failure on a dedicated connection (the leader's, the listener's) without
 * letting the handler's own throw escape: these run in the driver's event callbacks, where a throw would crash
 * the process.
 */
export function reportTo(onError: (err: Error) => void, err: unknown): void {
  try {
    onError(err instanceof Error ? err : new Error(String(err)));
  } catch {
    // The error handler's own failure has nowhere left to go.
  }
}
