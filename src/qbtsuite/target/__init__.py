"""How the suite reaches a gateway: settings, discovery, the embedded server, the HTTP client."""
