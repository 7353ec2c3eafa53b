// Placeholder until the emulator's phone page (issue 10, item 3) replaces it.
const app = document.getElementById("app");
if (app) app.textContent = "wxqr emulator";
