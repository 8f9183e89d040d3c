/* global window, location, fetch */
// Starts the first page's requests while the app's code is still loading; web/src/api.ts takes them
// over (each once). A plain script from the same origin, so a strict Content-Security-Policy allows it.
(function () {
  var get = function (path) {
    return fetch('/api/v1' + path, { credentials: 'same-origin', headers: { 'x-requested-with': 'palier' } });
  };
  // A vendor's page has no session to ask about.
  if (location.pathname.indexOf('/vendor/') === 0) return;
  var boot = { '/users/me': get('/users/me') };
  if (location.pathname === '/queue') boot['/queue?'] = get('/queue?');
  window.palierBoot = boot;
})();
