/** A few DOM helpers: the UI builds elements with these and never parses HTML (no innerHTML). */

type Child = Node | string | null | undefined | false;
type Props = {
  className?: string;
  /** data-* attributes (`testid` becomes `data-testid`). */
  data?: Record<string, string | number | boolean>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
  attrs?: Record<string, string>;
} & Record<string, unknown>;

/** Creates `<tag>` with properties, data attributes, listeners and children (text stays text). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  const { data, on, attrs, ...rest } = props;
  Object.assign(element, rest);
  for (const [key, value] of Object.entries(data ?? {})) element.dataset[key] = String(value);
  for (const [key, value] of Object.entries(attrs ?? {})) element.setAttribute(key, value);
  for (const [type, listener] of Object.entries(on ?? {})) element.addEventListener(type, listener as EventListener);
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  return element;
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
}

/** A small form: one text input and a submit button; `onSubmit` gets the trimmed value. */
export function singleFieldForm(options: {
  testid: string;
  label: string;
  placeholder: string;
  button: string;
  onSubmit: (value: string, form: HTMLFormElement) => Promise<void> | void;
}): HTMLFormElement {
  const input = h("input", { type: "text", placeholder: options.placeholder, required: true, data: { testid: `${options.testid}-input` }, attrs: { "aria-label": options.label } });
  const form: HTMLFormElement = h(
    "form",
    {
      className: "inline-form",
      data: { testid: `${options.testid}-form` },
      on: {
        submit: (event) => {
          event.preventDefault();
          const value = input.value.trim();
          if (value) void Promise.resolve(options.onSubmit(value, form)).then(() => (input.value = ""));
        },
      },
    },
    h("label", {}, options.label, input),
    h("button", { type: "submit", data: { testid: `${options.testid}-submit` } }, options.button),
  );
  return form;
}

/** "14:03", or "Dec 7, 14:03" for another day, in the browser's locale. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : date.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** Snowflake ids as strings compared as the 64-bit numbers they are (they sort by time). */
export const compareIds = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);
