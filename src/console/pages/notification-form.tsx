import type { Topic } from '../../domain/notifications/topics';
import type { ConsoleSession } from '../../domain/projects/sessions';
import { PostForm } from '../forms';
import { Layout } from '../layout';
import type { NotificationFormValues } from '../notification-form';
import { NOTIFICATIONS } from './notifications';

export interface NotificationFormProps {
  session: ConsoleSession;
  /** Absent when creating. */
  notificationId?: string;
  values: NotificationFormValues;
  topics: Topic[];
  problems?: string[];
  code?: string;
}

/** Create / Modify Key Event Notification (reference §11.3): name, operations, users, filter, topic. */
export function NotificationFormPage(props: NotificationFormProps) {
  const { session, notificationId, values, topics, problems, code } = props;
  const title = notificationId
    ? `Modify notification ${values.notification_name}`
    : 'Create Key Event Notification';
  const action = notificationId
    ? `${NOTIFICATIONS}/${encodeURIComponent(notificationId)}/edit`
    : `${NOTIFICATIONS}/new`;
  return (
    <Layout title={title} session={session} active={NOTIFICATIONS}>
      <div class="crumbs">
        <a href={NOTIFICATIONS}>‹ Key Event Notifications</a>
      </div>
      <h1>{title}</h1>
      {problems && problems.length > 0 && (
        <div class="error" role="alert">
          {problems.length === 1 ? problems[0] : 'Please correct:'}
          {code && (
            <>
              {' '}
              <code>({code})</code>
            </>
          )}
          {problems.length > 1 && (
            <ul>
              {problems.map((p) => (
                <li>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <PostForm action={action} csrf={session.csrfToken} class="card">
        <div class="form-grid">
          <label>
            Name
            <input
              type="text"
              name="notification_name"
              value={values.notification_name}
              required
              pattern="[A-Za-z0-9_]{1,64}"
              title="1-64 letters, digits and underscores"
            />
          </label>
          <label>
            Operation type
            <select name="operation_type">
              <option value="customized" selected={values.operation_type === 'customized'}>
                Custom: the operations listed below
              </option>
              <option value="complete" selected={values.operation_type === 'complete'}>
                All: every operation of every service
              </option>
            </select>
          </label>
        </div>
        <label>
          Operations (Custom): one per line, service, resource type and trace names — at most 1,000 of 100
          services
          <textarea
            name="operations"
            rows={4}
            placeholder={'ECS ecs createServer deleteServer\nEVS evs deleteVolume'}
          >
            {values.operations}
          </textarea>
        </label>
        <label>
          <span>
            Users: one group per line, <span class="mono">group: user, user</span> — empty for all users; at
            most 50 users in 10 groups
          </span>
          <textarea name="users" rows={2} placeholder="ops: alice, bob">
            {values.users}
          </textarea>
        </label>
        <p>
          <label class="check">
            <input type="checkbox" name="filter_on" value="on" checked={values.filter_on} />
            Advanced filter
          </label>
        </p>
        <div class="form-grid">
          <label>
            Conditions must
            <select name="condition">
              <option value="AND" selected={values.condition === 'AND'}>
                all hold (AND)
              </option>
              <option value="OR" selected={values.condition === 'OR'}>
                any hold (OR)
              </option>
            </select>
          </label>
        </div>
        <label>
          <span>
            Filter conditions: one per line, <span class="mono">field = value</span> or{' '}
            <span class="mono">field != value</span> on api_version, code, trace_rating, trace_type,
            resource_id, resource_name — at most 6
          </span>
          <textarea name="rules" rows={3} placeholder={'code != 200\ntrace_rating = incident'}>
            {values.rules}
          </textarea>
        </label>
        <div class="form-grid">
          <label>
            Topic: a webhook URL (http/https) or a topic URN
            <input
              type="text"
              name="topic_id"
              value={values.topic_id}
              list="topics"
              placeholder="https://hooks.example.com/cts"
            />
          </label>
        </div>
        <datalist id="topics">
          {topics.map((topic) => (
            <option value={topic.topic_urn}>{topic.endpoint}</option>
          ))}
        </datalist>
        <p>
          <label class="check">
            <input type="checkbox" name="enabled" value="on" checked={values.enabled} />
            Enabled: send notifications (needs a topic)
          </label>
        </p>
        <div class="actions">
          <button type="submit" class="primary">
            {notificationId ? 'Save' : 'Create'}
          </button>
          <a class="button" href={NOTIFICATIONS}>
            Cancel
          </a>
        </div>
      </PostForm>
    </Layout>
  );
}
