// The web view's entry: sign in, then the views each of the party's roles uses, chosen by
// the hash. Every view is a function that fills <main> from the v1 API.
import "./styles.css";
import { api, ApiError } from "./api.js";
import { clear, h } from "./dom.js";
import { parseRoute, type Route } from "./routes.js";
import { session } from "./session.js";
import type { Party, Role } from "./types.js";
import { describeError } from "./ui.js";
import { auditorHome } from "./views/auditor-home.js";
import { creditTreeView } from "./views/credit-tree.js";
import { debtorView } from "./views/debtor.js";
import { financierBook, marketView } from "./views/financier.js";
import { holdingsView } from "./views/holdings.js";
import { partyView } from "./views/party.js";
import { signInView } from "./views/sign-in.js";
import { submissionsView } from "./views/submissions.js";

const main = document.getElementById("main")!;
const top = document.getElementById("top")!;
let me: Party | null = null;

const NAV: Record<Role, Array<[string, string]>> = {
  auditor: [["Search", "#/"]],
  operator: [["Search", "#/"]],
  supplier: [
    ["What I hold", "#/holdings"],
    ["My submissions", "#/submissions"],
  ],
  financier: [
    ["Open market", "#/market"],
    ["My book", "#/book"],
  ],
  debtor: [["What I owe", "#/payables"]],
};

function homeRoute(party: Party): Route {
  if (party.roles.includes("auditor") || party.roles.includes("operator")) return { view: "home" };
  if (party.roles.includes("supplier")) return { view: "holdings" };
  if (party.roles.includes("financier")) return { view: "market" };
  return { view: "payables" };
}

function renderHeader(): void {
  clear(top);
  const brand = h("a", { class: "brand", href: "#/" }, "Tierline");
  if (!me) {
    top.append(brand);
    return;
  }
  const links = [...new Map(me.roles.flatMap((r) => NAV[r] ?? []).map(([label, href]) => [href, label]))];
  const current = `#${location.hash.replace(/^#/, "") || "/"}`;
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  signOut.addEventListener("click", () => {
    session.signOut();
    me = null;
    location.hash = "";
    void render();
  });
  top.append(
    brand,
    h(
      "nav",
      { "aria-label": "Main" },
      h(
        "ul",
        {},
        links.map(([href, label]) =>
          h("li", {}, h("a", { href, "aria-current": href === current ? "page" : null }, label)),
        ),
      ),
    ),
    h("p", { class: "who" }, h("span", { class: "who-name" }, me.name), ` · ${me.roles.join(", ")}`),
    signOut,
  );
}

async function viewFor(route: Route, party: Party): Promise<HTMLElement> {
  const r =
    route.view === "home" && !party.roles.some((x) => x === "auditor" || x === "operator") ? homeRoute(party) : route;
  switch (r.view) {
    case "tree":
      return creditTreeView(r.receivableId, party);
    case "party":
      return partyView(r.partyId, party);
    case "holdings":
      return holdingsView(party);
    case "submissions":
      return submissionsView(party);
    case "market":
      return marketView(party);
    case "book":
      return financierBook(party);
    case "payables":
      return debtorView(party);
    case "home":
      return auditorHome(party);
  }
}

let renderSeq = 0;
async function render(): Promise<void> {
  const seq = ++renderSeq;
  if (!me && session.apiKey) {
    try {
      me = await api.get<Party>("/v1/me");
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) session.signOut();
    }
  }
  renderHeader();
  clear(main);
  if (!me) {
    main.append(
      signInView((party) => {
        me = party;
        const home = homeRoute(party);
        const hash = home.view === "home" ? "#/" : `#/${home.view}`;
        if (location.hash === hash) void render();
        else location.hash = hash;
      }),
    );
    return;
  }
  main.append(h("p", { class: "loading", role: "status" }, "Loading…"));
  let view: HTMLElement;
  try {
    view = await viewFor(parseRoute(location.hash), me);
  } catch (e) {
    view = h("div", { class: "message error", role: "alert" }, describeError(e));
  }
  if (seq !== renderSeq) return; // a newer navigation won
  clear(main);
  main.append(view);
  // Move focus to the new view's heading so keyboard and screen-reader users start there.
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

window.addEventListener("hashchange", () => void render());
void render();
