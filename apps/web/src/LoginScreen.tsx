import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { CodeLogin } from './CodeLogin';
import { describeError } from './errors';
import { useStore } from './store';
import { loginNoticeStore, startSession, trpc } from './trpc';
import { formText, RememberMe, Screen, TextField } from './ui';

type Field = 'email' | 'password';

export function LoginScreen() {
  const notice = useStore(loginNoticeStore);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [withCode, setWithCode] = useState(false);

  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: startSession,
      onError: (error) => {
        const problem = describeError(error);
        const fields: Partial<Record<Field, string>> = {};
        if (problem.fieldErrors.email?.[0]) fields.email = problem.fieldErrors.email[0];
        if (problem.fieldErrors.password?.[0]) fields.password = problem.fieldErrors.password[0];
        if (problem.appCode === 'invalid_email') fields.email = problem.message;
        setFieldErrors(fields);
        setFormError(problem.appCode === 'invalid_email' ? null : problem.message);
        if (fields.email) emailRef.current?.focus();
        else if (fields.password) passwordRef.current?.focus();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = formText(form, 'email').trim();
    const password = formText(form, 'password');
    const missing: Partial<Record<Field, string>> = {};
    if (!email) missing.email = 'Enter your email address.';
    if (!password) missing.password = 'Enter your password.';
    setFormError(null);
    setFieldErrors(missing);
    if (missing.email) return emailRef.current?.focus();
    if (missing.password) return passwordRef.current?.focus();
    login.mutate({ email, password, remember: form.get('remember') === 'on' });
  }

  const noticeLine = notice && (
    <p className="notice notice-info login-notice" role="alert">
      {notice}
    </p>
  );
  if (withCode) {
    return (
      <Screen title="Log in">
        <div className="card login">
          {noticeLine}
          <CodeLogin onUsePassword={() => setWithCode(false)} />
        </div>
      </Screen>
    );
  }

  return (
    <Screen title="Log in">
      <div className="card login">
        {noticeLine}
        <p className="muted">Use your archive.org email address and password.</p>
        {formError && (
          <p className="form-error" id="login-error" role="alert">
            {formError}
          </p>
        )}
        <form onSubmit={onSubmit} noValidate aria-describedby={formError ? 'login-error' : undefined}>
          <TextField
            idPrefix="login"
            ref={emailRef}
            name="email"
            label="Email"
            type="email"
            autoComplete="username"
            error={fieldErrors.email}
          />
          <TextField
            idPrefix="login"
            ref={passwordRef}
            name="password"
            label="Password"
            type="password"
            autoComplete="current-password"
            error={fieldErrors.password}
          />
          <RememberMe idPrefix="login" />
          <button type="submit" className="primary" disabled={login.isPending}>
            {login.isPending ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <p className="code-login-more">
          <button type="button" className="link-button" onClick={() => setWithCode(true)}>
            Email me a code instead
          </button>
        </p>
      </div>
    </Screen>
  );
}
