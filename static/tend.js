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
