// Starts Swagger UI on this worker's own GET /openapi.json. A file rather than an inline script,
// because the Content-Security-Policy in _headers allows scripts from this origin only.
/* global SwaggerUIBundle */
window.addEventListener('DOMContentLoaded', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    // No badge from the public validator service: the page makes no request off this origin.
    validatorUrl: null,
    tryItOutEnabled: false,
    // Never take a document URL or settings from the page's query string (?url=...): this page
    // shows this worker's API only (connect-src 'self' in _headers enforces it too).
    queryConfigEnabled: false,
  })
})
