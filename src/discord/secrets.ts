/**
 * Discord credentials inside text: webhook and interaction URLs carry their token in the path. Shown
 * masked wherever Herald prints a URL or an error that may echo one (logs, attempts, dead letters).
 */

/** `/webhooks/123/abcdef…` → `/webhooks/123/****`: the id is useful, the token is a credential. */
export function maskUrl(url: string): string {
  return url.replace(/(\/webhooks\/\d+\/)[^/?#]+/g, '$1****').replace(/(\/interactions\/\d+\/)[^/?#]+/g, '$1****');
}

/** Removes anything token-shaped from free text (error messages from fetch can echo the URL). */
export function scrubSecrets(text: string): string {
  return maskUrl(text).replace(/Bearer\s+\S+/gi, 'Bearer ****');
}
