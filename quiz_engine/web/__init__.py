"""HTTP and WebSocket adapters: routes, sockets, host API, static pages."""
