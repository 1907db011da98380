// A headless Chromium for the browser tests, from npm alone: @sparticuz/chromium ships the
// binary inside its package (Linux x64); elsewhere an installed Chromium or Chrome
// (TIERLINE_CHROMIUM, then the usual paths). No browser at all is a failure, never a skip.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const LAUNCH_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const INSTALLED = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

async function executablePath(): Promise<string> {
  if (process.env.TIERLINE_CHROMIUM) return process.env.TIERLINE_CHROMIUM;
  const tried: string[] = [];
  if (process.platform === "linux" && process.arch === "x64") {
    try {
      const { default: packaged } = await import("@sparticuz/chromium");
      return await packaged.executablePath();
    } catch (error) {
      tried.push(`@sparticuz/chromium: ${(error as Error).message}`);
    }
  }
  const installed = INSTALLED.find((p) => existsSync(p));
  if (installed) return installed;
  throw new Error(
    `No Chromium for the browser tests. Tried ${[...tried, ...INSTALLED].join("; ")}. ` +
      "Run npm install on Linux x64, install Chromium, or set TIERLINE_CHROMIUM to a Chrome/Chromium binary.",
  );
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: await executablePath(), headless: true, args: LAUNCH_FLAGS });
}
