import type { ZodError } from 'zod';
import { zodIssues } from '../api/http';
import type { Notification } from '../domain/notifications/schema';

/**
 * The Create/Modify form's values, as text fields a person edits without script: operations one
 * per line (`ECS ecs createServer deleteServer`), users one group per line (`ops: alice, bob`),
 * filter rules one per line (`code != 200`).
 */
export interface NotificationFormValues {
  notification_name: string;
  operation_type: 'complete' | 'customized';
  operations: string;
  users: string;
  filter_on: boolean;
  condition: 'AND' | 'OR';
  rules: string;
  topic_id: string;
  enabled: boolean;
}

export const EMPTY_FORM: NotificationFormValues = {
  notification_name: '',
  operation_type: 'customized',
  operations: '',
  users: '',
  filter_on: false,
  condition: 'AND',
  rules: '',
  topic_id: '',
  enabled: true,
};

/** The form showing an existing rule. */
export function formValuesOf(n: Notification): NotificationFormValues {
  return {
    notification_name: n.notification_name,
    operation_type: n.operation_type,
    operations: n.operations
      .map((op) => `${op.service_type} ${op.resource_type} ${op.trace_names.join(' ')}`)
      .join('\n'),
    users: n.notify_user_list.map((g) => `${g.user_group}: ${g.user_list.join(', ')}`).join('\n'),
    filter_on: n.filter?.is_support_filter ?? false,
    condition: n.filter?.condition ?? 'AND',
    rules: (n.filter?.rule ?? []).join('\n'),
    topic_id: n.topic_id ?? '',
    enabled: n.status === 'enabled',
  };
}

/** The values a submitted form carries. */
export function formValuesFromBody(form: Record<string, unknown>): NotificationFormValues {
  const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
  return {
    notification_name: text('notification_name').trim(),
    operation_type: form.operation_type === 'complete' ? 'complete' : 'customized',
    operations: text('operations'),
    users: text('users'),
    filter_on: form.filter_on === 'on',
    condition: form.condition === 'OR' ? 'OR' : 'AND',
    rules: text('rules'),
    topic_id: text('topic_id').trim(),
    enabled: form.enabled === 'on',
  };
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');

/** The API request body the form stands for (validated afterwards by the API's own schema). */
export function requestOf(values: NotificationFormValues): Record<string, unknown> {
  const rules = lines(values.rules);
  return {
    notification_name: values.notification_name,
    operation_type: values.operation_type,
    ...(values.operation_type === 'customized' && {
      operations: lines(values.operations).map((line) => {
        const [service_type = '', resource_type = '', ...trace_names] = line.split(/[\s,]+/);
        return { service_type, resource_type, trace_names };
      }),
    }),
    notify_user_list: lines(values.users).map((line) => {
      const colon = line.indexOf(':');
      const group = colon >= 0 ? line.slice(0, colon).trim() : 'users';
      const users = (colon >= 0 ? line.slice(colon + 1) : line).split(',').map((u) => u.trim());
      return { user_group: group, user_list: users.filter((u) => u !== '') };
    }),
    ...((values.filter_on || rules.length > 0) && {
      filter: { is_support_filter: values.filter_on, condition: values.condition, rule: rules },
    }),
    ...(values.topic_id && { topic_id: values.topic_id }),
    status: values.enabled ? 'enabled' : 'disabled',
  };
}

/** Validation problems in the form's own words: `operations[1]` is "Operations, line 2". */
export function formProblems(error: ZodError): string[] {
  return zodIssues(error).map(({ field, message }) => {
    const where = field
      .replace(/^operations\[(\d+)\]\.?/, (_, i) => `Operations, line ${Number(i) + 1} `)
      .replace(/^notify_user_list\[(\d+)\]\.?/, (_, i) => `Users, line ${Number(i) + 1} `)
      .replace(/^filter\.rule\[(\d+)\]/, (_, i) => `Filter rule ${Number(i) + 1}`)
      .replace(/^notify_user_list$/, 'Users')
      .replace(/^operations$/, 'Operations')
      .replace(/^filter\.rule$/, 'Filter rules')
      .replace(/^notification_name$/, 'Name')
      .replace(/^topic_id$/, 'Topic')
      .trim();
    return `${where}: ${message}`;
  });
}
