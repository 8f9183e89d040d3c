import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import type { Role } from './api';
import { I18nProvider, storedLocale, useT } from './i18n';
import { useLiveIncidents } from './live';
import { DashboardPage } from './pages/Dashboard';
import { PortalPage, ReportPage } from './pages/Portal';
import { QueuePage } from './pages/Queue';
import { SignInPage } from './pages/SignIn';
import { SessionProvider, useSession } from './session';

// Pages most people open later are loaded on demand, which keeps the first page's bundle small.
const CalendarsPage = lazy(() => import('./pages/Calendars').then((m) => ({ default: m.CalendarsPage })));
const IncidentPage = lazy(() => import('./pages/Incident').then((m) => ({ default: m.IncidentPage })));
const MatrixPage = lazy(() => import('./pages/Matrix').then((m) => ({ default: m.MatrixPage })));
const NotificationsPage = lazy(() => import('./pages/Notifications').then((m) => ({ default: m.NotificationsPage })));
const ReportsPage = lazy(() => import('./pages/Reports').then((m) => ({ default: m.ReportsPage })));
const TeamsPage = lazy(() => import('./pages/Teams').then((m) => ({ default: m.TeamsPage })));
const UsersPage = lazy(() => import('./pages/Users').then((m) => ({ default: m.UsersPage })));
const VendorPortalPage = lazy(() => import('./pages/Vendor').then((m) => ({ default: m.VendorPortalPage })));
const VendorPage = lazy(() => import('./pages/VendorDetail').then((m) => ({ default: m.VendorPage })));
const VendorsPage = lazy(() => import('./pages/Vendors').then((m) => ({ default: m.VendorsPage })));

export function App() {
  const { pathname } = useLocation();
  // A vendor's signed link opens its page without any account or session.
  if (pathname.startsWith('/vendor/'))
    return (
      <Suspense fallback={<p className="loading">…</p>}>
        <VendorPortalPage token={decodeURIComponent(pathname.slice('/vendor/'.length))} />
      </Suspense>
    );
  return (
    <SessionProvider>
      <Localized />
    </SessionProvider>
  );
}

function Localized() {
  const { user, loading, setLocale } = useSession();
  if (loading) return <p className="loading">…</p>;
  // A signed-in user's language is in their profile; before sign-in, this browser's last choice.
  const initial = user?.locale ?? storedLocale() ?? (navigator.language.startsWith('fr') ? 'fr' : 'en');
  return (
    <I18nProvider key={user?.id ?? 0} initial={initial} onChange={user ? setLocale : undefined}>
      {user ? <Shell /> : <SignInPage />}
    </I18nProvider>
  );
}

const HOME: Record<Role, string> = {
  requester: '/portal',
  agent: '/queue',
  manager: '/dashboard',
  admin: '/dashboard',
  vendor: '/queue',
};

function Shell() {
  const { user, signOut } = useSession();
  const { t, locale, setLocale } = useT();
  const navigate = useNavigate();
  const live = useLiveIncidents(true);
  const role = user!.role;
  const staff = role !== 'requester';
  // Vendor contacts see the incidents handed to their vendor, nothing of the organisation's own.
  const organisation = role !== 'vendor';
  useEffect(() => {
    document.title = `Palier · ${user!.displayName}`;
  }, [user]);

  const link = (to: string, label: string, show = true): ReactNode =>
    show && (
      <li>
        <NavLink to={to}>{label}</NavLink>
      </li>
    );
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <span className="brand">{t('app.name')}</span>
        <nav aria-label="Navigation">
          <ul>
            {link('/dashboard', t('nav.dashboard'), role === 'admin' || role === 'manager')}
            {link('/queue', t('nav.queue'), staff)}
            {link('/report', t('nav.report'), organisation)}
            {link('/portal', t('nav.portal'), organisation)}
            {link('/matrix', t('nav.matrix'), organisation)}
            {link('/calendars', t('nav.calendars'), organisation)}
            {link('/reports', t('nav.reports'), role === 'admin' || role === 'manager')}
            {link('/teams', t('nav.teams'), staff && organisation)}
            {link('/users', t('nav.users'), role === 'admin' || role === 'manager')}
            {link('/vendors', t('nav.vendors'), staff && organisation)}
            {link('/notifications', t('nav.notifications'), role === 'admin')}
          </ul>
        </nav>
        <div className="who">
          <span className={live ? 'live on' : 'live'} title={t('queue.live')} aria-hidden="true" />
          <span className="user-name" data-testid="user-name">
            {user!.displayName}
          </span>
          <label className="lang">
            <span className="sr-only">{t('nav.language')}</span>
            <select value={locale} onChange={(e) => setLocale(e.target.value as 'fr' | 'en')}>
              <option value="fr">FR</option>
              <option value="en">EN</option>
            </select>
          </label>
          <button
            type="button"
            className="link"
            onClick={async () => {
              await signOut();
              navigate('/');
            }}
          >
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">…</p>}>
          <Routes>
            <Route path="/" element={<Navigate to={HOME[role]} replace />} />
            <Route path="/queue" element={<QueuePage />} />
            <Route path="/incidents/:id" element={<IncidentPage />} />
            <Route path="/report" element={<ReportPage />} />
            <Route path="/portal" element={<PortalPage />} />
            <Route path="/matrix" element={<MatrixPage />} />
            <Route path="/calendars" element={<CalendarsPage />} />
            <Route path="/dashboard" element={<DashboardPage />} />
            <Route path="/reports" element={<ReportsPage />} />
            <Route path="/teams" element={<TeamsPage />} />
            <Route path="/users" element={<UsersPage />} />
            <Route path="/vendors" element={<VendorsPage />} />
            <Route path="/vendors/:id" element={<VendorPage />} />
            {/* Channels and their secrets are for administrators only; others go home. */}
            <Route
              path="/notifications"
              element={role === 'admin' ? <NotificationsPage /> : <Navigate to={HOME[role]} replace />}
            />
            <Route path="*" element={<Navigate to={HOME[role]} replace />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
