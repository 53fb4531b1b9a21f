// End-to-end tests in Debian's headless Chromium: sign in as each role through the real
// pages and run axe-core (WCAG 2.1 A and AA) on every page visited, in light and dark mode
// and at a 360 px phone width. The server is started on a free port with the demo practice;
// we wait for its "ready" line, never for a fixed time.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const TEND = process.env.TEND_BIN ?? join(process.cwd(), "..", "target", "debug", "tend");
const PASSWORD = "tend-demo-practice";
const DEMO_SECRET = Buffer.from("tend-demo-totp-key!!");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

let server, base, browser, dataDir;
const visited = new Set();

/** RFC 6238 code for the demo secret, `offset` steps from now. */
function totp(offset = 0) {
  const counter = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac("sha1", DEMO_SECRET).update(msg).digest();
  const o = h[19] & 0xf;
  const v = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(v % 1_000_000).padStart(6, "0");
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "tend-e2e-"));
  const env = { ...process.env, TEND_DATA_DIR: dataDir, TEND_LOG_FORMAT: "json" };
  delete env.DATABASE_URL;
  execFileSync(TEND, ["demo"], { env, stdio: "ignore" });
  server = spawn(TEND, ["serve", "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/Tend is ready at (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`tend exited early with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh browser context; CSP is bypassed only so the test can inject axe-core. */
async function newPage(options = {}) {
  const context = await browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  const offsite = [];
  page.on("request", (req) => {
    if (!req.url().startsWith(base) && !req.url().startsWith("data:")) offsite.push(req.url());
  });
  page.offsite = offsite;
  return page;
}

/** Runs axe-core on the current page (light, dark, and at phone width) and fails on any WCAG 2.1 A/AA violation. */
async function checkPage(page, label) {
  visited.add(label);
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
    // Let Chromium restyle and paint in the new scheme before measuring contrast; without
    // this, axe sometimes reads a mix of the old and new colours.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await page.addScriptTag({ path: AXE });
    let result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), WCAG);
    // Chromium occasionally reports contrast from a half-applied colour scheme; measure again
    // after more frames before calling a contrast failure real (a real one fails every time).
    for (let retry = 0; retry < 3 && result.violations.length > 0 && result.violations.every((v) => v.id === "color-contrast"); retry++) {
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(done)))));
      result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), WCAG);
    }
    const summary = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`).join("; ")})`);
    assert.deepEqual(summary, [], `${label} (${scheme}) has accessibility violations`);
  }
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `${label} scrolls sideways at ${widths[1]}px (${widths[0]}px wide)`);
  assert.deepEqual(page.offsite, [], `${label} made third-party requests`);
}

async function signIn(page, email, { mfa = false } = {}) {
  await page.goto(`${base}/login`);
  await checkPage(page, "sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (mfa) {
    await page.waitForURL(/\/login\/mfa/);
    await checkPage(page, "two-step sign-in");
    await page.getByLabel("Code").fill(totp());
    await page.getByRole("button", { name: "Continue" }).click();
  }
  await page.waitForURL(`${base}/`);
}

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };

test("a visitor sees a calm welcome, sign-in, and a kind 404", async () => {
  const page = await newPage(PHONE);
  await page.goto(base);
  assert.equal(await page.locator("h1").textContent(), "Welcome to Tend");
  await checkPage(page, "welcome");
  const res = await page.goto(`${base}/no-such-page`);
  assert.equal(res.status(), 404);
  await checkPage(page, "not found");
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill("amara@tend.example");
  await page.getByLabel("Password").fill("not the right one");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#error-summary").waitFor();
  await checkPage(page, "sign-in with an error");
  await page.context().close();
});

test("a client signs in on a phone, reads their record and their account", async () => {
  const page = await newPage(PHONE);
  await signIn(page, "amara@tend.example");
  assert.equal(await page.locator("h1").textContent(), "Hello, Amara Nwosu");
  await checkPage(page, "client home");
  // A questionnaire is waiting: answer it on the phone, autosaved as we go.
  await page.getByRole("link", { name: /GAD-7/ }).click();
  await page.locator("fieldset.question").first().waitFor();
  await checkPage(page, "questionnaire form");
  // One question at a time, as a phone user might choose.
  await page.getByRole("button", { name: "Show one question at a time" }).click();
  const questions = page.locator("fieldset.question");
  const count = await questions.count();
  for (let i = 0; i < count; i++) {
    assert.equal(await page.locator("fieldset.question:visible").count(), 1);
    await questions.nth(i).getByRole("radio").nth(1).check();
    if (i === 0) await checkPage(page, "questionnaire, one at a time");
    if (i < count - 1) await page.getByRole("button", { name: "Next question" }).click();
  }
  await page.getByRole("button", { name: "Finish" }).click();
  await page.locator("h1", { hasText: "Thank you" }).waitFor();
  assert.match(await page.locator("main").textContent(), /Your score is 7/);
  await checkPage(page, "questionnaire done");
  await page.getByRole("link", { name: "Back to home" }).click();
  await page.getByRole("link", { name: "Your progress" }).click();
  await page.locator("svg[role=img]").first().waitFor();
  await checkPage(page, "client progress");
  await page.getByRole("navigation").getByRole("link", { name: "Home" }).click();
  await page.getByRole("link", { name: "Your record" }).click();
  await page.locator("h1", { hasText: "Your record" }).waitFor();
  assert.match(await page.locator("main").textContent(), /more in control of her anxiety/);
  await checkPage(page, "client record");
  await page.getByRole("navigation").getByRole("link", { name: "Home" }).click();
  await page.getByRole("link", { name: "Your plan for therapy" }).click();
  await page.locator("h1", { hasText: "Your plan for therapy" }).waitFor();
  await checkPage(page, "client treatment plan");
  await page.getByRole("navigation").getByRole("link", { name: "Practice" }).click();
  await checkPage(page, "practice library");
  await page.getByRole("link", { name: "Slow breathing" }).click();
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByRole("button", { name: "Pause" }).click();
  await checkPage(page, "practice player");
  await page.getByLabel("And now? (optional)").selectOption("7");
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator("h1", { hasText: "Journal" }).waitFor();
  await page.getByLabel("What's on your mind").fill("A calmer evening than I expected.");
  await page.getByRole("button", { name: "Save entry" }).click();
  await page.getByText("A calmer evening than I expected.").waitFor();
  await checkPage(page, "journal");
  await page.getByRole("navigation").getByRole("link", { name: "Safety plan" }).click();
  await page.getByLabel(/Things I can do on my own/).fill("Slow breathing, then a walk by the river.");
  await page.getByRole("button", { name: "Save plan" }).click();
  await page.getByText(/Last changed/).waitFor();
  await checkPage(page, "safety plan");
  // Help is one tap away from every page; messages to the therapist work with live updates.
  await page.getByRole("link", { name: "Need help now?" }).click();
  await page.locator("h1", { hasText: "Need help now?" }).waitFor();
  await checkPage(page, "help now");
  await page.getByRole("navigation").getByRole("link", { name: /Messages/ }).click();
  await page.locator("h1", { hasText: "Messages" }).waitFor();
  await checkPage(page, "messages");
  await page.locator("main a[href^='/messages/']").first().click();
  await page.locator("#messages").waitFor();
  await page.waitForFunction(() => document.querySelector("#messages").dataset.live === "yes");
  await page.getByLabel("Your message").fill("Thank you for this week. The breathing helped.");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("li.message.mine", { hasText: "The breathing helped." }).waitFor();
  assert.equal(await page.getByLabel("Your message").inputValue(), "");
  await checkPage(page, "conversation");
  // An unsent message is kept on this device, until sign-out clears it (shared computers).
  await page.getByLabel("Your message").fill("A thought I have not sent yet.");
  const kept = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("tend.message.") || k.startsWith("tend.draft.")).length);
  assert.equal(await kept(), 1);
  await page.getByRole("link", { name: "Account" }).click();
  await checkPage(page, "client account");
  await page.goto(`${base}/account/mfa`);
  await checkPage(page, "client two-step set-up");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/signed_out/);
  assert.equal(await kept(), 0, "unsent writing was left on the device after sign-out");
  await checkPage(page, "signed out");
  await page.context().close();
});

test("a letter written offline survives a closed tab and reaches the server later", async () => {
  const page = await newPage();
  await signIn(page, "ben@tend.example");
  await page.goto(`${base}/letters`);
  await checkPage(page, "letters");
  await page.getByRole("button", { name: "Start a new letter" }).click();
  await page.getByLabel("Your letter").waitFor();
  await checkPage(page, "letter editor");
  const letterUrl = page.url();
  await page.getByLabel("Your letter").fill("Dear Ben, ");
  await page.getByLabel("Your letter").blur();
  await page.getByText("Saved.").waitFor();
  // The connection drops; the writing goes on; then the tab is closed (a crash).
  await page.context().setOffline(true);
  await page.getByLabel("Your letter").pressSequentially("you have carried a lot this year.");
  await page.getByLabel("Your letter").blur();
  await page.getByText(/offline/).waitFor();
  await page.close();
  // Back online, the letter is opened again: the unsent words are restored and sent.
  const again = await page.context().newPage();
  again.offsite = [];
  await again.context().setOffline(false);
  await again.goto(letterUrl);
  await again.getByText("Saved.").waitFor();
  assert.equal(await again.getByLabel("Your letter").inputValue(), "Dear Ben, you have carried a lot this year.");
  const stored = await again.evaluate(async (u) => (await fetch(u.replace("/letters/", "/api/v1/drafts/"))).json(), letterUrl);
  assert.equal(stored.text, "Dear Ben, you have carried a lot this year.");
  await again.context().close();
});

test("a therapist signs in with a code, sees the caseload, opens and edits a record", async () => {
  const page = await newPage();
  await signIn(page, "maya@tend.example", { mfa: true });
  await checkPage(page, "therapist home");
  await page.getByRole("navigation").getByRole("link", { name: "Clients" }).click();
  await page.locator("h1", { hasText: "Your clients" }).waitFor();
  // Five current clients, plus one of each course still in care from the practice's history.
  assert.equal(await page.locator("tbody tr").count(), 8);
  await checkPage(page, "caseload");
  assert.ok(await page.getByText("Not on track").count() >= 2, "Chloé and Dev are not on track");
  await page.getByRole("link", { name: "Ben Carter" }).click();
  await checkPage(page, "client record (therapist)");
  await page.getByRole("link", { name: "Questionnaires and progress" }).click();
  await page.locator("svg[role=img]").first().waitFor();
  await checkPage(page, "progress (therapist)");
  await page.getByRole("navigation").getByRole("link", { name: "Progress" }).click();
  await page.locator("h1", { hasText: "Progress overview" }).waitFor();
  await checkPage(page, "progress overview");
  await page.getByRole("navigation").getByRole("link", { name: "Clients" }).click();
  await page.getByRole("link", { name: "Ben Carter" }).click();
  await page.getByLabel("What brings them to therapy, in your words").fill("Ben would like to reconnect with friends and feel less alone.");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  // A session note: written in a template, signed, then only added to.
  await page.getByRole("link", { name: "Session notes" }).click();
  await page.locator("h1", { hasText: "Session notes" }).waitFor();
  await checkPage(page, "session notes");
  await page.getByRole("link", { name: "SOAP", exact: true }).click();
  await page.getByLabel("Subjective").waitFor();
  await checkPage(page, "new SOAP note");
  await page.getByLabel("Subjective").fill("Ben said the walk with his brother helped.");
  await page.getByRole("button", { name: "Sign and lock" }).click();
  await page.locator("#addendum").waitFor();
  assert.ok(await page.getByText("Ben said the walk with his brother helped.").count() === 1);
  await checkPage(page, "signed note");
  // The treatment plan: progress from the measures, then a change saved as a new version.
  await page.getByRole("navigation").getByRole("link", { name: "Clients" }).click();
  await page.getByRole("link", { name: "Ben Carter" }).click();
  await page.getByRole("link", { name: "Treatment plan" }).click();
  await page.locator("h1", { hasText: "Treatment plan" }).waitFor();
  assert.match(await page.locator("main").textContent(), /three good weeks in a row/);
  await checkPage(page, "treatment plan");
  await page.getByRole("link", { name: "Change the plan" }).click();
  await checkPage(page, "treatment plan form");
  await page.getByLabel("Problem 2").fill("Sleep that comes late and breaks early");
  await page.getByRole("button", { name: "Save plan" }).click();
  await page.getByText("Version 2,").first().waitFor();
  await page.getByRole("navigation").getByRole("link", { name: "Clients" }).click();
  await page.getByLabel("Name").fill("Amara again");
  await page.getByLabel("Email").fill("amara@tend.example");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.locator("#error-summary").waitFor();
  await checkPage(page, "invite with errors");
  // The therapist's directory side: profile, hours, requests and schedule.
  await page.goto(`${base}/directory/profile`);
  await page.locator("h1", { hasText: "Your directory profile" }).waitFor();
  await checkPage(page, "directory profile editor");
  await page.getByLabel("Fee per session").fill("-5");
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.locator("#error-summary").waitFor();
  await checkPage(page, "directory profile with errors");
  await page.goto(`${base}/directory/hours`);
  await checkPage(page, "hours and sessions");
  await page.goto(`${base}/directory/requests`);
  await checkPage(page, "directory requests");
  await page.getByRole("navigation").getByRole("link", { name: "Schedule" }).click();
  await page.locator("h1", { hasText: "Appointments" }).waitFor();
  assert.ok(await page.locator(".card", { hasText: "Individual session" }).count() >= 1, "demo sessions are booked");
  await checkPage(page, "therapist schedule");
  await page.context().close();
});

test("a visitor finds a therapist, sees why they match, and asks to work with them", async () => {
  const page = await newPage(PHONE);
  await page.goto(base);
  await page.getByRole("link", { name: "Find a therapist" }).click();
  await page.locator("h1", { hasText: "Find a therapist" }).waitFor();
  await checkPage(page, "directory");
  await page.getByLabel("Search").fill('grief "NEAR( -');
  await page.getByLabel("What would you like help with?").selectOption("grief");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.locator("#results-heading").waitFor();
  await checkPage(page, "directory results");
  await page.goto(`${base}/directory/match`);
  await page.getByLabel("Anxiety").check();
  await page.getByLabel("Language you'd like to speak").selectOption("es");
  await page.getByLabel("Evenings").check();
  await page.getByRole("button", { name: "Show who might suit me" }).click();
  await page.locator(".why").first().waitFor();
  assert.match(await page.locator(".why").first().textContent(), /speaks Spanish/);
  await checkPage(page, "matching results");
  await page.locator(".therapist-card h3 a").first().click();
  await page.locator(".profile").waitFor();
  await checkPage(page, "therapist profile");
  await page.locator("a.button", { hasText: /Ask to work with|Join the waitlist/ }).click();
  await checkPage(page, "request form");
  await page.getByLabel("Your name").fill("Robin Park");
  await page.getByLabel("Email, so they can reply").fill("robin@example.org");
  await page.getByLabel("A few words about what brings you (optional)").fill("I have been feeling anxious since I moved to a new city.");
  await page.getByRole("button", { name: /Send my request|Join the waitlist/ }).click();
  await page.locator("h1", { hasText: /on its way|waitlist/ }).waitFor();
  await checkPage(page, "request sent");
  await page.context().close();
});

test("a client books a session in their own time zone and moves it", async () => {
  const page = await newPage(PHONE);
  await signIn(page, "chloe@tend.example");
  await page.goto(`${base}/appointments`);
  await checkPage(page, "client appointments");
  await page.getByRole("link", { name: /Book with/ }).click();
  await page.getByRole("link", { name: "Individual session" }).click();
  await page.locator("button.slot").first().waitFor();
  await checkPage(page, "booking slots");
  await page.locator("button.slot").nth(2).click();
  await page.getByText("Booked.").waitFor();
  await page.locator("a", { hasText: "Move" }).first().click();
  await page.locator("button.slot").first().waitFor();
  await checkPage(page, "move a session");
  await page.locator("button.slot").nth(5).click();
  await page.getByText("Moved.").waitFor();
  await page.getByRole("button", { name: "Make my calendar address" }).click();
  await page.locator("code.break").waitFor();
  // The address names the configured public URL; fetch its path from this test server.
  const feedPath = new URL(await page.locator("code.break").textContent()).pathname;
  const feed = await (await fetch(`${base}${feedPath}`)).text();
  assert.ok(feed.startsWith("BEGIN:VCALENDAR"), feed.slice(0, 40));
  await checkPage(page, "calendar address");
  await page.context().close();
});

test("a therapist sees and acknowledges alerts", async () => {
  const page = await newPage();
  await signIn(page, "daniel@tend.example", { mfa: true });
  await page.getByRole("navigation").getByRole("link", { name: "Alerts" }).click();
  await page.locator("h1", { hasText: "Alerts" }).waitFor();
  assert.match(await page.locator("main").textContent(), /Urgent/);
  await checkPage(page, "alerts");
  await page.getByRole("button", { name: "Acknowledge" }).first().click();
  await page.locator("h1", { hasText: "Alerts" }).waitFor();
  await page.context().close();
});

test("a supervisor sees trainees but no client records, and comments on practice", async () => {
  const page = await newPage();
  await signIn(page, "helen@tend.example", { mfa: true });
  await page.getByRole("link", { name: "Trainees" }).click();
  assert.match(await page.locator("main").textContent(), /Daniel Reyes/);
  await checkPage(page, "trainees");
  await page.getByRole("link", { name: "Daniel Reyes's practice replies" }).click();
  await page.locator(".coach-chart svg").waitFor();
  await checkPage(page, "trainee practice over time");
  await page.locator("tbody tr a").last().click();
  await page.getByText("This one really lands").waitFor();
  await page.getByLabel("Comment", { exact: true }).fill("Lovely pacing here.");
  await page.getByRole("button", { name: "Post comment" }).click();
  await page.getByText("Lovely pacing here.").waitFor();
  await checkPage(page, "practice reply with comments");
  await page.getByRole("navigation").getByRole("link", { name: "Outcomes" }).click();
  await page.locator("h1", { hasText: "Practice outcomes" }).waitFor();
  assert.match(await page.locator("main").textContent(), /Whole practice/);
  await checkPage(page, "practice outcomes");
  await page.context().close();
});

test("a therapist practises with the coach and checks a draft", async () => {
  const page = await newPage();
  // Priya, not Daniel: Daniel signed in moments ago, and a two-step code is accepted only once.
  await signIn(page, "priya@tend.example", { mfa: true });
  await page.getByRole("navigation").getByRole("link", { name: "Coach" }).click();
  await page.locator("h1", { hasText: "Listening coach" }).waitFor();
  await checkPage(page, "coach scenarios");
  await page.getByRole("link", { name: "Nerves before a new job" }).click();
  await checkPage(page, "coach scenario");
  await page.getByLabel("Write what you would say back").fill("Did you sleep? Are you ready? You should just relax.");
  await page.getByRole("button", { name: "Get feedback" }).click();
  await page.locator("h2", { hasText: "What the coach noticed" }).waitFor();
  assert.match(await page.locator("main").textContent(), /closed questions/);
  await checkPage(page, "coach feedback");
  await page.getByRole("link", { name: "Your practice over time" }).click();
  await page.locator(".coach-chart svg").waitFor();
  await checkPage(page, "coach progress");
  await page.goto(`${base}/coach/check`);
  await page.getByLabel("What the client wrote").fill("I keep cancelling plans with friends and then feeling lonely.");
  await page.getByLabel("Your reply").fill("It sounds like part of you wants company and another part needs to hide for a while.");
  await page.getByRole("button", { name: "Check my draft" }).click();
  await page.locator("h2", { hasText: "What the coach noticed" }).waitFor();
  await checkPage(page, "check my draft");
  await page.goto(`${base}/coach/summary`);
  await page.getByLabel("Conversation").fill("Client: I can't stop worrying about money.\nTherapist: Money worries are following you everywhere. What worries you most?");
  await page.getByRole("button", { name: "Summarise" }).click();
  await page.getByText("Reflections per question").waitFor();
  await checkPage(page, "session summary");
  await page.context().close();
});

test("an admin manages people, reads the audit trail, and sees break-glass", async () => {
  const page = await newPage();
  await signIn(page, "admin@tend.example", { mfa: true });
  await checkPage(page, "admin home");
  await page.getByRole("navigation").getByRole("link", { name: "People" }).click();
  // 17 people in the practice, 27 earlier clients from its year of history, and 40
  // therapists listed in the demo directory.
  assert.equal(await page.locator("tbody tr").count(), 84);
  await checkPage(page, "people");
  await page.getByRole("link", { name: "Emergency access to Kofi Asante's record" }).click();
  await checkPage(page, "break-glass");
  await page.getByRole("navigation").getByRole("link", { name: "Questionnaires" }).click();
  await page.locator("h1", { hasText: "Questionnaires" }).waitFor();
  await checkPage(page, "questionnaires");
  await page.getByRole("navigation").getByRole("link", { name: "Audit" }).click();
  await checkPage(page, "audit trail");
  assert.match(await page.locator("tbody").textContent(), /auth\.sign_in/);
  await page.getByRole("navigation").getByRole("link", { name: "Directory" }).click();
  await page.locator("h1", { hasText: "Directory" }).waitFor();
  assert.ok(await page.locator("tbody tr").count() >= 43);
  await checkPage(page, "directory admin");
  await page.context().close();
});

test("the accessibility check itself can fail", async () => {
  const page = await newPage();
  await page.setContent('<html><body><img src="data:,"><input type="text"></body></html>');
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), WCAG);
  const ids = result.violations.map((v) => v.id);
  assert.ok(ids.includes("image-alt") && ids.includes("label") && ids.includes("html-has-lang"), ids.join(", "));
  await page.context().close();
});

test("every page kind was checked", () => {
  assert.ok(visited.size >= 40, `only ${visited.size} pages checked: ${[...visited].join(", ")}`);
});
