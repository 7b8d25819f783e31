import { useRef, useState } from 'preact/hooks';

/** Enter sends, Shift+Enter starts a new line; `onTyping` is told of every keystroke that changes the text. */
export function Composer({
  disabled,
  onSend,
  onTyping,
  label = 'Message',
  placeholder = 'Write a message — Enter to send, Shift+Enter for a new line',
}: {
  disabled: boolean;
  onSend: (body: string) => string | undefined;
  onTyping?: () => void;
  label?: string;
  placeholder?: string;
}) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [error, setError] = useState('');
  const submit = () => {
    const el = input.current;
    if (!el) return;
    const problem = onSend(el.value);
    setError(problem ?? '');
    if (!problem && el.value.trim() !== '') el.value = '';
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        ref={input}
        rows={2}
        disabled={disabled}
        placeholder={placeholder}
        aria-label={label}
        onInput={() => onTyping?.()}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" disabled={disabled}>
        Send
      </button>
      <span class="composer-error" role="alert">
        {error}
      </span>
    </form>
  );
}
