/** The longest part of a target's answer kept as the reason of a failed send. */
export const REASON_MAX = 200;

/**
 * The parts of a target that are credentials: a Slack URL's path is its token, a query may carry one,
 * and a generic webhook's signing secret. A receiver that echoes the request must not get them stored.
 */
function secretsOf(url: URL, secret: string | null): string[] {
  const parts = [url.href, `${url.pathname}${url.search}`, ...url.pathname.split('/'), ...[...url.searchParams.values()]];
  if (secret) parts.push(secret, secret.replace(/^whsec_/, ''));
  // Short pieces ("/", "v1", "hooks") say nothing secret and would blank out ordinary words.
  return [...new Set(parts.filter((p) => p.length >= 8))].sort((a, b) => b.length - a.length);
}

/**
 * A target's answer as a short reason to store and show: printable ASCII only (control characters,
 * escapes and non-ASCII become spaces), whitespace collapsed, the target's credentials masked, at most
 * REASON_MAX characters. Never the raw body.
 */
export function sanitizeReason(head: Buffer, target: { url: URL; secret: string | null }): string {
  let text = head.toString('utf8').replace(/[^\x20-\x7e]+/g, ' ');
  for (const s of secretsOf(target.url, target.secret)) text = text.split(s).join('****');
  text = text.replace(/\s+/g, ' ').trim();
  return text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX - 3)}...`;
}
