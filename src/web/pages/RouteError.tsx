import { useRouteError } from 'react-router';

/** A page that crashed while rendering: say so plainly and offer a reload. */
export function RouteError() {
  const error = useRouteError();
  console.error(error);
  return (
    <main className="centered-page message-page" id="main">
      <h1>Something went wrong</h1>
      <p>This page failed to load. Reloading usually helps; if it does not, tell your administrator.</p>
      <p><button type="button" className="button" onClick={() => window.location.reload()}>Reload</button></p>
    </main>
  );
}
