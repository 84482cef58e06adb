import Router from 'find-my-way';

/**
 * Every route's path with the methods it answers, in a router of its own (find-my-way, fastify's own
 * router, with fastify's default matching), so that a request no route took can be told apart: a
 * known path asked with the wrong method (405 with an Allow header) from a path that does not exist (404).
 */
export class KnownPaths {
  private readonly router = Router();
  private readonly methods = new Set<string>();

  add(method: string | string[], url: string): void {
    for (const m of Array.isArray(method) ? method : [method]) {
      if (this.router.hasRoute(m as Router.HTTPMethod, url)) continue;
      this.router.on(m as Router.HTTPMethod, url, () => undefined);
      this.methods.add(m);
    }
  }

  /** The methods routes answer on this concrete path (e.g. `/v1/admin/sources/7?x=1`), sorted; empty for an unknown path. */
  allowed(url: string): string[] {
    const path = url.split('?')[0]!;
    return [...this.methods].filter((m) => this.router.find(m as Router.HTTPMethod, path) !== null).sort();
  }
}
