/**
 * The deps (first parameter) of a service function. An entry point (an admin route file, the demo
 * seeding) declares what it uses as the intersection of the deps of the services it calls, so it asks
 * for no more of the app than they do, and the compiler keeps that in step when a service's needs change.
 */
// `any` in the constraint only: it lets a function with deps of any shape match; the result is exact.
export type DepsOf<F extends (deps: any, ...rest: any[]) => unknown> = Parameters<F>[0];
