// Tend's progressive enhancement. Every page works without this file.
// Copy buttons: <button data-copy="#id"> copies the text of the element it names.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    button.textContent = "Copied";
  });
});

// Questionnaire autosave: each change is saved in the background; the form works without it.
document.querySelectorAll("form[data-autosave]").forEach((form) => {
  const progress = document.getElementById("progress");
  let saving = Promise.resolve();
  const save = () => {
    const data = new URLSearchParams(new FormData(form));
    data.set("action", "save");
    saving = saving.then(() =>
      fetch(form.dataset.autosave, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Tend-Autosave": "1" },
        body: data,
        credentials: "same-origin",
      }).then((res) => {
        const version = res.headers.get("x-tend-version");
        if (res.ok && version) {
          form.querySelector('input[name="version"]').value = version;
          const groups = form.querySelectorAll("fieldset");
          const answered = [...groups].filter((g) => g.querySelector("input:checked")).length;
          if (progress) progress.textContent = `${answered} of ${groups.length} answered. Saved.`;
        } else if (progress) {
          progress.textContent = "We couldn't save just now. Your answers are still here; use the Save button below.";
        }
      }).catch(() => {
        if (progress) progress.textContent = "You seem to be offline. Your answers are still here; we'll save when you press a button.";
      })
    );
  };
  form.addEventListener("change", save);
});

// One question at a time (an option, remembered on this device): shows a single question
// with Back and Next, moving focus to each new question for screen-reader and keyboard users.
document.querySelectorAll("form.measure-form").forEach((form) => {
  const toggle = document.getElementById("one-at-a-time");
  const nav = form.querySelector(".stepper-nav");
  const questions = [...form.querySelectorAll("fieldset.question")];
  if (!toggle || !nav || questions.length < 2) return;
  toggle.closest(".stepper-toggle").hidden = false;
  let current = Math.max(0, questions.findIndex((q) => !q.querySelector("input:checked")));
  const show = () => {
    questions.forEach((q, i) => q.classList.toggle("current", i === current));
    nav.querySelector('[data-step="-1"]').disabled = current === 0;
    nav.querySelector('[data-step="1"]').disabled = current === questions.length - 1;
  };
  const setMode = (on, remember) => {
    form.classList.toggle("stepper", on);
    nav.hidden = !on;
    toggle.setAttribute("aria-pressed", String(on));
    toggle.textContent = on ? "Show all questions" : "Show one question at a time";
    if (remember) localStorage.setItem("tend.oneAtATime", on ? "1" : "0");
    show();
  };
  toggle.addEventListener("click", () => setMode(!form.classList.contains("stepper"), true));
  nav.addEventListener("click", (event) => {
    const step = Number(event.target.closest("[data-step]")?.dataset.step || 0);
    if (!step) return;
    current = Math.min(questions.length - 1, Math.max(0, current + step));
    show();
    const legend = questions[current].querySelector("legend");
    legend.setAttribute("tabindex", "-1");
    legend.focus();
  });
  setMode(localStorage.getItem("tend.oneAtATime") === "1", false);
});

// Guided practice player: a timer with pause and resume that walks through the steps, and an
// optional soft chime made in the browser (no audio file is fetched).
document.querySelectorAll("[data-player]").forEach((player) => {
  const controls = player.querySelector(".player-controls");
  const steps = [...player.querySelectorAll(".steps li")];
  const remainingEl = player.querySelector("[data-remaining]");
  const start = player.querySelector("[data-start]");
  const pause = player.querySelector("[data-pause]");
  const chime = player.querySelector("[data-chime]");
  const minutesField = document.querySelector("[data-minutes]");
  if (!controls || steps.length === 0) return;
  controls.hidden = false;
  const bounds = [];
  let total = 0;
  steps.forEach((s) => { total += Number(s.dataset.seconds || 60); bounds.push(total); });
  let elapsed = 0, timer = null, current = -1, audio = null;
  const ring = () => {
    if (!chime.checked) return;
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = "sine"; osc.frequency.value = 528;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.15, audio.currentTime + 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 2.5);
    osc.connect(gain).connect(audio.destination); osc.start(); osc.stop(audio.currentTime + 2.6);
  };
  const render = () => {
    const left = Math.max(0, total - elapsed);
    remainingEl.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    const step = bounds.findIndex((b) => elapsed < b);
    if (step !== current) {
      if (current !== -1) ring();
      current = step;
      steps.forEach((s, i) => s.classList.toggle("active", i === step));
    }
    if (minutesField) minutesField.value = String(Math.max(1, Math.round(elapsed / 60)));
  };
  const stop = () => { clearInterval(timer); timer = null; start.disabled = false; pause.disabled = true; };
  start.addEventListener("click", () => {
    if (timer) return;
    start.textContent = "Resume"; start.disabled = true; pause.disabled = false;
    timer = setInterval(() => { elapsed += 1; render(); if (elapsed >= total) { stop(); ring(); start.textContent = "Start again"; elapsed = 0; } }, 1000);
  });
  pause.addEventListener("click", stop);
  render();
});

// Drafts that are never lost: every change goes to local storage first and stays there until
// the server confirms it; saves run a few seconds after typing stops and when the field loses
// focus; unsent text is restored after a crash or lost connection; a save names the version it
// started from, and a 409 shows the stored version instead of overwriting it.
document.querySelectorAll("form[data-draft]").forEach((form) => {
  const url = form.dataset.draft;
  const key = `tend.draft.${form.dataset.draftId}`;
  const area = form.querySelector("[data-draft-text]");
  const versionField = form.querySelector("[data-version]");
  const status = document.getElementById("draft-status");
  const say = (text) => { if (status) status.textContent = text; };
  let timer = null, inFlight = false, again = false;
  const remember = () => localStorage.setItem(key, JSON.stringify({ text: area.value, version: Number(versionField.value), at: Date.now() }));
  const send = async () => {
    if (inFlight) { again = true; return; }
    const pending = JSON.parse(localStorage.getItem(key) || "null");
    if (!pending) return;
    inFlight = true;
    try {
      const res = await fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: pending.text, version: pending.version }) });
      if (res.ok) {
        const body = await res.json();
        versionField.value = String(body.version);
        const now = JSON.parse(localStorage.getItem(key) || "null");
        if (now && now.text === pending.text) localStorage.removeItem(key); else remember();
        say("Saved.");
        if (body.show_crisis_resources) document.getElementById("draft-crisis").hidden = false;
      } else if (res.status === 409) {
        say("This letter was changed in another window. Your text is kept on this device; press Save to see both versions.");
      } else {
        say("Not saved yet; your words are kept on this device.");
      }
    } catch (_) {
      say("You seem to be offline. Your words are kept on this device and will be sent when you're back.");
    } finally {
      inFlight = false;
      if (again) { again = false; send(); }
    }
  };
  const local = JSON.parse(localStorage.getItem(key) || "null");
  if (local && local.text !== area.value) {
    area.value = local.text;
    say("We restored words that hadn't reached the server yet. Sending them now.");
    send();
  }
  area.addEventListener("input", () => { remember(); say("Saving…"); clearTimeout(timer); timer = setTimeout(send, 3000); });
  area.addEventListener("blur", () => { clearTimeout(timer); send(); });
  window.addEventListener("online", send);
  form.addEventListener("submit", () => localStorage.removeItem(key));
});

// Print buttons (hidden without JavaScript; the browser's own print works either way).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});

// Messages: new ones arrive live over Server-Sent Events (the page still works by reloading
// without them), and sending never loses the text: it stays in the box and on this device
// until the server says it is stored; a resend carries the same key, so it is never doubled.
document.querySelectorAll("ol.messages[data-conversation]").forEach((list) => {
  const id = list.dataset.conversation;
  const seen = new Set([...list.querySelectorAll("li[data-id]")].map((li) => li.dataset.id));
  const markRead = (upTo) => fetch(`/api/v1/conversations/${id}/read`, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ up_to: upTo }) }).catch(() => {});
  const add = (m) => {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    const li = document.createElement("li");
    li.className = m.mine ? "message mine" : "message";
    li.dataset.id = m.id;
    const meta = document.createElement("p");
    meta.className = "meta";
    const who = document.createElement("strong");
    who.textContent = m.mine ? "You" : m.sender_name;
    const when = document.createElement("time");
    when.dateTime = m.created_at;
    when.textContent = m.created_display;
    meta.append(who, " · ", when);
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = m.body;
    li.append(meta, body);
    list.append(li);
    const empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    list.dataset.after = m.id;
    if (!m.mine && document.visibilityState === "visible") markRead(m.id);
  };
  if ("EventSource" in window) {
    const source = new EventSource(`/messages/${id}/events?after=${list.dataset.after}`);
    source.addEventListener("message", (e) => { try { add(JSON.parse(e.data)); } catch (_) { /* ignore a malformed event */ } });
    source.addEventListener("open", () => { list.dataset.live = "yes"; });
  }
  const form = document.querySelector(`form.composer[data-conversation="${id}"]`);
  if (!form) return;
  const area = form.querySelector("textarea");
  const keyField = form.querySelector("[name=client_key]");
  const status = form.querySelector(".send-status");
  const draftKey = `tend.message.${id}`;
  const saved = JSON.parse(localStorage.getItem(draftKey) || "null");
  if (saved && !area.value) { area.value = saved.text; keyField.value = saved.key; status.textContent = "We kept a message that hadn't been sent yet."; }
  const remember = () => localStorage.setItem(draftKey, JSON.stringify({ text: area.value, key: keyField.value }));
  area.addEventListener("input", remember);
  form.addEventListener("submit", async (e) => {
    // "Check my draft" posts the form to the coach as a normal page; keep the draft for later.
    if (e.submitter && e.submitter.hasAttribute("formaction")) { remember(); return; }
    e.preventDefault();
    if (!area.value.trim()) { status.textContent = "Please write something first."; area.focus(); return; }
    remember();
    status.textContent = "Sending…";
    try {
      const res = await fetch(`/api/v1/conversations/${id}/messages`, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ body: area.value, client_key: keyField.value }) });
      if (res.ok) {
        const sent = await res.json();
        add(sent.message);
        area.value = "";
        localStorage.removeItem(draftKey);
        keyField.value = crypto.randomUUID();
        status.textContent = "Sent.";
        if (sent.show_crisis_resources) {
          const help = document.getElementById("help");
          help.hidden = false;
          help.scrollIntoView();
          const heading = help.querySelector("h2");
          if (heading) { heading.tabIndex = -1; heading.focus(); }
        }
      } else if (res.status === 429) {
        status.textContent = "You've sent several messages in a short time, so sending is paused for a minute. Your message is still here; please send it again shortly.";
      } else {
        let reason = "";
        try { const problem = await res.json(); reason = (problem.errors && problem.errors[0] && problem.errors[0].message) || problem.detail || ""; } catch (_) { /* not JSON */ }
        status.textContent = `Not sent. ${reason} Your message is still here.`;
      }
    } catch (_) {
      status.textContent = "Not sent: the connection dropped. Your message is kept on this device; please press Send again.";
    }
  });
});

// Signing out forgets the unsent writing this device kept (letters and messages are kept in
// local storage until the server has them): on a shared computer the next person must not
// find them. The server's Clear-Site-Data header does the same where browsers honour it.
document.querySelectorAll('form[action="/logout"]').forEach((form) => {
  form.addEventListener("submit", () => {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key && (key.startsWith("tend.draft.") || key.startsWith("tend.message."))) localStorage.removeItem(key);
    }
  });
});
