// "Email me a code instead": log in with a one-time code archive.org emails the patron (auth.requestCode, then
// auth.loginWithCode). Step one asks for the email; step two for the code, with a way to send a new one.
import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type FormEvent, type RefObject } from 'react';
import { describeError } from './errors';
import { announce } from './status';
import { startSession, trpc } from './trpc';
import { formText, RememberMe, TextField } from './ui';

export function CodeLogin({ onUsePassword }: { onUsePassword: () => void }) {
  const emailRef = useRef<HTMLInputElement>(null);
  const codeRef = useRef<HTMLInputElement>(null);
  const [email, setEmail] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<{ email?: string; code?: string }>({});
  const [formError, setFormError] = useState<string | null>(null);

  /** A refusal of `field` (its appCode, or a field error) goes under that field; anything else above the form. */
  function showProblem(
    error: unknown,
    field: 'email' | 'code',
    appCode: string,
    ref: RefObject<HTMLInputElement | null>,
  ) {
    const problem = describeError(error);
    if (problem.appCode === appCode || problem.fieldErrors[field]) {
      setFieldError({ [field]: problem.fieldErrors[field]?.[0] ?? problem.message });
      setFormError(null);
      ref.current?.focus();
    } else setFormError(problem.message);
  }

  const requestCode = useMutation(
    trpc.auth.requestCode.mutationOptions({
      onSuccess: (_, input) => {
        setEmail(input.email);
        setFormError(null);
        announce(`If ${input.email} has an archive.org account, a code is on its way.`, 'success');
        queueMicrotask(() => codeRef.current?.focus());
      },
      onError: (error) => showProblem(error, 'email', 'invalid_email', emailRef),
    }),
  );

  const loginWithCode = useMutation(
    trpc.auth.loginWithCode.mutationOptions({
      onSuccess: startSession,
      onError: (error) => showProblem(error, 'code', 'invalid_code', codeRef),
    }),
  );

  function onRequest(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = formText(new FormData(event.currentTarget), 'email').trim();
    setFormError(null);
    if (!value) {
      setFieldError({ email: 'Enter your email address.' });
      emailRef.current?.focus();
      return;
    }
    setFieldError({});
    requestCode.mutate({ email: value });
  }

  function onLogin(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (email === null) return;
    const form = new FormData(event.currentTarget);
    const code = formText(form, 'code').replace(/\s+/g, '');
    setFormError(null);
    if (!code) {
      setFieldError({ code: 'Enter the code from the email.' });
      codeRef.current?.focus();
      return;
    }
    setFieldError({});
    loginWithCode.mutate({ email, code, remember: form.get('remember') === 'on' });
  }

  return (
    <>
      {formError && (
        <p className="form-error" id="code-login-error" role="alert">
          {formError}
        </p>
      )}
      {email === null ? (
        // Keyed: the two steps' fields are different inputs (else the email would show in the code field).
        <form
          key="email"
          onSubmit={onRequest}
          noValidate
          aria-describedby={formError ? 'code-login-error' : undefined}
        >
          <p className="muted">We will ask archive.org to email you a one-time code.</p>
          <TextField
            idPrefix="code-login"
            ref={emailRef}
            name="email"
            label="Email"
            type="email"
            autoComplete="username"
            error={fieldError.email}
          />
          <button type="submit" className="primary" disabled={requestCode.isPending}>
            {requestCode.isPending ? 'Sending…' : 'Email me a code'}
          </button>
        </form>
      ) : (
        <form
          key="code"
          onSubmit={onLogin}
          noValidate
          aria-describedby={formError ? 'code-login-error' : undefined}
        >
          <p className="muted">
            If <strong>{email}</strong> has an archive.org account, we sent it a code. It works once, for 10
            minutes.
          </p>
          <TextField
            idPrefix="code-login"
            ref={codeRef}
            name="code"
            label="Code from the email"
            type="text"
            autoComplete="one-time-code"
            inputMode="numeric"
            error={fieldError.code}
          />
          <RememberMe idPrefix="code-login" />
          <button type="submit" className="primary" disabled={loginWithCode.isPending}>
            {loginWithCode.isPending ? 'Logging in…' : 'Log in with code'}
          </button>
          <p className="code-login-more">
            <button
              type="button"
              className="link-button"
              disabled={requestCode.isPending}
              onClick={() => requestCode.mutate({ email })}
            >
              Send a new code
            </button>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setEmail(null);
                setFieldError({});
                setFormError(null);
              }}
            >
              Use another email
            </button>
          </p>
        </form>
      )}
      <p className="code-login-more">
        <button type="button" className="link-button" onClick={onUsePassword}>
          Use my password instead
        </button>
      </p>
    </>
  );
}
