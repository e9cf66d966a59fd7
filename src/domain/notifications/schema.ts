import { z } from 'zod';
import { RESOURCE_TYPE, SERVICE_TYPE, TRACE_NAME, TRACE_RATINGS, TRACE_TYPES } from '../traces/schema';
import { isTopicIdShape, TOPIC_ID_MESSAGE } from './topic-id';

/** Limits of reference §10/§15 (the console's limits, enforced by the API too). */
export const LIMITS = {
  notificationsPerProject: 100,
  operations: 1000,
  services: 100,
  users: 50,
  userGroups: 10,
  filterRules: 6,
} as const;

export const NOTIFICATION_NAME = /^[A-Za-z0-9_]{1,64}$/;
export const NOTIFICATION_TYPES = ['smn'] as const;
export const OPERATION_TYPES = ['complete', 'customized'] as const;
export const STATUSES = ['enabled', 'disabled'] as const;

/** The fields the advanced filter may test, each with its value rule (reference §4.5). */
export const FILTER_FIELDS = {
  api_version: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -'),
  code: z.string().min(1).max(256, 'must be 1-256 characters'),
  trace_rating: z.enum(TRACE_RATINGS, { error: `must be one of ${TRACE_RATINGS.join(', ')}` }),
  trace_type: z.enum(TRACE_TYPES, { error: `must be one of ${TRACE_TYPES.join(', ')}` }),
  resource_id: z.string().min(1).max(350, 'must be 1-350 characters'),
  resource_name: z.string().min(1).max(256, 'must be 1-256 characters'),
} as const;

export type FilterField = keyof typeof FILTER_FIELDS;

export interface FilterRule {
  field: FilterField;
  op: '=' | '!=';
  value: string;
}

// `field op value`: the reference writes one space around the operator; we accept any spacing
// and keep inner spaces of the value (resource names may contain them).
const RULE = /^\s*([A-Za-z_]+)\s*(!=|=)\s*(.*?)\s*$/;

/** Parses one advanced-filter rule; returns a message naming what is wrong instead on failure. */
export function parseFilterRule(text: string): FilterRule | string {
  const match = RULE.exec(text);
  if (!match) return 'must have the form "<field> = <value>" or "<field> != <value>"';
  const [, field = '', op, value = ''] = match;
  if (!(field in FILTER_FIELDS)) return `field must be one of ${Object.keys(FILTER_FIELDS).join(', ')}`;
  const checked = FILTER_FIELDS[field as FilterField].safeParse(value);
  if (!checked.success) return `${field} value ${checked.error.issues[0]?.message ?? 'is invalid'}`;
  return { field: field as FilterField, op: op as FilterRule['op'], value };
}

/** The canonical text of a rule, as stored and returned. */
export const formatFilterRule = (rule: FilterRule) => `${rule.field} ${rule.op} ${rule.value}`;

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
const printable = /^[^\u0000-\u001f\u007f]+$/;

export const OperationSchema = z.object({
  service_type: z.string().regex(SERVICE_TYPE, 'must be an uppercase acronym of 2-32 characters A-Z 0-9'),
  resource_type: z.string().regex(RESOURCE_TYPE, 'must be 1-64 characters of A-Z a-z 0-9 . _ -'),
  trace_names: z
    .array(z.string().regex(TRACE_NAME, 'must be a trace name (1-64 characters, starting with a letter)'))
    .min(1, 'must list at least one trace name')
    .max(LIMITS.operations),
});

export const NotifyUsersSchema = z.object({
  user_group: z.string().min(1).max(64).regex(printable, 'must not contain control characters'),
  user_list: z
    .array(z.string().min(1).max(256).regex(printable, 'must not contain control characters'))
    .min(1, 'must list at least one user')
    .max(LIMITS.users),
});

export const FilterSchema = z
  .object({
    is_support_filter: z.boolean(),
    condition: z.enum(['AND', 'OR'], { error: 'must be AND or OR' }).default('AND'),
    rule: z
      .array(z.string().max(512))
      .max(LIMITS.filterRules, `must have at most ${LIMITS.filterRules} rules`),
  })
  .superRefine((filter, ctx) => {
    if (filter.is_support_filter && filter.rule.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['rule'],
        message: 'must have at least one rule when the filter is on',
      });
    }
    filter.rule.forEach((text, i) => {
      const parsed = parseFilterRule(text);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: ['rule', i], message: parsed });
    });
  })
  // Stored and returned in canonical spacing.
  .transform((filter) => ({
    ...filter,
    rule: filter.rule.map((text) => formatFilterRule(parseFilterRule(text) as FilterRule)),
  }));

const topicId = z.string().max(2048).refine(isTopicIdShape, TOPIC_ID_MESSAGE);

const definition = {
  notification_name: z
    .string()
    .regex(NOTIFICATION_NAME, 'must be 1-64 characters of letters, digits and underscores'),
  operation_type: z.enum(OPERATION_TYPES, { error: 'must be complete or customized' }),
  operations: z.array(OperationSchema).max(LIMITS.operations).optional(),
  notify_user_list: z
    .array(NotifyUsersSchema)
    .max(LIMITS.userGroups, `must have at most ${LIMITS.userGroups} user groups`)
    .optional(),
  topic_id: topicId.optional(),
  filter: FilterSchema.optional(),
};

type Definition = {
  operation_type: (typeof OPERATION_TYPES)[number];
  operations?: z.infer<typeof OperationSchema>[];
  notify_user_list?: z.infer<typeof NotifyUsersSchema>[];
  status?: (typeof STATUSES)[number];
  topic_id?: string;
};

/** Cross-field rules shared by create and modify (totals, customized needs operations, topic when enabled). */
function checkDefinition(body: Definition, ctx: z.RefinementCtx) {
  const operations = body.operations ?? [];
  if (body.operation_type === 'customized') {
    if (operations.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['operations'],
        message: 'must list at least one operation when operation_type is customized',
      });
    }
    const total = operations.reduce((n, op) => n + op.trace_names.length, 0);
    if (total > LIMITS.operations) {
      ctx.addIssue({
        code: 'custom',
        path: ['operations'],
        message: `must have at most ${LIMITS.operations} operations in all (has ${total})`,
      });
    }
    const services = new Set(operations.map((op) => op.service_type)).size;
    if (services > LIMITS.services) {
      ctx.addIssue({
        code: 'custom',
        path: ['operations'],
        message: `must cover at most ${LIMITS.services} services (has ${services})`,
      });
    }
  }
  const users = (body.notify_user_list ?? []).reduce((n, group) => n + group.user_list.length, 0);
  if (users > LIMITS.users) {
    ctx.addIssue({
      code: 'custom',
      path: ['notify_user_list'],
      message: `must have at most ${LIMITS.users} users in all (has ${users})`,
    });
  }
  if (body.status === 'enabled' && !body.topic_id) {
    ctx.addIssue({ code: 'custom', path: ['topic_id'], message: 'is required when status is enabled' });
  }
}

/** Body of `POST /v3/{project_id}/notifications` (reference §4.1; `status` is our optional extra). */
export const CreateNotificationSchema = z
  .object({ ...definition, status: z.enum(STATUSES, { error: 'must be enabled or disabled' }).optional() })
  .superRefine(checkDefinition);

/** Body of `PUT /v3/{project_id}/notifications` (reference §4.2): a full replacement. */
export const UpdateNotificationSchema = z
  .object({
    notification_id: z.string().min(1).max(64),
    ...definition,
    status: z.enum(STATUSES, { error: 'must be enabled or disabled' }),
  })
  .superRefine(checkDefinition);

export type CreateNotificationInput = z.infer<typeof CreateNotificationSchema>;
export type UpdateNotificationInput = z.infer<typeof UpdateNotificationSchema>;
export type Operation = z.infer<typeof OperationSchema>;
export type NotifyUsers = z.infer<typeof NotifyUsersSchema>;
export type Filter = z.infer<typeof FilterSchema>;

/** A notification in the API's shape (reference §4.5). */
export interface Notification {
  notification_id: string;
  notification_name: string;
  notification_type: 'smn';
  operation_type: (typeof OPERATION_TYPES)[number];
  operations: Operation[];
  notify_user_list: NotifyUsers[];
  status: (typeof STATUSES)[number];
  topic_id?: string;
  filter?: Filter;
  project_id: string;
  domain_id: string;
  create_time: number;
}
