import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '@parley/client';
import { describeError, isStatus, rest } from './api.js';

/** Register (username, password, optional display name) or log in. */
export function AuthForm({ message, onSignedIn }: { message?: string; onSignedIn: (me: User) => void }) {
  const form = useRef<HTMLFormElement>(null);
  const username = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);
  const displayName = useRef<HTMLInputElement>(null);
  const [error, setError] = useState(message ?? '');
  const [busy, setBusy] = useState(false);
  useEffect(() => username.current?.focus(), []);

  const run = async (register: boolean) => {
    setError('');
    if (!form.current?.reportValidity()) return;
    const [name, secret] = [username.current?.value ?? '', password.current?.value ?? ''];
    setBusy(true);
    try {
      if (register) await rest.register(name, secret, displayName.current?.value.trim() || undefined);
      onSignedIn((await rest.login(name, secret)).user);
    } catch (err) {
      if (isStatus(err, 401)) setError('Wrong username or password.');
      else if (isStatus(err, 409)) setError('That username is taken.');
      else setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <form
      ref={form}
      class="auth card"
      onSubmit={(e) => {
        e.preventDefault();
        void run(false);
      }}
    >
      <h2>Sign in to Parley</h2>
      <label>
        <span>Username</span>
        <input ref={username} name="username" autocomplete="username" required minLength={3} maxLength={32} />
      </label>
      <label>
        <span>Password</span>
        <input ref={password} name="password" type="password" autocomplete="current-password" required minLength={8} maxLength={256} />
      </label>
      <label>
        <span>Display name (new accounts)</span>
        <input ref={displayName} name="display_name" autocomplete="nickname" maxLength={64} placeholder="optional" />
      </label>
      <p class="error" role="alert">
        {error}
      </p>
      <div class="row">
        <button type="submit" name="login" disabled={busy}>
          Log in
        </button>
        <button type="button" name="register" class="secondary" disabled={busy} onClick={() => void run(true)}>
          Create account
        </button>
      </div>
    </form>
  );
}
