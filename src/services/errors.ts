// The errors live in domain/ (pure, so the store can refuse inside its transactions); re-exported for the services and entry points.
export { ServiceError, conflict, invalid, notFound } from '../domain/errors.js';
export { isUniqueViolation } from '../store/sqlite/health.js';
