// @ts-check
// The address after `#` never reaches the server. Carry it through the sign-in form, so a link
// to a build page (from a GitHub commit status) lands on that page once signed in.
const next = document.querySelector('input[name="next"]');
if (next instanceof HTMLInputElement && window.location.hash.startsWith('#/')) next.value = window.location.hash;
