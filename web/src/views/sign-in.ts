// Sign in with an API key. The key is checked against GET /v1/me before it is kept (in
// sessionStorage only); a wrong key shows the API's own answer.
import { api } from "../api.js";
import { h } from "../dom.js";
import { session } from "../session.js";
import type { Party } from "../types.js";
import { field, messageBox } from "../ui.js";

export function signInView(onSignedIn: (me: Party) => void): HTMLElement {
  const input = h("input", {
    type: "password",
    name: "apiKey",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const box = messageBox();
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Tierline"),
    h(
      "p",
      {},
      "Paste your party's API key (the operator gives it once; the demo cast's keys are in .tierline/credentials.json). ",
      "It stays in this browser tab's session storage and is sent only in the Authorization header.",
    ),
    field("API key", input),
    button,
    box,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    button.disabled = true;
    try {
      const me = await api.get<Party>("/v1/me", key);
      session.signIn(key);
      input.value = "";
      onSignedIn(me);
    } catch (e) {
      box.showError(e);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  queueMicrotask(() => input.focus());
  return form;
}
