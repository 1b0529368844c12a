// Progressive enhancement only: every control also works as a plain form or link.
// Changing the sort or the any-word switch re-runs the search at once.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.query");
  if (!form) return;
  form.querySelectorAll(".options select, .options input[type=checkbox]").forEach((control) => {
    control.addEventListener("change", () => form.requestSubmit());
  });
  // An empty date field is no bound: leave it out of the URL rather than send from=&to=.
  form.addEventListener("submit", () => {
    form.querySelectorAll(".options input[name=from], .options input[name=to]").forEach((field) => {
      field.disabled = field.value === "";
    });
  });
  // Back from another page, fields disabled by the last submit must work again.
  window.addEventListener("pageshow", () => {
    form.querySelectorAll("input[disabled]").forEach((field) => { field.disabled = false; });
  });
  // "/" focuses the search box, as on many search sites (not while typing elsewhere).
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      form.querySelector("input[type=search]").focus();
    }
  });
});
// The comparison form: a query box left empty is not a query (the API refuses an empty q).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.analysis-form").forEach((form) => {
    form.addEventListener("submit", () => {
      form.querySelectorAll("input[name=q]").forEach((field) => {
        field.disabled = field.value.trim() === "" && form.querySelectorAll("input[name=q]").length > 1;
      });
    });
    window.addEventListener("pageshow", () => {
      form.querySelectorAll("input[disabled]").forEach((field) => { field.disabled = false; });
    });
  });
});
