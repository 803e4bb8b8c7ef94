// keyward console: progressive enhancement only. Every page works without this file; it adds
// copy and show buttons, confirmation before destructive forms, and submit-on-change toggles.
"use strict";

document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const field = document.getElementById(copy.dataset.copy);
    if (field && navigator.clipboard) {
      navigator.clipboard.writeText(field.value || field.textContent).then(() => {
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = "Copy"; }, 1500);
      });
    }
    return;
  }
  const reveal = event.target.closest("[data-reveal]");
  if (reveal) {
    const field = document.getElementById(reveal.dataset.reveal);
    if (field) {
      const hidden = field.type === "password";
      field.type = hidden ? "text" : "password";
      reveal.textContent = hidden ? "Hide" : "Show";
    }
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // A keystore download leaves the page as it was; show the new credential once it is made.
  if (form.dataset.reloadAfter) {
    setTimeout(() => window.location.reload(), Number(form.dataset.reloadAfter));
  }
});

// "Use JWKS URL" shows the URL field only when switched on.
for (const toggle of document.querySelectorAll("[data-toggles]")) {
  const target = document.getElementById(toggle.dataset.toggles);
  const sync = () => { if (target) target.hidden = !toggle.checked; };
  toggle.addEventListener("change", sync);
  sync();
}
