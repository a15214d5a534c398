// The interactive API page (/docs), from Swagger UI shipped in the package: no CDN, and under the same
// Content-Security-Policy as every other page (this file, not an inline script).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
