// The console's only script (served by Twofold; the pages run no inline script). Every page works
// without it: it only submits the language switch when it changes and hides that form's button.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) { select.form.submit(); }
    });
  });
});
