import { useEffect, useRef, type ReactNode, type Ref } from 'react';
import { describeError } from './errors';
import { clearStatus, statusStore } from './status';
import { useStore } from './store';

// On first load the browser's own focus order should win (skip link first); once the patron has done
// something, each new screen moves focus to its h1 so keyboard and screen-reader users land on it.
let interacted = false;
if (typeof window !== 'undefined') {
  const mark = () => {
    interacted = true;
  };
  window.addEventListener('keydown', mark, { capture: true, once: true });
  window.addEventListener('pointerdown', mark, { capture: true, once: true });
}

/** A screen: one h1, focused when the screen opens after an interaction. */
export function Screen({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Lending`;
    if (interacted) heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section className="screen" aria-labelledby="screen-title">
      <div className="screen-head">
        <h1 id="screen-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** The page's one polite live region; it is always in the DOM so changes are announced. */
export function StatusLine() {
  const status = useStore(statusStore);
  return (
    <div className="status-slot" role="status" aria-live="polite" aria-atomic="true">
      {status && (
        <p key={status.id} className={`status status-${status.tone}`}>
          <span>{status.text}</span>
          <button type="button" className="link-button" onClick={clearStatus}>
            Dismiss
          </button>
        </p>
      )}
    </div>
  );
}

export function Loading({ label, rows = 4 }: { label: string; rows?: number }) {
  return (
    <div className="loading" aria-busy="true">
      <p className="muted">{label}</p>
      <ul className="skeletons" aria-hidden="true">
        {Array.from({ length: rows }, (_, i) => (
          <li key={i} className="skeleton" />
        ))}
      </ul>
    </div>
  );
}

export function Waiting({ what }: { what: string }) {
  return (
    <div className="notice notice-offline">
      <p>
        <strong>You are offline.</strong> {what} will load when your connection is back.
      </p>
    </div>
  );
}

export function LoadError({ error, onRetry, what }: { error: unknown; onRetry: () => void; what: string }) {
  const problem = describeError(error);
  return (
    <div className="notice notice-error">
      <p>
        <strong>We could not load {what}.</strong> {problem.message}
      </p>
      <button type="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** A text field's value from submitted form data ('' when absent). */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

export interface TextFieldProps {
  /** The form's prefix of the input's id (`<idPrefix>-<name>`): two forms on one page never share an id. */
  idPrefix: string;
  name: string;
  label: string;
  type: 'email' | 'password' | 'text';
  autoComplete: string;
  inputMode?: 'numeric';
  error: string | undefined;
  ref: Ref<HTMLInputElement>;
}

/** The "Remember me" checkbox of a login form (`remember`: persistent cookies). */
export function RememberMe({ idPrefix }: { idPrefix: string }) {
  const id = `${idPrefix}-remember`;
  return (
    <div className="check">
      <input id={id} name="remember" type="checkbox" />
      <label htmlFor={id}>Remember me</label>
    </div>
  );
}

/** A required text input with its label and, when `error` is set, the error tied to it for assistive tech. */
export function TextField({
  idPrefix,
  name,
  label,
  type,
  autoComplete,
  inputMode,
  error,
  ref,
}: TextFieldProps) {
  const id = `${idPrefix}-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        ref={ref}
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        inputMode={inputMode}
        required
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        spellCheck={false}
        autoCapitalize="none"
      />
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
