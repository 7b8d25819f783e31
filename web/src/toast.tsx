import { useEffect, useState } from 'preact/hooks';

export type ToastKind = 'info' | 'warn' | 'error';
interface Toast {
  text: string;
  kind: ToastKind;
  at: number;
}

const listeners = new Set<(t: Toast | undefined) => void>();
let timer: ReturnType<typeof setTimeout> | undefined;

/** A short notice at the bottom of the screen (rate limits, restarts, failures). */
export function toast(text: string, kind: ToastKind = 'info'): void {
  const t = { text, kind, at: Date.now() };
  for (const fn of listeners) fn(t);
  clearTimeout(timer);
  timer = setTimeout(() => listeners.forEach((fn) => fn(undefined)), 5000);
}

export function ToastArea() {
  const [current, setCurrent] = useState<Toast | undefined>(undefined);
  useEffect(() => {
    listeners.add(setCurrent);
    return () => void listeners.delete(setCurrent);
  }, []);
  return (
    <div id="toast" role="status" aria-live="polite">
      {current && <div class={`toast ${current.kind}`}>{current.text}</div>}
    </div>
  );
}
