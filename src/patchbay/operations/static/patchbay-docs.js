// Starts Swagger UI on Patchbay's own schema. Kept out of the HTML so a strict
// Content-Security-Policy (script-src 'self') still allows it.
window.ui = SwaggerUIBundle({
  url: "/api/schema/",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
