// The API key lives in sessionStorage only: it goes away with the tab, it is never put in
// a URL (so never in history, referrers or server logs) and never written to the console.
const KEY = "tierline.apiKey";

export const session = {
  get apiKey(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(apiKey: string): void {
    sessionStorage.setItem(KEY, apiKey);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};
