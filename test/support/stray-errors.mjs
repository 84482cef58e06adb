/**
 * Preloaded into a Herald child process (`NODE_OPTIONS=--import <this file>`, test/crash.test.ts): faults
 * planted from outside Herald's code, on a signal from the test, so that the process-level handlers of
 * src/main.ts meet what they are there for. Herald's own callbacks are all guarded (src/guard.ts), so
 * none of them offers a real trigger; Herald itself has no test hook for this.
 */
process.on('SIGUSR2', () => {
  // A promise rejected with nobody to await it.
  void Promise.reject(new Error('a stray rejection nobody awaited'));
});
process.on('SIGHUP', () => {
  // A callback that throws something that is not a database error.
  throw new TypeError('a stray exception in a callback');
});
