import { useTitle } from '../lib/title';

/** An administration page the console does not have yet; the API already does what it will. */
export function ComingSoonPage({ title, description, api }: { title: string; description: string; api: string }) {
  useTitle(title);
  return (
    <div className="page message-page">
      <h1>{title}</h1>
      <p>{description}</p>
      <p>
        This page is not in the console yet. Meanwhile the same can be done through the API:{' '}
        <code>{api}</code>, described in the <a href="/docs">API documentation</a>.
      </p>
    </div>
  );
}
