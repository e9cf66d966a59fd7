import { createRoute, z } from '@hono/zod-openapi';
import { publicSigningKeys } from '../domain/digests/signing-keys';
import { canRead } from './auth';
import { errorResponses, newRouter, security } from './http';
import { ProjectParams } from './traces';

const PublicKeySchema = z
  .object({
    fingerprint: z.string().openapi({ description: 'Hex SHA-256 of the SubjectPublicKeyInfo (DER).' }),
    public_key: z.string().openapi({ description: 'The RSA public key, SubjectPublicKeyInfo PEM.' }),
    algorithm: z.literal('SHA256withRSA'),
    valid_from: z.string().openapi({ example: '2026-11-24T12:00:00.000Z' }),
    valid_to: z.string().nullable().openapi({
      description: 'When the key was retired (it signs no digest ending later); null = current.',
    }),
    status: z.enum(['active', 'retired']),
  })
  .openapi('DigestPublicKey');

const listRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/digest-public-keys',
  operationId: 'ListDigestPublicKeys',
  tags: ['Trace file integrity'],
  summary: 'Public keys that sign digest files',
  description:
    'Every key that signed or signs digest files, oldest first. A digest names its key by ' +
    '`public_key_fingerprint`; retired keys stay listed so that older digests still verify.',
  security,
  middleware: [canRead],
  request: { params: ProjectParams },
  responses: {
    200: {
      description: 'The public keys',
      content: { 'application/json': { schema: z.object({ public_keys: z.array(PublicKeySchema) }) } },
    },
    ...errorResponses,
  },
});

export const digestKeyRoutes = newRouter().openapi(listRoute, async (c) =>
  c.json({ public_keys: await publicSigningKeys(c.get('deps'), { ensure: true }) }, 200),
);
