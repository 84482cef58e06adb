/**
 * An error a caller can cause (unknown id, duplicate name, bad webhook URL). Entry points show it as it is:
 * the HTTP layer answers `status` with `{error: code, message}`; the bot replies with `message`.
 * Messages are written for a person and never contain a credential (webhook or source token).
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 400 about one input field: its path (e.g. `url`), so the answer can point at it. */
    readonly path?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: number | string): ServiceError => new ServiceError(404, 'not_found', `no ${what} with id ${id}`);

export const conflict = (message: string): ServiceError => new ServiceError(409, 'conflict', message);

export const invalid = (path: string, message: string): ServiceError => new ServiceError(400, 'invalid_request', message, path);
