import { z } from 'zod';
import { errorBody } from '../error-body.js';

/** Common schema parts: tags and security for the OpenAPI document, and the error answers. */
export const admin = { tags: ['admin'], security: [{ adminToken: [] }] };
export const errors = { 400: errorBody, 401: errorBody };
export const errorsWith404 = { ...errors, 404: errorBody };

export const id = z.coerce.number().int().positive();
export const idParams = z.object({ id: id.describe('A positive integer id') });
export const limit = z.coerce.number().int().min(1).max(1000).default(50).describe('How many to return (1 to 1000, default 50)');
export const beforeId = id.optional().describe('Paging: only items with a smaller id (pass the last id of the previous page)');
export const flag = z.stringbool({ truthy: ['true', '1'], falsy: ['false', '0'] });
export const noContent = z.null().describe('Done; no body');
