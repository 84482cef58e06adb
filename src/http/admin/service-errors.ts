import { ServiceError } from '../../services/errors.js';
import type { ErrorBody } from '../error-body.js';
import type { App } from '../typed-app.js';

/**
 * Answers a ServiceError with its status and `{error, message}` (plus `problems` for a 400 about one
 * field, like a validation answer). Anything else goes on to the server's own error handler.
 */
export function mapServiceErrors(app: App): void {
  app.setErrorHandler((err, _req, reply) => {
    if (!(err instanceof ServiceError)) throw err;
    const body: ErrorBody = { error: err.code, message: err.message };
    if (err.status === 400 && err.path) body.problems = [{ path: err.path, message: err.message }];
    return reply.code(err.status).send(body);
  });
}
