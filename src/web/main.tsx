import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Navigate } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { ApiError, setUnauthorizedHandler } from './api/client';
import { AppShell } from './components/AppShell';
import { RequireAction, RequireSuperadmin } from './components/RequireAction';
import { loginPath, RequireSession } from './components/session';
import { FullPageLoading } from './components/states';
import { AccountPage } from './pages/account/AccountPage';
import { JoinPage } from './pages/account/JoinPage';
import { ResetPasswordPage } from './pages/account/ResetPasswordPage';
import { SetupPage } from './pages/account/SetupPage';
import { AlertDetailPage } from './pages/alerts/AlertDetailPage';
import { AlertsPage } from './pages/alerts/AlertsPage';
import { RulesPage } from './pages/alerts/RulesPage';
import { AuditPage } from './pages/admin/AuditPage';
import { MembersPage } from './pages/admin/MembersPage';
import { NotificationsPage } from './pages/admin/NotificationsPage';
import { OrganizationPage } from './pages/admin/OrganizationPage';
import { RegistrationCodesPage } from './pages/admin/RegistrationCodesPage';
import { SitesPage } from './pages/admin/SitesPage';
import { DashboardPage } from './pages/DashboardPage';
import { preloadDeviceMap } from './components/map';
import { DeviceDetailPage } from './pages/DeviceDetailPage';
import { DevicesPage } from './pages/DevicesPage';
import { EventsPage } from './pages/EventsPage';
import { RegisterDevicePage } from './pages/RegisterDevicePage';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { LoginPage } from './pages/LoginPage';
import { MaintenancePage } from './pages/MaintenancePage';
import { NotFoundPage } from './pages/NotFoundPage';
import { PlatformOrganizationsPage } from './pages/platform/PlatformOrganizationsPage';
import { PlatformUsersPage } from './pages/platform/PlatformUsersPage';
import { RouteError } from './pages/RouteError';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      // A 4xx will not change by asking again; network trouble and 5xx may.
      retry: (failures, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failures < 2,
    },
  },
});

const router = createBrowserRouter([
  { path: '/login', element: <LoginPage />, errorElement: <RouteError /> },
  { path: '/forgot-password', element: <ForgotPasswordPage />, errorElement: <RouteError /> },
  // The paths of links already sent by email and printed at start (/setup, /invite, /reset-password) stay as they are.
  { path: '/setup', element: <SetupPage />, errorElement: <RouteError /> },
  { path: '/invite', element: <JoinPage mode="invitation" />, errorElement: <RouteError /> },
  { path: '/register', element: <JoinPage mode="code" />, errorElement: <RouteError /> },
  { path: '/reset-password', element: <ResetPasswordPage />, errorElement: <RouteError /> },
  // The community pages need no sign-in; loaded only when visited.
  { path: '/public', lazy: async () => ({ Component: (await import('./pages/public/PublicPage')).PublicPage }), errorElement: <RouteError />, hydrateFallbackElement: <FullPageLoading /> },
  {
    path: '/public/devices/:id', lazy: async () => ({ Component: (await import('./pages/public/PublicDevicePage')).PublicDevicePage }),
    errorElement: <RouteError />, hydrateFallbackElement: <FullPageLoading />,
  },
  {
    element: <RequireSession />,
    errorElement: <RouteError />,
    // Shown while a first page's loader or lazy code is on its way (without it React Router warns).
    hydrateFallbackElement: <FullPageLoading />,
    children: [
      {
        element: <AppShell />,
        children: [
          { index: true, element: <Navigate to="/dashboard" replace /> },
          // The map's code starts downloading with the page, while the session and the data are fetched.
          { path: 'dashboard', element: <DashboardPage />, loader: preloadDeviceMap },
          { path: 'devices', element: <DevicesPage /> },
          {
            path: 'devices/new',
            element: (
              <RequireAction action="device.write">
                <RegisterDevicePage />
              </RequireAction>
            ),
          },
          { path: 'devices/:id', element: <DeviceDetailPage /> },
          { path: 'cameras', lazy: async () => ({ Component: (await import('./pages/cameras/CamerasPage')).CamerasPage }) },
          { path: 'cameras/:id', lazy: async () => ({ Component: (await import('./pages/cameras/CameraPage')).CameraPage }) },
          { path: 'violations', lazy: async () => ({ Component: (await import('./pages/violations/ViolationsPage')).ViolationsPage }) },
          { path: 'violations/statistics', lazy: async () => ({ Component: (await import('./pages/violations/ViolationStatisticsPage')).ViolationStatisticsPage }) },
          { path: 'events', element: <EventsPage /> },
          { path: 'alerts', element: <AlertsPage /> },
          {
            path: 'alerts/rules',
            element: (
              <RequireAction action="alertrule.write">
                <RulesPage />
              </RequireAction>
            ),
          },
          { path: 'alerts/:id', element: <AlertDetailPage /> },
          { path: 'maintenance', element: <MaintenancePage /> },
          { path: 'challans', lazy: async () => ({ Component: (await import('./pages/challans/ChallansPage')).ChallansPage }) },
          { path: 'challans/customers', lazy: async () => ({ Component: (await import('./pages/challans/CustomersPage')).CustomersPage }) },
          { path: 'challans/deleted', lazy: async () => ({ Component: (await import('./pages/challans/DeletedChallansPage')).DeletedChallansPage }) },
          { path: 'account', element: <AccountPage /> },
          { path: 'stats', lazy: async () => ({ Component: (await import('./pages/StatsPage')).StatsPage }) },
          { path: 'reports', lazy: async () => ({ Component: (await import('./pages/ReportsPage')).ReportsPage }) },
          {
            path: 'admin/sites',
            element: (
              <RequireAction action="site.write">
                <SitesPage />
              </RequireAction>
            ),
          },
          {
            path: 'admin/members',
            element: (
              <RequireAction action="member.read">
                <MembersPage />
              </RequireAction>
            ),
          },
          {
            path: 'admin/notifications',
            element: (
              <RequireAction action="notification.read">
                <NotificationsPage />
              </RequireAction>
            ),
          },
          {
            path: 'admin/audit',
            element: (
              <RequireAction action="audit.read">
                <AuditPage />
              </RequireAction>
            ),
          },
          {
            path: 'admin/organization',
            element: (
              <RequireAction action="org.update">
                <OrganizationPage />
              </RequireAction>
            ),
          },
          {
            path: 'admin/registration-codes',
            element: (
              <RequireAction action="regcode.write">
                <RegistrationCodesPage />
              </RequireAction>
            ),
          },
          { path: 'platform/organizations', element: <RequireSuperadmin><PlatformOrganizationsPage /></RequireSuperadmin> },
          { path: 'platform/users', element: <RequireSuperadmin><PlatformUsersPage /></RequireSuperadmin> },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
]);

const SIGNED_OUT_PATHS = new Set(['/login', '/forgot-password', '/setup', '/invite', '/register', '/reset-password']);

// Any API call answered 401 (the session ended): to the sign-in page, then back here.
setUnauthorizedHandler(() => {
  const { pathname, search } = router.state.location;
  if (SIGNED_OUT_PATHS.has(pathname)) return;
  queryClient.removeQueries({ queryKey: ['me'] });
  void router.navigate(loginPath({ pathname, search }), { replace: true }).then(() => {
    // Nothing of the ended session stays in memory.
    queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
  });
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
