/* Ping'an (平安) — starts Swagger UI on the API docs page (/api/docs). Swagger's own initializer
 * is an inline script, which the Content-Security-Policy forbids; this is it, as a static file.
 * No validator badge (it would fetch from validator.swagger.io); "Try it out" sends the page's
 * CSRF token, as the app's own requests do. */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.ui = window.SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    requestInterceptor: function (req) {
      if (meta) { req.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
      return req;
    }
  });
})();
