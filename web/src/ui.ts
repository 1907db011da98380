// Building blocks every view uses: sections with a heading, tables, a labelled field,
// a message box for errors (role="alert") and for results (role="status").
import { ApiError } from "./api.js";
import { h, uniqueId } from "./dom.js";

export function section(title: string, ...content: Array<Node | null | undefined>): HTMLElement {
  const id = uniqueId("sec");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Node | string;
  numeric?: boolean;
}

/** A table that scrolls sideways on a phone instead of squeezing its columns. */
export function table<T>(caption: string, columns: Column<T>[], rows: T[], empty = "Nothing yet."): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((row) => tableRow(columns, row)),
      ),
    ),
  );
}

function tableRow<T>(columns: Column<T>[], row: T): HTMLElement {
  return h(
    "tr",
    {},
    columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell(row))),
  );
}

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A list's first page as a table, and while more follow, a button that appends the next page
 * (long lists come in pages: a debtor of a whole book owes tens of thousands of receivables).
 */
export function pagedTable<T>(
  caption: string,
  columns: Column<T>[],
  first: ListPage<T>,
  total: number,
  nextPage: (cursor: string) => Promise<ListPage<T>>,
  empty?: string,
): HTMLElement {
  const wrap = table(caption, columns, first.items, empty);
  let cursor = first.nextCursor;
  const body = wrap.querySelector("tbody");
  if (cursor === null || !body) return wrap;
  let shown = first.items.length;
  const box = messageBox();
  const button = h("button", { type: "button", class: "more" }, "") as HTMLButtonElement;
  const label = () =>
    (button.textContent = `Show more (${shown.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} shown)`);
  label();
  button.addEventListener("click", () =>
    withBusy(button, box, async () => {
      const page = await nextPage(cursor!);
      for (const row of page.items) body.append(tableRow(columns, row));
      shown += page.items.length;
      cursor = page.nextCursor;
      if (cursor === null) button.remove();
      else label();
      return `${page.items.length} more ${caption.toLowerCase()}`;
    }),
  );
  return h("div", {}, wrap, button, box);
}

export function field(label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  input.id ||= uniqueId("f");
  const hintEl = hint ? h("span", { class: "hint", id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hintEl);
}

export function messageBox(): HTMLElement & { showError(e: unknown): void; showOk(text: string): void } {
  const box = h("div", { class: "message", hidden: true }) as unknown as HTMLElement & {
    showError(e: unknown): void;
    showOk(text: string): void;
  };
  box.showError = (e: unknown) => {
    box.hidden = false;
    box.className = "message error";
    box.setAttribute("role", "alert");
    box.textContent = describeError(e);
  };
  box.showOk = (text: string) => {
    box.hidden = false;
    box.className = "message ok";
    box.setAttribute("role", "status");
    box.textContent = text;
  };
  return box;
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = (e.details as { fields?: Array<{ path: string; message: string }> } | null)?.fields;
    const more = fields?.length ? ` (${fields.map((f) => `${f.path}: ${f.message}`).join("; ")})` : "";
    return `${e.message}${more} [${e.code}]`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Runs `action` with the button disabled, showing its outcome in `box`. */
export async function withBusy(
  button: HTMLButtonElement,
  box: ReturnType<typeof messageBox>,
  action: () => Promise<string>,
) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    box.showOk(await action());
  } catch (e) {
    box.showError(e);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export const badge = (text: string, kind = text) => h("span", { class: `badge badge-${kind}` }, text);

export const link = (text: string, hash: string) => h("a", { href: hash }, text);

export const loading = () => h("p", { class: "loading", role: "status" }, "Loading…");
