import type { ReactNode } from 'react';
import { ThemeToggle } from './ThemeToggle';

/** The frame of the signed-out pages (sign in, forgotten password). */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="auth-page">
      <div className="auth-theme"><ThemeToggle /></div>
      <main className="auth-card" id="main">
        <div className="auth-brand">
          <img src="/favicon.svg" alt="" width="32" height="32" />
          <span>Vigil</span>
        </div>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}
