/* global document, localStorage */
// The theme the user chose in the console ("light" or "dark"), applied before the first paint.
// Without a choice the stylesheet follows prefers-color-scheme.
try {
  var theme = localStorage.getItem('vigil.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
} catch {
  // Storage blocked: follow the system.
}
