import { z } from 'zod';
import { exportConfig, type ExportDeps } from '../../services/config/export.js';
import { configStatusView, diffAnswer, reloadAnswer, type ConfigReloader, type DiffAnswer } from '../../services/config/reloader.js';
import { ServiceError } from '../../services/errors.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errors, flag } from './schema-parts.js';

/** What these routes use of the app: the configuration file's reloader (absent without a file) and what export reads. */
export type ConfigRouteDeps = {
  configFile: Pick<ConfigReloader, 'reload' | 'status'> | undefined;
  configDiff(text: string, env?: Record<string, string>): Promise<DiffAnswer>;
} & ExportDeps;

const noFile = () =>
  new ServiceError(409, 'no_config_file', 'Herald runs without a configuration file: set HERALD_CONFIG (or put herald.yaml in its working directory) and restart it');

/** The configuration file (docs/config-file.md): reload it, see its status, preview a file's changes, export the database as one. */
export function registerConfigRoutes(app: App, herald: ConfigRouteDeps): void {
  app.post(
    '/config/reload',
    {
      schema: {
        ...admin,
        summary: 'Read the configuration file again and apply it (as SIGHUP does): validated whole first; a refused file changes nothing',
        response: { 200: reloadAnswer.describe('Applied'), ...errors, 409: errorBody.describe('No configuration file'), 422: reloadAnswer.describe('Refused: `problems` says where; the configuration in force stays') },
      },
    },
    async (_req, reply) => {
      if (!herald.configFile) throw noFile();
      const answer = await herald.configFile.reload('api');
      return reply.code(answer.applied ? 200 : 422).send(answer);
    },
  );

  app.get(
    '/config',
    { schema: { ...admin, summary: "The configuration file's status: whether its last version was applied, or why it was refused", response: { 200: configStatusView, ...errors, 409: errorBody } } },
    async () => {
      if (!herald.configFile) throw noFile();
      return herald.configFile.status;
    },
  );

  app.post(
    '/config/diff',
    {
      schema: {
        ...admin,
        summary: "What applying a configuration file would change here (nothing is written); ${NAME} references are read from `env`, then from Herald's environment",
        body: z.strictObject({
          yaml: z.string().max(4 * 1_048_576).describe('The file, as text'),
          env: z.record(z.string(), z.string()).optional().describe("Values for its ${NAME} references (they win over Herald's environment); herald config diff sends those its own environment has"),
        }),
        response: { 200: diffAnswer, ...errors },
      },
    },
    async (req) => {
      return herald.configDiff(req.body.yaml, req.body.env);
    },
  );

  app.get(
    '/config/export',
    {
      schema: {
        ...admin,
        summary: 'The database as a configuration file; credentials as ${NAME} references (their values only with secrets=true)',
        querystring: z.object({ secrets: flag.default(false).describe('Also answer the values of the ${NAME} references (webhook URLs, outbound URLs and secrets): for a secret store, never for git') }),
        response: { 200: z.object({ yaml: z.string(), env: z.record(z.string(), z.string()).optional() }), ...errors },
      },
    },
    async (req) => await exportConfig(herald, { secrets: req.query.secrets }),
  );
}
