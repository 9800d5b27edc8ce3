// Words for a page's scripts, in the page's language. The server puts
// them in <script type="application/json" id="messages"> (app/locale);
// msg fills a message's {{.Field}}s, msgN picks a plural form with the
// language's rules and gives it {{.Count}}.
(function () {
  'use strict';
  const el = document.getElementById('messages');
  const all = el ? JSON.parse(el.textContent) : {};
  const lang = document.documentElement.lang || 'en';
  const rules = new Intl.PluralRules(lang);
  const numbers = new Intl.NumberFormat(lang);
  const fill = (s, vars) => s.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, k) => (vars && k in vars ? String(vars[k]) : ''));
  window.msg = function (id, vars) {
    const m = all[id];
    if (m === undefined) return id;
    return fill(typeof m === 'string' ? m : m.other, vars);
  };
  window.msgN = function (id, n, vars) {
    const m = all[id];
    if (m === undefined) return id;
    const form = typeof m === 'string' ? m : (m[rules.select(n)] || m.other);
    return fill(form, Object.assign({ Count: numbers.format(n) }, vars));
  };
})();
