// First run: the data folder is empty, so the first person creates the project and becomes its admin.
import { useState, type FormEvent } from 'react';
import { ErrorMessage, Field } from '../components/common.tsx';
import { useApp } from '../context.ts';

export function SetupPage() {
  const session = useApp('session');
  const [form, setForm] = useState({ projectName: '', firstName: '', lastName: '', email: '', password: '', confirm: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = (key: keyof typeof form) => (value: string) => setForm({ ...form, [key]: value });

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!form.projectName.trim()) found.projectName = 'Name the clinic or project';
    if (!form.firstName.trim()) found.firstName = 'Required';
    if (!form.lastName.trim()) found.lastName = 'Required';
    if (!/^\S+@\S+\.\S+$/.test(form.email)) found.email = 'Enter a valid email address';
    if (form.password.length < 8) found.password = 'At least 8 characters';
    if (form.confirm !== form.password) found.confirm = 'The passwords differ';
    setErrors(found);
    if (Object.keys(found).length === 0) {
      const { confirm: _confirm, ...input } = form;
      void session.setup(input);
    }
  };

  return (
    <main className="auth-card wide">
      <h1>Welcome to Outpost</h1>
      <p>This data folder is empty. Create the clinic and its first administrator.</p>
      <form onSubmit={submit} noValidate aria-busy={session.busy}>
        <Field label="Clinic or project name" value={form.projectName} onChange={set('projectName')} required error={errors.projectName} />
        <div className="row">
          <Field label="First name" value={form.firstName} onChange={set('firstName')} required error={errors.firstName} />
          <Field label="Last name" value={form.lastName} onChange={set('lastName')} required error={errors.lastName} />
        </div>
        <Field label="Email" type="email" value={form.email} onChange={set('email')} required error={errors.email} autoComplete="username" />
        <div className="row">
          <Field label="Password" type="password" value={form.password} onChange={set('password')} required error={errors.password} autoComplete="new-password" />
          <Field label="Repeat password" type="password" value={form.confirm} onChange={set('confirm')} required error={errors.confirm} autoComplete="new-password" />
        </div>
        <ErrorMessage error={session.error} />
        <button type="submit" disabled={session.busy}>
          {session.busy ? 'Creating…' : 'Create and sign in'}
        </button>
      </form>
    </main>
  );
}
