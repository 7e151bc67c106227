// Administration (project admins only): users and memberships, access policies, policy review.
import { useEffect, useState } from 'react';
import { ErrorMessage, Loading } from '../../components/common.tsx';
import { useApp } from '../../context.ts';
import { href, navigate } from '../../router.ts';
import { PoliciesTab } from './Policies.tsx';
import { ReviewTab } from './Review.tsx';
import { UsersTab } from './Users.tsx';

type Tab = 'users' | 'policies' | 'review';
const TABS: { key: Tab; label: string }[] = [
  { key: 'users', label: 'Users and memberships' },
  { key: 'policies', label: 'Access policies' },
  { key: 'review', label: 'Policy review' },
];

export function AdminPage({ tab }: { tab: Tab }) {
  const admin = useApp('admin');
  const session = useApp('session');
  const isAdmin = Boolean(session.me?.membership?.admin);
  const [reviewed, setReviewed] = useState<string>();
  const load = admin.load;
  useEffect(() => {
    if (isAdmin) void load();
  }, [isAdmin, load]);
  if (!isAdmin) {
    return (
      <main className="page">
        <ErrorMessage error="Administration is for project administrators only." />
      </main>
    );
  }
  return (
    <main className="page">
      <h1>Administration</h1>
      <nav className="tabs" aria-label="Administration sections">
        {TABS.map((t) => (
          <a key={t.key} className={tab === t.key ? 'tab active' : 'tab'} aria-current={tab === t.key ? 'page' : undefined} href={href({ name: 'admin', tab: t.key })}>
            {t.label}
          </a>
        ))}
      </nav>
      <ErrorMessage error={admin.error} />
      {admin.loading && admin.memberships.length === 0 ? <Loading /> : null}
      <ErrorMessage title="The preview could not start" error={session.phase === 'ready' ? session.error : undefined} />
      {tab === 'users' ? (
        <UsersTab
          onViewAs={(id) => void session.startViewAs(id)}
          onReview={(id) => {
            setReviewed(id);
            navigate({ name: 'admin', tab: 'review' });
          }}
        />
      ) : null}
      {tab === 'policies' ? <PoliciesTab /> : null}
      {tab === 'review' ? <ReviewTab membershipId={reviewed} onChoose={setReviewed} onViewAs={(id) => void session.startViewAs(id)} /> : null}
    </main>
  );
}
