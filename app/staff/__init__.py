"""Staff pages: department queues and the request detail page."""
